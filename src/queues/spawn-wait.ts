/**
 * A spawning task's end (spawn.ts): once its handler has returned, its result waits in its job
 * data (`spawnWait`) while BullMQ holds the job in waiting-children until every task it spawned
 * has ended; BullMQ then hands it back to its queue and an agent finishes it without running the
 * handler again: its own result, plus each spawned task's under its key (`spawned`). A spawned
 * task that failed for good fails it (BullMQ's failParentOnFailure), unless it was optional.
 */
import { Job, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import type { Json } from '../entities/task-model';
import { JOB_FIELDS } from './bullmq-internals';
import { loadGoalRecord } from './compiler';
import type { RedisConnection } from './connection';
import type { TaskResultEnvelope } from './protocol';
import type { RedisCoordinator } from './redis-coordinator';
import type { SpawnedList } from './spawn';
import { taskJobId, type TaskJobData } from './task-job';

/** Kept in a spawning task's job data from its handler's return until it ends. */
export interface SpawnWait {
  envelope: TaskResultEnvelope;
  spawned: SpawnedList;
  /** A repaired task's replacement (repair.ts): its result becomes this task's. */
  replacedBy?: string;
}

/** The job data field of a SpawnWait (TaskJobData & { spawnWait }). */
export const SPAWN_WAIT_FIELD = 'spawnWait';

export type SpawningJobData = TaskJobData & { [SPAWN_WAIT_FIELD]?: SpawnWait };

/**
 * KEYS[1] the job; ARGV[1] the SpawnWait JSON. Adds it to the job's data without decoding the
 * data (a re-encode by cjson would round the task's numbers): the last key of an object wins.
 */
const MARK_LUA = `
local raw = redis.call('HGET', KEYS[1], '${JOB_FIELDS.data}')
if not raw then return 0 end
local sep = ','
if raw == '{}' then sep = '' end
redis.call('HSET', KEYS[1], '${JOB_FIELDS.data}', string.sub(raw, 1, -2) .. sep .. '"${SPAWN_WAIT_FIELD}":' .. ARGV[1] .. '}')
return 1
`;

type MarkClient = RedisConnection & {
  agentqMarkSpawnWait(key: string, wait: string): Promise<number>;
};
const defined = new WeakSet<object>();

function markClient(client: RedisConnection): MarkClient {
  if (!defined.has(client)) {
    client.defineCommand('agentqMarkSpawnWait', { lua: MARK_LUA, numberOfKeys: 1 });
    defined.add(client);
  }
  return client as MarkClient;
}

/** The tasks `key` spawned, from the goal's record (a retried attempt that spawned none anew). */
export async function spawnedByRecord(
  coordinator: RedisCoordinator,
  data: TaskJobData,
): Promise<SpawnedList> {
  const record = await loadGoalRecord(coordinator, data.goalId);
  const list: SpawnedList = [];
  for (const [key, type, , , by] of record?.tasks ?? [])
    if (by === data.key) list.push([key, type]);
  return list;
}

/** Every spawned task's result by key (and what those spawned in turn), read in one round trip. */
export async function spawnedResults(
  coordinator: RedisCoordinator,
  data: TaskJobData,
  spawned: SpawnedList,
): Promise<{ [key: string]: Json }> {
  const pipeline = coordinator.client.pipeline();
  for (const [key, type] of spawned) {
    const queue = coordinator.queue(type, data.shard);
    pipeline.hmget(
      queue.toKey(taskJobId(data.goalId, key)),
      JOB_FIELDS.returnvalue,
      JOB_FIELDS.failedReason,
    );
  }
  const replies = (await pipeline.exec()) ?? [];
  const results: { [key: string]: Json } = {};
  spawned.forEach(([key], i) => {
    const [error, value] = replies[i] ?? [];
    const [returned, failedReason] = (!error && Array.isArray(value) ? value : []) as Array<
      string | null | undefined
    >;
    if (!returned && !failedReason) {
      // No job: settled before `agentq recover` rebuilt the goal, which left its result here.
      if (data.resolved && key in data.resolved) results[key] = data.resolved[key]!;
      return;
    }
    if (returned) {
      const envelope = JSON.parse(returned) as TaskResultEnvelope;
      results[key] = envelope.result ?? null;
      if (envelope.spawned) Object.assign(results, envelope.spawned);
    } else if (failedReason) {
      results[key] = { error: { message: failedReason } };
    }
  });
  return results;
}

/** Why a spawning task cannot finish: the first spawned task that failed for good. */
async function spawnedFailure(
  coordinator: RedisCoordinator,
  job: Job<TaskJobData>,
  error: unknown,
): Promise<unknown> {
  const queue = coordinator.queue(job.data.type, job.data.shard);
  const [child] = await coordinator.client.zrange(`${queue.toKey(job.id!)}:unsuccessful`, 0, 0);
  // BullMQ's own wording for a parent failed by its child: the mirror reads it (mirror-failure.ts).
  return child ? new UnrecoverableError(`child ${child} failed`) : error;
}

/**
 * Ends a spawning task's run: into waiting-children (throws WaitingChildrenError) while what it
 * spawned runs, else its envelope with the spawned results.
 */
export async function finishSpawner(
  coordinator: RedisCoordinator,
  job: Job<TaskJobData>,
  token: string,
  wait: SpawnWait,
): Promise<TaskResultEnvelope> {
  let moved: boolean;
  try {
    moved = await job.moveToWaitingChildren(token);
  } catch (error) {
    throw await spawnedFailure(coordinator, job, error);
  }
  if (moved) throw new WaitingChildrenError();
  const spawned = await spawnedResults(coordinator, job.data, wait.spawned);
  const result = wait.replacedBy ? (spawned[wait.replacedBy] ?? null) : wait.envelope.result;
  return { ...wait.envelope, result, spawned, finishedAt: Date.now() };
}

/** The handler returned after spawning: keep its result in the job, then wait or finish. */
export async function awaitSpawned(
  coordinator: RedisCoordinator,
  job: Job<TaskJobData>,
  token: string,
  wait: SpawnWait,
): Promise<TaskResultEnvelope> {
  const queue = coordinator.queue(job.data.type, job.data.shard);
  await markClient(coordinator.client).agentqMarkSpawnWait(
    queue.toKey(job.id!),
    JSON.stringify(wait),
  );
  return finishSpawner(coordinator, job, token, wait);
}
