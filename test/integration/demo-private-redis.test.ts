import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { parseRedisUrl } from '../../src/config';
import { ConnectionError } from '../../src/errors';
import { ensureRedis, INSTALL_HINT } from '../../src/cli/private-redis';
import { redisConfig } from '../helpers/servers';

// Port 1 on loopback: nothing listens there, so the configured server "does not answer".
const NOBODY = parseRedisUrl('redis://127.0.0.1:1');

describe('ensureRedis (the private Redis of demo, latency and bench)', () => {
  it('uses the configured server when it answers', async () => {
    const redis = await ensureRedis(redisConfig());
    expect(redis.isPrivate).toBe(false);
    expect(redis.config.port).toBe(redisConfig().port);
    await redis.stop();
  });

  it('starts a private redis-server without persistence and removes it on stop', async () => {
    const lines: string[] = [];
    const redis = await ensureRedis(NOBODY, { log: (line) => lines.push(line) });
    expect(redis.isPrivate).toBe(true);
    expect(lines.join('\n')).toContain(`127.0.0.1:${redis.config.port}`);
    const client = new Redis(redis.config.url);
    let dir = '';
    try {
      expect(await client.ping()).toBe('PONG');
      const save = (await client.config('GET', 'save')) as string[];
      const aof = (await client.config('GET', 'appendonly')) as string[];
      expect(save[1]).toBe('');
      expect(aof[1]).toBe('no');
      dir = ((await client.config('GET', 'dir')) as string[])[1]!;
      expect(existsSync(dir)).toBe(true);
    } finally {
      await client.quit();
      await redis.stop();
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('says in one line how to install Redis when none answers and none is installed', async () => {
    const failure = ensureRedis(NOBODY, { searchPath: '/nonexistent' });
    await expect(failure).rejects.toBeInstanceOf(ConnectionError);
    await expect(failure).rejects.toThrow(INSTALL_HINT);
    await expect(failure).rejects.toThrow(/Cannot connect to Redis at 127\.0\.0\.1:1\b/);
  });
});
