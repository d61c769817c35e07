/**
 * A minimal agent in its own process, following src/queues/protocol.ts exactly: one plain BullMQ
 * Worker per capability, the `started` progress report, `collectDependencies`, a result envelope,
 * `releaseLinksOfCompleted` / `releaseLinksOfFailed` after completion and after a final failure, an immediate failure when the job is
 * marked cancelled, and the control channel for running tasks. It also runs the internal workers.
 *
 * With AGENT=autonomous (the default of the DAG harness) it runs the project's AutonomousAgent
 * with handlers that record the same things instead; AGENT=plain keeps the plain workers.
 *
 * Env: REDIS_URL, PREFIX, CAPABILITIES (a,b,c), AGENT_ID, RECORD_KEY (a Redis list each run is
 * pushed to, with start/end sequence numbers from one Redis counter). Task data drives behaviour:
 * `{ fail: true }` fails for good, `{ block: true }` runs until cancelled; with AGENT=autonomous
 * `{ spawn: [tasks] }` spawns them (and `failAfterSpawn: true` fails the first attempt after);
 * `{ failKeys: [keys] }` fails for good when the task's key is listed.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import type { TaskSpec } from '../../src/entities/task-model';
import type { TaskHandler } from '../../src/processors/handler-types';
import { collectDependencies } from '../../src/queues/dependencies';
import { releaseLinksOfCompleted, releaseLinksOfFailed } from '../../src/queues/links';
import { startInternalWorkers } from '../../src/queues/internal-workers';
import {
  cancelledReason,
  CONTROL_CHANNEL,
  type ControlMessage,
  type TaskResultEnvelope,
} from '../../src/queues/protocol';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import type { TaskJobData } from '../../src/queues/task-job';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const agentId = env('AGENT_ID');
const recordKey = env('RECORD_KEY');
const coordinator = new RedisCoordinator({ url: env('REDIS_URL'), prefix: env('PREFIX') });
const running = new Map<string, { abort: (actor: string | null) => void }>();

export interface RunRecord {
  key: string;
  taskId: string;
  agentId: string;
  startSeq: number;
  endSeq: number;
  deps: Record<string, unknown>;
  /** The keys its ctx.spawn call returned (a spawning task). */
  spawned?: string[];
}

async function run(job: Job<TaskJobData>): Promise<TaskResultEnvelope> {
  const data = job.data;
  if (data.cancelled) throw new UnrecoverableError(cancelledReason(data.cancelled.actor));
  const attempt = job.attemptsMade + 1;
  const claimedAt = Date.now();
  await job.updateProgress({ phase: 'started', agentId, attempt, claimedAt, startedAt: claimedAt });
  const deps = await collectDependencies(job);
  const startSeq = await coordinator.client.incr(`${recordKey}:seq`);
  if (data.data.fail) throw new UnrecoverableError(`task ${data.key} failed on purpose`);
  if (data.data.block) {
    await coordinator.client.rpush(`${recordKey}:blocked`, data.key);
    const actor = await new Promise<string | null>((resolve) =>
      running.set(data.taskId, { abort: resolve }),
    );
    running.delete(data.taskId);
    throw new UnrecoverableError(cancelledReason(actor));
  }
  const endSeq = await coordinator.client.incr(`${recordKey}:seq`);
  const record: RunRecord = { key: data.key, taskId: data.taskId, agentId, startSeq, endSeq, deps };
  await coordinator.client.rpush(recordKey, JSON.stringify(record));
  return {
    v: 1,
    key: data.key,
    result: { from: data.key },
    agentId,
    attempt,
    startedAt: claimedAt,
    finishedAt: Date.now(),
  };
}

/** The same behaviour as `run`, as a handler of the AutonomousAgent. */
const handler: TaskHandler = async (task, ctx) => {
  const startSeq = await coordinator.client.incr(`${recordKey}:seq`);
  if (task.data.fail) throw new UnrecoverableError(`task ${task.key} failed on purpose`);
  // `failKeys`: fails when its key is listed (a repair's retry inherits the list with the data).
  if (Array.isArray(task.data.failKeys) && task.data.failKeys.includes(task.key)) {
    await coordinator.client.rpush(`${recordKey}:failed`, task.key);
    throw new UnrecoverableError(`task ${task.key} failed on purpose`);
  }
  if (task.data.block) {
    await coordinator.client.rpush(`${recordKey}:blocked`, task.key);
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    throw new Error('aborted');
  }
  // `{ spawn: [tasks] }` spawns them (ctx.spawn); `failAfterSpawn` then fails the first attempt.
  let spawned: string[] | undefined;
  if (Array.isArray(task.data.spawn)) {
    const out = await ctx.spawn(task.data.spawn as unknown as TaskSpec[]);
    spawned = out.map((t) => t.key);
    if (task.data.failAfterSpawn && task.attempt === 1) {
      await coordinator.client.rpush(`${recordKey}:failed-after-spawn`, task.key);
      throw new Error(`task ${task.key} fails after spawning, once`);
    }
  }
  const endSeq = await coordinator.client.incr(`${recordKey}:seq`);
  const record: RunRecord = {
    key: task.key,
    taskId: task.id,
    agentId,
    startSeq,
    endSeq,
    deps: ctx.dependencies,
    ...(spawned ? { spawned } : {}),
  };
  await coordinator.client.rpush(recordKey, JSON.stringify(record));
  return { from: task.key };
};

async function mainAutonomous(): Promise<void> {
  // The agent does not start the internal workers yet (its call site awaits the integrator).
  const internal = startInternalWorkers(coordinator, { reconcileIntervalMs: 1000 });
  const capabilities = env('CAPABILITIES').split(',');
  const agent = new AutonomousAgent({
    agentId,
    capabilities,
    redisCoordinator: coordinator,
    handlers: Object.fromEntries(capabilities.map((c) => [c, handler])),
    concurrency: 20,
    breaker: false,
    graceMs: 1000,
    heartbeatMs: 500,
    onError: () => undefined,
  });
  await agent.start();
  process.send?.('ready');
  process.on('SIGTERM', () => {
    void (async () => {
      await agent.close();
      await internal.close();
      await coordinator.close();
      process.exit(0);
    })();
  });
}

async function main(): Promise<void> {
  const internal = startInternalWorkers(coordinator, { reconcileIntervalMs: 1000 });
  const subscriber = coordinator.duplicate('worker');
  await subscriber.subscribe(coordinator.channel(CONTROL_CHANNEL));
  subscriber.on('message', (_channel: string, raw: string) => {
    const message = JSON.parse(raw) as ControlMessage;
    for (const id of message.taskIds) running.get(id)?.abort(message.actor);
  });
  const workers = env('CAPABILITIES')
    .split(',')
    .map((capability) => {
      const worker = new Worker<TaskJobData, TaskResultEnvelope>(capability, run, {
        connection: coordinator.duplicate('worker'),
        prefix: coordinator.bullPrefix(0),
        concurrency: 20,
      });
      worker.on('error', () => undefined);
      worker.on('completed', (job) => {
        void releaseLinksOfCompleted(coordinator, job.data);
      });
      worker.on('failed', (job, error) => {
        if (!job) return;
        const final =
          error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
        if (final) void releaseLinksOfFailed(coordinator, job.data, error.message);
      });
      return worker;
    });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  process.send?.('ready');
  process.on('SIGTERM', () => {
    void (async () => {
      await Promise.all(workers.map((w) => w.close()));
      await internal.close();
      await coordinator.close();
      process.exit(0);
    })();
  });
}

void (process.env.AGENT === 'plain' ? main() : mainAutonomous());
