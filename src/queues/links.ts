/**
 * Links: how a shared task holds back every dependent but its BullMQ parent. BullMQ flows are
 * trees (a job has one parent); plans are DAGs. When the flow is written, each further dependent
 * D of a task S gets S's job key in its own pending-children set (`<D>:dependencies`), so BullMQ
 * keeps D in waiting-children exactly as if S were one more child of it (Bull Board shows S under
 * D too). Whoever sees S end for good releases its links — the agent that ran it, or the reconciler
 * after a crash:
 * - S completed: S's key moves from D's pending set to D's processed hash with S's return value,
 *   as BullMQ does for a real child, so D reads it with its other results (getChildrenValues);
 *   D with no pending child left is moved on by BullMQ's own releaseParentIfNoPendingDependencies.
 * - S failed and is optional: the same into D's `failed` hash (BullMQ's ignored child failures),
 *   so D runs with `{ error }` for S.
 * - S failed otherwise: a gate job is added as a child of D; the gate worker fails it and BullMQ
 *   fails D like the parent of any failed child (the mirror records "dependency S failed").
 * No job is written per link, which halves a DAG's flow; a gate exists only for a failure.
 * Every source with links sits in its shard's pending-links set until they are released, which is
 * how the reconciler finds the ones a crash left behind.
 *
 * A task added to a running goal (an extension, a spawn) that depends on a task still running
 * links to it at runtime: its `[key, type]` joins the source job's `agentqLinks` field
 * (extension-writer.ts), released with the static ones; a source with only runtime links is
 * released by the reconciler (within a few seconds), which loads the job and sees the field.
 */
import { Job } from 'bullmq';
import {
  dependenciesKey,
  failedChildrenKey,
  isMissingParentError,
  JOB_FIELDS,
  jobKey,
  processedKey,
  queueBackend,
  releaseParentIfNoPendingDependencies,
} from './bullmq-internals';
import type { RedisConnection } from './connection';
import { GATES_QUEUE } from './names';
import type { RedisCoordinator } from './redis-coordinator';
import { gateJobId, taskJobId, type GateJobData, type TaskJobData } from './task-job';

/** The part of a task job's data that releasing its links needs. */
export type LinkSource = Pick<
  TaskJobData,
  'taskId' | 'goalId' | 'key' | 'type' | 'optional' | 'shard' | 'links'
>;

/**
 * KEYS[1] the source job; then per dependent: its pending-children set, and the hash the source
 * goes to (processed or failed). ARGV[1] the value recorded there; '' means the source's return
 * value. Returns the source's runtime links (EXTRA_LINKS_FIELD, '' when none), then the 1-based
 * positions of the dependents with no pending child left (also those released before: a re-run after a crash must still move them on; BullMQ's release is a no-op
 * for a job that is not in waiting-children).
 */
/** The job hash field of a source's runtime links (JSON `[[key, type], …]`). */
export const EXTRA_LINKS_FIELD = 'agentqLinks';

const RELEASE_LINKS_LUA = `
local source = KEYS[1]
local value = ARGV[1]
if value == '' then value = redis.call('HGET', source, '${JOB_FIELDS.returnvalue}') or 'null' end
local ready = {}
for i = 2, #KEYS, 2 do
  if redis.call('SREM', KEYS[i], source) == 1 then
    redis.call('HSET', KEYS[i + 1], source, value)
  end
  if redis.call('SCARD', KEYS[i]) == 0 then ready[#ready + 1] = i / 2 end
end
return {redis.call('HGET', source, '${EXTRA_LINKS_FIELD}') or '', unpack(ready)}
`;

type LinkClient = RedisConnection & {
  agentqReleaseLinks(numKeys: number, ...args: string[]): Promise<[string, ...number[]]>;
};

const defined = new WeakSet<object>();

function linkClient(client: RedisConnection): LinkClient {
  if (!defined.has(client)) {
    client.defineCommand('agentqReleaseLinks', { lua: RELEASE_LINKS_LUA });
    defined.add(client);
  }
  return client as LinkClient;
}

/** The shard's sorted set of sources whose links are not released yet (score: when written). */
export function pendingLinksKey(coordinator: RedisCoordinator, shard: number): string {
  return `${coordinator.bullPrefix(shard)}:agentq:links`;
}

/** A source's member in the pending-links set: `<type>/<task id>` (a type has no `/`). */
export function pendingLinkMember(type: string, taskId: string): string {
  return `${type}/${taskId}`;
}

export function parsePendingLinkMember(member: string): { type: string; taskId: string } {
  const slash = member.indexOf('/');
  return { type: member.slice(0, slash), taskId: member.slice(slash + 1) };
}

/** The Redis key of a task's job. */
export function taskJobKey(
  coordinator: RedisCoordinator,
  shard: number,
  type: string,
  taskId: string,
): string {
  return jobKey(coordinator.bullPrefix(shard), type, taskId);
}

/** Moves a dependent on when nothing is pending for it any more (BullMQ's own script). */
async function releaseParent(
  coordinator: RedisCoordinator,
  shard: number,
  type: string,
  taskId: string,
): Promise<void> {
  const queue = coordinator.queue(type, shard);
  const backend = queueBackend(queue);
  await releaseParentIfNoPendingDependencies(backend, await backend.client, {
    key: queue.toKey(taskId),
    queueKey: queue.qualifiedName,
    id: taskId,
  });
}

