/**
 * The `_goals` processor: a goal's root job runs when every sink is done, when a sink failed
 * (continueParentOnFailure) or when `cancelGoal` woke it. Done → completes (the mirror marks the
 * goal DONE). Otherwise it FINALIZES: every task that has not finished ends — FAILED with
 * `dependency <key> failed` when it (transitively) depends on a task that failed, else CANCELLED —
 * and the root fails with that reason, or `cancelledReason(actor)` for a cancelled goal.
 */
import { UnrecoverableError, WaitingChildrenError, type Processor } from 'bullmq';
import {
  endUnfinished,
  failedTasks,
  GOAL_CANCELLED_FIELD,
  publishCancel,
  TASK_CANCELLED_FIELD,
  type Ending,
} from './cancellation';
import { GOAL_RECORD_FIELD, goalRecordKey, parseGoalRecord, type GoalRecord } from './compiler';
import { forgetGoalLinks } from './links';
import { GATES_QUEUE } from './names';
import { topologicalOrder } from './plan-cycles';
import { cancelledReason, isCancelledReason, taskKeyOfJobId } from './protocol';
import type { RedisCoordinator } from './redis-coordinator';
import { scheduleGoalCleanup } from './retention';
import { gateJobId, taskJobId, type GoalJobData } from './task-job';

/** A finished goal's record is kept a while for late cancels and lookups. */
const RECORD_KEEP_SECONDS = 7 * 24 * 3600;

export interface GoalResult {
  v: 1;
  goalId: string;
}

type Blame = { kind: 'failed'; key: string } | { kind: 'cancelled' } | null;

/** For every task: the original failure (or cancellation) it depends on, if any. */
function blameByTask(record: GoalRecord, failed: ReadonlyMap<string, string>): Map<string, Blame> {
  const byKey = new Map(record.tasks.map((t) => [t[0], t]));
  const blame = new Map<string, Blame>();
  const order = topologicalOrder(record.tasks.map(([key, , dependsOn]) => ({ key, dependsOn })));
  for (const key of order) {
    const [, , deps] = byKey.get(key)!;
    const inherited =
      deps
        .filter((d) => !byKey.get(d)![3])
        .map((d) => blame.get(d) ?? null)
        .find((b) => b !== null) ?? null;
    const reason = failed.get(key);
    if (reason === undefined) blame.set(key, inherited);
    else if (isCancelledReason(reason)) blame.set(key, inherited ?? { kind: 'cancelled' });
    else blame.set(key, inherited ?? { kind: 'failed', key });
  }
  return blame;
}

/**
 * Removes every gate of the goal that has not run (a dependent that failed or was removed before
 * its gate ran leaves it; gates exist only under dependents linked to a task that failed), and the
 * goal's links nobody will release now.
 */
async function removeLeftovers(
  c: RedisCoordinator,
  record: GoalRecord,
  failed: ReadonlyMap<string, string>,
): Promise<void> {
  await forgetGoalLinks(c, record.shard, record.goalId, record.tasks);
  const gates = c.queue(GATES_QUEUE, record.shard);
  for (const [key, , deps] of record.tasks) {
    for (const d of deps) {
      if (!failed.has(d)) continue;
      const id = gateJobId(taskJobId(record.goalId, d), key);
      const state = await gates.getJobState(id);
      if (state === 'delayed' || state === 'waiting' || state === 'prioritized') {
        await gates.remove(id, { removeChildren: false });
      }
    }
  }
}

/** Ends every unfinished task of the goal; returns the key of the failure that ended it, if any. */
export async function finalizeGoal(
  c: RedisCoordinator,
  record: GoalRecord,
  actor: string | null,
): Promise<string | null> {
  const failed = await failedTasks(c, record);
  const blame = blameByTask(record, failed);
  const ending = (key: string): Ending => {
    const b = blame.get(key) ?? null;
    return b?.kind === 'failed' ? { to: 'FAILED', dependency: b.key } : { to: 'CANCELLED', actor };
  };
  const all = new Set(record.tasks.map((t) => t[0]));
  const running = await endUnfinished(c, record, all, ending, failed);
  await publishCancel(c, running, actor);
  await removeLeftovers(c, record, failed);
  for (const b of blame.values()) if (b?.kind === 'failed') return b.key;
  return null;
}

/** The goal has ended: its record stays a while, its jobs leave after the retention. */
async function keepRecordAndScheduleCleanup(
  coordinator: RedisCoordinator,
  recordKey: string,
  goalId: string,
  shard: number,
): Promise<void> {
  await Promise.all([
    coordinator.client.expire(recordKey, RECORD_KEEP_SECONDS),
    scheduleGoalCleanup(coordinator, goalId, shard),
  ]);
}

function parseActor(raw: string | null | undefined): string | null {
  return raw ? (JSON.parse(raw) as string | null) : null;
}

export function createGoalProcessor(
  coordinator: RedisCoordinator,
): Processor<GoalJobData, GoalResult> {
  return async (job, token) => {
    const goalId = job.data.goalId;
    const recordKey = goalRecordKey(coordinator, goalId);
    // One round trip: the record, the cancel marks and the failed children are independent reads.
    const [[graph, goalCancelled, taskCancelled], ignored] = await Promise.all([
      coordinator.client.hmget(
        recordKey,
        GOAL_RECORD_FIELD,
        GOAL_CANCELLED_FIELD,
        TASK_CANCELLED_FIELD,
      ),
      job.getIgnoredChildrenFailures(),
    ]);
    const record = parseGoalRecord(graph);
    if (!record) throw new UnrecoverableError(`goal ${goalId} has no record in Redis`);
    const optional = new Set(record.tasks.filter((t) => t[3]).map((t) => t[0]));
    const failures = Object.entries(ignored).filter(
      ([child, reason]) => !optional.has(taskKeyOfJobId(child)) && !isCancelledReason(reason),
    );
    if (goalCancelled === null && failures.length === 0) {
      // A cancelled sink woke the root early: wait for the rest of the goal. Only a failed child
      // (recorded among the ignored failures) wakes it early; without one every child is done.
      const early = Object.keys(ignored).length > 0;
      if (early && token && (await job.moveToWaitingChildren(token))) {
        throw new WaitingChildrenError();
      }
      await keepRecordAndScheduleCleanup(coordinator, recordKey, goalId, record.shard);
      if (taskCancelled === null) return { v: 1, goalId };
      throw new UnrecoverableError(cancelledReason(parseActor(taskCancelled)));
    }
    const actor = goalCancelled !== null ? parseActor(goalCancelled) : 'supervisor';
    const failedKey = await finalizeGoal(coordinator, record, actor);
    await keepRecordAndScheduleCleanup(coordinator, recordKey, goalId, record.shard);
    if (goalCancelled !== null) throw new UnrecoverableError(cancelledReason(actor));
    throw new UnrecoverableError(
      `dependency ${failedKey ?? taskKeyOfJobId(failures[0]![0])} failed`,
    );
  };
}
