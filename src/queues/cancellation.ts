/**
 * Cancelling tasks and goals. Jobs that have not started are removed from Redis top-down
 * (dependents before their dependencies, so BullMQ never releases a parent whose child we just
 * removed) and their end is recorded with an `agentq` entry on their queue's events stream; running
 * jobs get a `ControlMessage` and their agent fails them with `cancelledReason(actor)`.
 */
import type { Queue } from 'bullmq';
import { ConflictError, NotFoundError } from '../errors';
import { goalRecordKey, loadGoalRecord, type GoalRecord } from './compiler';
import { forgetApproval } from './approvals';
import { APPROVALS_QUEUE, GATES_QUEUE, GOALS_QUEUE } from './names';
import { topologicalOrder } from './plan-cycles';
import {
  AGENTQ_STREAM_EVENT,
  cancelledReason,
  CONTROL_CHANNEL,
  goalIdOfTaskId,
  taskKeyOfJobId,
  type AgentqStreamEvent,
  type ControlMessage,
} from './protocol';
import type { RedisCoordinator } from './redis-coordinator';
import { gateJobId, taskJobId } from './task-job';

/** Data of the one-off job that wakes a goal's root after `cancelGoal` (in `_gates`). */
export interface GoalCancelJobData {
  v: 1;
  kind: 'cancel';
  goalId: string;
  actor: string | null;
}

/** Goal-record fields: set by `cancelGoal` (the whole goal) and `cancelTasks` (some tasks). */
export const GOAL_CANCELLED_FIELD = 'goalCancelledBy';
export const TASK_CANCELLED_FIELD = 'taskCancelledBy';

const NOT_STARTED = new Set([
  'waiting',
  'waiting-children',
  'prioritized',
  'delayed',
  'paused',
  'wait',
]);
const FINISHED = new Set(['completed', 'failed', 'unknown']);

/** How one unstarted task ends when it is removed. */
export type Ending =
  { to: 'CANCELLED'; actor: string | null } | { to: 'FAILED'; dependency: string };

/** Reads a goal's record or throws NotFoundError. */
export async function requireGoalRecord(c: RedisCoordinator, goalId: string): Promise<GoalRecord> {
  const record = await loadGoalRecord(c, goalId);
  if (!record) throw new NotFoundError('goal', goalId);
  return record;
}

/** Records a transition BullMQ does not emit, in order with the queue's own events. */
export async function recordEnd(
  c: RedisCoordinator,
  shard: number,
  type: string,
  taskId: string,
  ending: Ending,
): Promise<void> {
  const event: AgentqStreamEvent =
    ending.to === 'CANCELLED'
      ? { taskId, to: 'CANCELLED', reason: cancelledReason(ending.actor), actor: ending.actor }
      : {
          taskId,
          to: 'FAILED',
          reason: `dependency ${ending.dependency} failed`,
          actor: null,
          dependency: ending.dependency,
        };
  const fields = [
    'event',
    AGENTQ_STREAM_EVENT,
    'taskId',
    taskId,
    'to',
    event.to,
    'reason',
    event.reason,
  ];
  if (event.actor !== null) fields.push('actor', event.actor);
  if (event.dependency !== undefined) fields.push('dependency', event.dependency);
  await c.client.xadd(c.queue(type, shard).keys.events!, '*', ...fields);
}

/** Ids looked up per ZMSCORE. */
const LOOKUP_PAGE = 1000;

/**
 * The goal's tasks whose jobs failed for good, by key, with their failure reasons: one ZMSCORE per
 * queue and page against its failed set, then the reasons of those found (usually a handful).
 */
