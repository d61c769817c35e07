/**
 * InterfaceAgent over a real SQLite store and the test Redis (unique prefix): the status it
 * gathers, why a task is not being claimed, and every command of routeCommand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterfaceAgent } from '../../src/interface/interface-agent';
import type { NewTask } from '../../src/entities/task-store';
import { TaskRegistry } from '../../src/entities/task-registry';
import { ConflictError, InputError, NotFoundError } from '../../src/errors';
import { bullPriority } from '../../src/queues/protocol';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import type { TaskJobData } from '../../src/queues/task-job';
import { redisConfig, uniquePrefix } from '../helpers/servers';

const GOAL = 'g-00000000000000aa';

function spec(key: string, type: string, dependsOn: string[]): NewTask {
  return {
    id: `${GOAL}.${key}`,
    key,
    title: `Do ${key}`,
    description: '',
    type,
    priority: 5,
    dependsOn,
    data: {},
    attempts: 3,
    timeoutMs: 60000,
    optional: false,
    state: dependsOn.length > 0 ? 'BACKLOG' : 'PENDING',
  };
}

describe('InterfaceAgent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-iface-'));
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'a.db') });
  const redis = new RedisCoordinator({ redis: redisConfig(), prefix: uniquePrefix('iface') });
  // No mirror: the test writes SQL itself, with no jobs in Redis for a mirror to follow.
  const iface = new InterfaceAgent(registry, redis, { mirror: false });

  beforeAll(async () => {
    const tasks = [spec('design', 'design', []), spec('build', 'dev', ['design'])];
    await registry.createGoal(
      {
        id: GOAL,
        key: null,
        title: 'Ship it',
        planner: 'object',
        plan: { goal: 'Ship it', tasks },
      },
      tasks,
      'test',
    );
    await redis.registerCapabilities(['design', 'dev']);
    const now = new Date();
    await redis.heartbeatAgent({
      id: 'dev-1',
      capabilities: ['dev'],
      host: 'box',
      pid: process.pid,
      startedAt: now,
      lastSeenAt: now,
      running: [],
      concurrency: 2,
      breakers: { dev: 'closed' },
      heartbeatMs: 60000,
    });
    const design = tasks[0]!;
    const data: TaskJobData = {
      v: 1,
      kind: 'task',
      taskId: design.id,
      goalId: GOAL,
      key: design.key,
      title: design.title,
      description: '',
      type: 'design',
      priority: 5,
      data: {},
      dependsOn: [],
      timeoutMs: 60000,
      optional: false,
      epoch: 0,
      shard: 0,
    };
    await redis.queue('design').add('design', data, {
      jobId: design.id,
      priority: bullPriority(5),
    });
    // build's job exists too (a flow holds it until design ends; here a long delay does), so
    // Redis holds every job SQL knows and the diagnosis is about dependencies, not a lost job.
    const build = tasks[1]!;
    await redis.queue('dev').add(
      'dev',
      {
        ...data,
        taskId: build.id,
        key: build.key,
        title: build.title,
        type: 'dev',
        dependsOn: ['design'],
      },
      { jobId: build.id, delay: 3_600_000 },
    );
  });

  afterAll(async () => {
    await redis.queue('design').obliterate({ force: true });
    await redis.queue('dev').obliterate({ force: true });
    await redis.removeAgent('dev-1');
    await redis.client.del(redis.key('capabilities'));
    await iface.close();
    await redis.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gathers counts, goals, agents, pending tasks and queue depths', async () => {
    const status = await iface.getSystemStatus();
    expect(status.totals).toMatchObject({ all: 2, PENDING: 1, BACKLOG: 1 });
    expect(status.byType.dev?.BACKLOG).toBe(1);
    expect(status.goals.active).toBe(1);
    expect(status.agents.map((a) => a.id)).toEqual(['dev-1']);
    expect(status.pending.map((p) => p.taskId)).toEqual([`${GOAL}.design`]);
    expect(status.queues.find((q) => q.name === 'design')).toMatchObject({ waiting: 1 });
  });

  it('says why tasks are not being claimed', async () => {
    const status = await iface.getSystemStatus();
    const why = Object.fromEntries(status.stuck.map((s) => [s.key, s.message]));
    expect(why).toEqual({
      design: "no live agent serves 'design'",
      build: 'waits on design (PENDING)',
    });
  });

  it('notices a paused queue', async () => {
    await redis.queue('design').pause();
    try {
      const summary = await iface.getTaskSummary(`${GOAL}.design`);
      expect(summary.stuck).toEqual({ kind: 'paused', capability: 'design' });
      expect(await iface.routeCommand('status')).toContain('design (paused)');
    } finally {
      await redis.queue('design').resume();
    }
  });

  it('answers status with the report', async () => {
    const text = await iface.routeCommand('status');
    expect(text).toContain('Tasks: 2 total');
    expect(text).toContain("no live agent serves 'design'");
    expect(text).toContain('dev-1');
  });

  it('answers show with the task, its goal and why it waits', async () => {
    const text = await iface.routeCommand(`show ${GOAL}.build`);
    expect(text).toMatch(/state\s+BACKLOG/);
    expect(text).toContain(`${GOAL} Ship it (ACTIVE)`);
    expect(text).toMatch(/not claimed\s+waits on design \(PENDING\)/);
  });

  it('answers agents and pending with tables', async () => {
    expect(await iface.routeCommand('agents')).toMatch(/dev-1.*dev.*0\/2/);
    expect(await iface.routeCommand('pending')).toMatch(new RegExp(`${GOAL}\\.design.*design`));
  });

  it('answers help, and an unknown command with the help text', async () => {
    const help = await iface.routeCommand('help');
    expect(help).toContain('create "<title>" type=<cap> priority=<n>');
    const unknown = await iface.routeCommand('launch rockets');
    expect(unknown.split('\n')[0]).toBe("Unknown command 'launch'.");
    expect(unknown).toContain(help);
  });

  it('refuses bad arguments, unknown ids and wrong states with typed errors', async () => {
    await expect(iface.routeCommand('show')).rejects.toThrow(InputError);
    await expect(iface.routeCommand('show g-0.nothing')).rejects.toThrow(NotFoundError);
    await expect(iface.routeCommand(`retry ${GOAL}.design`)).rejects.toThrow(ConflictError);
    await expect(iface.routeCommand('create "x" type=dev priority=0')).rejects.toThrow(
      /^priority: /,
    );
  });
});
