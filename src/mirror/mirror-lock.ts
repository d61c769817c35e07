/**
 * The mirror's leader lock: `SET key token NX PX ttl`, renewed while held, released on close.
 * Every agentq process runs a candidate; exactly one holds the lock and consumes the streams.
 * When the holder dies its lock expires after `ttlMs` and a waiting candidate takes it.
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../queues/connection';
import type { RedisCoordinator } from '../queues/redis-coordinator';

/** Extends the lock only when it is still ours; 1 when it was. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface LeaderLockOptions {
  /** The lock expires this long after the holder's last renewal. @defaultValue 3000 */
  ttlMs?: number;
  /** How often the holder renews and a candidate tries. @defaultValue 1000 */
  intervalMs?: number;
}

export class LeaderLock {
  readonly token = randomUUID();
  private readonly ttlMs: number;
  readonly intervalMs: number;
  /** Local time until which the lock is surely ours (last acquire/renew + ttl − a safety margin). */
  private safeUntil = 0;

  constructor(
    private readonly client: RedisConnection,
    private readonly key: string,
    options: LeaderLockOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 3000;
    this.intervalMs = options.intervalMs ?? 1000;
    if (this.intervalMs * 2 > this.ttlMs) {
      throw new RangeError('LeaderLock: ttlMs must be at least twice intervalMs');
    }
  }

  /** Takes the lock when it is free; true when we hold it. */
  async tryAcquire(): Promise<boolean> {
    const asked = Date.now();
    const won = (await this.client.set(this.key, this.token, 'PX', this.ttlMs, 'NX')) === 'OK';
    if (won) this.safeUntil = asked + this.ttlMs - this.intervalMs;
    return won;
  }

  /** Renews the lock; false when it is no longer ours (expired and taken, or deleted). */
  async renew(): Promise<boolean> {
    const asked = Date.now();
    const renewed =
      Number(await this.client.eval(RENEW, 1, this.key, this.token, this.ttlMs)) === 1;
    this.safeUntil = renewed ? asked + this.ttlMs - this.intervalMs : 0;
    return renewed;
  }

  /**
   * True when the lock is ours right now (checked before every commit). Within the period a
   * renewal vouches for, no round trip; past it (a stalled process), asks Redis.
   */
  async held(): Promise<boolean> {
    if (Date.now() < this.safeUntil) return true;
    return (await this.client.get(this.key)) === this.token;
  }

  async release(): Promise<void> {
    this.safeUntil = 0;
    await this.client.eval(RELEASE, 1, this.key, this.token);
  }
}

/** The lock's key exists: some candidate of the deployment mirrors now (CLI read commands ask). */
export async function mirrorIsRunning(coordinator: RedisCoordinator): Promise<boolean> {
  return (await coordinator.client.exists(coordinator.key('mirror', 'lock'))) === 1;
}
