/**
 * What `limits show`, `status`, `GET /api/limits` and `/metrics` say about capability limits:
 * each limited capability's limits beside what runs under them now (active jobs over every shard)
 * and how long BullMQ's rate limiter still holds the queue back.
 */
import type { CapabilityLimits } from '../entities/task-model';
import { countKeySlots, keySlotsPlace, type KeySlotCounts } from './key-slots';
import type { RedisCoordinator } from './redis-coordinator';

export interface CapabilityLimitsView {
  capability: string;
  limits: CapabilityLimits;
  /** Tasks of the capability active now, over every shard. */
  running: number;
  /** How long the rate limiter holds the capability back (0: not now), ms. */
  rateLimitedForMs: number;
  /** With a per-key limit: slots held over every key, and tasks parked for a slot of theirs. */
  keys?: KeySlotCounts;
}

export async function viewCapabilityLimits(
  coordinator: RedisCoordinator,
): Promise<CapabilityLimitsView[]> {
  const all = await coordinator.allCapabilityLimits();
  return Promise.all(
    Object.entries(all).map(async ([capability, limits]) => {
      let running = 0;
      let rateLimitedForMs = 0;
      for (let shard = 0; shard < coordinator.shards; shard++) {
        const queue = coordinator.queue(capability, shard);
        const [active, ttl] = await Promise.all([
          queue.getActiveCount(),
          limits.rate ? queue.getRateLimitTtl() : Promise.resolve(0),
        ]);
        running += active;
        rateLimitedForMs = Math.max(rateLimitedForMs, ttl > 0 ? ttl : 0);
      }
      const view: CapabilityLimitsView = { capability, limits, running, rateLimitedForMs };
      if (limits.perKey !== undefined) {
        view.keys = await countKeySlots(keySlotsPlace(coordinator, capability));
      }
      return view;
    }),
  );
}
