/**
 * `agentq serve [--host H] [--port P]`: the composition root of the server process. It builds the
 * store, the coordinator, a mirror candidate (exactly one process of a deployment mirrors; the
 * others wait to take over), the internal workers (gates, goal roots, reconciler), the supervisor
 * and the Express app, listens, and on SIGINT/SIGTERM closes all of it in reverse order (each
 * part registered with the releasers as it is acquired: system/releasers.ts).
 * Redis going away is a warning, not an exit: every part retries and resumes on its own.
 */
import type { Command } from 'commander';
import { createApp } from '../../board/app';
import { mirrorMetrics } from '../../mirror/mirror-metrics';
import { assertBindAllowed, startServer } from '../../board/server';
import { loadConfig } from '../../config';
import { recoverGoals } from '../../queues/recover';
import { checkRedisServer } from '../../queues/redis-checks';
import { acquireCore, joinProcessServices, supervisorFrom } from '../../system/compose';
import { withReleasers } from '../../system/releasers';
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
  // Refused before anything starts: a public bind without a token.
  assertBindAllowed(config.host, config.token);
  await withReleasers(async (releasers) => {
    const core = acquireCore(releasers, {
      config,
      role: 'worker',
      serviceName: 'agentq-serve',
      onLog: log,
    });
    const { registry, coordinator } = core;
    await registry.open();
    // One line when Redis cannot be reached (at start too), is lost, is back: in this log.
    const health = watchRedisHealth(coordinator, { write: log });
    releasers.add(() => health.stop());
    await coordinator.untilReachable();
    // Refuse an evicting server (it would lose accepted tasks); say what else is worth knowing.
    const redis = await checkRedisServer(coordinator.client);
    for (const warning of redis.warnings) log(`warning: ${warning}`);
    if (options.recover) {
      const recovered = await recoverGoals(registry, coordinator);
      for (const line of reportLines(recovered)) log(`recover: ${line}`);
    }
    joinProcessServices(releasers, core, { mirror: true, internalWorkers: true });
    const app = createApp({
      store: registry,
      coordinator,
      config,
      metrics: mirrorMetrics,
      log,
      goals: supervisorFrom(core, { actor: 'api', onWarning: log }),
    });
    let server: Awaited<ReturnType<typeof startServer>> | null = null;
    // The SSE streams end first, or the server would wait its grace period for them.
    releasers.add(async () => {
      await app.close();
      await server?.close();
    });
    const interrupt = onInterrupt();
    releasers.add(() => interrupt.dispose());
    server = await startServer({
      app: app.app,
      host: config.host,
      port: config.port,
      token: config.token,
    });
    // The one ready line (docs/cli.md), on stdout: the log above goes to stderr.
    process.stdout.write(`${readyLine(server.url)}\n`);
    await interrupt.done;
    log('shutting down');
  });
}

/** `agentq serve: listening on http://HOST:PORT`, printed once the server accepts connections. */
export function readyLine(url: string): string {
  return `agentq serve: listening on ${url}`;
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
