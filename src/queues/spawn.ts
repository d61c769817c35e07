/**
 * `ctx.spawn(tasks)` (DESIGN.md "Living goals"): a running task adds tasks to its goal. They are
 * validated against the goal's Redis record (the agent that spawns has no SQL), then written like
 * an extension (goal-extension.ts) with the spawning task's job as their parent, so BullMQ keeps
 * the spawner from completing before them and fails it when one fails for good (unless optional).
 * The write carries an `added` entry on the goal roots' events stream of the shard, in the same
 * MULTI: the mirror makes the SQL rows from it, in order before anything the new tasks do.
 */
import { ConflictError, InputError } from '../errors';
import { JOB_FIELDS } from './bullmq-internals';
import { loadGoalRecord, type GoalRecord } from './compiler';
import type { ExistingTask } from './extension-plan';
import { planExtension } from './extension-plan';
import { addTasksToFlow } from './goal-extension';
import { GOALS_QUEUE } from './names';
import { MAX_TASKS } from './plan-schema';
import { AGENTQ_STREAM_EVENT, isCancelledReason } from './protocol';
import type { RedisCoordinator } from './redis-coordinator';
import { taskJobId, type TaskJobData } from './task-job';

/** The `kind` of the events-stream entry that announces spawned tasks to the mirror. */
export const ADDED_STREAM_KIND = 'added';

/** What `ctx.spawn` returns per task of the call, in call order. */
export interface SpawnedTask {
  key: string;
  id: string;
}

/** The spawner's own view of what it spawned: `[key, type]` per task, kept until it ends. */
export type SpawnedList = Array<[key: string, type: string]>;

/** The spawning task as its job knows it. */
export type Spawner = Pick<TaskJobData, 'taskId' | 'goalId' | 'key' | 'type' | 'shard'> & {
  /** The spawner's BullMQ job key and queue key (the new tasks' parent). */
  jobKey: string;
  queueKey: string;
};

/**
 * Every task that cannot end before the spawner ends: the spawner, what depends on it, the task
 * that spawned it (it waits for its spawned tasks) and so on. A spawned task depending on one of
 * them would wait for itself.
 */
export function waitingOn(record: GoalRecord, spawnerKey: string): Set<string> {
  // waiters: task → the tasks that wait for it (its dependents, and the task that spawned it).
  const waiters = new Map<string, string[]>();
  const add = (on: string, waiter: string) => {
    const list = waiters.get(on);
    if (list) list.push(waiter);
    else waiters.set(on, [waiter]);
  };
  for (const [key, , dependsOn, , spawnedBy] of record.tasks) {
    for (const d of dependsOn) add(d, key);
    if (spawnedBy) add(key, spawnedBy);
  }
  const blocked = new Set<string>([spawnerKey]);
  const stack = [spawnerKey];
  while (stack.length > 0) {
    for (const k of waiters.get(stack.pop()!) ?? []) {
      if (blocked.has(k)) continue;
      blocked.add(k);
      stack.push(k);
    }
  }
  return blocked;
}

/** The goal's tasks for the validation: states only where it matters (a failed dependency). */
async function existingTasks(
  coordinator: RedisCoordinator,
  record: GoalRecord,
  named: ReadonlySet<string>,
): Promise<Map<string, ExistingTask>> {
  const existing = new Map<string, ExistingTask>();
  for (const [key, type, , optional] of record.tasks) {
    existing.set(key, { key, type, state: 'ACTIVE', optional });
  }
  // Only a dependency the call names can refuse it: read those jobs' failures in one round trip.
  const asked = [...named].filter((k) => existing.has(k));
  if (asked.length === 0) return existing;
  const pipeline = coordinator.client.pipeline();
  for (const key of asked) {
    const t = existing.get(key)!;
    const queue = coordinator.queue(t.type, record.shard);
    pipeline.zscore(queue.keys.failed!, taskJobId(record.goalId, key));
    pipeline.hget(queue.toKey(taskJobId(record.goalId, key)), JOB_FIELDS.failedReason);
  }
  const replies = (await pipeline.exec()) ?? [];
  asked.forEach((key, i) => {
    const [, failedAt] = replies[2 * i] ?? [];
    const [, reason] = replies[2 * i + 1] ?? [];
    if (failedAt === null || failedAt === undefined) return;
    existing.get(key)!.state = isCancelledReason(reason as string | null) ? 'CANCELLED' : 'FAILED';
  });
  return existing;
}

