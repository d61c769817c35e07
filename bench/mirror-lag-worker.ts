/**
 * The worker process of bench/mirror-lag.ts: a real AutonomousAgent running no-op `bench` tasks.
 * argv: redis url, prefix, concurrency. Says `ready` over IPC, closes on `stop`.
 */
import { AutonomousAgent } from '../src/processors/autonomous-agent';
import { RedisCoordinator } from '../src/queues/redis-coordinator';

async function main(): Promise<void> {
  const [url, prefix, concurrency] = process.argv.slice(2);
  const coordinator = new RedisCoordinator({ url, prefix });
  const agent = new AutonomousAgent({
    agentId: 'bench-1',
    capabilities: ['bench'],
    redisCoordinator: coordinator,
    handlers: { bench: () => null },
    concurrency: Number(concurrency ?? 50),
    onError: () => undefined,
  });
  await agent.start();
  process.on('message', (message) => {
    if (message !== 'stop') return;
    void (async () => {
      await agent.close();
      await coordinator.close();
      process.exit(0);
    })();
  });
  process.send?.('ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
