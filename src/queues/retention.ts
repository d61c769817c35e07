/**
 * Retention: a finished goal's jobs (root, tasks, any gates) leave Redis `retentionMs` after the goal
 * ended, so Redis memory stays flat however many goals run — SQL keeps every task and event. Until
 * then Bull Board shows the finished flow. Due removals wait in one sorted set (score = when),
 * swept by the mirror leader, which removes a goal only once SQL has recorded its end and every
 * task's — a mirror that was down longer than the retention still finds the jobs it must read. No
 * queue holds the removals, so a finished goal leaves no waiting or delayed job behind.
 */
import { goalRecordKey, loadGoalRecord } from './compiler';
import { removeGoalBudget } from './goal-budget';
import { forgetGoalLinks } from './links';
import { GOALS_QUEUE } from './names';
import type { RedisCoordinator } from './redis-coordinator';

/** Removals looked at per sweep; the rest wait for the next one. */
const SWEEP_LIMIT = 100;
/** A goal SQL has not caught up with yet is looked at again after this. */
const NOT_YET_MS = 5000;

/** Whether the goal's end and all its tasks' are recorded (so its jobs may go). */
export type RecordedCheck = (goalId: string) => Promise<boolean>;

function cleanupKey(coordinator: RedisCoordinator): string {
  return coordinator.key('cleanup');
}

function member(goalId: string, shard: number): string {
  return `${shard}:${goalId}`;
}

/** Called by the goal worker as the goal ends: its jobs go after the retention. */
export async function scheduleGoalCleanup(
  coordinator: RedisCoordinator,
  goalId: string,
  shard: number,
): Promise<void> {
  const due = Date.now() + coordinator.retentionMs;
  await coordinator.client.zadd(cleanupKey(coordinator), due, member(goalId, shard));
}

/** Takes a goal off the cleanup schedule: it was re-opened and runs again. */
export async function cancelGoalCleanup(
  coordinator: RedisCoordinator,
  goalId: string,
  shard: number,
): Promise<void> {
  await coordinator.client.zrem(cleanupKey(coordinator), member(goalId, shard));
}

/**
 * Removes the jobs of every goal whose retention has passed. Each removal is claimed with ZREM,
 * so when several processes sweep at once every goal is removed by one of them.
 */
export async function sweepFinishedGoals(
  coordinator: RedisCoordinator,
  recorded: RecordedCheck,
  now = Date.now(),
): Promise<number> {
  const key = cleanupKey(coordinator);
  const due = await coordinator.client.zrangebyscore(key, 0, now, 'LIMIT', 0, SWEEP_LIMIT);
  let removed = 0;
  for (const entry of due) {
    if ((await coordinator.client.zrem(key, entry)) === 0) continue;
    const colon = entry.indexOf(':');
    const shard = Number(entry.slice(0, colon));
    const goalId = entry.slice(colon + 1);
    if ((await recorded(goalId)) && (await removeGoalJobs(coordinator, goalId, shard))) removed++;
    else await coordinator.client.zadd(key, now + NOT_YET_MS, entry);
  }
  return removed;
}

/**
 * Removes the goal's root job and, recursively, every task job and gate of its flow. False when
 * the root has not finished yet (a zero retention can come due while it is still completing).
 */
export async function removeGoalJobs(
  coordinator: RedisCoordinator,
  goalId: string,
  shard: number,
): Promise<boolean> {
  const goals = coordinator.queue(GOALS_QUEUE, shard);
  const state = await goals.getJobState(goalId);
  if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return false;
  if (state !== 'unknown') await goals.remove(goalId, { removeChildren: true });
  const record = await loadGoalRecord(coordinator, goalId);
  if (record) await forgetGoalLinks(coordinator, shard, goalId, record.tasks);
  await coordinator.client.del(goalRecordKey(coordinator, goalId));
  await removeGoalBudget(coordinator, goalId);
  return true;
}
