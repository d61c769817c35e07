/**
 * `agentq` as bin/agentq.js runs it, with `serve` registered when src/cli/commands/index.ts does
 * not list it yet: `node -r tsx/cjs test/helpers/fault-cli.ts <args>`. Errors end like the real
 * CLI's: one line on stderr, exit 2 for bad input, 1 otherwise.
 */
import { CommanderError } from 'commander';
import * as serve from '../../src/cli/commands/serve';
import { buildProgram } from '../../src/cli/main';
import { InputError } from '../../src/errors';

async function main(): Promise<number> {
  const program = buildProgram();
  if (!program.commands.some((c) => c.name() === 'serve')) serve.register(program);
  try {
    await program.parseAsync(process.argv.slice(2), { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    process.stderr.write(`agentq: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof InputError ? 2 : 1;
  }
}

void main().then((code) => {
  if (code !== 0) process.exit(code);
});
