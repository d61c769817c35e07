/**
 * Redis memory per pending task, agentq against plain BullMQ, on a private redis-server when one
 * is installed (other clients' keys would move used_memory on a shared one).
 */
import { ensureRedis, type RedisForCommand } from '../../src/cli/private-redis';
import { bullmqBytesPerTask } from '../baseline/memory';
import { agentqBytesPerTask } from '../agentq/memory';
import { ratio } from '../stats';
import type { BenchContext, Missing } from './types';

export interface MemorySection {
  tasks: number;
  agentqBytesPerTask: number | null;
  bullmqBytesPerTask: number;
  ratio: number | null;
  privateRedis: boolean;
  agentq: { bytesPerTask: number } | Missing;
}

export async function memoryScenario(ctx: BenchContext): Promise<MemorySection> {
  const tasks = ctx.quick ? 20_000 : 100_000;
  let redis: RedisForCommand = { config: ctx.redis, isPrivate: false, stop: async () => undefined };
  try {
    redis = await ensureRedis(ctx.redis, { forcePrivate: true });
  } catch {
    // No redis-server installed: measure on the configured server, and say so.
  }
  try {
    const onRedis = { ...ctx, redis: redis.config };
    ctx.step(`memory: ${tasks} pending tasks, plain BullMQ`);
    const bullmq = await bullmqBytesPerTask(onRedis, tasks);
    ctx.step(`memory: ${tasks} pending tasks, agentq`);
    const agentq = await agentqBytesPerTask(onRedis, tasks);
    return {
      tasks,
      agentqBytesPerTask: agentq,
      bullmqBytesPerTask: bullmq,
      ratio: ratio(agentq, bullmq),
      privateRedis: redis.isPrivate,
      agentq: { bytesPerTask: agentq },
    };
  } finally {
    await redis.stop();
  }
}