export async function failedTasks(
  c: RedisCoordinator,
  record: GoalRecord,
): Promise<Map<string, string>> {
  const byType = new Map<string, string[]>();
  for (const [key, type] of record.tasks) {
    let keys = byType.get(type);
    if (!keys) byType.set(type, (keys = []));
    keys.push(key);
  }
  const failed: Array<{ key: string; type: string }> = [];
  for (const [type, keys] of byType) {
    const failedSet = c.queue(type, record.shard).keys.failed!;
    for (let i = 0; i < keys.length; i += LOOKUP_PAGE) {
      const page = keys.slice(i, i + LOOKUP_PAGE);
      const scores = await c.client.zmscore(
        failedSet,
        ...page.map((k) => taskJobId(record.goalId, k)),
      );
      page.forEach((key, j) => {
        if (scores[j] !== null && scores[j] !== undefined) failed.push({ key, type });
      });
    }
  }
  const reasons = await Promise.all(
    failed.map(({ key, type }) =>
      c.client.hget(
        c.queue(type, record.shard).toKey(taskJobId(record.goalId, key)),
        'failedReason',
      ),
    ),
  );
  return new Map(failed.map(({ key }, i) => [key, reasons[i] ?? '']));
}

/**
 * The gate ids that may be children of task `key`: a gate is added under a dependent only when a
 * dependency linked to it (not its BullMQ child) failed for good (see links.ts).
 */
export function gatesOf(
  goalId: string,
  [key, , dependsOn]: GoalRecord['tasks'][number],
  parentOf: Map<string, string | null>,
  failed: ReadonlyMap<string, string>,
): string[] {
  return dependsOn
    .filter((d) => parentOf.get(d) !== key && failed.has(d))
    .map((d) => gateJobId(taskJobId(goalId, d), key));
}

export function parentsOf(record: GoalRecord): Map<string, string | null> {
  const parentOf = new Map<string, string | null>(record.tasks.map((t) => [t[0], null]));
  for (const [key, , deps] of record.tasks) {
    for (const d of deps) if (parentOf.get(d) === null) parentOf.set(d, key);
  }
  return parentOf;
}

/**
 * Ends the given tasks of one goal: unstarted ones are removed (dependents first) with their
 * gates and recorded with `endingOf(key)`; running ones are returned for a control cancel.
 */
export async function endUnfinished(
  c: RedisCoordinator,
  record: GoalRecord,
  keys: ReadonlySet<string>,
  endingOf: (key: string) => Ending,
  failed?: ReadonlyMap<string, string>,
): Promise<string[]> {
  // A spawning task counts as depending on what it spawned: it ends first (below, in reverse
  // order), so ending its spawned tasks never releases it to finish meanwhile.
  const spawned = new Map<string, string[]>();
  for (const [key, , , , by] of record.tasks) {
    if (by) spawned.set(by, [...(spawned.get(by) ?? []), key]);
  }
  const nodes = record.tasks.map(([key, , dependsOn]) => ({
    key,
    dependsOn: [...dependsOn, ...(spawned.get(key) ?? [])],
  }));
  const byKey = new Map(record.tasks.map((t) => [t[0], t]));
  const typeOf = new Map(record.tasks.map((t) => [t[0], t[1]]));
  const parentOf = parentsOf(record);
  const gates = c.queue(GATES_QUEUE, record.shard);
  const failedSources = failed ?? (await failedTasks(c, record));
  const running: string[] = [];
  for (const key of topologicalOrder(nodes).reverse()) {
    if (!keys.has(key)) continue;
    const taskId = taskJobId(record.goalId, key);
    const queue = c.queue(typeOf.get(key)!, record.shard);
    const state =
      typeOf.get(key) === APPROVALS_QUEUE
        ? await approvalStateWhenLet(queue, taskId)
        : await queue.getJobState(taskId);
    if (FINISHED.has(state)) continue;
    if (!NOT_STARTED.has(state) || (await queue.remove(taskId, { removeChildren: false })) === 0) {
      running.push(taskId);
      continue;
    }
    for (const gateId of gatesOf(record.goalId, byKey.get(key)!, parentOf, failedSources)) {
      await gates.remove(gateId, { removeChildren: false });
    }
    await recordEnd(c, record.shard, typeOf.get(key)!, taskId, endingOf(key));
    if (typeOf.get(key) === APPROVALS_QUEUE) await forgetApproval(c, record.shard, taskId);
  }
  return running;
}

