/**
 * agentq's own workers: the gate worker, the goal worker and the reconciler, on every shard.
 * Reference-counted per coordinator, so a process with several agents runs them once.
 */
import { Worker } from 'bullmq';
import { createGateProcessor } from './gate-worker';
import { createGoalProcessor } from './goal-worker';
import { GATES_QUEUE, GOALS_QUEUE } from './names';
import { startReconciler } from './reconciler';
import type { RedisConnection } from './connection';
import type { RedisCoordinator } from './redis-coordinator';

export interface InternalWorkersOptions {
  /** @defaultValue coordinator.shards */
  shards?: number;
  /** Gate jobs processed at once per shard. @defaultValue 50 */
  gateConcurrency?: number;
  /** @defaultValue 3000 */
  reconcileIntervalMs?: number;
  onError?: (error: Error) => void;
}

export interface InternalWorkers {
  close(): Promise<void>;
}

interface Running {
  users: number;
  stop: () => Promise<void>;
}

const running = new WeakMap<RedisCoordinator, Running>();

function start(c: RedisCoordinator, options: InternalWorkersOptions): Running {
  const shards = options.shards ?? c.shards;
  const report = options.onError ?? (() => undefined);
  // Connection errors become the coordinator's one line when Redis is lost and one when back.
  const onError = (error: Error) => {
    if (!c.absorbConnectionError(error)) report(error);
  };
  const workers: Worker[] = [];
  const connections: RedisConnection[] = [];
  const connection = () => {
    const conn = c.duplicate('worker');
    connections.push(conn);
    return conn;
  };
  for (let shard = 0; shard < shards; shard++) {
    // Tracing on: the goal root's and the gates' `process` spans join their goal's trace too.
    const common = {
      prefix: c.bullPrefix(shard),
      ...(c.telemetry ? { telemetry: c.telemetry } : {}),
    };
    workers.push(
      new Worker(GATES_QUEUE, createGateProcessor(c, shard), {
        ...common,
        connection: connection(),
        concurrency: options.gateConcurrency ?? 50,
      }),
      new Worker(GOALS_QUEUE, createGoalProcessor(c), {
        ...common,
        connection: connection(),
        concurrency: 4,
      }),
    );
  }
  for (const w of workers) w.on('error', onError);
  const reconciler = startReconciler(c, {
    shards,
    intervalMs: options.reconcileIntervalMs,
    onError,
  });
  return {
    users: 0,
    stop: async () => {
      await reconciler.close();
      await Promise.all(workers.map((w) => w.close()));
      // Workers do not close connections they were given: ours to close.
      await Promise.all(connections.map((conn) => conn.quit().catch(() => undefined)));
    },
  };
}

/** Starts the internal workers for this coordinator, or joins the ones already running. */
export function startInternalWorkers(
  coordinator: RedisCoordinator,
  options: InternalWorkersOptions = {},
): InternalWorkers {
  let entry = running.get(coordinator);
  if (!entry) {
    entry = start(coordinator, options);
    running.set(coordinator, entry);
  }
  entry.users++;
  const own = entry;
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      own.users--;
      if (own.users === 0 && running.get(coordinator) === own) {
        running.delete(coordinator);
        await own.stop();
      }
    },
  };
}
