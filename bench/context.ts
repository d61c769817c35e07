/**
 * What every benchmark scenario gets: the Redis to use, quick or full counts, unique prefixes,
 * and cleanup of every key a scenario made (SCAN + UNLINK by prefix; never a flush).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RedisConfig } from '../src/config';

export interface BenchContext {
  redis: RedisConfig;
  quick: boolean;
  /** Told what the scenario is doing now (the progress bar's label). */
  step(label: string): void;
}

/**
 * A prefix no other run uses; BullMQ keys go under the hash tag `{prefix}`. `BENCH_RUN` (a test's
 * run id) goes in front, so a test can check its own run left no keys while another bench runs.
 */
export function benchPrefix(label: string): string {
  const run = process.env.BENCH_RUN ? `${process.env.BENCH_RUN}-` : '';
  return `bench-${run}${label}-${randomBytes(4).toString('hex')}`;
}

/** A connection for BullMQ (workers need `maxRetriesPerRequest: null`); close it with quit(). */
export function benchConnection(config: RedisConfig): Redis {
  const client = new Redis(config.url, { maxRetriesPerRequest: null });
  client.on('error', () => undefined);
  return client;
}

/** Deletes every key under `{prefix}` (and `prefix…`) with SCAN + UNLINK; returns how many. */
export async function deleteByPrefix(client: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for (const pattern of [`{${prefix}}*`, `${prefix}*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}

/** Runs `body` with a fresh prefix and connection; deletes the prefix's keys afterwards. */
export async function withPrefix<T>(
  ctx: BenchContext,
  label: string,
  body: (prefix: string, connection: Redis) => Promise<T>,
): Promise<T> {
  const prefix = benchPrefix(label);
  const connection = benchConnection(ctx.redis);
  try {
    return await body(prefix, connection);
  } finally {
    await deleteByPrefix(connection, prefix);
    await connection.quit();
  }
}

/** Resolves when `done()` turns true; polled every 2 ms, for counts kept by event handlers. */
export async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
