/** Plain BullMQ: one flow whose parent has `tasks` no-op children, end to end. */
import { FlowProducer, Worker } from 'bullmq';
import { benchConnection, until, withPrefix, type BenchContext } from '../context';
import { hrtimeMs } from '../stats';

export async function bullmqFlow(ctx: BenchContext, tasks: number): Promise<{ seconds: number }> {
  return withPrefix(ctx, 'dag', async (prefix, connection) => {
    const flows = new FlowProducer({ connection, prefix: `{${prefix}}` });
    flows.on('error', () => undefined);
    let rootDone = false;
    const workerConnection = benchConnection(ctx.redis);
    const worker = new Worker(
      'dag',
      async (job) => {
        if (job.name === 'root') rootDone = true;
        return null;
      },
      { connection: workerConnection, prefix: `{${prefix}}`, concurrency: 50 },
    );
    worker.on('error', () => undefined);
    try {
      await worker.waitUntilReady();
      const t0 = hrtimeMs();
      await flows.add({
        name: 'root',
        queueName: 'dag',
        children: Array.from({ length: tasks }, (_, i) => ({
          name: 'child',
          queueName: 'dag',
          data: { i },
        })),
      });
      await until(() => rootDone, 600_000, `a flow of ${tasks} children`);
      return { seconds: Math.round(hrtimeMs() - t0) / 1000 };
    } finally {
      await worker.close();
      await flows.close();
      await workerConnection.quit();
    }
  });
}
