/**
 * Every `agentq` command module. Each exports `register(program)`; add a new file here.
 */
import type { Command } from 'commander';
import * as agents from './agents';
import * as bench from './bench';
import * as demo from './demo';
import * as dlq from './dlq';
import * as events from './events';
import * as goal from './goal';
import * as latency from './latency';
import * as limits from './limits';
import * as migrate from './migrate';
import * as pending from './pending';
import * as plan from './plan';
import * as recover from './recover';
import * as serve from './serve';
import * as status from './status';
import * as task from './task';
import * as worker from './worker';

interface CommandModule {
  register(program: Command): void;
}

export const COMMAND_MODULES: readonly CommandModule[] = [
  status,
  agents,
  pending,
  task,
  goal,
  plan,
  events,
  migrate,
  latency,
  bench,
  recover,
  serve,
  worker,
  dlq,
  limits,
  demo,
];

export function registerCommands(program: Command): void {
  for (const module of COMMAND_MODULES) module.register(program);
}
