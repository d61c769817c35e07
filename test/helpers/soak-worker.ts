/**
 * One soak agent in its own process: `node -r tsx/cjs test/helpers/soak-worker.ts '<json>'`.
 * Its `soak` handler fails an attempt at random (`failRate`), else returns after `ms`. Prints
 * `ready` once its workers run; the soak kills it with SIGKILL (a crash) or SIGTERM (the end).
 */
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { installShutdownHandlers } from '../../src/processors/shutdown';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';

export interface SoakWorkerConfig {
  url: string;
  prefix: string;
  agentId: string;
  concurrency: number;
  failRate: number;
  ms: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as SoakWorkerConfig;
  const coordinator = new RedisCoordinator({ url: config.url, prefix: config.prefix });
  const agent = new AutonomousAgent({
    agentId: config.agentId,
    capabilities: ['soak'],
    redisCoordinator: coordinator,
    concurrency: config.concurrency,
    breaker: false,
    graceMs: 2000,
    heartbeatMs: 1000,
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
    handlers: {
      soak: async (task) => {
        if (config.ms > 0) await sleep(config.ms);
        if (Math.random() < config.failRate) throw new Error('soak: random failure');
        return { n: task.data.n ?? null };
      },
    },
  });
  installShutdownHandlers(async () => {
    await agent.close();
    await coordinator.close();
  });
  await agent.start();
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
