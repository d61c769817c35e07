/**
 * The basic demo (`npm run demo`, `agentq demo [--serve]`): the whole system in one process on a
 * throwaway world — a temporary SQLite database, a temporary git repository, Redis at REDIS_URL
 * (or a private redis-server) under a prefix of its own. The supervisor plans "Build user
 * authentication system", three agents with different capabilities run it, the pub/sub bridge's
 * events are printed live, then the status report and each task's metrics.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { deleteByPrefix } from '../bench/context';
import { createApp } from '../src/board/app';
import type { TaskChannelPayload } from '../src/mirror/channel-payload';
import { InterfaceAgent } from '../src/interface/interface-agent';
import { joinMirror } from '../src/mirror/shared-mirror';
import { startServer } from '../src/board/server';
import { ensureRedis } from '../src/cli/private-redis';
import { loadConfig } from '../src/config';
import { TaskRegistry } from '../src/entities/task-registry';
import type { TaskRecord } from '../src/entities/task-model';
import { AutonomousAgent, type WorkdirProvider } from '../src/processors/autonomous-agent';
import type { HandlerMap } from '../src/processors/handler-types';
import { WorktreeManager } from '../src/processors/worktree';
import { joinInternalWorkers } from '../src/queues/internal-workers';
import { DLQ_QUEUE } from '../src/queues/names';
import { RedisCoordinator } from '../src/queues/redis-coordinator';
import { SupervisorAgent } from '../src/queues/supervisor-agent';
import { architectHandlers, developerHandlers, qaHandlers } from './demo-handlers';

const GOAL = 'Build user authentication system';

/** A user template (as AGENTQ_TEMPLATES_DIR holds them) that this goal's words pick. */
const AUTH_TEMPLATE = `name: authentication
match: [authentication]
tasks:
  - { key: design, title: Design the auth schema, type: design, priority: 9 }
  - { key: backend, title: Implement password hashing, type: backend, dependsOn: [design], priority: 8 }
  - { key: frontend, title: Build the login form, type: frontend, dependsOn: [design], priority: 7 }
  - { key: tests, title: Run the test command, type: testing, dependsOn: [backend, frontend], priority: 6 }
  - { key: security, title: Scan for vulnerabilities, type: security, dependsOn: [backend], optional: true, attempts: 1 }
  - { key: review, title: Review the change, type: review, dependsOn: [tests, security], priority: 5 }
`;

const AGENTS: Array<{ id: string; capabilities: string[]; handlers: HandlerMap }> = [
  { id: 'architect-1', capabilities: ['design', 'review'], handlers: architectHandlers },
  { id: 'developer-1', capabilities: ['backend', 'frontend'], handlers: developerHandlers },
  { id: 'qa-1', capabilities: ['testing', 'security'], handlers: qaHandlers },
];

function makeRepo(dir: string): string {
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'demo@agentq.invalid');
  git('config', 'user.name', 'agentq demo');
  writeFileSync(join(repo, 'README.md'), '# auth service\n');
  git('add', 'README.md');
  git('commit', '-q', '-m', 'initial commit');
  return repo;
}

/** The agent's workdir provider: a git worktree (and branch) per task. */
function worktreeOf(manager: WorktreeManager): WorkdirProvider {
  return {
    acquire: (taskId) => manager.acquire(taskId),
    release: async (taskId, outcome) => void (await manager.release(taskId, outcome)),
  };
}

