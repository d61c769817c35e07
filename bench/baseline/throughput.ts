/** Plain BullMQ: no-op jobs, added first, drained by one Worker at concurrency 50. */
import { Queue, Worker } from 'bullmq';
import { benchConnection, until, withPrefix, type BenchContext } from '../context';
import { hrtimeMs } from '../stats';

export interface ThroughputFigure {
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
}

export async function bullmqThroughput(
  ctx: BenchContext,
  tasks: number,
): Promise<ThroughputFigure> {
  return withPrefix(ctx, 'tp', async (prefix, connection) => {
    const queue = new Queue('noop', { connection, prefix: `{${prefix}}` });
    queue.on('error', () => undefined);
    for (let i = 0; i < tasks; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, tasks - i) }, (_, j) => ({
        name: 'noop',
        data: { i: i + j },
      }));
      await queue.addBulk(batch);
    }
    let done = 0;
    const workerConnection = benchConnection(ctx.redis);
    const worker = new Worker('noop', async () => null, {
      connection: workerConnection,
      prefix: `{${prefix}}`,
      concurrency: 50,
      autorun: false,
    });
    worker.on('error', () => undefined);
    worker.on('completed', () => void done++);
    const t0 = hrtimeMs();
    void worker.run();
    try {
      await until(() => done >= tasks, 600_000, `${tasks} no-op jobs`);
      const seconds = (hrtimeMs() - t0) / 1000;
      return { tasks, seconds, tasksPerSecond: Math.round(tasks / seconds) };
    } finally {
      await worker.close();
      await queue.close();
      await workerConnection.quit();
    }
  });
}
