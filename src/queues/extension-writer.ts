/**
 * Writes tasks added to a running goal into its flow, in one MULTI under the goal's shard (one
 * slot on a Redis Cluster), like the goal itself was written (flow-writer.ts):
 * - each new task's job, hanging under its first new dependent, and the new tasks no new task
 *   depends on under `parent` (the goal's root for an extension: the goal does not end before
 *   them; the spawning task for a spawn: it ends after them);
 * - links between new tasks, as the compiler makes them;
 * - a link from each task of the goal a new task depends on, decided inside Redis (LINK_LUA) so a
 *   dependency that ends while this is written is never missed: a completed one hands its result
 *   over at once, an optional one that failed its `{ error }`, anything else holds the new task
 *   until it ends (its job's `agentqLinks` field, released with its static links, links.ts);
 * - then BullMQ's own release of each new task nothing holds any more.
 * The goal's record (the graph the goal worker finalizes from) gains the new tasks first.
 */
import type { JobsOptions, RedisQueueBackend } from 'bullmq';
import type { ResolvedTaskSpec } from '../entities/task-model';
import {
  addFlowJob,
  dependenciesKey,
  failedChildrenKey,
  flowBackend,
  JOB_FIELDS,
  processedKey,
  releaseParentIfNoPendingDependencies,
  type ParentRef,
} from './bullmq-internals';
import {
  GOAL_RECORD_FIELD,
  goalRecordKey,
  redisFullError,
  taskJobData,
  taskOptions,
  treeLinks,
} from './compiler';
import type { RedisConnection } from './connection';
import { EXTRA_LINKS_FIELD, pendingLinkMember, pendingLinksKey, taskJobKey } from './links';
import type { RedisCoordinator } from './redis-coordinator';
import { taskJobId } from './task-job';

/** The spawning job's hash field saying it spawned tasks (set with them). */
export const SPAWNED_FIELD = 'agentqSpawned';

/** A task of the goal some new task depends on. */
export interface LinkedSource {
  key: string;
  type: string;
  optional: boolean;
}

export interface ExtensionInput {
  goalId: string;
  shard: number;
  /** Validated new tasks (extension-plan.ts); their dependencies on goal tasks are in `sources`. */
  tasks: readonly ResolvedTaskSpec[];
  sources: ReadonlyMap<string, LinkedSource>;
  /** Where the new tasks nothing new depends on hang, and what their failure does to it. */
  parent: { ref: ParentRef; onFailure: 'fail' | 'continue' };
  /** The spawning task's id (ctx.spawn); kept in each new job's data. */
  spawnedBy?: string;
  announce?: StreamAnnouncement;
}

/** An entry XADDed to an events stream first in the MULTI (what a spawn tells the mirror). */
export interface StreamAnnouncement {
  streamKey: string;
  fields: Record<string, string>;
}

/**
 * KEYS: the source job, its queue's completed and failed sets, the dependent's pending-children
 * set, processed and failed hashes, the shard's pending-links set. ARGV: the source's job id,
 * `1` when it is optional, the link (`["key","type"]`), its pending-links member, now.
 * Returns 1 (result handed over), 2 (failure handed over), 3 (linked), 0 (no such job).
 */
const LINK_LUA = `
local source, id = KEYS[1], ARGV[1]
if redis.call('EXISTS', source) == 0 then return 0 end
if redis.call('ZSCORE', KEYS[2], id) then
  redis.call('HSET', KEYS[5], source, redis.call('HGET', source, '${JOB_FIELDS.returnvalue}') or 'null')
  return 1
end
if ARGV[2] == '1' and redis.call('ZSCORE', KEYS[3], id) then
  redis.call('HSET', KEYS[6], source, redis.call('HGET', source, 'failedReason') or 'failed')
  return 2
end
redis.call('SADD', KEYS[4], source)
local links = redis.call('HGET', source, '${EXTRA_LINKS_FIELD}')
if not links then
  links = '[' .. ARGV[3] .. ']'
elseif not string.find(links, ARGV[3], 1, true) then
  links = string.sub(links, 1, -2) .. ',' .. ARGV[3] .. ']'
end
redis.call('HSET', source, '${EXTRA_LINKS_FIELD}', links)
redis.call('ZADD', KEYS[7], 'NX', ARGV[5], ARGV[4])
return 3
`;