function eventLine(started: number, channel: string, p: TaskChannelPayload): string {
  const t = `+${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(7);
  const name = channel.slice(channel.indexOf(':') + 1);
  const event = (name === 'updated' ? 'retry' : name).padEnd(8);
  const who = p.agentId ? ` by ${p.agentId}` : '';
  const why = p.error ? ` — ${p.error.message}` : '';
  return `${t}  ${event} ${p.key.padEnd(9)} (${p.type}, attempt ${p.attempt})${who}${why}`;
}

function metricsLine(t: TaskRecord): string {
  const ms = (v: number | null) => (v === null ? '-' : `${Math.round(v)} ms`);
  return (
    `  ${t.key.padEnd(9)} ${t.state.padEnd(7)} agent ${String(t.agentId ?? '-').padEnd(12)}` +
    ` attempt ${t.attempt}/${t.attempts}  wait ${ms(t.waitMs).padStart(7)}  run ${ms(t.durationMs).padStart(7)}` +
    `  cpu ${ms(t.cpuMs).padStart(6)}  quality ${t.qualityScore ?? '-'}`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { serve: { type: 'boolean', default: false } } });
  const config = loadConfig();
  const redis = await ensureRedis(config.redis, { log: (line) => console.log(line) });
  const dir = mkdtempSync(join(tmpdir(), 'agentq-demo-'));
  const prefix = `demo-${randomBytes(4).toString('hex')}`;
  const closers: Array<() => Promise<unknown>> = [
    async () => rmSync(dir, { recursive: true, force: true }),
    () => redis.stop(),
  ];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch((e: unknown) => console.error(e));
  };
  try {
    const repo = makeRepo(dir);
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'templates', 'authentication.yaml'), AUTH_TEMPLATE);
    const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
    await registry.open();
    closers.push(() => registry.close());
    const coordinator = new RedisCoordinator({ redis: redis.config, prefix });
    closers.push(async () => {
      await coordinator.close();
      // Leave nothing behind on a shared server: every key of the demo is under its prefix.
      const cleaner = new Redis(redis.config.url);
      await deleteByPrefix(cleaner, prefix).finally(() => cleaner.quit());
    });
    console.log(
      `agentq demo: SQLite ${join(dir, 'agentq.db')}, Redis ${redis.config.display}, prefix ${prefix}`,
    );

    // The process's one mirror candidate, which the interface and the agents below join too.
    const mirror = joinMirror(registry, coordinator);
    closers.push(() => mirror.close());
    const internal = joinInternalWorkers(coordinator);
    closers.push(() => internal.close());
    const supervisor = new SupervisorAgent(registry, coordinator, {
      templatesDir: join(dir, 'templates'),
      actor: 'demo',
    });
    const iface = new InterfaceAgent(registry, coordinator);

    const started = Date.now();
    const subscriber = coordinator.duplicate('worker');
    let goalId = '';
    let finished: (() => void) | null = null;
    const goalEnded = new Promise<void>((resolve) => (finished = resolve));
    subscriber.on('message', (channel: string, message: string) => {
      const payload = JSON.parse(message) as TaskChannelPayload & { state: string };
      if (channel.endsWith('goals:complete')) {
        if (payload.goalId === goalId) finished?.();
        return;
      }
      // tasks:updated is printed only for a retry: a failed attempt going back to PENDING.
      if (channel.endsWith('tasks:updated') && !(payload.state === 'PENDING' && payload.error))
        return;
      if (payload.goalId === goalId) console.log(eventLine(started, channel, payload));
    });
    const channels = [
      'tasks:claimed',
      'tasks:updated',
      'tasks:complete',
      'tasks:failed',
      'goals:complete',
    ];
    await subscriber.subscribe(...channels.map((c) => coordinator.channel(c)));

    for (const spec of AGENTS) {
      const agent = new AutonomousAgent({
        agentId: spec.id,
        capabilities: spec.capabilities,
        redisCoordinator: coordinator,
        taskRegistry: registry,
        handlers: spec.handlers,
        worktree: worktreeOf(
          new WorktreeManager({ repo, agentId: spec.id, root: join(dir, 'worktrees', spec.id) }),
        ),
        concurrency: 2,
      });
      await agent.start();
      closers.push(() => agent.close({ graceMs: 2000 }));
    }
    console.log(
      `agents: ${AGENTS.map((a) => `${a.id} [${a.capabilities.join(', ')}]`).join(', ')}`,
    );

    const submitted = await supervisor.executeGoal(GOAL);
    goalId = submitted.goalId;
    console.log(
      `goal ${goalId}: "${GOAL}" → ${submitted.tasks.length} tasks (${submitted.planner})\n`,
    );
    await goalEnded;

    console.log('');
    console.log(iface.formatStatusReport(await iface.getSystemStatus()));
    console.log('\ntask metrics:');
    for (const task of await registry.findTasks({ goalId })) console.log(metricsLine(task));
    const deadLetters = await coordinator
      .queue(DLQ_QUEUE)
      .getJobs(['waiting', 'completed', 'failed', 'delayed']);
    console.log(`\ndead-letter queue: ${deadLetters.map((j) => j?.id).join(', ') || 'empty'}`);
    const goal = await registry.getGoal(goalId);
    console.log(`\ngoal ${goal?.state} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exitCode = goal?.state === 'DONE' ? 0 : 1;

    if (values.serve) {
      const { app, close: closeApp } = createApp({
        store: registry,
        coordinator,
        config: { token: config.token, readonlyToken: config.readonlyToken },
      });
      closers.push(closeApp);
      const server = await startServer({
        app,
        token: config.token,
        host: config.host,
        port: config.port,
      });
      closers.push(() => server.close());
      console.log(`\nboard: ${server.url}/board  (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    await subscriber.quit();
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
