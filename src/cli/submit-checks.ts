/**
 * What `goal`, `plan` and `task create` check around a submission. Before it: the Redis server
 * must not evict keys (it would lose accepted tasks), the check `worker` and `serve` make — done
 * before any BullMQ queue connects, so the refusal is one line instead of BullMQ's own eviction
 * warning once per queue. After it: one warning line per capability of the goal that no live
 * agent serves, as its tasks will wait until one does.
 */
import type { TaskRecord } from '../entities/task-model';
import { isTerminal } from '../entities/task-state';
import { checkRedisServer } from '../queues/redis-checks';
import type { CliContext } from './context';

/** Throws `RedisConfigError` (exit 1, as `worker`) on an evicting or too old server. */
export async function refuseUnsafeRedis(ctx: CliContext): Promise<void> {
  // Its warnings (persistence off) are for the processes that keep running, not every goal.
  await checkRedisServer(ctx.coordinator.client);
}

/** `warning: no live agent serves 'x'; its tasks wait until one does`, per such capability. */
export async function warnUnservedCapabilities(
  ctx: CliContext,
  tasks: readonly TaskRecord[],
): Promise<void> {
  const capabilities = [...new Set(tasks.filter((t) => !isTerminal(t.state)).map((t) => t.type))];
  if (capabilities.length === 0) return;
  const agents = await ctx.coordinator.getAllAgents();
  for (const capability of capabilities) {
    if (agents.some((a) => a.capabilities.includes(capability))) continue;
    ctx.out.warn(`warning: no live agent serves '${capability}'; its tasks wait until one does`);
  }
}
