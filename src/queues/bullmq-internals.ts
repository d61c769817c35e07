/**
 * Every use agentq makes of BullMQ's internals, in one place: the one file an upgrade of BullMQ
 * has to look at. The canary test (test/integration/bullmq-canary.test.ts) checks each item
 * against the installed BullMQ and a real Redis: the version range, the private backend methods,
 * the scripts called by name, the key formats and job hash fields, the events-stream entries.
 *
 * - Private backend calls: `addJobToTransaction` (a flow's jobs in our own MULTI) and
 *   `execCommand` (BullMQ's `releaseParentIfNoPendingDependencies` script, by name).
 * - `Job#toFlowEntry`: the job hash a flow entry gets, as FlowProducer builds it.
 * - Key formats: `<bullPrefix>:<queue>:<jobId>` and its `:dependencies` (pending children set),
 *   `:processed` (results of finished children), `:failed` (ignored child failures), `:logs`.
 * - Job hash fields (`data`, `progress`, `returnvalue`, `failedReason`, `atm`, …) and the
 *   error message of an add under a parent that is gone.
 * - The events stream's entries (`event`, `jobId`, `prev`, `data`, `returnvalue`, `failedReason`).
 * - `writeStarted`: BullMQ's `updateProgress` + `addLog` scripts re-implemented as one script.
 */
import {
  Job,
  type FlowProducer,
  type JobsOptions,
  type ParentKeyOpts,
  type Queue,
  type RedisQueueBackend,
} from 'bullmq';
import type { RedisConnection } from './connection';

/** The BullMQ versions this file was checked against (package.json pins the same range). */
export const BULLMQ_RANGE = '~6.7.0';

/** The private methods of BullMQ's RedisQueueBackend agentq calls. */
export const BACKEND_METHODS = ['addJobToTransaction', 'execCommand'] as const;

/** BullMQ's Lua scripts agentq runs by name (through `execCommand`). */
export const SCRIPT_NAMES = ['releaseParentIfNoPendingDependencies'] as const;

/** Fields of a BullMQ job hash agentq reads or writes. */
export const JOB_FIELDS = {
  /** The job's data (JSON). Every job BullMQ writes has it: a hash without it is a fragment. */
  data: 'data',
  progress: 'progress',
  returnvalue: 'returnvalue',
  failedReason: 'failedReason',
  /** Attempts made. */
  attemptsMade: 'atm',
  finishedOn: 'finishedOn',
} as const;

/** The Redis key of a job: `<bullPrefix>:<queue>:<jobId>`. */
export function jobKey(bullPrefix: string, queue: string, jobId: string): string {
  return `${bullPrefix}:${queue}:${jobId}`;
}

/** The set of a parent's pending children (job keys). */
export function dependenciesKey(job: string): string {
  return `${job}:dependencies`;
}

/** The hash of a parent's finished children: job key → return value (JSON). */
export function processedKey(job: string): string {
  return `${job}:processed`;
}

/** The hash of a parent's ignored child failures: job key → failed reason. */
export function failedChildrenKey(job: string): string {
  return `${job}:failed`;
}

/** The list of a job's log lines. */
export function logsKey(job: string): string {
  return `${job}:logs`;
}

/** BullMQ's error when a job is added under a parent that is gone. */
export function isMissingParentError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Missing key for parent job');
}

/** A queue's backend, with its private methods (the public type hides it behind an interface). */
export function queueBackend(queue: Queue): RedisQueueBackend {
  return queue.backend as unknown as RedisQueueBackend;
}

export function flowBackend(producer: FlowProducer): RedisQueueBackend {
  return producer.getBackend() as RedisQueueBackend;
}

/** One job of a flow as our flow writer adds it. */
export interface FlowJobInput {
  queue: Queue;
  name: string;
  data: unknown;
  opts: JobsOptions;
  jobId: string;
  /** The BullMQ parent's job key, when the job has one. */
  parentKey?: string;
  /** Added in waiting-children (it has children or links), else waiting. */
  waitsForChildren: boolean;
}

/**
 * Queues one job's add on `multi` with BullMQ's own scripts (what FlowProducer.add does). The
 * parent is released later, by the caller (`deferParentRelease`). Resolves once the add is
 * queued (await it: the MULTI's replies follow the order of the adds); the script's reply, a
 * negative number for BullMQ's error codes, comes with the MULTI's.
 */
export function addFlowJob(
  backend: RedisQueueBackend,
  multi: unknown,
  job: FlowJobInput,
): Promise<string> {
  const parent: ParentKeyOpts = job.parentKey
    ? { parentKey: job.parentKey, parentDependenciesKey: dependenciesKey(job.parentKey) }
    : {};
  const entry = new Job(job.queue, job.name, job.data, job.opts, job.jobId).toFlowEntry({
    ...parent,
    addToWaitingChildren: job.waitsForChildren,
  });
  return backend.addJobToTransaction(
    multi as never,
    entry.jobData,
    entry.jobId,
    { ...entry.parentKeyOpts, deferParentRelease: true },
    job.queue.keys,
  );
}

/** The job a parent release is about. */
export interface ParentRef {
  /** Its job key. */
  key: string;
  /** Its queue's qualified name (`<bullPrefix>:<queue>`). */
  queueKey: string;
  id: string;
}

/**
 * Moves a parent out of waiting-children when none of its children is pending (BullMQ's own
 * script). `client` is a connection BullMQ made (`await backend.client`) or a MULTI of one.
 */
