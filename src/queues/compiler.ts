/**
 * Plan → BullMQ flow. BullMQ flows are trees, plans are DAGs: each task's BullMQ parent is its
 * FIRST dependent in plan order (sinks hang under the goal's root job), and every further
 * dependent gets a gate — a long-delayed child job in `_gates` that holds the dependent back until
 * someone releases it (see gates.ts). The dependent lists its gated dependencies' queues in
 * `gatedSources` so it can read their results itself. The whole goal is one `FlowProducer.add`.
 *
 * Beside the flow, a small goal record in Redis (`agentq:goal:<id>`) keeps the graph in compact
 * form so the goal worker, the cancellation and the reconciler can walk it without SQL.
 */
import type { FlowJob, FlowJobNode, JobsOptions } from 'bullmq';
import type { ResolvedTaskSpec } from '../entities/task-model';
import { ConnectionError } from '../errors';
import { GATES_QUEUE, GOALS_QUEUE } from './names';
import { bullPriority } from './protocol';
import type { RedisCoordinator } from './redis-coordinator';
import {
  gateJobId,
  taskJobId,
  type GateJobData,
  type GoalJobData,
  type TaskJobData,
} from './task-job';
import { GATE_RECHECK_MS } from './gates';

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
  gatedDependents: Map<string, string[]>;
} {
  const dependents = new Map<string, string[]>(tasks.map((t) => [t.key, []]));
  for (const t of tasks) for (const d of t.dependsOn) dependents.get(d)!.push(t.key);
  const parentOf = new Map<string, string | null>();
  const gatedDependents = new Map<string, string[]>();
  for (const [key, list] of dependents) {
    parentOf.set(key, list[0] ?? null);
    gatedDependents.set(key, list.slice(1));
  }
  return { parentOf, gatedDependents };
}

function taskOptions(task: ResolvedTaskSpec, isSink: boolean): JobsOptions {
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

/** The goal's whole flow tree: the root job, every task job, every gate. Pure. */
export function compileFlow(input: CompileInput): FlowJob {
  const { goalId, shard, tasks } = input;
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  const { parentOf, gatedDependents } = treeLinks(tasks);
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

  const gateNode = (source: ResolvedTaskSpec, dependentKey: string): FlowJobNode => {
    const sourceTaskId = taskJobId(goalId, source.key);
    const data: GateJobData = {
      v: 1,
      kind: 'gate',
      goalId,
      sourceTaskId,
      sourceKey: source.key,
      sourceType: source.type,
      sourceOptional: source.optional,
      dependentTaskId: taskJobId(goalId, dependentKey),
    };
    return {
      name: 'gate',
      queueName: GATES_QUEUE,
      data,
      opts: {
        jobId: gateJobId(sourceTaskId, dependentKey),
        delay: GATE_RECHECK_MS,
        failParentOnFailure: true,
      },
    };
  };

  // Iterative post-order so a chain of 10,000 tasks builds without deep recursion here.
  const nodes = new Map<string, FlowJobNode>();
  const build = (key: string): FlowJobNode => {
    const task = byKey.get(key)!;
    const taskId = taskJobId(goalId, key);
    const gates = (gatedDependents.get(key) ?? []).map((e) => gateJobId(taskId, e));
    const gatedDeps = task.dependsOn.filter((d) => parentOf.get(d) !== key);
    const data: TaskJobData = {
      v: 1,
      kind: 'task',
      taskId,
      goalId,
      key,
      title: task.title,
      description: task.description,
      type: task.type,
      priority: task.priority,
      data: task.data,
      dependsOn: task.dependsOn,
      timeoutMs: task.timeoutMs,
      optional: task.optional,
      epoch: 0,
      gates,
      shard,
      ...(gates.length > 0 ? { gateRelease: 'remove' as const } : {}),
      ...(gatedDeps.length > 0
        ? { gatedSources: Object.fromEntries(gatedDeps.map((d) => [d, byKey.get(d)!.type])) }
        : {}),
    };
    const children: FlowJobNode[] = [
      ...(treeChildren.get(key) ?? []).map((c) => nodes.get(c)!),
      ...gatedDeps.map((d) => gateNode(byKey.get(d)!, key)),
    ];
    const opts = { ...taskOptions(task, parentOf.get(key) === null), jobId: taskId };
    return children.length > 0
      ? { name: key, queueName: task.type, data, opts, children }
      : { name: key, queueName: task.type, data, opts };
  };
  // A dependency always comes before its dependents in topological order: children first.
  for (const key of dependencyFirstOrder(tasks)) nodes.set(key, build(key));

  const root: GoalJobData = { v: 1, kind: 'goal', goalId, title: input.title };
  return {
    name: 'goal',
    queueName: GOALS_QUEUE,
    data: root,
    opts: { jobId: goalId, removeOnComplete: { age: ROOT_KEEP_SECONDS } },
    children: sinks.map((k) => nodes.get(k)!),
  };
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
  tasks: Array<[key: string, type: string, dependsOn: string[], optional: boolean]>;
}

/** The field of the goal record hash that holds the record itself (JSON). */
export const GOAL_RECORD_FIELD = 'graph';

export function goalRecordKey(coordinator: RedisCoordinator, goalId: string): string {
  return coordinator.key('goal', goalId);
}

export async function saveGoalRecord(
  coordinator: RedisCoordinator,
  input: CompileInput,
): Promise<void> {
  const record: GoalRecord = {
    goalId: input.goalId,
    shard: input.shard,
    tasks: input.tasks.map((t) => [t.key, t.type, t.dependsOn, t.optional]),
  };
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

/** Writes the goal record, then adds the flow; undoes the record when the add fails. */
export async function addGoalFlow(
  coordinator: RedisCoordinator,
  input: CompileInput,
): Promise<void> {
  await saveGoalRecord(coordinator, input);
  try {
    await coordinator.flowProducer(input.shard).add(compileFlow(input));
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
