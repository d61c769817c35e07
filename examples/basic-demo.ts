/**
 * The basic demo (`npm run demo`, `agentq demo [--serve]`): the whole system in one process on a
 * throwaway world — a temporary SQLite database, a temporary git repository, Redis at REDIS_URL
 * (or a private redis-server) under a prefix of its own. The supervisor plans "Build user
 * authentication system", three agents with different capabilities run it, the pub/sub bridge's
 * events are printed live, then the status report, each task's metrics and what SQL recorded of
 * the living goal. The goal grows while it runs ("Implement the API" spawns a task per endpoint
 * and a join, see demo-handlers.ts) and waits for an approval before it deploys: the demo
 * approves it itself, as a person would (InterfaceAgent.approveTask, actor `demo`); with
 * `--serve` the board is up from the start and the approval is left to you, on the goal page.
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
import { taskKeyOf } from '../src/mirror/channel-payload';
import { AutonomousAgent, type WorkdirProvider } from '../src/processors/autonomous-agent';
import type { HandlerMap } from '../src/processors/handler-types';
import { WorktreeManager } from '../src/processors/worktree';
import { joinInternalWorkers } from '../src/queues/internal-workers';
import { APPROVALS_QUEUE, DLQ_QUEUE } from '../src/queues/names';
import { RedisCoordinator } from '../src/queues/redis-coordinator';
import { SupervisorAgent } from '../src/queues/supervisor-agent';
import { architectHandlers, developerHandlers, qaHandlers } from './demo-handlers';

const GOAL = 'Build user authentication system';

const PROMPT = 'Deploy the auth service to production?';

/** A user template (as AGENTQ_TEMPLATES_DIR holds them) that this goal's words pick. */
const AUTH_TEMPLATE = `name: authentication
match: [authentication]
tasks:
  - { key: design, title: Design the auth schema, type: design, priority: 9 }
  - { key: backend, title: Implement the API, type: backend, dependsOn: [design], priority: 8 }
  - { key: frontend, title: Build the login form, type: frontend, dependsOn: [design], priority: 7 }
  - { key: tests, title: Run the test command, type: testing, dependsOn: [backend, frontend], priority: 6 }
  - { key: security, title: Scan for vulnerabilities, type: security, dependsOn: [backend], optional: true, attempts: 1 }
  - { key: review, title: Review the change, type: review, dependsOn: [tests, security], priority: 5 }
  - { key: approve, title: Approve the deploy, dependsOn: [review], approval: { prompt: "${PROMPT}" } }
  - { key: deploy, title: Deploy to production, type: deploy, dependsOn: [approve], priority: 4 }
`;

/** The note of the demo's own approval: the audit log keeps it with the actor. */
const APPROVAL_NOTE = 'the demo grants its own deploy';

const AGENTS: Array<{ id: string; capabilities: string[]; handlers: HandlerMap }> = [
  { id: 'architect-1', capabilities: ['design', 'review'], handlers: architectHandlers },
  {
    id: 'developer-1',
    capabilities: ['backend', 'frontend', 'deploy'],
    handlers: developerHandlers,
  },
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

function elapsed(started: number): string {
  return `+${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(7);
}

function eventLine(started: number, channel: string, p: TaskChannelPayload): string {
  const name = channel.slice(channel.indexOf(':') + 1);
  if (name === 'new') {
    return `${elapsed(started)}  spawned  ${p.key.padEnd(10)} (${p.type}) by ${taskKeyOf(p.spawnedBy ?? '')}`;
  }
  const event = (name === 'updated' ? 'retry' : name).padEnd(8);
  const who = p.agentId ? ` by ${p.agentId}` : '';
  const why = p.error ? ` — ${p.error.message}` : '';
  return `${elapsed(started)}  ${event} ${p.key.padEnd(10)} (${p.type}, attempt ${p.attempt})${who}${why}`;
}

/** Waits (bounded) until the approval task is parked, awaiting a decision; returns its prompt. */
async function untilAwaiting(iface: InterfaceAgent, taskId: string): Promise<string> {
  for (let tries = 0; tries < 600; tries++) {
    const { approval } = await iface.getTaskSummary(taskId);
    if (approval?.awaitingSince) return approval.prompt ?? '';
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${taskId} did not come to await approval within 30 s`);
}

/**
 * The approval task began to wait: print so, then grant it the way a person does — the
 * `approveTask` operation behind `agentq task approve` and the goal page's button — or, with
 * the board up, leave it to the person at `page`.
 */
async function onApprovalWaiting(
  iface: InterfaceAgent,
  started: number,
  p: TaskChannelPayload,
  page: string | null,
): Promise<void> {
  const prompt = await untilAwaiting(iface, p.taskId);
  console.log(`${elapsed(started)}  awaiting ${p.key.padEnd(10)} approval: "${prompt}"`);
  const indent = ' '.repeat(9);
  if (page) {
    console.log(`${indent}waiting for you: open ${page} and click Approve (the demo will not)`);
    return;
  }
  console.log(`${indent}the demo approves it as a person would (iface.approveTask, actor demo)`);
  await iface.approveTask(p.taskId, { note: APPROVAL_NOTE }, 'demo');
}

