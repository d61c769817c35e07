/**
 * agentq's claim latency: a one-task goal compiled and added as a flow (what submitting does in
 * Redis) → its handler starts in an AutonomousAgent. Sequential samples, as the BullMQ probe.
 */
import type { RedisConfig } from '../../src/config';
import { addGoalFlow } from '../../src/queues/compiler';
import { goalIdFor } from '../../src/queues/goal-ids';
import { resolvePlan } from '../../src/queues/plan-schema';
import { hrtimeMs, summarize, type LatencySummary } from '../stats';
import { startBenchSystem } from './system';

const WARMUP = 50;

export async function probeAgentqClaim(options: {
  redis: RedisConfig;
  samples: number;
  prefix: string;
}): Promise<LatencySummary> {
  const system = await startBenchSystem(options.redis, options.prefix, { mirror: false });
  try {
    let started: ((ms: number) => void) | null = null;
    await system.agent({
      agentId: 'latency-1',
      capabilities: ['latency'],
      breaker: false,
      handlers: {
        latency: (task) => {
          started?.(hrtimeMs() - Number(task.data.t));
          return null;
        },
      },
    });
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + options.samples; i++) {
      const { tasks } = resolvePlan({
        goal: 'latency',
        tasks: [{ key: 'probe', title: 'probe', type: 'latency' }],
      });
      const running = new Promise<number>((resolve) => (started = resolve));
      const t = hrtimeMs();
      await addGoalFlow(system.coordinator, {
        goalId: goalIdFor(null),
        title: 'latency',
        shard: 0,
        tasks: tasks.map((task) => ({ ...task, data: { t } })),
      });
      const ms = await running;
      if (i >= WARMUP) samples.push(ms);
    }
    return summarize(samples);
  } finally {
    await system.close();
  }
}
