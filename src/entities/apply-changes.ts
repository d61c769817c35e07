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
  isGoalOpen,
  type ApplyResult,
  type GoalRecord,
  type GoalState,
  type Json,
  type TaskChange,
  type TaskError,
  type TaskEventRecord,
  type TaskMetrics,
  type TaskRecord,
} from './task-model';
import type { GoalBudgetUpdate, NewGoal, NewTask } from './task-store';

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

/** Every metric unset: a task nobody has claimed yet. */
export const NO_METRICS: Readonly<TaskMetrics> = Object.freeze({
  queuedAt: null,
  claimedAt: null,
  startedAt: null,
  finishedAt: null,
  waitMs: null,
  durationMs: null,
  cpuMs: null,
  peakRssBytes: null,
  qualityScore: null,
});

export type PendingEvent = Omit<TaskEventRecord, 'seq'>;

/** A field of the head a change may rewrite (id and goalId never change). */
export type HeadField = Exclude<keyof TaskHead, 'id' | 'goalId'>;

/**
 * What any change rewrites: the state and its time, and the run it belongs to (cheap integers,
 * always written so the stored (epoch, attempt) can never lag the planned one).
 */
const ALWAYS_WRITTEN: readonly HeadField[] = ['state', 'updatedAt', 'epoch', 'attempt'];
/** What a new epoch clears. */
const OUTCOME_FIELDS: readonly HeadField[] = ['progress', 'result', 'error'];

export interface ChangePlan extends Omit<ApplyResult, 'events'> {
  /** The events to record, in order; the store numbers them. */
  events: PendingEvent[];
  /** The new heads of the tasks that changed, by id. */
  heads: Map<string, TaskHead>;
  /**
   * Per changed task, the fields its changes rewrote. The SQL stores write only these, so they
   * need not load (nor re-encode) the rest of the head: a field outside this set keeps its
   * stored value whatever the head holds.
   */
  written: Map<string, Set<HeadField>>;
}

/**
 * The fields `planChanges` reads from a current head. A store that writes only
 * `ChangePlan.written` may load just these and leave the other fields of the head null.
 */
export const PLANNING_FIELDS = [
  'state',
  'attempt',
  'epoch',
  'agentId',
] as const satisfies ReadonlyArray<HeadField>;

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

/** True when the change starts a newer epoch than the task's: a fresh run. */
export function opensEpoch(head: TaskHead, change: TaskChange): boolean {
  return (change.epoch ?? head.epoch) > head.epoch;
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
  const written = new Map<string, Set<HeadField>>();
  const plan: ChangePlan = { events: [], heads, written, rejected: [], stale: [] };
  for (const change of changes) {
    const before = heads.get(change.taskId) ?? current.get(change.taskId);
    if (!before) {
      plan.rejected.push({ change, error: new NotFoundError('task', change.taskId) });
    } else if (
      isStale(before, change) ||
      (change.onlyFrom && !change.onlyFrom.includes(before.state))
    ) {
      plan.stale.push(change);
    } else if (!canTransition(before.state, change.to, opensEpoch(before, change))) {
      plan.rejected.push({
        change,
        error: new IllegalTransitionError(change.taskId, before.state, change.to),
      });
    } else {
      const after = applyOne(before, change);
      heads.set(after.id, after);
      const fields = written.get(after.id) ?? new Set(ALWAYS_WRITTEN);
      addWrittenFields(fields, before, change);
      written.set(after.id, fields);
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

/** Adds the fields `applyOne` rewrote besides ALWAYS_WRITTEN (keep the two in step). */
function addWrittenFields(fields: Set<HeadField>, before: TaskHead, change: TaskChange): void {
  if ((change.epoch ?? before.epoch) > before.epoch) {
    for (const field of OUTCOME_FIELDS) fields.add(field);
  }
  if (change.agentId !== undefined) fields.add('agentId');
  if (change.progress !== undefined) fields.add('progress');
  if (change.result !== undefined) fields.add('result');
  if (change.error !== undefined || change.to === 'DONE') fields.add('error');
  const metrics = change.metrics;
  if (metrics) {
    for (const key of METRIC_KEYS) if (metrics[key] !== undefined) fields.add(key);
  }
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

/** The record of a new goal; `recorded` false when its `new` events are written later. */
export function newGoalRecord(
  goal: NewGoal,
  taskCount: number,
  actor: string | null,
  at: Date,
  recorded: boolean,
): GoalRecord {
  return {
    ...goal,
    budget: goal.budget ?? null,
    usage: null,
    usageRev: 0,
    state: 'ACTIVE',
    taskCount,
    createdBy: actor,
    createdAt: at,
    recordedAt: recorded ? at : null,
    finishedAt: null,
  };
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
    ...NO_METRICS,
    queuedAt: spec.state === 'PENDING' ? at : null,
    spawnedBy: null,
    addedBy: null,
    deferredAt: null,
  };
}

/**
 * The records addTasks creates: those of `tasks` not in `existing` (nor repeated), marked with
 * who added them, what spawned them and, with deferRecord, when their `new` event was deferred.
 */
export function addedTaskRecords(
  goalId: string,
  tasks: NewTask[],
  existing: ReadonlyMap<string, unknown>,
  actor: string | null,
  at: Date,
  options: { deferRecord?: boolean; spawnedBy?: string | null },
): TaskRecord[] {
  const seen = new Set<string>();
  const fresh: TaskRecord[] = [];
  for (const spec of tasks) {
    if (existing.has(spec.id) || seen.has(spec.id)) continue;
    seen.add(spec.id);
    fresh.push({
      ...newTaskRecord(spec, goalId, at),
      spawnedBy: options.spawnedBy ?? null,
      addedBy: actor,
      deferredAt: options.deferRecord === true ? at : null,
    });
  }
  return fresh;
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

/**
 * The goal event of a budget copy, or null when there is none. A goal that has ended keeps its
 * state: its event names the state it is in.
 */
export function goalBudgetEvent(
  goalId: string,
  from: GoalState,
  update: GoalBudgetUpdate,
): PendingEvent | null {
  if (!update.event) return null;
  return {
    taskId: goalId,
    goalId,
    event: update.event.name,
    fromState: from,
    toState: goalStateAfter(from, update),
    attempt: 0,
    agentId: null,
    actor: update.event.actor,
    at: update.event.at,
    detail: { budget: update.event.detail },
  };
}

/** The goal's state once `update` is applied: an ended goal stays ended. */
export function goalStateAfter(from: GoalState, update: GoalBudgetUpdate): GoalState {
  return isGoalOpen(from) ? update.state : from;
}
