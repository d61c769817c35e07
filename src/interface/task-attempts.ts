/**
 * A task's attempts read from its audit events (`store.taskEvents`): each claim opens one, its
 * move to ACTIVE is when it started, and the next end (DONE, FAILED, CANCELLED, or back to
 * PENDING for a retry) closes it. What the goal page's details show per attempt; pure, so the
 * same events always give the same attempts.
 */
import type { TaskEventRecord } from '../entities/task-model';

/** How an attempt ended: the task's end, or RETRIED (back to PENDING for another attempt). */
export type AttemptOutcome = 'DONE' | 'FAILED' | 'CANCELLED' | 'RETRIED';

export interface TaskAttempt {
  /** The attempt number within its run (it counts from 1 again after a manual retry). */
  attempt: number;
  /** The agent that claimed it (an approval's decider). */
  agentId: string | null;
  claimedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Null while the attempt has not ended. */
  outcome: AttemptOutcome | null;
  /** The error message of a failed or retried attempt. */
  error: string | null;
}

const ENDS: Readonly<Record<string, AttemptOutcome>> = {
  DONE: 'DONE',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
  PENDING: 'RETRIED',
};

/** The attempts in the order they were claimed; events must be one task's, in seq order. */
export function taskAttempts(events: readonly TaskEventRecord[]): TaskAttempt[] {
  const attempts: TaskAttempt[] = [];
  let open: TaskAttempt | null = null;
  for (const e of events) {
    if (e.event === 'claimed') {
      open = {
        attempt: e.attempt,
        agentId: e.agentId,
        claimedAt: e.at,
        startedAt: null,
        finishedAt: null,
        outcome: null,
        error: null,
      };
      attempts.push(open);
      continue;
    }
    if (!open) continue;
    if (e.toState === 'ACTIVE' && e.fromState === 'ASSIGNED') {
      open.startedAt = e.at;
      continue;
    }
    const outcome = ENDS[e.toState];
    if (outcome) {
      open.finishedAt = e.at;
      open.outcome = outcome;
      open.error = e.detail?.error?.message ?? null;
      open = null;
    }
  }
  return attempts;
}
