/**
 * "Why is this task not being claimed?". A waiting task is stuck when its
 * queue is paused, no live agent serves its capability, every agent serving it has its breaker
 * open, or it waits on named dependencies — or when Redis does not hold its job (lost in a wipe)
 * or holds a fragment of it (a hash without `data`). `diagnoseTask` is pure; `findStuckTasks`
 * feeds it (without the job check: one Redis read per task), `task show` with it.
 */
import type { AgentInfo, TaskRecord } from '../entities/task-model';
import type { TaskState } from '../entities/task-state';
import type { TaskRegistry } from '../entities/task-registry';
import { jobHashState, type JobHashState } from '../queues/bullmq-internals';
import { taskJobKey } from '../queues/links';
import { shardOf } from '../queues/protocol';
import { APPROVALS_QUEUE } from '../queues/names';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import { taskJobId } from '../queues/task-job';

export type StuckReason =
  | { kind: 'job-lost'; job: Exclude<JobHashState, 'present'> }
  | { kind: 'paused'; capability: string }
  | { kind: 'no-agent'; capability: string }
  | { kind: 'breakers-open'; capability: string; agents: string[] }
  | { kind: 'dependencies'; waitingOn: Array<{ key: string; state: TaskState | 'missing' }> };

export interface StuckTask {
  taskId: string;
  key: string;
  title: string;
  type: string;
  state: TaskState;
  reason: StuckReason;
  /** The reason in one sentence, for people. */
  message: string;
}

export interface DiagnosisInput {
  agents: readonly AgentInfo[];
  pausedQueues: ReadonlySet<string>;
  /** State of each dependency key of the task (BACKLOG tasks only). */
  dependencyStates?: ReadonlyMap<string, TaskState | 'missing'>;
  /** What Redis holds of the task's job (`jobHashStateOf`); unchecked when absent. */
  job?: JobHashState;
}

/** The reason a waiting task will not be claimed as things stand, or null when it will be. */
export function diagnoseTask(task: TaskRecord, input: DiagnosisInput): StuckReason | null {
  const waiting = task.state === 'BACKLOG' || task.state === 'PENDING';
  if (waiting && input.job !== undefined && input.job !== 'present') {
    return { kind: 'job-lost', job: input.job };
  }
  if (task.state === 'BACKLOG') {
    const waitingOn = task.dependsOn
      .map((key) => ({ key, state: input.dependencyStates?.get(key) ?? ('missing' as const) }))
      .filter((dep) => dep.state !== 'DONE');
    if (waitingOn.length > 0) return { kind: 'dependencies', waitingOn };
  } else if (task.state !== 'PENDING') {
    return null;
  }
  // An approval task waits for a person, not an agent (status lists it as awaiting approval).
  if (task.type === APPROVALS_QUEUE) return null;
  const capability = task.type;
  if (input.pausedQueues.has(capability)) return { kind: 'paused', capability };
  const serving = input.agents.filter((a) => a.capabilities.includes(capability));
  if (serving.length === 0) return { kind: 'no-agent', capability };
  if (serving.every((a) => a.breakers[capability] === 'open')) {
    return { kind: 'breakers-open', capability, agents: serving.map((a) => a.id) };
  }
  return null;
}

export function describeStuckReason(reason: StuckReason): string {
  switch (reason.kind) {
    case 'job-lost':
      return reason.job === 'missing'
        ? 'its job is not in Redis (Redis lost it?): `agentq recover` rebuilds it'
        : 'its job in Redis is a fragment without data (written after Redis lost the job): `agentq recover` rebuilds it';
    case 'paused':
      return `queue '${reason.capability}' is paused`;
    case 'no-agent':
      return `no live agent serves '${reason.capability}'`;
    case 'breakers-open':
      return `the breaker of every agent serving '${reason.capability}' is open (${reason.agents.join(', ')})`;
    case 'dependencies':
      return `waits on ${reason.waitingOn.map((d) => `${d.key} (${d.state})`).join(', ')}`;
  }
}

/** Looks at up to `scan` waiting tasks of each kind and reports at most `limit` stuck ones. */
export async function findStuckTasks(
  registry: TaskRegistry,
  agents: readonly AgentInfo[],
  queues: ReadonlyArray<{ name: string; paused: boolean }>,
  limit: number,
  scan = 200,
): Promise<StuckTask[]> {
  const pausedQueues = new Set(queues.filter((q) => q.paused).map((q) => q.name));
  const [pending, backlog] = await Promise.all([
    registry.findTasks({ state: 'PENDING', limit: scan }),
    registry.findTasks({ state: 'BACKLOG', limit: scan }),
  ]);
  const stuck: StuckTask[] = [];
  for (const task of [...pending, ...backlog]) {
    if (stuck.length >= limit) break;
    const dependencyStates =
      task.state === 'BACKLOG' ? await dependencyStatesOf(registry, task) : undefined;
    const reason = diagnoseTask(task, { agents, pausedQueues, dependencyStates });
    if (!reason) continue;
    stuck.push({
      taskId: task.id,
      key: task.key,
      title: task.title,
      type: task.type,
      state: task.state,
      reason,
      message: describeStuckReason(reason),
    });
  }
  return stuck;
}

/** The state of each dependency of a task, by key ('missing' when the store has none). */
export async function dependencyStatesOf(
  registry: TaskRegistry,
  task: TaskRecord,
): Promise<Map<string, TaskState | 'missing'>> {
  const deps = await Promise.all(
    task.dependsOn.map((key) => registry.getTask(taskJobId(task.goalId, key))),
  );
  return new Map(task.dependsOn.map((key, i) => [key, deps[i]?.state ?? 'missing']));
}

/** What Redis holds of a task's job: the job, nothing, or a fragment without `data`. */
export function jobHashStateOf(redis: RedisCoordinator, task: TaskRecord): Promise<JobHashState> {
  const shard = shardOf(task.goalId, redis.shards);
  return jobHashState(redis.client, taskJobKey(redis, shard, task.type, task.id));
}
