/**
 * Test drivers that speak src/queues/protocol.ts with plain BullMQ (until the supervisor and the
 * agents are on main): a goal created in SQL and added as a flow with deterministic job ids, a
 * task worker that reports `started`, runs a handler and returns a TaskResultEnvelope, and a goal
 * worker that completes (or fails) the root.
 */
import { randomBytes } from 'node:crypto';
import { UnrecoverableError, Worker, type FlowJobNode, type Job } from 'bullmq';
import type { Json } from '../../src/entities/task-model';
import type { TaskStore } from '../../src/entities/task-store';
import { GOALS_QUEUE } from '../../src/queues/names';
import type { TaskProgressMessage, TaskResultEnvelope } from '../../src/queues/protocol';
import type { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { taskJobId, type TaskJobData } from '../../src/queues/task-job';

export interface TestTask {
  key: string;
  type: string;
  /** The one dependency a task may have here (a tree: it becomes the BullMQ child). */
  dependsOn?: string;
  attempts?: number;
  /** Sets `continueParentOnFailure` on this job, so its parent runs when it fails. */
  mayFail?: boolean;
}

export function newGoalId(): string {
  return `g-${randomBytes(8).toString('hex')}`;
}

/** Writes the goal and its tasks to SQL (`new` events), as the supervisor would; nothing in Redis. */
export async function createGoalRows(
  store: TaskStore,
  goalId: string,
  tasks: TestTask[],
): Promise<void> {
  await store.createGoal(
    { id: goalId, key: null, title: goalId, planner: 'test', plan: { goal: goalId, tasks: [] } },
    tasks.map((t) => ({
      id: taskJobId(goalId, t.key),
      key: t.key,
      title: t.key,
      description: '',
      type: t.type,
      priority: 5,
      dependsOn: t.dependsOn ? [t.dependsOn] : [],
      data: {},
      attempts: t.attempts ?? 1,
      timeoutMs: 60000,
      optional: false,
      state: t.dependsOn ? 'BACKLOG' : 'PENDING',
    })),
  );
}

/** A goal of `count` independent tasks `t0…` of one type, in SQL only; returns their keys. */
export async function createFlatGoalRows(
  store: TaskStore,
  goalId: string,
  type: string,
  count: number,
): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, i) => `t${i}`);
  await createGoalRows(
    store,
    goalId,
    keys.map((key) => ({ key, type })),
  );
  return keys;
}

/** Writes the goal and its tasks to SQL (`new` events), then adds its flow to BullMQ. */
export async function submitGoal(
  store: TaskStore,
  coordinator: RedisCoordinator,
  goalId: string,
  tasks: TestTask[],
): Promise<void> {
  await createGoalRows(store, goalId, tasks);
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  const dependents = new Map<string, TestTask[]>();
  for (const t of tasks) {
    if (t.dependsOn) dependents.set(t.dependsOn, [...(dependents.get(t.dependsOn) ?? []), t]);
  }
  const prefix = coordinator.bullPrefix(0);
  const node = (t: TestTask): FlowJobNode => ({
    name: t.key,
    queueName: t.type,
    prefix,
    data: jobData(goalId, t),
    opts: {
      jobId: taskJobId(goalId, t.key),
      attempts: t.attempts ?? 1,
      backoff: { type: 'fixed', delay: 20 },
      ...(t.mayFail ? { continueParentOnFailure: true } : { failParentOnFailure: true }),
    },
    children: tasks.filter((c) => byKey.get(t.key)?.dependsOn === c.key).map(node),
  });
  const sinks = tasks.filter((t) => !dependents.has(t.key));
  await coordinator.flowProducer(0).add({
    name: 'goal',
    queueName: GOALS_QUEUE,
    prefix,
    data: { v: 1, kind: 'goal', goalId, title: goalId },
    opts: { jobId: goalId },
    children: sinks.map(node),
  });
}

function jobData(goalId: string, t: TestTask): TaskJobData {
  return {
    v: 1,
    kind: 'task',
    taskId: taskJobId(goalId, t.key),
    goalId,
    key: t.key,
    title: t.key,
    description: '',
    type: t.type,
    priority: 5,
    data: {},
    dependsOn: t.dependsOn ? [t.dependsOn] : [],
    timeoutMs: 60000,
    optional: false,
    epoch: 0,
    shard: 0,
  };
}

export type TestHandler = (
  data: TaskJobData,
  attempt: number,
  progress: (value: Json) => Promise<void>,
) => Promise<Json> | Json;

/** A task worker that follows the protocol: `started` progress, handler, result envelope. */
export function taskWorker(
  coordinator: RedisCoordinator,
  queue: string,
  handler: TestHandler,
  { agentId = 'test-agent', concurrency = 4 } = {},
): Worker {
  const worker = new Worker<TaskJobData, TaskResultEnvelope>(
    queue,
    async (job: Job<TaskJobData>) => {
      const attempt = job.attemptsMade + 1;
      const startedAt = Date.now();
      const started: TaskProgressMessage = {
        phase: 'started',
        agentId,
        attempt,
        claimedAt: job.processedOn ?? startedAt,
        startedAt,
      };
      await job.updateProgress(started);
      const progress = async (value: Json) => {
        const message: TaskProgressMessage = { phase: 'progress', agentId, attempt, value };
        await job.updateProgress(message);
      };
      const result = await handler(job.data, attempt, progress);
      return {
        v: 1,
        key: job.data.key,
        result,
        agentId,
        attempt,
        startedAt,
        finishedAt: Date.now(),
      };
    },
    { connection: coordinator.duplicate(), prefix: coordinator.bullPrefix(0), concurrency },
  );
  worker.on('error', () => undefined);
  return worker;
}

/** Completes a goal's root, or fails it for good when a child failed. */
export function goalWorker(coordinator: RedisCoordinator): Worker {
  const worker = new Worker(
    GOALS_QUEUE,
    async (job: Job) => {
      const failed = Object.keys(await job.getFailedChildrenValues());
      if (failed.length > 0) throw new UnrecoverableError(`dependency ${failed[0]} failed`);
      return { v: 1, goalId: job.id };
    },
    { connection: coordinator.duplicate(), prefix: coordinator.bullPrefix(0) },
  );
  worker.on('error', () => undefined);
  return worker;
}

/** A standalone task job for `queue.addBulk` (no flow), with the protocol's id and data. */
export function taskJob(goalId: string, key: string, type: string) {
  return {
    name: key,
    data: jobData(goalId, { key, type }),
    opts: { jobId: taskJobId(goalId, key) },
  };
}
