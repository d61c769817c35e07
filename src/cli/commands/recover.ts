/**
 * `agentq recover [--json]`: after Redis lost the deployment's keys, rebuild the flow of every
 * unfinished goal from SQL without running again what SQL records as DONE (src/queues/recover.ts).
 * Prints what it did; running it again does nothing.
 */
import type { Command } from 'commander';
import { recoverGoals, type RecoveryReport } from '../../queues/recover';
import type { Output } from '../output';
import { withContext } from '../context';

export function summarize(report: RecoveryReport): {
  goalsRebuilt: number;
  goalsEnded: number;
  tasksRequeued: number;
  tasksKeptDone: number;
  tasksEnded: number;
} {
  const sum = (pick: (g: RecoveryReport['goals'][number]) => number) =>
    report.goals.reduce((n, g) => n + pick(g), 0);
  return {
    goalsRebuilt: report.goals.filter((g) => g.outcome === 'rebuilt').length,
    goalsEnded: report.goals.filter((g) => g.outcome !== 'rebuilt').length,
    tasksRequeued: sum((g) => g.requeued.length),
    tasksKeptDone: sum((g) => g.keptDone.length),
    tasksEnded: sum((g) => g.ended.length),
  };
}

/** The human lines of a report (also what `serve --recover` logs). */
export function reportLines(report: RecoveryReport): string[] {
  const limits =
    report.limitsRestored.length > 0
      ? [`Limits restored for ${report.limitsRestored.join(', ')}.`]
      : [];
  if (report.goals.length === 0) {
    return [...limits, `Nothing to recover: Redis knows all ${report.checked} unfinished goals.`];
  }
  const lines = limits;
  lines.push(
    ...report.goals.map((g) =>
      g.outcome === 'rebuilt'
        ? `${g.goalId} rebuilt: ${g.requeued.length} tasks re-queued, ${g.keptDone.length} kept as done` +
          (g.ended.length > 0 ? `, ${g.ended.length} ended with a cancelled dependency` : '')
        : `${g.goalId} ended ${g.outcome}: ${g.keptDone.length} kept as done, ${g.ended.length} tasks ended`,
    ),
  );
  const s = summarize(report);
  lines.push(
    `Recovered ${s.goalsRebuilt} goals (${s.goalsEnded} more ended): ${s.tasksRequeued} tasks re-queued, ` +
      `${s.tasksKeptDone} kept as done.`,
  );
  for (const r of report.rejected) lines.push(`warning: ${r.taskId}: ${r.message}`);
  return lines;
}

function print(out: Output, report: RecoveryReport): void {
  if (out.json) return out.printJson({ ...summarize(report), ...report });
  for (const line of reportLines(report)) out.print(line);
}

export function register(program: Command): void {
  program
    .command('recover')
    .description(
      'rebuild the queues of unfinished goals Redis lost, from SQL; done tasks are not run again',
    )
    .action((_options: unknown, command: Command) =>
      withContext(command, {}, async ({ registry, coordinator, out }) => {
        print(out, await recoverGoals(registry, coordinator));
      }),
    );
}
