/**
 * agentq enqueue → start under an open-loop producer: each arrival is a one-task goal compiled
 * and added as a flow (the Redis half of a submit; its SQL half is not on the claim path), run
 * by one agent at concurrency 50. Latency counts from the arrival's due time.
 */
import { addGoalFlow } from '../../src/queues/compiler';
import { goalIdFor } from '../../src/queues/goal-ids';
import { resolvePlan } from '../../src/queues/plan-schema';
import { openLoop } from '../baseline/latency';
import { benchPrefix, until, type BenchContext } from '../context';
import { hrtimeMs, summarize, type LatencySummary } from '../stats';
import { startBenchSystem } from './system';

export async function agentqOpenLoopLatency(
  ctx: BenchContext,
  rate: number,
  seconds: number,
): Promise<LatencySummary> {
  const system = await startBenchSystem(ctx.redis, benchPrefix(`alat${rate}`), { mirror: false });
  try {
    const samples: number[] = [];
    await system.agent({
      agentId: 'latency-1',
      capabilities: ['latency'],
      concurrency: 50,
      breaker: false,
      handlers: {
        latency: (task) => {
          samples.push(hrtimeMs() - Number(task.data.due));
          return null;
        },
      },
    });
    const [spec] = resolvePlan({
      goal: 'l',
      tasks: [{ key: 'l', title: 'l', type: 'latency' }],
    }).tasks;
    const total = await openLoop(rate, seconds, (due) =>
      addGoalFlow(system.coordinator, {
        goalId: goalIdFor(null),
        title: 'l',
        shard: 0,
        tasks: [{ ...spec!, data: { due } }],
      }),
    );
    await until(() => samples.length >= total, 120_000, `${total} agentq tasks at ${rate}/s`);
    return summarize(samples);
  } finally {
    await system.close();
  }
}
