/**
 * A worker process of the scaling scenario (agentq): an AutonomousAgent whose handler sleeps
 * BENCH_TASK_MS, reporting each finished task over IPC. It starts before saying 'ready' (as the
 * BullMQ worker connects first); the parent keeps the queue paused until the clock starts.
 */
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';

const env = process.env;
const taskMs = Number(env.BENCH_TASK_MS ?? 10);
const coordinator = new RedisCoordinator({ url: env.BENCH_REDIS_URL, prefix: env.BENCH_PREFIX });
const agent = new AutonomousAgent({
  agentId: `scaling-${process.pid}`,
  capabilities: ['scaling'],
  redisCoordinator: coordinator,
  concurrency: Number(env.BENCH_CONCURRENCY ?? 1),
  breaker: false,
  handlers: {
    scaling: async () => {
      await new Promise((resolve) => setTimeout(resolve, taskMs));
      process.send?.('done');
      return null;
    },
  },
});

process.on('message', (message: string) => {
  if (message === 'stop') {
    void agent
      .close({ graceMs: 1000 })
      .then(() => coordinator.close())
      .finally(() => process.disconnect());
  }
});

void coordinator
  .assertReachable()
  .then(() => agent.start())
  .then(() => process.send?.('ready'));
