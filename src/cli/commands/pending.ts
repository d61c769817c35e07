/** `agentq pending`: tasks waiting in their capability queues, highest priority first. */
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { withContext } from '../context';

export function register(program: Command): void {
  program
    .command('pending')
    .description('tasks waiting in their queues, highest priority first')
    .option('--limit <n>', 'at most this many', '50')
    .action((options: { limit: string }, command: Command) =>
      withContext(command, { db: false }, async ({ coordinator, out }) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1) {
          throw new InputError(`'${options.limit}' must be a whole number above 0`, 'limit');
        }
        const pending = await coordinator.getPendingTasks(limit);
        if (out.json) return out.printJson({ pending });
        if (pending.length === 0) return out.print('No tasks waiting in any queue.');
        out.table(
          ['task', 'type', 'priority', 'title', 'queued'],
          pending.map((p) => [p.taskId, p.type, p.priority, p.title, p.queuedAt.toISOString()]),
          [2],
        );
      }),
    );
}
