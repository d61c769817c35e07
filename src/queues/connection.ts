/**
 * Redis connections. Workers and long-running parts get `maxRetriesPerRequest: null` (BullMQ
 * requires it, and they must outlive a Redis restart); one-shot commands get a short connect
 * timeout so they fail with a clear message instead of hanging.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config';
import { ConnectionError } from '../errors';

export type RedisConnection = Redis | Cluster;

export interface ConnectionOptions {
  /**
   * `worker`: retries forever (BullMQ Workers, QueueEvents, the mirror, subscribers).
   * `command`: fails within `connectTimeoutMs` (CLI commands, producers in tests).
   * @defaultValue 'worker'
   */
  role?: 'worker' | 'command';
  /** @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** Called on every connection error (every connection must have an `error` listener). */
  onError?: (error: Error) => void;
}

export function createRedis(config: RedisConfig, options: ConnectionOptions = {}): RedisConnection {
  const role = options.role ?? 'worker';
  const base: RedisOptions = {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    enableOfflineQueue: true,
    retryStrategy: role === 'worker' ? (times) => Math.min(times * 200, 2000) : () => null,
  };
  const client = config.clusterNodes
    ? new Cluster(config.clusterNodes, {
        redisOptions: { ...base, ...(config.tls ? { tls: {} } : {}) },
        enableOfflineQueue: true,
        clusterRetryStrategy: base.retryStrategy,
      })
    : new Redis(config.url, base);
  client.on('error', options.onError ?? (() => undefined));
  return client;
}

/** How to start Redis: said by every message about a Redis that does not answer. */
const HOW_TO_START = 'sudo systemctl start redis-server, or redis-server --daemonize yes';

/** The message every command shows when Redis does not answer. */
export function cannotConnectMessage(config: RedisConfig): string {
  return (
    `Cannot connect to Redis at ${config.host}:${config.port}. ` +
    `Start it (${HOW_TO_START}) or point REDIS_URL at a running server.`
  );
}

/** Said once by a long-running process that was connected and lost Redis (`why`: the error). */
export function lostConnectionMessage(config: RedisConfig, why: string): string {
  return (
    `Lost the connection to Redis at ${config.host}:${config.port} (${why}). ` +
    `If it stopped, start it (${HOW_TO_START}).`
  );
}

/**
 * Ends a connection without waiting for a server that is not there: QUIT when it is connected
 * (pending replies arrive first), a plain disconnect otherwise (a QUIT queued behind commands
 * waiting for a reconnect would wait forever).
 */
export async function closeRedis(connection: RedisConnection): Promise<void> {
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  await connection.quit().catch(() => connection.disconnect());
}

/** PINGs within `timeoutMs`; throws `ConnectionError` with the fix when Redis does not answer. */
export async function assertRedisReachable(
  client: RedisConnection,
  config: RedisConfig,
  timeoutMs = 5000,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
  });
  try {
    await Promise.race([client.ping(), timeout]);
  } catch (error) {
    throw new ConnectionError(cannotConnectMessage(config), { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
