/**
 * agentq's own workers: the gate worker, the goal worker, the approval worker and the reconciler,
 * on every shard.
 * `startInternalWorkers` is the one place that starts them, with the options it is given.
 * `joinInternalWorkers` is how the parts of one process share a single set: started with the
 * coordinator's `internalWorkers` settings by the first part that joins, stopped when the last one
 * leaves (or the coordinator closes), so no part's options are silently ignored.
 */
import { Worker } from 'bullmq';
import { createGateProcessor } from './gate-worker';
import { createGoalProcessor } from './goal-worker';
import type { InternalWorkerSettings } from './internal-worker-settings';
import { startApprovalWorker } from './approval-worker';
import { GATES_QUEUE, GOALS_QUEUE } from './names';
import { startReconciler } from './reconciler';
import type { RedisConnection } from './connection';
import type { RedisCoordinator } from './redis-coordinator';
import type { ServiceLease } from './shared-services';

export type { InternalWorkerSettings } from './internal-worker-settings';

export interface InternalWorkersOptions extends InternalWorkerSettings {
  /** @defaultValue coordinator.shards */
  shards?: number;
  /** @defaultValue none */
  onError?: (error: Error) => void;
}

export interface InternalWorkers {
  close(): Promise<void>;
}

/** Starts a set of internal workers of its own (tests and benchmarks tune them this way). */
export function startInternalWorkers(
  c: RedisCoordinator,
  options: InternalWorkersOptions = {},
): InternalWorkers {
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
        concurrency: options.goalConcurrency ?? 4,
      }),
      startApprovalWorker(c, shard, { ...common, connection: connection() }),
    );
  }
  for (const w of workers) w.on('error', onError);
  const reconciler = startReconciler(c, {
    shards,
    intervalMs: options.reconcileIntervalMs,
    onError,
  });
  let closing: Promise<void> | null = null;
  return {
    close() {
      closing ??= (async () => {
        await reconciler.close();
        await Promise.all(workers.map((w) => w.close()));
        // Workers do not close connections they were given: ours to close.
        await Promise.all(connections.map((conn) => conn.quit().catch(() => undefined)));
      })();
      return closing;
    },
  };
}

/** Joins this process's one set of internal workers for `coordinator` (see the module comment). */
export function joinInternalWorkers(coordinator: RedisCoordinator): ServiceLease {
  return coordinator.services.join(coordinator, 'internal-workers', () =>
    startInternalWorkers(coordinator, {
      ...coordinator.internalWorkers,
      onError: (error) => coordinator.log(`internal: ${error.message}`),
    }),
  );
}
