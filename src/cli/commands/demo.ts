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
      'plan "Build user authentication system" and run it with three agents on a temporary database',
    )
    .option('--serve', 'keep the board up afterwards and print its URL')
    .action(async (options: DemoOptions) => {
      const code = await runDemo(options);
      // The child printed its own output and error; exit with its code (main.ts would reset it).
      if (code !== 0) process.exit(code);
    });
}
