/**
 * The seed's Redis latency test, one probe per line: PING round trip, pub/sub one-way, claim
 * (enqueue → handler start) with a plain BullMQ Worker. Samples run one after another, so the
 * figures are latency, not queueing. Times come from process.hrtime (CLOCK_MONOTONIC).
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisConfig } from '../src/config';
import { hrtimeMs, summarize, type LatencySummary } from './stats';

export interface ProbeOptions {
  redis: RedisConfig;
  samples: number;
  /** Unique key and channel prefix of this run. */
  prefix: string;
}

const WARMUP = 50;

function connect(config: RedisConfig, worker = false): Redis {
  const client = new Redis(config.url, worker ? { maxRetriesPerRequest: null } : {});
  client.on('error', () => undefined);
  return client;
}

export async function probePing(options: ProbeOptions): Promise<LatencySummary> {
  const client = connect(options.redis);
  try {
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + options.samples; i++) {
      const t0 = hrtimeMs();
      await client.ping();
      if (i >= WARMUP) samples.push(hrtimeMs() - t0);
    }
    return summarize(samples);
  } finally {
    await client.quit();
  }
}

export async function probePubSub(options: ProbeOptions): Promise<LatencySummary> {
  const publisher = connect(options.redis);
  const subscriber = connect(options.redis);
  const channel = `${options.prefix}:latency`;
  try {
    await subscriber.subscribe(channel);
    const samples: number[] = [];
    let arrived: ((ms: number) => void) | null = null;
    subscriber.on('message', (_channel: string, message: string) => {
      // The message carries its own send time: the figure is one-way, publisher to subscriber.
      arrived?.(hrtimeMs() - Number(message));
    });
    for (let i = 0; i < WARMUP + options.samples; i++) {
      const delivered = new Promise<number>((resolve) => (arrived = resolve));
      await publisher.publish(channel, String(hrtimeMs()));
      const ms = await delivered;
      if (i >= WARMUP) samples.push(ms);
    }
    return summarize(samples);
  } finally {
    await subscriber.quit();
    await publisher.quit();
  }
}

/** Enqueue → handler start with a plain BullMQ Worker (the baseline agentq's claim is held to). */
export async function probeBullmqClaim(options: ProbeOptions): Promise<LatencySummary> {
  const connection = connect(options.redis, true);
  const prefix = `{${options.prefix}}`;
  const queue = new Queue('latency', { connection, prefix });
  queue.on('error', () => undefined);
  const workerConnection = connect(options.redis, true);
  let started: ((ms: number) => void) | null = null;
  const worker = new Worker<{ t: number }>(
    'latency',
    async (job) => {
      started?.(hrtimeMs() - job.data.t);
    },
    { connection: workerConnection, prefix, concurrency: 1 },
  );
  worker.on('error', () => undefined);
  try {
    await worker.waitUntilReady();
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + options.samples; i++) {
      const running = new Promise<number>((resolve) => (started = resolve));
      await queue.add('probe', { t: hrtimeMs() }, { removeOnComplete: true });
      const ms = await running;
      if (i >= WARMUP) samples.push(ms);
    }
    return summarize(samples);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await workerConnection.quit();
    await connection.quit();
  }
}
