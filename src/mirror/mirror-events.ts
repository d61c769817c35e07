/**
 * BullMQ 6.7 events-stream entries → `TaskChange`s, following src/queues/protocol.ts. The
 * entries' format is read by `bullStreamEvent` (src/queues/bullmq-internals.ts). What BullMQ
 * emits (read from its Lua scripts):
 * - `waiting` with `prev` = waiting-children (dependencies done), delayed (backoff over),
 *   failed (immediate retry) or active (lock lost, stalled); no `prev` for a fresh add.
 * - `delayed`: a failed attempt with attempts left waiting out its backoff.
 * - `active` (claimed: no agent id yet, so not recorded), `progress` (`data` = our
 *   TaskProgressMessage), `completed` (`returnvalue`), `failed` (`failedReason`; always final in
 *   6.7 — a retry emits `delayed` or `waiting` instead), `retries-exhausted`, `removed`, `stalled`.
 * - `agentq`: our own AgentqStreamEvent (flattened fields) for transitions BullMQ does not emit.
 */
import type { Json, TaskChange, TaskError } from '../entities/task-model';
import type { TaskState } from '../entities/task-state';
import { bullStreamEvent, JOB_FIELDS, type BullStreamEvent } from '../queues/bullmq-internals';
import {
  AGENTQ_STREAM_EVENT,
  isCancelledReason,
  type TaskProgressMessage,
  type TaskResultEnvelope,
} from '../queues/protocol';
import { rejectedActorOf } from '../queues/approvals';
import { childFailureOf } from './mirror-failure';
import type { MirrorLookups } from './mirror-lookups';
import { streamIdMs } from './mirror-cursor';

export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

/** What the mirror remembers of a task between entries (lost on restart; only an optimisation). */
export interface TaskMemo {
  attempt?: number;
  queuedAtMs?: number;
  state?: TaskState;
}

export type { MirrorLookups } from './mirror-lookups';

