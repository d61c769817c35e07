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
    // The agent starts (connections, registration, listeners) before the clock, as the BullMQ
    // side makes its Worker first: the queue is paused until the timed window opens.
    const queue = system.coordinator.queue('noop');
    await queue.pause();
    await system.agent({
      agentId: 'throughput-1',
      capabilities: ['noop'],
      concurrency: 50,
      breaker: false,
      handlers: { noop: () => null },
    });
    const t0 = hrtimeMs();
    await queue.resume();
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
