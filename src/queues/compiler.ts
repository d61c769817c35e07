/**
 * Plan → BullMQ flow. BullMQ flows are trees, plans are DAGs: each task's BullMQ parent is its
 * FIRST dependent in plan order (sinks hang under the goal's root job), and every further
 * dependent waits for it through a link — the task's job key in the dependent's own pending
 * children (see links.ts). The flow writer puts the whole goal in Redis in one transaction.
 *
 * Beside the flow, a small goal record in Redis (`agentq:goal:<id>`) keeps the graph in compact
 * form so the goal worker, the cancellation and the reconciler can walk it without SQL.
 */
import type { FlowJob, FlowJobNode, JobsOptions } from 'bullmq';
import type { ResolvedTaskSpec } from '../entities/task-model';
import { ConnectionError } from '../errors';
import { writeGoalFlow, type CompiledGoal, type GoalLink } from './flow-writer';
import { GOALS_QUEUE } from './names';
import { bullPriority } from './protocol';
import type { RedisCoordinator } from './redis-coordinator';
import { taskJobId, type GoalJobData, type TaskJobData } from './task-job';

/** The root job is kept a day after the goal completed, for the board; task jobs are kept. */
const ROOT_KEEP_SECONDS = 24 * 3600;

export interface CompileInput {
  goalId: string;
  title: string;
  shard: number;
  tasks: readonly ResolvedTaskSpec[];
}

/** Each task's tree parent (its first dependent, or null for a sink) and its further dependents. */
export function treeLinks(tasks: readonly ResolvedTaskSpec[]): {
  parentOf: Map<string, string | null>;
  linkedDependents: Map<string, string[]>;
} {
  const dependents = new Map<string, string[]>(tasks.map((t) => [t.key, []]));
  for (const t of tasks) for (const d of t.dependsOn) dependents.get(d)!.push(t.key);
  const parentOf = new Map<string, string | null>();
  const linkedDependents = new Map<string, string[]>();
  for (const [key, list] of dependents) {
    parentOf.set(key, list[0] ?? null);
    linkedDependents.set(key, list.slice(1));
  }
  return { parentOf, linkedDependents };
}

export function taskOptions(task: ResolvedTaskSpec, isSink: boolean): JobsOptions {
  const onFailure: JobsOptions = task.optional
    ? { ignoreDependencyOnFailure: true }
    : isSink
      ? { continueParentOnFailure: true }
      : { failParentOnFailure: true };
  return {
    jobId: '',
    priority: bullPriority(task.priority),
    attempts: task.attempts,
    backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    ...onFailure,
  };
}

/** A task job's data; `links` are its further dependents as `[key, type]` (see links.ts). */
export function taskJobData(
  goalId: string,
  shard: number,
  task: ResolvedTaskSpec,
  links: Array<[key: string, type: string]>,
  spawnedBy?: string,
): TaskJobData {
  return {
    v: 1,
    kind: 'task',
    taskId: taskJobId(goalId, task.key),
    goalId,
    key: task.key,
    title: task.title,
    description: task.description,
    type: task.type,
    priority: task.priority,
    data: task.data,
    dependsOn: task.dependsOn,
    timeoutMs: task.timeoutMs,
    optional: task.optional,
    ...(task.concurrencyKey ? { concurrencyKey: task.concurrencyKey } : {}),
    epoch: 0,
    shard,
    ...(links.length > 0 ? { links } : {}),
    ...(task.approval ? { approval: task.approval } : {}),
    ...(spawnedBy ? { spawnedBy } : {}),
  };
}

/** The goal's flow tree (the root job and every task job) and its links. Pure. */
export function compileGoal(input: CompileInput): CompiledGoal {
  const { goalId, shard, tasks } = input;
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  const { parentOf, linkedDependents } = treeLinks(tasks);
  const treeChildren = new Map<string, string[]>();
  const sinks: string[] = [];
  for (const t of tasks) {
    const parent = parentOf.get(t.key) ?? null;
    if (parent === null) sinks.push(t.key);
    else {
      let list = treeChildren.get(parent);
      if (!list) treeChildren.set(parent, (list = []));
      list.push(t.key);
    }
  }

  const links: GoalLink[] = [];
  // Iterative, dependencies first, so a chain of 10,000 tasks builds without deep recursion.
  const nodes = new Map<string, FlowJobNode>();
  const build = (key: string): FlowJobNode => {
    const task = byKey.get(key)!;
    const taskId = taskJobId(goalId, key);
    const linked = linkedDependents.get(key) ?? [];
    for (const d of linked) {
      links.push({
        source: { type: task.type, taskId },
        dependent: { type: byKey.get(d)!.type, taskId: taskJobId(goalId, d) },
      });
    }
    const data = taskJobData(
      goalId,
      shard,
      task,
      linked.map((d) => [d, byKey.get(d)!.type]),
    );
    const children = (treeChildren.get(key) ?? []).map((c) => nodes.get(c)!);
    const opts = { ...taskOptions(task, parentOf.get(key) === null), jobId: taskId };
    return children.length > 0
      ? { name: key, queueName: task.type, data, opts, children }
      : { name: key, queueName: task.type, data, opts };
  };
  // A dependency always comes before its dependents in topological order: children first.
  for (const key of dependencyFirstOrder(tasks)) nodes.set(key, build(key));

  const root: GoalJobData = { v: 1, kind: 'goal', goalId, title: input.title };
  const flow: FlowJob = {
    name: 'goal',
    queueName: GOALS_QUEUE,
    data: root,
    opts: { jobId: goalId, removeOnComplete: { age: ROOT_KEEP_SECONDS } },
    children: sinks.map((k) => nodes.get(k)!),
  };
  return { goalId, title: input.title, shard, flow, links };
}