function metricsLine(t: TaskRecord): string {
  const ms = (v: number | null) => (v === null ? '-' : `${Math.round(v)} ms`);
  return (
    `  ${t.key.padEnd(10)} ${t.state.padEnd(7)} agent ${String(t.agentId ?? '-').padEnd(12)}` +
    ` attempt ${t.attempt}/${t.attempts}  wait ${ms(t.waitMs).padStart(7)}  run ${ms(t.durationMs).padStart(7)}` +
    `  cpu ${ms(t.cpuMs).padStart(6)}  quality ${t.qualityScore ?? '-'}`
  );
}

/** What SQL holds of the goal's growth and its approval: spawnedBy rows and the audit log. */
async function livingGoalLines(registry: TaskRegistry, tasks: TaskRecord[]): Promise<string[]> {
  const lines = tasks
    .filter((t) => t.spawnedBy)
    .map(
      (t) =>
        `  ${t.key.padEnd(10)} ${t.state.padEnd(7)} spawned by ${taskKeyOf(t.spawnedBy!)} (added by ${t.addedBy ?? '-'})`,
    );
  for (const t of tasks.filter((task) => task.type === APPROVALS_QUEUE)) {
    const end = (await registry.taskEvents(t.goalId, t.id)).find((e) => e.event === 'complete');
    const decided = end
      ? `approved by ${end.actor ?? '-'} (audit log): "${end.detail?.reason ?? ''}"`
      : 'not approved';
    lines.push(`  ${t.key.padEnd(10)} ${t.state.padEnd(7)} ${decided}`);
  }
  return lines;
}

/** Resolves at the first SIGINT or SIGTERM; later ones are ignored (cleanup is under way). */
function stopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.on('SIGINT', () => resolve());
    process.on('SIGTERM', () => resolve());
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { serve: { type: 'boolean', default: false } } });
  const config = loadConfig();
  const stopped = stopSignal();
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

    // With --serve the board is up before the goal starts: its approval waits for a person there.
    let boardUrl: string | null = null;
    if (values.serve) {
      const {
        app,
        ready,
        close: closeApp,
      } = createApp({
        store: registry,
        coordinator,
        config: { token: config.token, readonlyToken: config.readonlyToken },
      });
      closers.push(closeApp);
      await ready;
      const server = await startServer({
        app,
        token: config.token,
        host: config.host,
        port: config.port,
      });
      closers.push(() => server.close());
      boardUrl = server.url;
      console.log(`board: ${boardUrl}/board`);
    }

    const started = Date.now();
    const subscriber = coordinator.duplicate('worker');
    closers.push(() => subscriber.quit());
    let goalId = '';
    let finished: (() => void) | null = null;
    let failed: ((error: unknown) => void) | null = null;
    const goalEnded = new Promise<void>((resolve, reject) => {
      finished = resolve;
      failed = reject;
    });
    subscriber.on('message', (channel: string, message: string) => {
      const payload = JSON.parse(message) as TaskChannelPayload & { state: string };
      if (channel.endsWith('goals:complete')) {
        if (payload.goalId === goalId) finished?.();
        return;
      }
      if (payload.goalId !== goalId) return;
      // tasks:new is printed for a spawned task (the plan's own were printed as one line).
      if (channel.endsWith('tasks:new') && !payload.spawnedBy) return;
      if (channel.endsWith('tasks:updated')) {
        // An approval task going PENDING: its dependencies have ended, it awaits a decision.
        if (payload.type === APPROVALS_QUEUE && payload.state === 'PENDING' && !payload.error) {
          const page = boardUrl && `${boardUrl}/goals/${goalId}`;
          onApprovalWaiting(iface, started, payload, page).catch((e: unknown) => failed?.(e));
        }
        // Otherwise printed only for a retry: a failed attempt going back to PENDING.
        if (!(payload.state === 'PENDING' && payload.error)) return;
      }
      console.log(eventLine(started, channel, payload));
    });
    const channels = [
      'tasks:new',
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
      `goal ${goalId}: "${GOAL}" → ${submitted.tasks.length} tasks (${submitted.planner})`,
    );
    if (boardUrl) console.log(`goal page: ${boardUrl}/goals/${goalId}`);
    console.log('');
    const ended = await Promise.race([goalEnded.then(() => true), stopped.then(() => false)]);
    if (!ended) {
      console.log('\ninterrupted before the goal ended');
      process.exitCode = 1;
      return;
    }

    console.log('');
    console.log(iface.formatStatusReport(await iface.getSystemStatus()));
    const tasks = await registry.findTasks({ goalId });
    console.log('\ntask metrics:');
    for (const task of tasks) console.log(metricsLine(task));
    console.log('\nliving goal (SQL: spawnedBy, and the approval in the audit log):');
    for (const line of await livingGoalLines(registry, tasks)) console.log(line);
    const deadLetters = await coordinator
      .queue(DLQ_QUEUE)
      .getJobs(['waiting', 'completed', 'failed', 'delayed']);
    console.log(`\ndead-letter queue: ${deadLetters.map((j) => j?.id).join(', ') || 'empty'}`);
    const goal = await registry.getGoal(goalId);
    console.log(`\ngoal ${goal?.state} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exitCode = goal?.state === 'DONE' ? 0 : 1;

    if (boardUrl) {
      console.log(`\nboard: ${boardUrl}/board  (Ctrl-C to stop)`);
      await stopped;
    }
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
