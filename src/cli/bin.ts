#!/usr/bin/env node
/**
 * The `agentq` executable (package.json `bin` → dist/cli/bin.js). Loads only the command table;
 * each command's module, and what it needs, is loaded when that command runs (commands/index.ts).
 */
import { run } from './main';

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
