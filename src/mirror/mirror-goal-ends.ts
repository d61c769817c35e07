/**
 * When the mirror writes a goal's end. A goal's root completes in Redis only after all its tasks
 * did, but the mirror may read the root's `completed` entry before a task's (another stream, read
 * in the same pass or a later one). Written at once, SQL and the bridge would say the goal is DONE
 * while one of its tasks still reads ACTIVE. So a DONE end waits until SQL — with the batch being
 * committed — has every task of the goal final; until then its stream's cursor stays before it and
 * the next read brings it again. A FAILED or CANCELLED end is written at once: tasks still running
 * then end later, when their agents see the cancel. A DONE end waits at most `MAX_HOLD_MS` (after
 * that it is written with a log line: a task whose events never came must not hold a goal forever).
 */
import type { TaskChange } from '../entities/task-model';
import { TERMINAL_STATES } from '../entities/task-state';
import type { TaskStore } from '../entities/task-store';
import { goalIdOfTaskId } from '../queues/protocol';
import type { GoalEnd } from './mirror-reconcile';

export const MAX_HOLD_MS = 30_000;

const OPEN = ['BACKLOG', 'PENDING', 'ASSIGNED', 'ACTIVE'] as const;

/** A goal end read from a `_goals` stream, with the stream's position just before it. */
export interface GoalEndEntry {
  streamKey: string;
  before: string;
  end: GoalEnd;
}

export interface GoalEndDecision {
  /** Ends to write now, in stream order. */
  write: GoalEnd[];
  /** For each stream holding an end back: the cursor to keep (just before that end). */
  hold: Map<string, string>;
  /** Ends written although tasks were still open (held longer than MAX_HOLD_MS). */
  overdue: GoalEnd[];
}

export async function decideGoalEnds(
  store: Pick<TaskStore, 'findTaskStates'>,
  entries: readonly GoalEndEntry[],
  changes: readonly TaskChange[],
  now = Date.now(),
): Promise<GoalEndDecision> {
  const endedInBatch = new Set(
    changes.filter((c) => TERMINAL_STATES.includes(c.to)).map((c) => c.taskId),
  );
  const endedPerGoal = new Map<string, number>();
  for (const id of endedInBatch) {
    const goalId = goalIdOfTaskId(id);
    endedPerGoal.set(goalId, (endedPerGoal.get(goalId) ?? 0) + 1);
  }
  const decision: GoalEndDecision = { write: [], hold: new Map(), overdue: [] };
  for (const { streamKey, before, end } of entries) {
    // Everything after a held end in its stream comes again with the next read.
    if (decision.hold.has(streamKey)) continue;
    if (end.state !== 'DONE') {
      decision.write.push(end);
      continue;
    }
    const open = await store.findTaskStates({
      goalId: end.goalId,
      state: [...OPEN],
      limit: (endedPerGoal.get(end.goalId) ?? 0) + 1,
    });
    if (open.every((t) => endedInBatch.has(t.id))) decision.write.push(end);
    else if (now - end.at.getTime() > MAX_HOLD_MS) {
      decision.write.push(end);
      decision.overdue.push(end);
    } else decision.hold.set(streamKey, before);
  }
  return decision;
}
