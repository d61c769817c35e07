import { createRedis } from '../../src/queues/connection';
import { checkRedisServer, RedisConfigError } from '../../src/queues/redis-checks';
import { parseRedisUrl } from '../../src/config';
import { PrivateRedis } from '../helpers/redis-server';

async function report(redis: PrivateRedis) {
  const client = createRedis(parseRedisUrl(redis.url), { role: 'command' });
  try {
    return await checkRedisServer(client);
  } finally {
    await client.quit();
  }
}

describe('Redis start-up checks', () => {
  const servers: PrivateRedis[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('accepts a noeviction server and warns that persistence is off', async () => {
    const redis = await PrivateRedis.start();
    servers.push(redis);
    const result = await report(redis);
    expect(result.maxmemoryPolicy).toBe('noeviction');
    expect(result.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(result.warnings.join('\n')).toMatch(/persistence is off/);
  });

  it('does not warn when AOF is on', async () => {
    const redis = await PrivateRedis.start(['--appendonly', 'yes']);
    servers.push(redis);
    const result = await report(redis);
    expect(result.aof).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  it('refuses an evicting server, naming the fix', async () => {
    const redis = await PrivateRedis.start(['--maxmemory-policy', 'allkeys-lru']);
    servers.push(redis);
    const error = await report(redis).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(RedisConfigError);
    expect((error as Error).message).toMatch(/allkeys-lru.*noeviction/s);
  });
});
