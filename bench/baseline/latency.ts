/**
 * Plain BullMQ enqueue → start latency under an OPEN-LOOP producer: job i is due at
 * start + i / rate whatever happened to job i-1, and its latency counts from when it was due,
 * so a stalled producer or worker shows up in the tail (no coordinated omission).
 */
import { Queue, Worker } from 'bullmq';
import { benchConnection, until, withPrefix, type BenchContext } from '../context';
import { hrtimeMs, summarize, type LatencySummary } from '../stats';

export async function openLoop(
  rate: number,
  seconds: number,
  send: (dueAt: number, i: number) => Promise<unknown>,
): Promise<number> {
  const total = Math.round(rate * seconds);
  const start = hrtimeMs() + 20;
  const sends: Promise<unknown>[] = [];
  let i = 0;
  while (i < total) {
    const now = hrtimeMs();
    while (i < total && start + (i * 1000) / rate <= now) {
      sends.push(send(start + (i * 1000) / rate, i));
      i++;
    }
    const nextDue = start + (i * 1000) / rate;
    // Sleep when the next job is more than a timer tick away; spin on setImmediate otherwise.
    if (nextDue - hrtimeMs() > 2) await new Promise((resolve) => setTimeout(resolve, 1));
    else await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(sends);
  return total;
}

export async function bullmqOpenLoopLatency(
  ctx: BenchContext,
  rate: number,
  seconds: number,
): Promise<LatencySummary> {
  return withPrefix(ctx, `lat${rate}`, async (prefix, connection) => {
    const queue = new Queue('latency', { connection, prefix: `{${prefix}}` });
    queue.on('error', () => undefined);
    const samples: number[] = [];
    const workerConnection = benchConnection(ctx.redis);
    const worker = new Worker<{ due: number }>(
      'latency',
      async (job) => void samples.push(hrtimeMs() - job.data.due),
      { connection: workerConnection, prefix: `{${prefix}}`, concurrency: 50 },
    );
    worker.on('error', () => undefined);
    try {
      await worker.waitUntilReady();
      const total = await openLoop(rate, seconds, (due) =>
        queue.add('t', { due }, { removeOnComplete: true }),
      );
      await until(() => samples.length >= total, 120_000, `${total} jobs at ${rate}/s`);
      return summarize(samples);
    } finally {
      await worker.close();
      await queue.close();
      await workerConnection.quit();
    }
  });
}
