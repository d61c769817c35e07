/** `agentq demo [--serve]`: the whole system on a throwaway world (examples/basic-demo.ts). */
import type { Command } from 'commander';
import { runCheckoutScript } from '../run-script';

export interface DemoOptions {
  serve?: boolean;
}

export async function runDemo(options: DemoOptions): Promise<number> {
  return runCheckoutScript('examples/basic-demo.ts', options.serve ? ['--serve'] : []);
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'run "Build user authentication system" with three agents on a temporary database: tasks spawn tasks, an approval gates the deploy',
    )
    .option(
      '--serve',
      'start the board first and leave the approval to you on the goal page; stay up until Ctrl-C',
    )
    .action(async (options: DemoOptions) => {
      const code = await runDemo(options);
      // The child printed its own output and error; exit with its code (main.ts would reset it).
      if (code !== 0) process.exit(code);
    });
}
