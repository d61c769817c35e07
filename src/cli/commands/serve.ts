/**
 * `agentq serve [--host H] [--port P]`: the composition root of the server process. It builds the
 * store, the coordinator, a mirror candidate (exactly one process of a deployment mirrors; the
 * others wait to take over), the internal workers (gates, goal roots, reconciler), the supervisor
 * and the Express app, listens, and on SIGINT/SIGTERM closes all of it in reverse order.
 * Redis going away is a warning, not an exit: every part retries and resumes on its own.
 */
import type { Command } from 'commander';
import { createApp } from '../../board/app';
import { startMirror } from '../../mirror/mirror';
import { mirrorMetrics } from '../../mirror/mirror-metrics';
import type { GoalSubmitter } from '../../board/routes/submit';
import { assertBindAllowed, startServer } from '../../board/server';
import { loadConfig } from '../../config';
import { TaskRegistry } from '../../entities/task-registry';
import { startInternalWorkers } from '../../queues/internal-workers';
import { recoverGoals } from '../../queues/recover';
import { checkRedisServer } from '../../queues/redis-checks';
import { RedisCoordinator } from '../../queues/redis-coordinator';
import { tracingFromConfig } from '../../tracing';
import { SupervisorAgent } from '../../queues/supervisor-agent';
import { globalOptions } from '../context';
import { onInterrupt } from '../interrupt';
import { watchRedisHealth } from '../redis-health';
import { reportLines } from './recover';

interface ServeOptions {
  host?: string;
  port?: string;
  recover?: boolean;
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

async function serve(options: ServeOptions, command: Command): Promise<void> {
  const global = globalOptions(command);
  const config = loadConfig({
    REDIS_URL: global.redis,
    AGENTQ_DB: global.db,
    AGENTQ_PREFIX: global.prefix,
    AGENTQ_HOST: options.host,
    AGENTQ_PORT: options.port,
  });
  assertBindAllowed(config.host, config.token);
  const registry = TaskRegistry.fromConfig(config.db);
  await registry.open();
  const tracing = tracingFromConfig(config, 'agentq-serve');
  const coordinator = RedisCoordinator.fromConfig(config, {
    role: 'worker',
    ...(tracing ? { telemetry: tracing.telemetry } : {}),
  });
  // One line when Redis cannot be reached (at start too), is lost, is back: in this log.
  const health = watchRedisHealth(coordinator, { write: log });
  try {
    await coordinator.untilReachable();
    // Refuse an evicting server (it would lose accepted tasks); say what else is worth knowing.
    const redis = await checkRedisServer(coordinator.client);
    for (const warning of redis.warnings) log(`warning: ${warning}`);
    if (options.recover) {
      const recovered = await recoverGoals(registry, coordinator);
      for (const line of reportLines(recovered)) log(`recover: ${line}`);
    }
  } catch (error) {
    health.stop();
    await coordinator.close();
    await registry.close();
    await tracing?.shutdown();
    throw error;
  }
  const mirror = startMirror({ store: registry, coordinator, onLog: log });
  const internal = startInternalWorkers(coordinator, {
    onError: (e) => log(`internal: ${e.message}`),
  });
  const supervisors = new Map<string, GoalSubmitter>();
  const app = createApp({
    store: registry,
    coordinator,
    config,
    metrics: mirrorMetrics,
    log,
    submitterFor: (actor) => {
      let supervisor = supervisors.get(actor);
      if (!supervisor) {
        supervisor = new SupervisorAgent(registry, coordinator, {
          templatesDir: config.templatesDir,
          llm: config.llm,
          actor,
          onWarning: log,
        });
        supervisors.set(actor, supervisor);
      }
      return supervisor;
    },
  });
  const interrupt = onInterrupt();
  try {
    const server = await startServer({
      app: app.app,
      host: config.host,
      port: config.port,
      token: config.token,
    });
    log(`agentq serve listening on ${server.url} (board ${server.url}/board)`);
    await interrupt.done;
    log('shutting down');
    await app.close();
    await server.close();
  } finally {
    interrupt.dispose();
    await app.close();
    await internal.close();
    await mirror.close();
    health.stop();
    await coordinator.close();
    await registry.close();
    await tracing?.shutdown();
  }
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('REST API, Bull Board at /board, SSE, /metrics and goal pages; runs the mirror')
    .option('--host <host>', 'interface to listen on (AGENTQ_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port (AGENTQ_PORT, default 3000)')
    .option('--recover', 'first rebuild unfinished goals Redis lost (as `agentq recover`)')
    .action((options: ServeOptions, command: Command) => serve(options, command));
}
