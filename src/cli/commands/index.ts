/**
 * Every `agentq` command, as a table: its name, the line `agentq --help` shows for it, and the
 * loader of its module (which exports `register(program)`). Only the module of the command being
 * run is loaded, so `--help` and `--version` load no command at all and a command loads only
 * what it uses (test/unit/cli-command-table.test.ts keeps the table equal to the modules). Add a
 * new command here.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type { Command } from 'commander';

export interface CommandModule {
  register(program: Command): void;
}

export interface CommandEntry {
  name: string;
  /** What `agentq --help` lists: the name, `[options]` when it has some, its arguments. */
  term: string;
  description: string;
  /** A plain `require`: TypeScript's node16 output would keep `import()` as an ESM import. */
  load(): CommandModule;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'status',
    term: 'status [options]',
    description: 'tasks by state and capability, agents, stuck tasks and why, recent failures',
    load: () => require('./status') as CommandModule,
  },
  {
    name: 'agents',
    term: 'agents',
    description: 'live agents: capabilities, running tasks, breakers',
    load: () => require('./agents') as CommandModule,
  },
  {
    name: 'pending',
    term: 'pending [options]',
    description: 'tasks waiting in their queues, highest priority first',
    load: () => require('./pending') as CommandModule,
  },
  {
    name: 'task',
    term: 'task',
    description: 'show, create, cancel, retry, approve or reject one task',
    load: () => require('./task') as CommandModule,
  },
  {
    name: 'goal',
    term: 'goal [options] [text]',
    description: 'plan and run a goal; show or cancel one',
    load: () => require('./goal') as CommandModule,
  },
  {
    name: 'plan',
    term: 'plan [options] <file>',
    description: 'submit a plan file (JSON or YAML); - reads it from standard input',
    load: () => require('./plan') as CommandModule,
  },
  {
    name: 'events',
    term: 'events [options]',
    description: 'the task event log; --follow for live events',
    load: () => require('./events') as CommandModule,
  },
  {
    name: 'migrate',
    term: 'migrate',
    description: 'create or upgrade the task store schema',
    load: () => require('./migrate') as CommandModule,
  },
  {
    name: 'latency',
    term: 'latency [options]',
    description:
      'PING, pub/sub, claim and status-update latency (p50/p95/p99/max) beside the ~1 ms claims',
    load: () => require('./latency') as CommandModule,
  },
  {
    name: 'bench',
    term: 'bench [options]',
    description:
      'throughput, enqueue → start latency, DAG, mirror lag, scaling and memory against plain BullMQ',
    load: () => require('./bench') as CommandModule,
  },
  {
    name: 'recover',
    term: 'recover',
    description:
      'rebuild the queues of unfinished goals Redis lost, from SQL; done tasks are not run again',
    load: () => require('./recover') as CommandModule,
  },
  {
    name: 'serve',
    term: 'serve [options]',
    description: 'REST API, Bull Board at /board, SSE, /metrics and goal pages; runs the mirror',
    load: () => require('./serve') as CommandModule,
  },
  {
    name: 'worker',
    term: 'worker [options]',
    description: 'run an agent: claim and run tasks of the given capabilities',
    load: () => require('./worker') as CommandModule,
  },
  {
    name: 'dlq',
    term: 'dlq',
    description: 'the dead-letter queue: tasks whose attempts ran out',
    load: () => require('./dlq') as CommandModule,
  },
  {
    name: 'limits',
    term: 'limits',
    description: 'capability limits: concurrency, rate and per-key concurrency over every agent',
    load: () => require('./limits') as CommandModule,
  },
  {
    name: 'demo',
    term: 'demo [options]',
    description:
      'run "Build user authentication system" with three agents on a temporary database: tasks spawn tasks, an approval gates the deploy',
    load: () => require('./demo') as CommandModule,
  },
];

/** Global options that take a value: the word after them is not a command name. */
const VALUE_OPTIONS = new Set(['--redis', '--db', '--prefix']);

/** The command `argv` runs (`help X` runs X's help), or undefined (`--help`, `--version`, none). */
export function commandNamed(argv: readonly string[]): CommandEntry | undefined {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) words.push(arg);
  }
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((entry) => entry.name === name);
}

/**
 * Registers the command `argv` runs in full and every other one as a name and a help line (a
 * command never run is never loaded).
 */
export function registerCommands(program: Command, argv: readonly string[]): void {
  const wanted = commandNamed(argv);
  const module = wanted?.load();
  for (const entry of COMMANDS) {
    if (entry === wanted) module!.register(program);
    else program.command(entry.name).description(entry.description);
  }
}

/** Every command registered in full (help for all, and the table's test). */
export function registerAllCommands(program: Command): void {
  for (const entry of COMMANDS) entry.load().register(program);
}

/** The help line's term of a command registered as a stub: the table's. */
export function listedTerm(name: string): string | undefined {
  return COMMANDS.find((entry) => entry.name === name)?.term;
}
