/** `agentq dlq list [--json]`, `agentq dlq retry ID`, `agentq dlq retry --all`. */
import type { Command } from 'commander';
import { InputError } from '../../errors';
import {
  redriveAllDeadLetters,
  redriveDeadLetter,
} from '../../interface/operations/redrive-dead-letter';
import { listDeadLetters } from '../../processors/dead-letters';
import { withContext } from '../context';

export function register(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('the dead-letter queue: tasks whose attempts ran out');

  dlq
    .command('list')
    .description('dead-lettered tasks, oldest first')
    .option('--json', 'one JSON document on stdout')
    .action((_options: unknown, command: Command) =>
      withContext(command, { db: false }, async ({ coordinator, out }) => {
        const letters = await listDeadLetters(coordinator);
        if (out.json) return out.printJson({ deadLetters: letters });
        if (letters.length === 0) return out.print('The dead-letter queue is empty.');
        out.table(
          ['id', 'type', 'attempts', 'agents', 'failed at', 'error'],
          letters.map((l) => [
            l.id,
            l.type,
            l.attempts,
            [...new Set(l.agentIds)].join(', ') || '-',
            new Date(l.failedAt).toISOString(),
            l.error.message.slice(0, 80),
          ]),
        );
      }),
    );

  dlq
    .command('retry [id]')
    .description('run a dead-lettered task again (attempts reset); --all for every one')
    .option('--all', 'redrive every dead letter')
    .option('--json', 'one JSON document on stdout')
    .action((id: string | undefined, options: { all?: boolean }, command: Command) =>
      withContext(command, { db: false }, async ({ coordinator, out, actor }) => {
        if (options.all && id) throw new InputError('give an id or --all, not both', 'id');
        if (options.all) {
          const outcome = await redriveAllDeadLetters({ coordinator }, actor);
          if (out.json) return out.printJson(outcome);
          out.print(`Redriven: ${outcome.redriven.length}`);
          for (const r of outcome.refused) out.print(`Not redriven ${r.id}: ${r.error}`);
          if (outcome.refused.length > 0) process.exitCode = 1;
          return;
        }
        if (!id)
          throw new InputError('give the dead letter id (see `agentq dlq list`) or --all', 'id');
        const redrive = await redriveDeadLetter({ coordinator }, { id }, actor);
        if (out.json) return out.printJson(redrive);
        out.print(`Task ${redrive.taskId} runs again (epoch ${redrive.epoch}).`);
      }),
    );
}
