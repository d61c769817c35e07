/**
 * Start-up checks of the Redis server a deployment runs on. BullMQ keeps every job in Redis: a
 * server that may evict keys silently loses accepted tasks, so agentq refuses it; a server
 * without persistence loses everything on restart (SQL still has the tasks: `agentq recover`), so
 * agentq warns.
 */
import { AgentqError } from '../errors';
import type { RedisConnection } from './connection';

/** BullMQ 6 needs Redis 6.2 or newer (it relies on commands and Lua semantics of 6.2). */
export const MIN_REDIS_VERSION = '6.2.0';

export interface RedisServerReport {
  version: string;
  maxmemoryPolicy: string;
  aof: boolean;
  rdb: boolean;
  /** Things worth saying at start-up that do not stop agentq. */
  warnings: string[];
}

export class RedisConfigError extends AgentqError {
  constructor(message: string) {
    super('REDIS_CONFIG', message);
  }
}

function infoField(info: string, field: string): string | undefined {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim();
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const pb = b.split('.').map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

/** Whether RDB snapshots are configured; managed servers often forbid CONFIG, then we cannot tell. */
async function rdbConfigured(client: RedisConnection): Promise<boolean | null> {
  try {
    const reply = (await client.call('CONFIG', 'GET', 'save')) as string[];
    return typeof reply[1] === 'string' && reply[1].trim() !== '';
  } catch {
    return null;
  }
}

/** Reads the server's version, eviction policy and persistence; throws on an evicting server. */
export async function checkRedisServer(client: RedisConnection): Promise<RedisServerReport> {
  const [server, memory, persistence] = await Promise.all([
    client.info('server'),
    client.info('memory'),
    client.info('persistence'),
  ]);
  const version = infoField(server, 'redis_version') ?? '0.0.0';
  const maxmemoryPolicy = infoField(memory, 'maxmemory_policy') ?? 'noeviction';
  const aof = infoField(persistence, 'aof_enabled') === '1';
  const rdb = (await rdbConfigured(client)) ?? false;

  if (compareVersions(version, MIN_REDIS_VERSION) < 0) {
    throw new RedisConfigError(
      `Redis ${version} is too old: agentq (BullMQ 6) needs Redis ${MIN_REDIS_VERSION} or newer.`,
    );
  }
  if (maxmemoryPolicy !== 'noeviction') {
    throw new RedisConfigError(
      `Redis maxmemory-policy is '${maxmemoryPolicy}': it may evict queued tasks. ` +
        "Set it to 'noeviction' (redis-cli CONFIG SET maxmemory-policy noeviction, " +
        'and maxmemory-policy noeviction in redis.conf).',
    );
  }
  const warnings: string[] = [];
  if (!aof && !rdb) {
    warnings.push(
      'Redis persistence is off (no AOF, no RDB snapshots): a Redis restart loses the queues. ' +
        "SQL keeps every task; run 'agentq recover' after a restart, or enable appendonly yes.",
    );
  }
  return { version, maxmemoryPolicy, aof, rdb, warnings };
}
