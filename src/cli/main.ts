/**
 * The `agentq` command (commander 14). Global options override the environment; the command
 * table (./commands) loads only the module of the command being run. Errors end as one line on
 * stderr: exit 2 for bad input (ours or commander's), 1 for anything else; a stack only with
 * AGENTQ_DEBUG=1. The executable is ./bin.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Help } from 'commander';
import { InputError } from '../errors';
import { listedTerm, registerAllCommands, registerCommands } from './commands';

/** The package's version: package.json two levels up, from src/cli and from dist/cli alike. */
export function packageVersion(): string {
  const file = join(__dirname, '..', '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The program with its global options and no commands yet. */
function bareProgram(): Command {
  const program = new Command('agentq')
    .description('Goals into task graphs that autonomous agents execute, on BullMQ.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--redis <url>', 'Redis URL (overrides REDIS_URL)')
    .option('--db <url>', 'task store: sqlite:PATH, postgres://…, json:DIR (overrides AGENTQ_DB)')
    .option('--prefix <name>', 'deployment prefix (overrides AGENTQ_PREFIX)')
    .option('--json', 'one JSON document on stdout')
    .configureHelp({
      showGlobalOptions: true,
      // A command registered only by name (not loaded) is listed with its table line.
      subcommandTerm: (cmd) =>
        isStub(cmd) ? (listedTerm(cmd.name()) ?? cmd.name()) : new Help().subcommandTerm(cmd),
    })
    .exitOverride()
    .showSuggestionAfterError();
  // Commander takes `--json` for the program even after a subcommand; hand it on to a command
  // that declares its own `--json`, so both `opts()` and `optsWithGlobals()` see it.
  program.hook('preAction', (_program, action) => {
    const wantsJson = action.options.some((o) => o.attributeName() === 'json');
    if (program.opts<{ json?: boolean }>().json && wantsJson) action.setOptionValue('json', true);
  });
  return program;
}

function isStub(cmd: Command): boolean {
  return (
    cmd.commands.length === 0 && cmd.options.length === 0 && cmd.registeredArguments.length === 0
  );
}

/**
 * The program for `argv`: the command it runs registered in full, the others by name and help
 * line. Without `argv`, every command in full.
 */
export function buildProgram(argv?: readonly string[]): Command {
  const program = bareProgram();
  if (argv) registerCommands(program, argv);
  else registerAllCommands(program);
  return program;
}

/** Runs the CLI; returns the exit code (the process keeps running for watch/follow modes). */
export async function run(argv: readonly string[], debug = false): Promise<number> {
  try {
    const program = buildProgram(argv);
    await program.parseAsync([...argv], { from: 'user' });
    // A command that ended normally may still have chosen its code (`--wait` on a FAILED goal).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return reportError(error, debug);
  }
}

function reportError(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    // Commander already printed its message (or the help, or the version).
    return error.exitCode === 0 ? 0 : 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`agentq: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return error instanceof InputError ? 2 : 1;
}
