/** agentq: Redis memory per pending task — one goal of `tasks` independent tasks, nobody serving them. */
import { Redis } from 'ioredis';
import { usedMemory } from '../baseline/memory';
import { benchPrefix, type BenchContext } from '../context';
import { startBenchSystem } from './system';

export async function agentqBytesPerTask(ctx: BenchContext, tasks: number): Promise<number> {
  const system = await startBenchSystem(ctx.redis, benchPrefix('amem'), {
    mirror: false,
    internalWorkers: false,
  });
  const probe = new Redis(ctx.redis.url);
  probe.on('error', () => undefined);
  try {
    await system.coordinator.assertReachable();
    const before = await usedMemory(probe);
    await system.submit({
      goal: 'memory',
      tasks: Array.from({ length: tasks }, (_, i) => ({
        key: `t${i}`,
        title: `task ${i}`,
        type: 'development',
      })),
    });
    const after = await usedMemory(probe);
    return Math.round((after - before) / tasks);
  } finally {
    await probe.quit();
    await system.close();
  }
}
