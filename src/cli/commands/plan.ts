/** `agentq plan FILE [--wait]`: submits a plan file (JSON or YAML; see the README). */
import type { Command } from 'commander';
import { withContext } from '../context';
import { supervisorFor } from '../supervisor';
import { reportSubmitted } from './goal';

export function register(program: Command): void {
  program
    .command('plan <file>')
    .description('submit a plan file (JSON or YAML)')
    .option('--wait', 'wait for the goal to end: exit 0 when DONE, 1 when FAILED or CANCELLED')
    .action((file: string, options: { wait?: boolean }, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const submitted = await supervisorFor(ctx).submitPlan(file);
        await reportSubmitted(ctx, submitted, options.wait === true);
      }),
    );
}