/**
 * KEYS[1] the goal record hash; ARGV[1] its field, then per task its entry's start
 * (`["key","type",[`, unique to a task entry) and the whole entry. Appends the entries the record
 * does not hold yet; returns how many, or -1 when the goal has no record (it ended long ago).
 */
const APPEND_RECORD_LUA = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return -1 end
local added = {}
for i = 2, #ARGV, 2 do
  if not string.find(raw, ARGV[i], 1, true) then added[#added + 1] = ARGV[i + 1] end
end
if #added == 0 then return 0 end
raw = string.sub(raw, 1, -3) .. ',' .. table.concat(added, ',') .. ']}'
redis.call('HSET', KEYS[1], ARGV[1], raw)
return #added
`;

type ExtensionClient = RedisConnection & {
  agentqLinkExisting(...args: Array<string | number>): Promise<number>;
  agentqAppendRecord(...args: string[]): Promise<number>;
};

const defined = new WeakSet<object>();

function extensionClient(client: object): ExtensionClient {
  const c = client as ExtensionClient;
  if (!defined.has(c)) {
    c.defineCommand('agentqLinkExisting', { lua: LINK_LUA, numberOfKeys: 7 });
    c.defineCommand('agentqAppendRecord', { lua: APPEND_RECORD_LUA, numberOfKeys: 1 });
    defined.add(c);
  }
  return c;
}

/** Adds the new tasks to the goal's record; false when the goal has no record any more. */
export async function appendGoalRecord(
  coordinator: RedisCoordinator,
  goalId: string,
  tasks: readonly ResolvedTaskSpec[],
  spawnedBy?: string,
): Promise<boolean> {
  const args = [GOAL_RECORD_FIELD];
  for (const t of tasks) {
    const entry = JSON.stringify(
      spawnedBy
        ? [t.key, t.type, t.dependsOn, t.optional, spawnedBy]
        : [t.key, t.type, t.dependsOn, t.optional],
    );
    args.push(`${JSON.stringify([t.key, t.type]).slice(0, -1)},[`, entry);
  }
  const added = await extensionClient(coordinator.client).agentqAppendRecord(
    goalRecordKey(coordinator, goalId),
    ...args,
  );
  return added >= 0;
}

interface Multi {
  xadd(key: string, id: string, ...fields: string[]): unknown;
  hset(key: string, field: string, value: string): unknown;
  sadd(key: string, ...members: string[]): unknown;
  zadd(key: string, ...args: Array<string | number>): unknown;
  agentqLinkExisting(...args: Array<string | number>): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** Dependents before their dependencies: a job's BullMQ parent exists when it is added. */
function dependentsFirst(tasks: readonly ResolvedTaskSpec[], fresh: ReadonlySet<string>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  const pending = new Map(tasks.map((t) => [t.key, 0]));
  for (const t of tasks)
    for (const d of t.dependsOn) if (fresh.has(d)) pending.set(d, pending.get(d)! + 1);
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  const queue = tasks.filter((t) => pending.get(t.key) === 0).map((t) => t.key);
  while (queue.length > 0) {
    const key = queue.shift()!;
    if (placed.has(key)) continue;
    placed.add(key);
    order.push(key);
    for (const d of byKey.get(key)!.dependsOn) {
      if (!fresh.has(d)) continue;
      const left = pending.get(d)! - 1;
      pending.set(d, left);
      if (left === 0) queue.push(d);
    }
  }
  return order;
}

/** Writes the new tasks' jobs and links atomically (see the module comment). */
export async function writeExtension(
  coordinator: RedisCoordinator,
  input: ExtensionInput,
): Promise<void> {
  const { goalId, shard, tasks, sources } = input;
  const fresh = new Set(tasks.map((t) => t.key));
  // The new tasks among themselves: their tree parents and links, as the compiler makes them.
  const inner = new Map(
    tasks.map((t) => [t.key, { ...t, dependsOn: t.dependsOn.filter((d) => fresh.has(d)) }]),
  );
  const { parentOf, linkedDependents } = treeLinks([...inner.values()]);
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  const backend: RedisQueueBackend = flowBackend(coordinator.flowProducer(shard));
  await backend.waitUntilReady();
  const client = extensionClient(await backend.client);
  const multi = (client as unknown as { multi(): Multi }).multi();
  const refs = new Map<string, ParentRef>();
  const waiting: ParentRef[] = [];
  let jobs = 0;
  if (input.announce) {
    multi.xadd(input.announce.streamKey, '*', ...Object.entries(input.announce.fields).flat());
    jobs++;
  }
  if (input.spawnedBy) {
    // Tells a retried attempt of the spawner that earlier attempts spawned (spawn-wait.ts).
    multi.hset(input.parent.ref.key, SPAWNED_FIELD, '1');
    jobs++;
  }
  try {
    for (const key of dependentsFirst(tasks, fresh)) {
      const task = byKey.get(key)!;
      const queue = coordinator.queue(task.type, shard);
      const id = taskJobId(goalId, key);
      const treeParent = parentOf.get(key) ?? null;
      const parent = treeParent === null ? input.parent.ref : refs.get(treeParent)!;
      const base = taskOptions(task, treeParent === null && input.parent.onFailure === 'continue');
      const opts: JobsOptions = {
        ...base,
        jobId: id,
        parent: { id: parent.id, queue: parent.queueKey },
      };
      const waits =
        inner.get(key)!.dependsOn.length > 0 || task.dependsOn.some((d) => sources.has(d));
      void addFlowJob(backend, multi, {
        queue,
        name: key,
        data: taskJobData(
          goalId,
          shard,
          task,
          (linkedDependents.get(key) ?? []).map((d) => [d, byKey.get(d)!.type]),
          input.spawnedBy,
        ),
        opts,
        jobId: id,
        parentKey: parent.key,
        waitsForChildren: waits,
      });
      jobs++;
      const ref = { id, key: queue.toKey(id), queueKey: queue.qualifiedName };
      refs.set(key, ref);
      if (waits) waiting.push(ref);
    }
    const now = Date.now();
    const pending = pendingLinksKey(coordinator, shard);
    for (const [key, dependents] of linkedDependents) {
      const source = byKey.get(key)!;
      if (dependents.length === 0) continue;
      const sourceKey = taskJobKey(coordinator, shard, source.type, taskJobId(goalId, key));
      for (const d of dependents) multi.sadd(dependenciesKey(refs.get(d)!.key), sourceKey);
      multi.zadd(pending, now, pendingLinkMember(source.type, taskJobId(goalId, key)));
    }
    for (const task of tasks) {
      const dependent = refs.get(task.key)!;
      for (const dep of task.dependsOn) {
        const source = sources.get(dep);
        if (!source) continue;
        const sourceId = taskJobId(goalId, dep);
        const sourceQueue = coordinator.queue(source.type, shard);
        multi.agentqLinkExisting(
          taskJobKey(coordinator, shard, source.type, sourceId),
          sourceQueue.keys.completed!,
          sourceQueue.keys.failed!,
          dependenciesKey(dependent.key),
          processedKey(dependent.key),
          failedChildrenKey(dependent.key),
          pending,
          sourceId,
          source.optional ? '1' : '0',
          JSON.stringify([task.key, task.type]),
          pendingLinkMember(source.type, sourceId),
          now,
        );
      }
    }
    for (const ref of waiting) void releaseParentIfNoPendingDependencies(backend, multi, ref, now);
    const results = await multi.exec();
    if (!results)
      throw new Error(`the tasks added to goal ${goalId} were not written (MULTI aborted)`);
    results.forEach(([error, value], i) => {
      if (error) throw error;
      if (i < jobs && typeof value === 'number' && value < 0) {
        throw new Error(`BullMQ refused a job added to goal ${goalId} (addJob code ${value})`);
      }
    });
  } catch (error) {
    throw redisFullError(error) ?? error;
  }
}