export function parseJson(raw: string | undefined): Json | undefined {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as Json;
  } catch {
    return raw;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEnvelope(value: unknown): value is TaskResultEnvelope {
  return isObject(value) && value.v === 1 && typeof value.agentId === 'string' && 'result' in value;
}

function isProgressMessage(value: unknown): value is TaskProgressMessage {
  return isObject(value) && (value.phase === 'started' || value.phase === 'progress');
}

function qualityOf(value: unknown): number | undefined {
  return isObject(value) && typeof value.qualityScore === 'number' ? value.qualityScore : undefined;
}

function isEnd(state: TaskState): boolean {
  return state === 'DONE' || state === 'FAILED' || state === 'CANCELLED';
}

/** Maps one entry of a task queue's stream; `memo` is updated with what the changes imply. */
export async function mapTaskEntry(
  entry: StreamEntry,
  memos: Map<string, TaskMemo>,
  lookups: MirrorLookups,
): Promise<TaskChange[]> {
  const f = entry.fields;
  const at = new Date(streamIdMs(entry.id));
  if (f.event === AGENTQ_STREAM_EVENT) {
    const changes = agentqChanges(f, at);
    // A task cancelled before it ran ends here: forget its queue time.
    for (const change of changes) if (isEnd(change.to)) memos.delete(change.taskId);
    return changes;
  }
  const event = bullStreamEvent(f);
  if (!event) return [];
  const taskId = event.jobId;
  const memo = memos.get(taskId) ?? {};
  const changes = await changesOf(event, taskId, memo, at, lookups);
  for (const change of changes) {
    memo.state = change.to;
    if (change.attempt !== undefined) memo.attempt = change.attempt;
  }
  if (memo.state !== undefined && isEnd(memo.state)) {
    memos.delete(taskId);
  } else if (changes.length > 0 || memos.has(taskId) || memo.queuedAtMs !== undefined) {
    memos.set(taskId, memo);
  }
  return changes;
}

async function changesOf(
  event: BullStreamEvent,
  taskId: string,
  memo: TaskMemo,
  at: Date,
  lookups: MirrorLookups,
): Promise<TaskChange[]> {
  const base = { taskId, at, ...(memo.attempt !== undefined ? { attempt: memo.attempt } : {}) };
  switch (event.event) {
    case 'waiting':
    case 'delayed': {
      const prev = event.event === 'waiting' ? event.prev : undefined;
      if (event.event === 'waiting' && (prev === undefined || prev === 'waiting')) {
        // Added straight to its queue (PENDING from creation): remember when, for its waitMs.
        memo.queuedAtMs ??= at.getTime();
        return [];
      }
      if (memo.state === 'PENDING') return [];
      memo.queuedAtMs = at.getTime();
      const change: TaskChange = { ...base, to: 'PENDING', metrics: { queuedAt: at } };
      // A release moves a task on from BACKLOG; a spawning task that the end of what it spawned
      // moves on is still ACTIVE in SQL (it resumes where it was), so it is not a release for it.
      if (prev === 'waiting-children') change.onlyFrom = ['BACKLOG'];
      if (event.event === 'delayed' || prev === 'failed') {
        await addRetryInfo(change, taskId, lookups);
      }
      return [change];
    }
    case 'progress':
      return progressChanges(taskId, parseJson(event.data), memo, at);
    case 'completed':
      return [completedChange(base, parseJson(event.returnvalue))];
    case 'failed':
      return [await failedChange(base, event.failedReason ?? 'failed', lookups)];
    default:
      return [];
  }
}

/**
 * A retry: an attempt failed with attempts left (`delayed`, or `waiting` from failed) — the
 * PENDING carries its error — or a dead-letter redrive (`waiting` from failed with the attempts
 * reset and the job's epoch bumped) — the PENDING opens the new epoch, no error.
 */
async function addRetryInfo(change: TaskChange, taskId: string, lookups: MirrorLookups) {
  const [reason, attemptsMade, raw] = await lookups.jobFields(lookups.jobKey(taskId), [
    JOB_FIELDS.failedReason,
    JOB_FIELDS.attemptsMade,
    JOB_FIELDS.data,
  ]);
  const data = parseJson(raw ?? undefined);
  const epoch = isObject(data) && typeof data.epoch === 'number' ? data.epoch : undefined;
  if (epoch !== undefined) change.epoch = epoch;
  if (Number(attemptsMade ?? 0) === 0) {
    // Redriven: attempts count again from 0 in the new epoch.
    delete change.attempt;
  } else if (reason) {
    change.error = { message: reason };
  }
}

function progressChanges(taskId: string, data: unknown, memo: TaskMemo, at: Date): TaskChange[] {
  if (!isProgressMessage(data)) return [];
  if (data.phase === 'progress') {
    const change: TaskChange = {
      taskId,
      to: 'ACTIVE',
      at,
      attempt: data.attempt,
      agentId: data.agentId,
      progress: data.value,
    };
    const quality = qualityOf(data.value);
    if (quality !== undefined) change.metrics = { qualityScore: quality };
    return [change];
  }
  const claimedAt = new Date(data.claimedAt);
  const startedAt = new Date(data.startedAt);
  const waitMs = memo.queuedAtMs === undefined ? undefined : data.claimedAt - memo.queuedAtMs;
  if (data.resumed) {
    // A spawning task claimed again to finish: ACTIVE in SQL already, unless it was handed back
    // (an agent died) in between — then it is claimed and started again, as any other task.
    const again = { taskId, attempt: data.attempt, agentId: data.agentId };
    return [
      { ...again, to: 'ASSIGNED', at: claimedAt, metrics: { claimedAt }, onlyFrom: ['PENDING'] },
      { ...again, to: 'ACTIVE', at: startedAt, metrics: { startedAt }, onlyFrom: ['ASSIGNED'] },
    ];
  }
  return [
    {
      taskId,
      to: 'ASSIGNED',
      at: claimedAt,
      attempt: data.attempt,
      agentId: data.agentId,
      metrics: { claimedAt },
    },
    {
      taskId,
      to: 'ACTIVE',
      at: startedAt,
      attempt: data.attempt,
      agentId: data.agentId,
      metrics: { startedAt, ...(waitMs !== undefined && waitMs >= 0 ? { waitMs } : {}) },
    },
  ];
}

function completedChange(base: Omit<TaskChange, 'to'>, value: Json | undefined): TaskChange {
  if (!isEnvelope(value)) {
    return { ...base, to: 'DONE', result: value ?? null, metrics: { finishedAt: base.at } };
  }
  const m = value.metrics ?? {};
  const quality = m.qualityScore ?? qualityOf(value.result);
  return {
    ...base,
    to: 'DONE',
    at: new Date(value.finishedAt),
    attempt: value.attempt,
    agentId: value.agentId,
    result: value.result,
    ...(value.actor ? { actor: value.actor } : {}),
    ...(value.note ? { reason: value.note } : {}),
    metrics: {
      finishedAt: new Date(value.finishedAt),
      durationMs: value.finishedAt - value.startedAt,
      ...(m.cpuMs !== undefined ? { cpuMs: m.cpuMs } : {}),
      ...(m.peakRssBytes !== undefined ? { peakRssBytes: m.peakRssBytes } : {}),
      ...(quality !== undefined ? { qualityScore: quality } : {}),
    },
  };
}

async function failedChange(
  base: Omit<TaskChange, 'to'>,
  reason: string,
  lookups: MirrorLookups,
): Promise<TaskChange> {
  const finished = { ...base, metrics: { finishedAt: base.at } };
  if (isCancelledReason(reason))
    return { ...finished, to: 'CANCELLED', reason, actor: actorOf(reason) };
  const child = await childFailureOf(reason, lookups);
  if (child?.cancelled)
    return { ...finished, to: 'CANCELLED', reason: child.reason, actor: actorOf(child.reason) };
  const error: TaskError = child
    ? { message: `dependency ${child.dependency} failed`, dependency: child.dependency }
    : { message: reason };
  const rejectedBy = child ? null : rejectedActorOf(reason);
  return {
    ...finished,
    to: 'FAILED',
    error,
    reason: error.message,
    ...(rejectedBy ? { actor: rejectedBy } : {}),
  };
}

/** `[cancelled] by api:ops` → `api:ops`. */
function actorOf(reason: string): string | null {
  const match = /^\[cancelled\] by (.+)$/.exec(reason);
  return match?.[1] && match[1] !== 'unknown' ? match[1] : null;
}

const AGENTQ_TARGETS: readonly TaskState[] = ['FAILED', 'CANCELLED', 'PENDING'];

function agentqChanges(f: Record<string, string>, at: Date): TaskChange[] {
  const to = f.to as TaskState;
  if (!f.taskId || !AGENTQ_TARGETS.includes(to)) return [];
  const reason = f.reason ?? '';
  const change: TaskChange = { taskId: f.taskId, to, at, reason, actor: f.actor || null };
  if (to === 'FAILED') {
    change.error = {
      message: reason || 'failed',
      ...(f.dependency ? { dependency: f.dependency } : {}),
    };
  }
  if (to !== 'PENDING') change.metrics = { finishedAt: at };
  return [change];
}
