/**
 * The gates' safety net: a process that crashed between a task's end and `releaseGates` leaves
 * gates delayed for up to `GATE_RECHECK_MS`. Every `intervalMs` (and at start) this promotes every
 * delayed gate whose source task has finished. Idle, it costs one ZRANGE per shard.
 */
import type { Job } from 'bullmq';
import { GATES_QUEUE } from './names';
import type { RedisCoordinator } from './redis-coordinator';
import type { GateJobData } from './task-job';

export interface ReconcilerOptions {
  shards: number;
  /** @defaultValue 3000 */
  intervalMs?: number;
  /** Called with errors of a pass (the next pass still runs). */
  onError?: (error: Error) => void;
}

const PAGE = 500;

/** One pass over one shard; returns how many gates it promoted. */
export async function reconcileGates(c: RedisCoordinator, shard: number): Promise<number> {
  const gates = c.queue(GATES_QUEUE, shard);
  let promoted = 0;
  for (let start = 0; ; start += PAGE) {
    const jobs = (await gates.getDelayed(start, start + PAGE - 1)) as Array<
      Job<GateJobData> | undefined
    >;
    for (const job of jobs) {
      if (job?.data.kind !== 'gate') continue;
      const state = await c.queue(job.data.sourceType, shard).getJobState(job.data.sourceTaskId);
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') continue;
      try {
        await job.promote();
        promoted++;
      } catch {
        // Promoted or processed meanwhile.
      }
    }
    if (jobs.length < PAGE) return promoted;
  }
}

export function startReconciler(
  c: RedisCoordinator,
  options: ReconcilerOptions,
): { close(): Promise<void> } {
  const intervalMs = options.intervalMs ?? 3000;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const pass = async () => {
    for (let shard = 0; shard < options.shards && !closed; shard++) {
      await reconcileGates(c, shard).catch((e: Error) => options.onError?.(e));
    }
  };
  const loop = () => {
    running = pass().finally(() => {
      if (!closed) timer = setTimeout(loop, intervalMs);
    });
  };
  loop();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