/**
 * An approval job is active only for the moment the approval worker parks or ends it (no agent
 * would see a cancel message for it): wait that moment out, so it is removed like any waiting job.
 */
async function approvalStateWhenLet(queue: Queue, taskId: string): Promise<string> {
  for (let i = 0; ; i++) {
    const state = await queue.getJobState(taskId);
    if (state !== 'active' || i >= 100) return state;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function publishCancel(
  c: RedisCoordinator,
  taskIds: string[],
  actor: string | null,
): Promise<void> {
  if (taskIds.length === 0) return;
  const message: ControlMessage = { op: 'cancel', taskIds, actor };
  await c.publish(CONTROL_CHANNEL, message);
}

/**
 * Every task that depends on `key`, directly or not, and `key` itself — and what each of them
 * spawned (ctx.spawn), which cannot outlive its spawner.
 */
export function withDependents(record: GoalRecord, key: string): Set<string> {
  const dependents = new Map<string, string[]>();
  for (const [k, , deps, , spawnedBy] of record.tasks) {
    for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), k]);
    if (spawnedBy) dependents.set(spawnedBy, [...(dependents.get(spawnedBy) ?? []), k]);
  }
  const out = new Set([key]);
  const stack = [key];
  while (stack.length > 0) {
    for (const e of dependents.get(stack.pop()!) ?? []) {
      if (!out.has(e)) {
        out.add(e);
        stack.push(e);
      }
    }
  }
  return out;
}

/**
 * Cancels tasks and, with them, their dependents. The goal goes on with its other tasks and
 * ends CANCELLED. Returns how many tasks were cancelled (removed or signalled).
 */
export async function cancelTasks(
  c: RedisCoordinator,
  taskIds: readonly string[],
  actor: string | null,
): Promise<number> {
  let count = 0;
  for (const taskId of taskIds) {
    const record = await requireGoalRecord(c, goalIdOfTaskId(taskId));
    const key = taskKeyOfJobId(taskId);
    const spec = record.tasks.find((t) => t[0] === key);
    if (!spec) throw new NotFoundError('task', taskId);
    const state = await c.queue(spec[1], record.shard).getJobState(taskId);
    if (FINISHED.has(state)) throw new ConflictError(`task ${taskId} has already ended (${state})`);
    // Marked first, so a root woken by the removals below already sees the goal as cancelled.
    await c.client.hsetnx(
      goalRecordKey(c, record.goalId),
      TASK_CANCELLED_FIELD,
      JSON.stringify(actor),
    );
    const keys = withDependents(record, key);
    const running = await endUnfinished(c, record, keys, () => ({ to: 'CANCELLED', actor }));
    await publishCancel(c, running, actor);
    count += keys.size;
  }
  return count;
}

/**
 * Cancels a goal: marks it, then wakes its root job with a failing child so the goal worker
 * finalizes it (every unfinished task CANCELLED) and fails the root with `cancelledReason`.
 */
export async function cancelGoal(
  c: RedisCoordinator,
  goalId: string,
  actor: string | null,
): Promise<void> {
  const record = await requireGoalRecord(c, goalId);
  const goals = c.queue(GOALS_QUEUE, record.shard);
  const state = await goals.getJobState(goalId);
  if (state === 'completed' || state === 'failed') {
    throw new ConflictError(`goal ${goalId} has already ended (${state})`);
  }
  await c.client.hsetnx(goalRecordKey(c, goalId), GOAL_CANCELLED_FIELD, JSON.stringify(actor));
  if (state !== 'waiting-children') return; // already being finalized
  const data: GoalCancelJobData = { v: 1, kind: 'cancel', goalId, actor };
  await c.queue(GATES_QUEUE, record.shard).add('cancel', data, {
    jobId: `cancel~${goalId}`,
    parent: { id: goalId, queue: goals.qualifiedName },
    continueParentOnFailure: true,
  });
}
