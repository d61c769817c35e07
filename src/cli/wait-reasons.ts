/**
 * Why `--wait` is waiting, in one line (`waiting: no live agent serves 'backend'`), or '' when
 * nothing stands in the way: for each capability of the goal's PENDING tasks, the diagnosis
 * `task show` and `status` give (interface-diagnosis.ts) — its queue is paused, no live agent
 * serves it, or the breaker of every agent serving it is open. Tasks waiting on dependencies are
 * left out: they wait on the tasks this line is about.
 */
import { describeStuckReason, diagnoseTask } from '../interface/interface-diagnosis';
import { shardOf } from '../queues/protocol';
import type { CliContext } from './context';

/** Enough PENDING tasks to find every capability a goal waits on, read cheaply. */
const SCAN = 200;

export async function waitingReason(ctx: CliContext, goalId: string): Promise<string> {
  const pending = await ctx.registry.findTasks({ goalId, state: 'PENDING', limit: SCAN });
  if (pending.length === 0) return '';
  const byCapability = new Map(pending.map((t) => [t.type, t]));
  const shard = shardOf(goalId, ctx.coordinator.shards);
  const [agents, paused] = await Promise.all([
    ctx.coordinator.getAllAgents(),
    pausedAmong(ctx, [...byCapability.keys()], shard),
  ]);
  const reasons: string[] = [];
  for (const task of byCapability.values()) {
    const reason = diagnoseTask(task, { agents, pausedQueues: paused });
    if (reason) reasons.push(describeStuckReason(reason));
  }
  return reasons.length > 0 ? `waiting: ${reasons.join('; ')}` : '';
}

async function pausedAmong(
  ctx: CliContext,
  capabilities: string[],
  shard: number,
): Promise<Set<string>> {
  const paused = await Promise.all(
    capabilities.map((c) => ctx.coordinator.queue(c, shard).isPaused()),
  );
  return new Set(capabilities.filter((_, i) => paused[i]));
}
