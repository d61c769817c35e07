/**
 * Plain BullMQ scaling: 10 ms jobs over `slots` concurrent slots spread across 1–4 worker
 * processes; efficiency = measured throughput / (slots × 100 per second).
 */
import { Queue } from 'bullmq';
import { withPrefix, type BenchContext } from '../context';
import { ratio } from '../stats';
import { runWorkerProcesses } from '../worker-processes';

export const TASK_MS = 10;

export interface ScalingFigure {
  slots: number;
  processes: number;
  concurrency: number;
  tasks: number;
  seconds: number;
  efficiency: number;
}

/** 1 slot: 1 process; 4: 4 × 1; 16: 4 × 4; 64: 4 × 16. */
export function layout(slots: number): { processes: number; concurrency: number } {
  const processes = Math.min(4, slots);
  return { processes, concurrency: Math.ceil(slots / processes) };
}

export async function bullmqScaling(
  ctx: BenchContext,
  slots: number,
  tasksPerSlot: number,
): Promise<ScalingFigure> {
  return withPrefix(ctx, `sc${slots}`, async (prefix, connection) => {
    const tasks = slots * tasksPerSlot;
    const queue = new Queue('scaling', { connection, prefix: `{${prefix}}` });
    queue.on('error', () => undefined);
    try {
      for (let i = 0; i < tasks; i += 1000) {
        const n = Math.min(1000, tasks - i);
        await queue.addBulk(Array.from({ length: n }, () => ({ name: 'sleep', data: {} })));
      }
      const { processes, concurrency } = layout(slots);
      const { seconds } = await runWorkerProcesses(
        {
          script: 'baseline/scaling-worker.ts',
          processes,
          env: {
            BENCH_REDIS_URL: ctx.redis.url,
            BENCH_PREFIX: prefix,
            BENCH_CONCURRENCY: String(concurrency),
            BENCH_TASK_MS: String(TASK_MS),
          },
        },
        tasks,
      );
      const ideal = (slots * 1000) / TASK_MS;
      return {
        slots,
        processes,
        concurrency,
        tasks,
        seconds,
        efficiency: ratio(tasks / seconds, ideal),
      };
    } finally {
      await queue.close();
    }
  });
}
