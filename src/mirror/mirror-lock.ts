/**
 * The mirror's leader lock: `SET key token NX PX ttl`, renewed while held, released on close.
 * Every agentq process runs a candidate; exactly one holds the lock and consumes the streams.
 * When the holder dies its lock expires after `ttlMs` and a waiting candidate takes it.
 *
 * Each acquisition bumps a generation counter (`<key>:gen`). A holder whose renewals were held up
 * (one long batch, a huge row decoded, keeps the event loop past `ttlMs`) finds its lock expired;
 * when the generation is still the one it took, nobody led in between, so it takes the lock back
 * instead of stepping down, stopping and restarting every consumer for nothing.
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../queues/connection';
import type { RedisCoordinator } from '../queues/redis-coordinator';

/** KEYS: lock, generation. ARGV: token, ttl. Output: the new generation, or 0 when held. */
const ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  return redis.call('INCR', KEYS[2]) else return 0 end`;
/**
 * KEYS: lock, generation. ARGV: token, ttl, the generation we took.
 * Output: 1 renewed, 2 taken back after it lapsed with nobody else leading, 0 no longer ours.
 */
const RENEW = `local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if holder == false and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0`;
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
  /** The generation this holder took; '' when it holds nothing. */
  private generation = '';
  /** Times the lock lapsed under a stalled holder and was taken back (tests, logs). */
  reclaims = 0;

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
  private get generationKey(): string {
    return `${this.key}:gen`;
  }

  async tryAcquire(): Promise<boolean> {
    const asked = Date.now();
    const generation = Number(
      await this.client.eval(ACQUIRE, 2, this.key, this.generationKey, this.token, this.ttlMs),
    );
    if (generation > 0) {
      this.generation = String(generation);
      this.safeUntil = asked + this.ttlMs - this.intervalMs;
    }
    return generation > 0;
  }

  /**
   * Renews the lock, or takes it back when it lapsed while nobody else took it; false when it is
   * no longer ours (taken by another candidate, or released).
   */
  async renew(): Promise<boolean> {
    if (!this.generation) return false;
    const asked = Date.now();
    const answer = Number(
      await this.client.eval(
        RENEW,
        2,
        this.key,
        this.generationKey,
        this.token,
        this.ttlMs,
        this.generation,
      ),
    );
    if (answer === 2) this.reclaims++;
    const ours = answer === 1 || answer === 2;
    this.safeUntil = ours ? asked + this.ttlMs - this.intervalMs : 0;
    if (!ours) this.generation = '';
    return ours;
  }

  /**
   * True when the lock is ours right now (checked before every commit). Within the period a
   * renewal vouches for, no round trip; past it (a stalled process), renews (or takes back).
   */
  async held(): Promise<boolean> {
    if (Date.now() < this.safeUntil) return true;
    return this.renew();
  }

  async release(): Promise<void> {
    this.safeUntil = 0;
    this.generation = '';
    await this.client.eval(RELEASE, 1, this.key, this.token);
  }
}

/** The lock's key exists: some candidate of the deployment mirrors now (CLI read commands ask). */
export async function mirrorIsRunning(coordinator: RedisCoordinator): Promise<boolean> {
  return (await coordinator.client.exists(coordinator.key('mirror', 'lock'))) === 1;
}