async function releaseInto(
  coordinator: RedisCoordinator,
  source: LinkSource,
  links: ReadonlyArray<[string, string]>,
  hash: 'processed' | 'failed',
  value: string,
): Promise<Array<[string, string]>> {
  const { shard } = source;
  const keys = [taskJobKey(coordinator, shard, source.type, source.taskId)];
  for (const [key, type] of links) {
    const dependent = taskJobKey(coordinator, shard, type, taskJobId(source.goalId, key));
    keys.push(
      dependenciesKey(dependent),
      hash === 'processed' ? processedKey(dependent) : failedChildrenKey(dependent),
    );
  }
  const [extra, ...ready] = await linkClient(coordinator.client).agentqReleaseLinks(
    keys.length,
    ...keys,
    value,
  );
  await Promise.all(
    ready.map((position) => {
      const [key, type] = links[position - 1]!;
      return releaseParent(coordinator, shard, type, taskJobId(source.goalId, key));
    }),
  );
  return extra ? (JSON.parse(extra) as Array<[string, string]>) : [];
}

/** Releases the static links, then the runtime ones the release found on the source. */
async function releaseAll(
  coordinator: RedisCoordinator,
  source: LinkSource,
  hash: 'processed' | 'failed',
  value: string,
): Promise<void> {
  const extra = await releaseInto(coordinator, source, source.links ?? [], hash, value);
  if (extra.length > 0) await releaseInto(coordinator, source, extra, hash, value);
}

async function runtimeLinks(
  coordinator: RedisCoordinator,
  source: LinkSource,
): Promise<Array<[string, string]>> {
  const raw = await coordinator.client.hget(
    taskJobKey(coordinator, source.shard, source.type, source.taskId),
    EXTRA_LINKS_FIELD,
  );
  return raw ? (JSON.parse(raw) as Array<[string, string]>) : [];
}

/** Adds a gate under each dependent that fails it; a dependent already gone is skipped. */
async function failDependents(
  coordinator: RedisCoordinator,
  source: LinkSource,
  links: ReadonlyArray<[string, string]>,
): Promise<void> {
  const gates = coordinator.queue(GATES_QUEUE, source.shard);
  await Promise.all(
    links.map(async ([key, type]) => {
      const dependentTaskId = taskJobId(source.goalId, key);
      const data: GateJobData = {
        v: 1,
        kind: 'gate',
        goalId: source.goalId,
        sourceTaskId: source.taskId,
        sourceKey: source.key,
        sourceType: source.type,
        sourceOptional: source.optional,
        dependentTaskId,
      };
      try {
        await gates.add('gate', data, {
          jobId: gateJobId(source.taskId, key),
          parent: {
            id: dependentTaskId,
            queue: coordinator.queue(type, source.shard).qualifiedName,
          },
          failParentOnFailure: true,
        });
      } catch (error) {
        // Cancelled or finalized meanwhile: there is nobody left to fail.
        if (!isMissingParentError(error)) throw error;
      }
    }),
  );
}

async function forgetSource(coordinator: RedisCoordinator, source: LinkSource): Promise<void> {
  await coordinator.client.zrem(
    pendingLinksKey(coordinator, source.shard),
    pendingLinkMember(source.type, source.taskId),
  );
}

/**
 * Releases the links of a task that COMPLETED: its dependents get its result. Without static
 * links nothing is read (no round trip per task): `always` (the reconciler) looks for runtime ones.
 */
export async function releaseLinksOfCompleted(
  coordinator: RedisCoordinator,
  source: LinkSource,
  always = false,
): Promise<void> {
  if (!source.links?.length && !always) return;
  await releaseAll(coordinator, source, 'processed', '');
  await forgetSource(coordinator, source);
}

/**
 * Releases the links of a task that failed for good: an optional one hands `{ error }` on, any
 * other fails its dependents.
 */
export async function releaseLinksOfFailed(
  coordinator: RedisCoordinator,
  source: LinkSource,
  reason: string,
  always = false,
): Promise<void> {
  if (!source.links?.length && !always) return;
  if (source.optional) await releaseAll(coordinator, source, 'failed', reason);
  else {
    const links = [...(source.links ?? []), ...(await runtimeLinks(coordinator, source))];
    await failDependents(coordinator, source, links);
  }
  await forgetSource(coordinator, source);
}

/** Releases the links of a task job that ended (`state`); false when the job is gone. */
export async function releaseLinksOfJob(
  coordinator: RedisCoordinator,
  shard: number,
  type: string,
  taskId: string,
  state: 'completed' | 'failed',
): Promise<boolean> {
  const job = await Job.fromId<TaskJobData>(coordinator.queue(type, shard), taskId);
  if (!job) return false;
  if (state === 'completed') await releaseLinksOfCompleted(coordinator, job.data, true);
  else await releaseLinksOfFailed(coordinator, job.data, job.failedReason || 'failed', true);
  return true;
}

/**
 * Drops a finished goal's sources from the pending-links set: those a failure or cancel left
 * unreleased (their dependents are gone with the goal).
 */
export async function forgetGoalLinks(
  coordinator: RedisCoordinator,
  shard: number,
  goalId: string,
  tasks: ReadonlyArray<readonly [key: string, type: string, ...rest: unknown[]]>,
): Promise<void> {
  const members = tasks.map(([key, type]) => pendingLinkMember(type, taskJobId(goalId, key)));
  for (let i = 0; i < members.length; i += 1000) {
    await coordinator.client.zrem(
      pendingLinksKey(coordinator, shard),
      ...members.slice(i, i + 1000),
    );
  }
}
