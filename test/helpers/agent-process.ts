/**
 * An agent in its own process, for crash, signal and cross-process tests:
 * `node -r tsx/cjs test/helpers/agent-process.ts '<json AgentProcessConfig>'`.
 * Prints `ready` on stdout once its workers run; SIGTERM closes it gracefully.
 */
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { loadHandlerModule } from '../../src/processors/handler-module';
import { installShutdownHandlers } from '../../src/processors/shutdown';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';

export interface AgentProcessConfig {
  url: string;
  prefix: string;
  agentId: string;
  capabilities: string[];
  handlersFile: string;
  sandboxed?: boolean;
  graceMs?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Tasks at once per capability queue. @defaultValue 1 */
  concurrency?: number;
  /** Shards of the deployment (the agent serves every one). @defaultValue 1 */
  shards?: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as AgentProcessConfig;
  const coordinator = new RedisCoordinator({
    url: config.url,
    prefix: config.prefix,
    shards: config.shards ?? 1,
  });
  const agent = new AutonomousAgent({
    agentId: config.agentId,
    capabilities: config.capabilities,
    redisCoordinator: coordinator,
    ...(config.sandboxed
      ? { sandboxed: { handlersFile: config.handlersFile } }
      : { handlers: await loadHandlerModule(config.handlersFile) }),
    graceMs: config.graceMs ?? 30000,
    ...(config.concurrency ? { concurrency: config.concurrency } : {}),
    heartbeatMs: 500,
    lockDurationMs: config.lockDurationMs ?? 30000,
    stalledIntervalMs: config.stalledIntervalMs ?? 15000,
  });
  installShutdownHandlers(async () => {
    await agent.close();
    await coordinator.close();
    process.stdout.write('closed\n');
  });
  await agent.start();
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
