/**
 * Re-opens a FAILED goal so that it runs again from where it stopped (a retry of one of its tasks).
 * When a goal fails its finalizer ends every open task — FAILED when it depends on the failure,
 * else CANCELLED (removed from Redis, never dead-lettered) — and fails the root job, so no job is
 * left to redrive. Re-opening runs every task that is not DONE again, in a new epoch:
 * 1. Redis: the goal's failed root, its not-DONE task jobs, its gates and its dead letters are
 *    removed, its cancel marks cleared, and its cleanup taken off the schedule;
 * 2. SQL: each FAILED or CANCELLED task opens a new epoch (PENDING when every dependency is DONE,
 *    else BACKLOG), with the retrying actor, and the goal is ACTIVE again;
 * 3. the flow of what is not DONE is rebuilt as `agentq recover` does (recover.ts): DONE tasks
 *    hand their results on and are not run again.
 */
import type { TaskChange, TaskRecord } from '../entities/task-model';
import type { TaskStore } from '../entities/task-store';
import { ConflictError, NotFoundError } from '../errors';
import { GOAL_CANCELLED_FIELD, TASK_CANCELLED_FIELD } from './cancellation';
import { goalRecordKey } from './compiler';
import { DLQ_QUEUE, GATES_QUEUE, GOALS_QUEUE } from './names';
import { shardOf } from './protocol';
import { recoverGoal } from './recover';
import type { RedisCoordinator } from './redis-coordinator';
import { cancelGoalCleanup } from './retention';
import { gateJobId } from './task-job';

export interface ReopenedGoal {
  goalId: string;
  /** Keys of the tasks that run again. */
  requeued: string[];
}

const REASON = 'goal re-opened by a retry';

async function removeOldJobs(
  c: RedisCoordinator,
  goalId: string,
  shard: number,
  tasks: readonly TaskRecord[],
): Promise<void> {
  await c.queue(GOALS_QUEUE, shard).remove(goalId, { removeChildren: false });
  const gates = c.queue(GATES_QUEUE, shard);
  await gates.remove(`cancel~${goalId}`, { removeChildren: false });
  const dlq = c.queue(DLQ_QUEUE, shard);
  for (const task of tasks) {
    for (const d of task.dependsOn) {
      await gates.remove(gateJobId(`${goalId}.${d}`, task.key), { removeChildren: false });
    }
    if (task.state === 'DONE') continue;
    await c.queue(task.type, shard).remove(task.id, { removeChildren: false });
    await dlq.remove(`${task.id}@${task.epoch}`, { removeChildren: false });
  }
  const record = goalRecordKey(c, goalId);
  await c.client.hdel(record, GOAL_CANCELLED_FIELD, TASK_CANCELLED_FIELD);
  await c.client.persist(record);
  await cancelGoalCleanup(c, goalId, shard);
}

/** A new epoch for every FAILED or CANCELLED task: PENDING when its dependencies are all DONE. */
function reopeningChanges(tasks: readonly TaskRecord[], actor: string | null, at: Date) {
  const stateOf = new Map(tasks.map((t) => [t.key, t.state]));
  const changes: TaskChange[] = [];
  for (const t of tasks) {
    if (t.state !== 'FAILED' && t.state !== 'CANCELLED') continue;
    const ready = t.dependsOn.every((d) => stateOf.get(d) === 'DONE');
    changes.push({
      taskId: t.id,
      to: ready ? 'PENDING' : 'BACKLOG',
      at,
      epoch: t.epoch + 1,
      attempt: 0,
      actor,
      reason: REASON,
      ...(ready ? { metrics: { queuedAt: at } } : {}),
    });
  }
  return changes;
}

export async function reopenGoal(
  store: TaskStore,
  c: RedisCoordinator,
  goalId: string,
  actor: string | null,
): Promise<ReopenedGoal> {
  const goal = await store.getGoal(goalId);
  if (!goal) throw new NotFoundError('goal', goalId);
  if (goal.state !== 'FAILED') {
    throw new ConflictError(`goal ${goalId} is ${goal.state}: only a FAILED goal is re-opened`);
  }
  const tasks = await store.findTasks({ goalId, limit: Math.max(goal.taskCount, 1) });
  await removeOldJobs(c, goalId, shardOf(goalId, c.shards), tasks);
  const at = new Date();
  const applied = await store.applyChanges(reopeningChanges(tasks, actor, at));
  if (applied.rejected.length > 0) throw applied.rejected[0]!.error;
  await store.setGoalState(goalId, 'ACTIVE', at);
  const rebuilt = await recoverGoal(store, c, goalId, at);
  return { goalId, requeued: rebuilt?.report.requeued ?? [] };
}
