/** agentq: no-op tasks of one goal, submitted first, drained by one agent at concurrency 50, mirror and bridge on. */
import type { ThroughputFigure } from '../baseline/throughput';
import { benchPrefix, type BenchContext } from '../context';
import { hrtimeMs } from '../stats';
import { startBenchSystem } from './system';

export async function agentqThroughput(
  ctx: BenchContext,
  tasks: number,
): Promise<ThroughputFigure> {
  const system = await startBenchSystem(ctx.redis, benchPrefix('atp'), { mirror: true });
  try {
    await system.submit({
      goal: 'throughput',
      tasks: Array.from({ length: tasks }, (_, i) => ({
        key: `t${i}`,
        title: `t${i}`,
        type: 'noop',
      })),
    });
    const t0 = hrtimeMs();
    await system.agent({
      agentId: 'throughput-1',
      capabilities: ['noop'],
      concurrency: 50,
      breaker: false,
      handlers: { noop: () => null },
    });
    let done = 0;
    while (done < tasks) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      done = await system.completed('noop');
    }
    const seconds = (hrtimeMs() - t0) / 1000;
    return { tasks, seconds, tasksPerSecond: Math.round(tasks / seconds) };
  } finally {
    await system.close();
  }
}
