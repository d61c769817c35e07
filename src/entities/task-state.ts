/**
 * The task lifecycle: the states and the one table of legal transitions. Every writer (the
 * registry, the mirror, the interface) asks `assertTransition`; nothing else decides legality.
 */
import { AgentqError } from '../errors';

export const TASK_STATES = [
  'BACKLOG',
  'PENDING',
  'ASSIGNED',
  'ACTIVE',
  'DONE',
  'FAILED',
  'CANCELLED',
] as const;

export type TaskState = (typeof TASK_STATES)[number];

/** States a task never leaves by itself (only an explicit retry re-opens FAILED or CANCELLED). */
export const TERMINAL_STATES: readonly TaskState[] = ['DONE', 'FAILED', 'CANCELLED'];

/**
 * from → the states it may move to.
 * - BACKLOG waits for dependencies; it fails when one fails, or is cancelled.
 * - ASSIGNED → PENDING: the agent declined it (`accepts`), or its lock was lost before it began.
 * - ACTIVE → PENDING: a failed attempt with attempts left (after backoff), or a stalled job.
 * - ACTIVE → ACTIVE: a progress update (recorded as an `updated` event).
 * - FAILED/CANCELLED → PENDING: an explicit retry (dead-letter redrive, `task retry`).
 * A change opening a new epoch may also make the moves of NEW_EPOCH_TRANSITIONS below.
 */
export const TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  BACKLOG: ['PENDING', 'FAILED', 'CANCELLED'],
  PENDING: ['ASSIGNED', 'FAILED', 'CANCELLED'],
  ASSIGNED: ['ACTIVE', 'PENDING', 'DONE', 'FAILED', 'CANCELLED'],
  ACTIVE: ['ACTIVE', 'PENDING', 'DONE', 'FAILED', 'CANCELLED'],
  DONE: [],
  FAILED: ['PENDING'],
  CANCELLED: ['PENDING'],
};

export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && (TASK_STATES as readonly string[]).includes(value);
}

export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.includes(state);
}

/**
 * The moves only a change that opens a newer epoch (a fresh run) may make, besides TRANSITIONS:
 * PENDING → PENDING, `agentq recover` re-queuing a task that was waiting out a retry's backoff
 * when Redis lost it, as a new run whose attempts count from 0 again. Within one epoch a task
 * never re-enters PENDING from PENDING (a replayed retry entry is refused). FAILED → BACKLOG and
 * CANCELLED → BACKLOG: a retry re-opening a failed goal (queues/reopen-goal.ts) runs a task whose
 * dependencies run again too, so it waits for them, as a new run.
 */
export const NEW_EPOCH_TRANSITIONS: Readonly<Partial<Record<TaskState, readonly TaskState[]>>> = {
  PENDING: ['PENDING'],
  FAILED: ['BACKLOG'],
  CANCELLED: ['BACKLOG'],
};

/** `opensEpoch`: the change starts a newer epoch than the task's (see NEW_EPOCH_TRANSITIONS). */
export function canTransition(from: TaskState, to: TaskState, opensEpoch = false): boolean {
  if (TRANSITIONS[from].includes(to)) return true;
  return opensEpoch && (NEW_EPOCH_TRANSITIONS[from]?.includes(to) ?? false);
}

/** A transition the table does not allow. Names the task and both states. */
export class IllegalTransitionError extends AgentqError {
  constructor(
    readonly taskId: string,
    readonly from: TaskState,
    readonly to: TaskState,
  ) {
    super('illegal_transition', `task ${taskId}: illegal transition ${from} → ${to}`);
  }
}

export function assertTransition(taskId: string, from: TaskState, to: TaskState): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(taskId, from, to);
}
