/**
 * `agentq plan FILE [--wait]`: submits a plan file (JSON or YAML; see the README); `-` reads the
 * plan from standard input (JSON or YAML, plan-input.ts). The plan is read and checked first
 * (bad input: exit 2), then an evicting Redis is refused, as `goal` does.
 */
import type { Command } from 'commander';
import type { PlanSpec } from '../../entities/task-model';
import { loadPlanFile } from '../../queues/plan-loader';
import { withContext } from '../context';
import { readPlanFromStdin } from '../plan-input';
import { refuseUnsafeRedis } from '../submit-checks';
import { supervisorFor } from '../supervisor';
import { reportSubmitted } from './goal';

export function register(program: Command): void {
  program
    .command('plan <file>')
    .description('submit a plan file (JSON or YAML); - reads it from standard input')
    .option('--wait', 'wait for the goal to end: exit 0 when DONE, 1 when FAILED or CANCELLED')
    .action((file: string, options: { wait?: boolean }, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const fromStdin = file === '-';
        const plan = fromStdin ? await readPlanFromStdin() : await loadPlanFile(file);
        await refuseUnsafeRedis(ctx);
        // Parsed, not yet checked: submitPlan validates a plan object as it does a file's.
        const submitted = await supervisorFor(ctx).submitPlan(plan as PlanSpec, {
          plannerName: fromStdin ? 'stdin' : 'file',
        });
        await reportSubmitted(ctx, submitted, options.wait === true);
      }),
    );
}
