/**
 * Plain BullMQ: Redis memory per pending job. INFO memory before and after adding `tasks` waiting
 * jobs under a unique prefix (data shaped like an agentq task), then everything deleted by prefix.
 * Run it against a private Redis where possible: other clients' keys move used_memory too.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { withPrefix, type BenchContext } from '../context';

export async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

export async function bullmqBytesPerTask(ctx: BenchContext, tasks: number): Promise<number> {
  return withPrefix(ctx, 'mem', async (prefix, connection) => {
    const queue = new Queue('memory', { connection, prefix: `{${prefix}}` });
    queue.on('error', () => undefined);
    try {
      await queue.waitUntilReady();
      const before = await usedMemory(connection);
      for (let i = 0; i < tasks; i += 1000) {
        const batch = Array.from({ length: Math.min(1000, tasks - i) }, (_, j) => ({
          name: 'development',
          data: { key: `t${i + j}`, title: `task ${i + j}`, data: {} },
          opts: { jobId: `g-bench.t${i + j}` },
        }));
        await queue.addBulk(batch);
      }
      const after = await usedMemory(connection);
      return Math.round((after - before) / tasks);
    } finally {
      await queue.close();
    }
  });
}
