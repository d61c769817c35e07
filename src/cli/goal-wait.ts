/**
 * `--wait` of `goal` and `plan`: follows a goal until it ends. The end is read from the goal's
 * root job in Redis (the execution record, so no mirror needs to run), falling back to the
 * store; the progress bar counts finished tasks in the store.
 */
import { Job } from 'bullmq';
import { isGoalOpen, type GoalState } from '../entities/task-model';
import { isTerminal } from '../entities/task-state';
import { GOALS_QUEUE } from '../queues/names';
import { isCancelledReason, shardOf } from '../queues/protocol';
import type { CliContext } from './context';
import { onInterrupt } from './interrupt';

export type GoalEnd = Exclude<GoalState, 'ACTIVE' | 'PAUSED'>;

// Often enough to feel live, rarely enough to cost nothing next to the goal's own work.
const POLL_MS = 500;

export async function waitForGoal(
  ctx: CliContext,
  goalId: string,
  taskCount: number,
): Promise<GoalEnd | null> {
  const root = ctx.coordinator.queue(GOALS_QUEUE, shardOf(goalId, ctx.coordinator.shards));
  const bar = ctx.out.json ? null : ctx.out.progress(taskCount, goalId);
  const interrupt = onInterrupt();
  try {
    while (!interrupt.stopped) {
      const end = (await rootEnd(root, goalId)) ?? (await storeEnd(ctx, goalId));
      if (bar) bar.update(await finishedTasks(ctx, goalId, taskCount));
      if (end) return end;
      await interrupt.sleep(POLL_MS);
    }
    return null;
  } finally {
    bar?.stop();
    interrupt.dispose();
  }
}

/** Exit code of `--wait`: 0 when the goal is DONE, 1 otherwise (FAILED, CANCELLED, interrupted). */
export function exitCodeOf(end: GoalEnd | null): number {
  return end === 'DONE' ? 0 : 1;
}

async function rootEnd(
  queue: ReturnType<CliContext['coordinator']['queue']>,
  goalId: string,
): Promise<GoalEnd | null> {
  const job = await Job.fromId(queue, goalId);
  if (!job) return null;
  const state = await job.getState();
  if (state === 'completed') return 'DONE';
  if (state === 'failed') return isCancelledReason(job.failedReason) ? 'CANCELLED' : 'FAILED';
  return null;
}

async function storeEnd(ctx: CliContext, goalId: string): Promise<GoalEnd | null> {
  const goal = await ctx.registry.getGoal(goalId);
  return goal && !isGoalOpen(goal.state) ? (goal.state as GoalEnd) : null;
}

async function finishedTasks(ctx: CliContext, goalId: string, taskCount: number): Promise<number> {
  const tasks = await ctx.registry.findTasks({ goalId, limit: taskCount });
  return tasks.filter((t) => isTerminal(t.state)).length;
}