export interface SpawnOutcome {
  tasks: SpawnedTask[];
  /** Every task of the call as `[key, type]` (new ones and repeats), for the spawner's wait. */
  spawned: SpawnedList;
}

/**
 * Validates and writes `input` (plan-task shape) as tasks spawned by `spawner`. Throws an
 * InputError naming the field (nothing written) or a ConflictError when the goal has ended.
 * `dryRun`: validates only (a repair planner checking its patch before it is used).
 */
export async function spawnTasks(
  coordinator: RedisCoordinator,
  spawner: Spawner,
  input: unknown,
  actor: string,
  options: { dryRun?: boolean } = {},
): Promise<SpawnOutcome> {
  const record = await loadGoalRecord(coordinator, spawner.goalId);
  if (!record) {
    throw new ConflictError(`goal ${spawner.goalId} has ended: task ${spawner.key} cannot spawn`);
  }
  const named = new Set<string>();
  if (Array.isArray(input)) {
    for (const t of input as Array<{ dependsOn?: unknown }>) {
      if (t && Array.isArray(t.dependsOn)) for (const d of t.dependsOn) named.add(String(d));
    }
  }
  const existing = await existingTasks(coordinator, record, named);
  const { fresh, repeated } = planExtension(input, existing, {
    blocked: waitingOn(record, spawner.key),
    blockedWhy: `waits for the spawning task '${spawner.key}': it cannot end first`,
  });
  const spawnerOf = new Map(record.tasks.map(([key, , , , by]) => [key, by]));
  const keys = (input as Array<{ key: string }>).map((t) => t.key);
  for (const key of repeated) {
    if (spawnerOf.get(key) === spawner.key) continue;
    throw new InputError(
      `duplicate key '${key}': the goal has a task of that key already`,
      `tasks[${keys.indexOf(key)}].key`,
    );
  }
  if (record.tasks.length + fresh.length > MAX_TASKS) {
    throw new InputError(
      `the goal would have ${record.tasks.length + fresh.length} tasks; at most ${MAX_TASKS}`,
      'tasks',
    );
  }
  if (fresh.length > 0 && !options.dryRun) {
    await addTasksToFlow(coordinator, {
      goalId: spawner.goalId,
      shard: spawner.shard,
      tasks: fresh,
      existing,
      parent: {
        ref: { id: spawner.taskId, key: spawner.jobKey, queueKey: spawner.queueKey },
        onFailure: 'fail',
      },
      spawnedBy: spawner.taskId,
      announce: {
        // The goal roots' stream: the mirror reads it from its start (a new capability's stream
        // it may find only a second later), and a goal's end comes after it there.
        streamKey: coordinator.queue(GOALS_QUEUE, spawner.shard).keys.events!,
        fields: {
          event: AGENTQ_STREAM_EVENT,
          kind: ADDED_STREAM_KIND,
          taskId: spawner.taskId,
          spawnerType: spawner.type,
          goalId: spawner.goalId,
          actor,
          tasks: JSON.stringify(fresh),
        },
      },
    });
  }
  const typeOf = new Map([
    ...record.tasks.map(([key, type]) => [key, type] as const),
    ...fresh.map((t) => [t.key, t.type] as const),
  ]);
  return {
    tasks: keys.map((key) => ({ key, id: taskJobId(spawner.goalId, key) })),
    spawned: keys.map((key) => [key, typeOf.get(key)!]),
  };
}
