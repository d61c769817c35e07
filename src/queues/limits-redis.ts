/**
 * Capability limits in Redis: the limits themselves in one hash (`<agentq key>:limits`, field =
 * capability, value = JSON), read by the agents' per-key slots script at every claim, and the
 * concurrency and rate handed to BullMQ's own global concurrency and global rate limiter on the
 * capability's queue of every shard, which enforce them inside BullMQ's move-to-active script
 * (so every agent, on any host, obeys them from its next claim on, without a restart).
 *
 * One shard: the queue gets the limits as they are. Several shards: each shard's queue gets its
 * share (`shardShare`), so the shares add up to the limit (docs/limits.md says what that costs).
 */
import type { Queue } from 'bullmq';
import { shardShare, type CapabilityLimits } from './capability-limits';
import type { RedisConnection } from './connection';

export interface LimitsTarget {
  client: RedisConnection;
  shards: number;
  key(...parts: string[]): string;
  queue(name: string, shard?: number): Queue;
  registerCapabilities(capabilities: readonly string[]): Promise<void>;
}

function limitsKey(target: LimitsTarget): string {
  return target.key('limits');
}

/** Writes `limits` for `capability` (replacing what it had) and hands them to BullMQ. */
export async function writeCapabilityLimits(
  target: LimitsTarget,
  capability: string,
  limits: CapabilityLimits,
): Promise<void> {
  await applyToQueues(target, capability, limits);
  await target.client.hset(limitsKey(target), capability, JSON.stringify(limits));
  await target.registerCapabilities([capability]);
}

/** Removes every limit of `capability`; true when it had any. */
export async function clearCapabilityLimits(
  target: LimitsTarget,
  capability: string,
): Promise<boolean> {
  await applyToQueues(target, capability, {});
  return (await target.client.hdel(limitsKey(target), capability)) > 0;
}

/** The limits of every capability that has any, by capability. */
export async function readCapabilityLimits(
  target: LimitsTarget,
): Promise<Record<string, CapabilityLimits>> {
  const all = await target.client.hgetall(limitsKey(target));
  const out: Record<string, CapabilityLimits> = {};
  for (const name of Object.keys(all).sort())
    out[name] = JSON.parse(all[name]!) as CapabilityLimits;
  return out;
}

async function applyToQueues(
  target: LimitsTarget,
  capability: string,
  limits: CapabilityLimits,
): Promise<void> {
  for (let shard = 0; shard < target.shards; shard++) {
    const queue = target.queue(capability, shard);
    if (limits.concurrency !== undefined) {
      await queue.setGlobalConcurrency(shardShare(limits.concurrency, target.shards, shard));
    } else {
      await queue.removeGlobalConcurrency();
    }
    if (limits.rate) {
      const max = shardShare(limits.rate.max, target.shards, shard);
      await queue.setGlobalRateLimit(max, limits.rate.durationMs);
    } else {
      await queue.removeGlobalRateLimit();
    }
  }
}
