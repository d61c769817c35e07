/**
 * The pure part of `applyChanges`, shared by every store: given the current heads of the tasks a
 * batch touches, decide per change whether it is unknown, stale, illegal or applied, and compute
 * the new heads and the events (without their `seq`, which the store allocates in its
 * transaction). No I/O, so the rules are unit-tested on their own.
 */
import { NotFoundError } from '../errors';
import { canTransition, IllegalTransitionError, type TaskState } from './task-state';
import {
  eventNameFor,
  type ApplyResult,
  type Json,
  type TaskChange,
  type TaskError,
  type TaskEventRecord,
  type TaskMetrics,
  type TaskRecord,
} from './task-model';
import type { NewTask } from './task-store';

/** The mutable part of a task: what a change may rewrite. */
export interface TaskHead extends TaskMetrics {
  id: string;
  goalId: string;
  state: TaskState;
  attempt: number;
  epoch: number;
  agentId: string | null;
  progress: Json | null;
  result: Json | null;
  error: TaskError | null;
  updatedAt: Date;
}

export const METRIC_KEYS = [
  'queuedAt',
  'claimedAt',
  'startedAt',
  'finishedAt',
  'waitMs',
  'durationMs',
  'cpuMs',
  'peakRssBytes',
  'qualityScore',
] as const satisfies ReadonlyArray<keyof TaskMetrics>;

export type PendingEvent = Omit<TaskEventRecord, 'seq'>;

export interface ChangePlan extends Omit<ApplyResult, 'events'> {
  /** The events to record, in order; the store numbers them. */
  events: PendingEvent[];
  /** The new heads of the tasks that changed, by id. */
  heads: Map<string, TaskHead>;
}

/** Picks the head out of a full record (the json store keeps full records). */
export function headOf(task: TaskRecord): TaskHead {
  const head = {
    id: task.id,
    goalId: task.goalId,
    state: task.state,
    attempt: task.attempt,
    epoch: task.epoch,
    agentId: task.agentId,
    progress: task.progress,
    result: task.result,
    error: task.error,
    updatedAt: task.updatedAt,
  } as TaskHead;
  for (const key of METRIC_KEYS) (head as unknown as Record<string, unknown>)[key] = task[key];
  return head;
}

/**
 * True when the change belongs to an older (epoch, attempt) than the task's. A change without
 * an epoch or attempt is taken as belonging to the current one.
 */
export function isStale(head: TaskHead, change: TaskChange): boolean {
  const epoch = change.epoch ?? head.epoch;
  if (epoch !== head.epoch) return epoch < head.epoch;
  return (change.attempt ?? head.attempt) < head.attempt;
}

/**
 * Plans a batch. `current` holds the heads the store loaded (unknown ids are simply absent);
 * it is not modified. Changes to one task apply in order, each seeing the previous one.
 */
export function planChanges(
  current: ReadonlyMap<string, TaskHead>,
  changes: TaskChange[],
): ChangePlan {
  const heads = new Map<string, TaskHead>();
  const plan: ChangePlan = { events: [], heads, rejected: [], stale: [] };
  for (const change of changes) {
    const before = heads.get(change.taskId) ?? current.get(change.taskId);
    if (!before) {
      plan.rejected.push({ change, error: new NotFoundError('task', change.taskId) });
    } else if (isStale(before, change)) {
      plan.stale.push(change);
    } else if (!canTransition(before.state, change.to)) {
      plan.rejected.push({
        change,
        error: new IllegalTransitionError(change.taskId, before.state, change.to),
      });
    } else {
      const after = applyOne(before, change);
      heads.set(after.id, after);
      plan.events.push(eventOf(before, after, change));
    }
  }
  return plan;
}

function applyOne(before: TaskHead, change: TaskChange): TaskHead {
  const after: TaskHead = { ...before, state: change.to, updatedAt: change.at };
  const epoch = change.epoch ?? before.epoch;
  if (epoch > before.epoch) {
    // A new epoch (an explicit retry) is a fresh run: the old outcome no longer describes it.
    after.result = null;
    after.error = null;
    after.progress = null;
  }
  after.epoch = epoch;
  after.attempt = change.attempt ?? (epoch > before.epoch ? 0 : before.attempt);
  if (change.agentId !== undefined) after.agentId = change.agentId;
  if (change.progress !== undefined) after.progress = change.progress;
  if (change.result !== undefined) after.result = change.result;
  if (change.error !== undefined) after.error = change.error;
  else if (change.to === 'DONE') after.error = null;
  const metrics = change.metrics ?? {};
  for (const key of METRIC_KEYS) {
    const value = metrics[key];
    if (value !== undefined) (after as unknown as Record<string, unknown>)[key] = value;
  }
  return after;
}

function eventOf(before: TaskHead, after: TaskHead, change: TaskChange): PendingEvent {
  const detail: NonNullable<TaskEventRecord['detail']> = {};
  if (change.result !== undefined) detail.result = change.result;
  if (change.error !== undefined) detail.error = change.error;
  if (change.progress !== undefined) detail.progress = change.progress;
  if (change.reason !== undefined) detail.reason = change.reason;
  return {
    taskId: after.id,
    goalId: after.goalId,
    event: eventNameFor(change.to, before.state),
    fromState: before.state,
    toState: change.to,
    attempt: after.attempt,
    agentId: after.agentId,
    actor: change.actor ?? null,
    at: change.at,
    detail: Object.keys(detail).length > 0 ? detail : null,
  };
}

/** Numbers planned events from `firstSeq` on. */
export function numberEvents(events: PendingEvent[], firstSeq: number): TaskEventRecord[] {
  return events.map((event, i) => ({ seq: firstSeq + i, ...event }));
}

/** The initial record of a task, as createGoal writes it. */
export function newTaskRecord(spec: NewTask, goalId: string, at: Date): TaskRecord {
  return {
    id: spec.id,
    goalId,
    key: spec.key,
    title: spec.title,
    description: spec.description,
    type: spec.type,
    priority: spec.priority,
    data: spec.data,
    dependsOn: spec.dependsOn,
    attempts: spec.attempts,
    timeoutMs: spec.timeoutMs,
    optional: spec.optional,
    state: spec.state,
    attempt: 0,
    epoch: 0,
    agentId: null,
    progress: null,
    result: null,
    error: null,
    createdAt: at,
    updatedAt: at,
    queuedAt: spec.state === 'PENDING' ? at : null,
    claimedAt: null,
    startedAt: null,
    finishedAt: null,
    waitMs: null,
    durationMs: null,
    cpuMs: null,
    peakRssBytes: null,
    qualityScore: null,
  };
}

/** The `new` event of a freshly created task. */
export function newTaskEvent(task: TaskRecord, actor: string | null): PendingEvent {
  return {
    taskId: task.id,
    goalId: task.goalId,
    event: 'new',
    fromState: null,
    toState: task.state,
    attempt: 0,
    agentId: null,
    actor,
    at: task.createdAt,
    detail: null,
  };
}
