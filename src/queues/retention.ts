/**
 * Retention: a finished goal's jobs (root, tasks, gates) leave Redis `retentionMs` after the goal
 * ended, so Redis memory stays flat however many goals run — SQL keeps every task and event. Until
 * then Bull Board shows the finished flow. The cleanup is itself a delayed job in `_goals`, so it
 * survives restarts and runs once, wherever an internal worker runs.
 */
import { goalRecordKey } from './compiler';
import { GOALS_QUEUE } from './names';
import type { RedisCoordinator } from './redis-coordinator';

export const CLEANUP_JOB = 'cleanup';

export interface GoalCleanupJobData {
  v: 1;
  kind: 'cleanup';
  goalId: string;
  shard: number;
}

export function cleanupJobId(goalId: string): string {
  return `cleanup~${goalId}`;
}

/** Called by the goal worker as the goal ends: removes the goal's jobs after the retention. */
export async function scheduleGoalCleanup(
  coordinator: RedisCoordinator,
  goalId: string,
  shard: number,
): Promise<void> {
  const data: GoalCleanupJobData = { v: 1, kind: 'cleanup', goalId, shard };
  await coordinator.queue(GOALS_QUEUE, shard).add(CLEANUP_JOB, data, {
    jobId: cleanupJobId(goalId),
    delay: coordinator.retentionMs,
    // The root may still be finishing when a zero retention fires: try again shortly.
    attempts: 10,
    backoff: { type: 'fixed', delay: 500 },
    removeOnComplete: true,
    removeOnFail: { count: 1000 },
  });
}

/** Removes the goal's root job and, recursively, every task job and gate of its flow. */
export async function removeGoalJobs(
  coordinator: RedisCoordinator,
  goalId: string,
  shard: number,
): Promise<void> {
  const goals = coordinator.queue(GOALS_QUEUE, shard);
  const state = await goals.getJobState(goalId);
  if (state !== 'completed' && state !== 'failed' && state !== 'unknown') {
    throw new Error(`goal ${goalId} has not finished yet (${state}); cleanup retries`);
  }
  if (state !== 'unknown') await goals.remove(goalId, { removeChildren: true });
  await coordinator.client.del(goalRecordKey(coordinator, goalId));
}