function dependencyFirstOrder(tasks: readonly ResolvedTaskSpec[]): string[] {
  const remaining = new Map(tasks.map((t) => [t.key, t.dependsOn.length]));
  const dependents = new Map<string, string[]>();
  for (const t of tasks) {
    for (const d of t.dependsOn) {
      let list = dependents.get(d);
      if (!list) dependents.set(d, (list = []));
      list.push(t.key);
    }
  }
  const order = tasks.filter((t) => t.dependsOn.length === 0).map((t) => t.key);
  for (let i = 0; i < order.length; i++) {
    for (const e of dependents.get(order[i]!) ?? []) {
      const left = remaining.get(e)! - 1;
      remaining.set(e, left);
      if (left === 0) order.push(e);
    }
  }
  return order;
}

/** A goal's graph as the internal workers need it: `[key, type, dependsOn, optional]` per task. */
export interface GoalRecord {
  goalId: string;
  shard: number;
  /** A spawned task's entry ends with the key of the task that spawned it (spawn.ts). */
  tasks: Array<
    [key: string, type: string, dependsOn: string[], optional: boolean, spawnedBy?: string]
  >;
}

/** The field of the goal record hash that holds the record itself (JSON). */
export const GOAL_RECORD_FIELD = 'graph';

export function goalRecordKey(coordinator: RedisCoordinator, goalId: string): string {
  return coordinator.key('goal', goalId);
}

/**
 * Writes the goal's record. `recovered` is for `agentq recover`: the spawner (key) of each
 * re-queued spawned task, and the entries of the tasks it does not run again.
 */
export async function saveGoalRecord(
  coordinator: RedisCoordinator,
  input: CompileInput,
  recovered?: { spawnedBy: ReadonlyMap<string, string>; kept: GoalRecord['tasks'] },
): Promise<void> {
  const record: GoalRecord = {
    goalId: input.goalId,
    shard: input.shard,
    tasks: input.tasks.map((t) => {
      const spawner = recovered?.spawnedBy.get(t.key);
      return spawner
        ? [t.key, t.type, t.dependsOn, t.optional, spawner]
        : [t.key, t.type, t.dependsOn, t.optional];
    }),
  };
  if (recovered) record.tasks.push(...recovered.kept);
  await coordinator.client.hset(
    goalRecordKey(coordinator, input.goalId),
    GOAL_RECORD_FIELD,
    JSON.stringify(record),
  );
}

export async function loadGoalRecord(
  coordinator: RedisCoordinator,
  goalId: string,
): Promise<GoalRecord | null> {
  return parseGoalRecord(
    await coordinator.client.hget(goalRecordKey(coordinator, goalId), GOAL_RECORD_FIELD),
  );
}

export function parseGoalRecord(raw: string | null | undefined): GoalRecord | null {
  return raw ? (JSON.parse(raw) as GoalRecord) : null;
}

/** Writes the goal record, then the flow; undoes the record when the flow could not be written. */
export async function addGoalFlow(
  coordinator: RedisCoordinator,
  input: CompileInput,
  compiled: CompiledGoal = compileGoal(input),
): Promise<void> {
  await saveGoalRecord(coordinator, input);
  try {
    await writeGoalFlow(coordinator, compiled);
  } catch (error) {
    await coordinator.client.del(goalRecordKey(coordinator, input.goalId)).catch(() => 0);
    throw redisFullError(error) ?? error;
  }
}

/**
 * Redis at `maxmemory` under noeviction refuses writes with OOM; inside BullMQ's MULTI that
 * surfaces as a bare EXECABORT. Say what happened and the fix instead (HTTP 503).
 */
export function redisFullError(error: unknown): ConnectionError | null {
  const e = error as { message?: unknown; previousErrors?: Array<{ message?: unknown }> };
  const messages = [e?.message, ...(e?.previousErrors ?? []).map((p) => p?.message)];
  if (!messages.some((m) => typeof m === 'string' && m.startsWith('OOM'))) return null;
  return new ConnectionError(
    'Redis is out of memory (maxmemory reached, policy noeviction): the goal was not submitted. ' +
      'Raise maxmemory (CONFIG SET maxmemory …) or free memory, then submit again.',
    { cause: error },
  );
}
