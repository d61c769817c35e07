/**
 * The `agentq` command (commander 14). Global options override the environment; every command
 * module in ./commands registers itself. Errors end as one line on stderr: exit 2 for bad input
 * (ours or commander's), 1 for anything else; a stack only with AGENTQ_DEBUG=1.
 */
import { Command, CommanderError } from 'commander';
import { InputError } from '../errors';
import { registerCommands } from './commands';

export function buildProgram(): Command {
  const program = new Command('agentq')
    .description('Goals into task graphs that autonomous agents execute, on BullMQ.')
    .option('--redis <url>', 'Redis URL (overrides REDIS_URL)')
    .option('--db <url>', 'task store: sqlite:PATH, postgres://…, json:DIR (overrides AGENTQ_DB)')
    .option('--prefix <name>', 'deployment prefix (overrides AGENTQ_PREFIX)')
    .option('--json', 'one JSON document on stdout')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .showSuggestionAfterError();
  // Commander takes `--json` for the program even after a subcommand; hand it on to a command
  // that declares its own `--json`, so both `opts()` and `optsWithGlobals()` see it.
  program.hook('preAction', (_program, action) => {
    const wantsJson = action.options.some((o) => o.attributeName() === 'json');
    if (program.opts<{ json?: boolean }>().json && wantsJson) action.setOptionValue('json', true);
  });
  registerCommands(program);
  return program;
}

/** Runs the CLI; returns the exit code (the process keeps running for watch/follow modes). */
export async function run(argv: readonly string[], debug = false): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    // A command that ended normally may still have chosen its code (`--wait` on a FAILED goal).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return reportError(error, debug);
  }
}

function reportError(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    // Commander already printed its message (or the help).
    return error.exitCode === 0 ? 0 : 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`agentq: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return error instanceof InputError ? 2 : 1;
}

// Run when started as the program: directly, or through bin/agentq.js (which requires this file).
const entry = require.main?.filename ?? '';
if (require.main === module || /[\\/]bin[\\/]agentq\.js$/.test(entry)) {
  // The one environment read outside config.ts: a debugging switch, not configuration.
  const debug = process.env.AGENTQ_DEBUG === '1';
  // `agentq status | head`: the reader left; that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  void run(process.argv.slice(2), debug).then((code) => {
    process.exitCode = code;
    // A failed command may leave a half-open connection behind; do not let it hold the exit.
    if (code !== 0) process.exit(code);
  });
}
