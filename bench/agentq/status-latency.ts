/**
 * Status-update latency: a task's handler returns → the mirror commits DONE to SQL → the bridge's
 * `tasks:complete` message reaches a subscriber. Measured from the handler's return (hrtime), so
 * it is an upper bound of "transition → delivery": it also holds BullMQ's move to completed.
 */
import { Redis } from 'ioredis';
import type { RedisConfig } from '../../src/config';
import type { TaskChannelPayload } from '../../src/mirror/channel-payload';
import { hrtimeMs, summarize, type LatencySummary } from '../stats';
import { startBenchSystem } from './system';

const WARMUP = 20;

export async function probeStatusUpdate(options: {
  redis: RedisConfig;
  samples: number;
  prefix: string;
}): Promise<LatencySummary> {
  const system = await startBenchSystem(options.redis, options.prefix, { mirror: true });
  const subscriber = new Redis(options.redis.url);
  subscriber.on('error', () => undefined);
  const returnedAt = new Map<string, number>();
  let delivered: ((ms: number) => void) | null = null;
  try {
    await subscriber.subscribe(system.coordinator.channel('tasks:complete'));
    subscriber.on('message', (_channel: string, message: string) => {
      const payload = JSON.parse(message) as TaskChannelPayload;
      const t = returnedAt.get(payload.taskId);
      if (t !== undefined) delivered?.(hrtimeMs() - t);
    });
    await system.agent({
      agentId: 'status-1',
      capabilities: ['status'],
      breaker: false,
      handlers: {
        status: (task) => {
          returnedAt.set(task.id, hrtimeMs());
          return null;
        },
      },
    });
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + options.samples; i++) {
      const arrived = new Promise<number>((resolve) => (delivered = resolve));
      await system.submit({ goal: 'status', tasks: [{ key: 's', title: 's', type: 'status' }] });
      const ms = await arrived;
      if (i >= WARMUP) samples.push(ms);
    }
    return summarize(samples);
  } finally {
    await subscriber.quit();
    await system.close();
  }
}
