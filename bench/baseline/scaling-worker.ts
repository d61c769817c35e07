/**
 * A worker process of the scaling scenario (plain BullMQ): a Worker that sleeps TASK_MS per job,
 * started on the parent's 'go' and reporting each finished job over IPC.
 */
import { Worker } from 'bullmq';
import { benchConnection } from '../context';
import { parseRedisUrl } from '../../src/config';

const env = process.env;
const connection = benchConnection(parseRedisUrl(env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'));
const taskMs = Number(env.BENCH_TASK_MS ?? 10);
const worker = new Worker(
  'scaling',
  async () => {
    await new Promise((resolve) => setTimeout(resolve, taskMs));
    // Reported as the handler ends, as the agentq worker process does.
    process.send?.('done');
  },
  {
    connection,
    prefix: `{${env.BENCH_PREFIX}}`,
    concurrency: Number(env.BENCH_CONCURRENCY ?? 1),
    autorun: false,
  },
);
worker.on('error', () => undefined);

process.on('message', (message: string) => {
  if (message === 'go') void worker.run();
  if (message === 'stop') {
    void worker
      .close()
      .then(() => connection.quit())
      .finally(() => process.disconnect());
  }
});

void worker.waitUntilReady().then(() => process.send?.('ready'));
