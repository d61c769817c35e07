/**
 * Every `agentq` command module. Each exports `register(program)`; add a new file here.
 */
import type { Command } from 'commander';
import * as agents from './agents';
import * as bench from './bench';
import * as events from './events';
import * as latency from './latency';
import * as migrate from './migrate';
import * as pending from './pending';
import * as recover from './recover';
import * as status from './status';
import * as task from './task';

interface CommandModule {
  register(program: Command): void;
}

export const COMMAND_MODULES: readonly CommandModule[] = [
  status,
  agents,
  pending,
  task,
  events,
  migrate,
  latency,
  bench,
  recover,
];

export function registerCommands(program: Command): void {
  for (const module of COMMAND_MODULES) module.register(program);
}
