/**
 * Where the real servers of the test machine are, and unique names that isolate one test file
 * from every other (never flush a server: other tests and other sessions share it).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { parseRedisUrl, type RedisConfig } from '../../src/config';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PG_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function redisConfig(): RedisConfig {
  return parseRedisUrl(REDIS_URL);
}

/** A prefix no other test file uses: `t<random>`. */
export function uniquePrefix(label = 't'): string {
  return `${label}${randomBytes(5).toString('hex')}`;
}

/** Creates a fresh PostgreSQL schema; returns its name and a function that drops it. */
export async function createPgSchema(): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await client.end();
  }
  return {
    schema,
    drop: async () => {
      const c = new Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