export function releaseParentIfNoPendingDependencies(
  backend: RedisQueueBackend,
  client: unknown,
  parent: ParentRef,
  now = Date.now(),
): Promise<unknown> {
  return backend.execCommand(client as never, SCRIPT_NAMES[0], [
    parent.key,
    dependenciesKey(parent.key),
    parent.queueKey,
    parent.id,
    now,
  ]) as Promise<unknown>;
}

/**
 * The `started` report of an attempt: BullMQ's `updateProgress` (the hash's `progress` and a
 * `progress` entry on the events stream) and `addLog` (a line, trimmed to `keepLogs`) in one
 * script, one round trip. Written only when the job hash has its `data`: after a Redis wipe an
 * agent still running the job must not recreate a fragment of its hash, which `agentq recover`
 * would take for the job itself. The stream is not trimmed here: BullMQ's next XADD on it
 * (MAXLEN ~) trims it anyway.
 *
 * KEYS[1] the job hash, KEYS[2] its logs, KEYS[3] the queue's events stream.
 * ARGV[1] the job id, ARGV[2] the progress (JSON), ARGV[3] the log line, ARGV[4] keepLogs or ''.
 * Returns 1 when written, 0 when the job is gone (nothing written).
 */
const WRITE_STARTED_LUA = `
if redis.call('HEXISTS', KEYS[1], '${JOB_FIELDS.data}') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[3])
if ARGV[4] ~= '' then redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1) end
redis.call('XADD', KEYS[3], '*', 'event', 'progress', 'jobId', ARGV[1], 'data', ARGV[2])
return 1
`;

/**
 * KEYS pairs of (job hash, its logs). Deletes each pair whose hash exists without `data`: a
 * fragment left by a late write after the job was lost. Returns how many were deleted.
 */
const DROP_FRAGMENTS_LUA = `
local dropped = 0
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 and redis.call('HEXISTS', KEYS[i], '${JOB_FIELDS.data}') == 0 then
    redis.call('DEL', KEYS[i], KEYS[i + 1])
    dropped = dropped + 1
  end
end
return dropped
`;

type InternalsClient = RedisConnection & {
  agentqWriteStarted(numKeys: number, ...args: Array<string | number>): Promise<number>;
  agentqDropJobFragments(numKeys: number, ...keys: string[]): Promise<number>;
};

const defined = new WeakSet<object>();

function internalsClient(client: RedisConnection): InternalsClient {
  if (!defined.has(client)) {
    client.defineCommand('agentqWriteStarted', { lua: WRITE_STARTED_LUA });
    client.defineCommand('agentqDropJobFragments', { lua: DROP_FRAGMENTS_LUA });
    defined.add(client);
  }
  return client as InternalsClient;
}

/** What `writeStarted` writes. */
export interface StartedWrite {
  jobKey: string;
  eventsKey: string;
  jobId: string;
  /** The progress value, JSON. */
  progress: string;
  logLine: string;
  keepLogs?: number;
}

/** Writes a `started` report; false when the job is gone (then nothing is written). */
export async function writeStarted(client: RedisConnection, write: StartedWrite): Promise<boolean> {
  const written = await internalsClient(client).agentqWriteStarted(
    3,
    write.jobKey,
    logsKey(write.jobKey),
    write.eventsKey,
    write.jobId,
    write.progress,
    write.logLine,
    typeof write.keepLogs === 'number' ? write.keepLogs : '',
  );
  return written === 1;
}

/**
 * Deletes the fragments among `jobKeys` (hashes without `data`, with their logs); returns how
 * many. On a cluster every key must be in one slot (one shard's hash tag).
 */
export async function dropJobFragments(
  client: RedisConnection,
  jobKeys: readonly string[],
): Promise<number> {
  if (jobKeys.length === 0) return 0;
  const keys = jobKeys.flatMap((key) => [key, logsKey(key)]);
  return internalsClient(client).agentqDropJobFragments(keys.length, ...keys);
}

/** A job's hash as far as agentq can tell: BullMQ's, missing, or a fragment without `data`. */
export type JobHashState = 'present' | 'missing' | 'fragment';

export async function jobHashState(client: RedisConnection, key: string): Promise<JobHashState> {
  const [hasData, exists] = await Promise.all([
    client.hexists(key, JOB_FIELDS.data),
    client.exists(key),
  ]);
  if (hasData === 1) return 'present';
  return exists === 1 ? 'fragment' : 'missing';
}

/**
 * An entry of a queue's events stream, as BullMQ 6.7 writes it (read from its Lua scripts), in
 * the shape the mirror maps. Entries of other events keep their name only.
 */
export type BullStreamEvent =
  | { event: 'waiting'; jobId: string; prev: string | undefined }
  | { event: 'delayed'; jobId: string }
  | { event: 'progress'; jobId: string; data: string | undefined }
  | { event: 'completed'; jobId: string; returnvalue: string | undefined }
  | { event: 'failed'; jobId: string; failedReason: string | undefined }
  | { event: 'other'; name: string; jobId: string };

/** The BullMQ event of a stream entry's fields; null for an entry about no job. */
export function bullStreamEvent(fields: Readonly<Record<string, string>>): BullStreamEvent | null {
  const jobId = fields.jobId;
  if (!jobId) return null;
  switch (fields.event) {
    case 'waiting':
      return { event: 'waiting', jobId, prev: fields.prev };
    case 'delayed':
      return { event: 'delayed', jobId };
    case 'progress':
      return { event: 'progress', jobId, data: fields.data };
    case 'completed':
      return { event: 'completed', jobId, returnvalue: fields.returnvalue };
    case 'failed':
      return { event: 'failed', jobId, failedReason: fields.failedReason };
    default:
      return { event: 'other', name: fields.event ?? '', jobId };
  }
}
