/**
 * `ctx.spawn` from every kind of handler, with real agents on Redis and the mirror on SQLite: an
 * in-process handler gets an InputError naming the field for every bad spawn (and nothing is
 * added), a sandboxed one spawns through its child's IPC channel (errors arrive whole), and a
 * shell command spawns with its last stdout line `{ "spawn": [ … ] }`.
 */
import { mkdtempSync } from 'node:fs';
import { Redis } from 'ioredis';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Json, TaskSpec } from '../../src/entities/task-model';
import { TaskRegistry } from '../../src/entities/task-registry';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { createShellHandler } from '../../src/processors/shell-executor';
import { loadGoalRecord } from '../../src/queues/compiler';
import { MAX_TASKS } from '../../src/queues/plan-schema';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

// A sandbox child starts through tsx: a few seconds on a busy machine.
jest.setTimeout(90000);

const t = (key: string, type = 'work', extra: Partial<TaskSpec> = {}): TaskSpec => ({
  key,
  title: `task ${key}`,
  type,
  ...extra,
});

describe('ctx.spawn from in-process, sandboxed and shell handlers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-spawn-exec-'));
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix: uniquePrefix('spawnexec') });
  const supervisor = new SupervisorAgent(registry, coordinator, {});
  const seen: Record<string, { [key: string]: Json }> = {};
  const refusals: Record<
    string,
    Array<{ name: string; field: string | null; message: string }>
  > = {};
  const recordKeys: Record<string, string[]> = {};
  const work = new AutonomousAgent({
    agentId: 'spawn-exec-work',
    capabilities: ['work', 'probe'],
    redisCoordinator: coordinator,
    taskRegistry: registry,
    concurrency: 4,
    breaker: false,
    handlers: {
      work: async (task, ctx) => {
        seen[task.key] = ctx.dependencies;
        return { from: task.key };
      },
      // Tries each spawn of data.cases and keeps how it was refused.
      probe: async (task, ctx) => {
        const cases = task.data.cases as unknown as Array<TaskSpec[] | 'too many'>;
        refusals[task.key] = [];
        for (const c of cases) {
          try {
            // Made here: a plan's task data holds at most 1 MiB.
            await ctx.spawn(
              c === 'too many' ? Array.from({ length: MAX_TASKS + 1 }, (_, i) => t(`many${i}`)) : c,
            );
            refusals[task.key]!.push({ name: 'none', field: null, message: 'accepted' });
          } catch (error) {
            const e = error as Error & { field?: string };
            refusals[task.key]!.push({ name: e.name, field: e.field ?? null, message: e.message });
          }
        }
        // What the goal holds after them: nothing was added by any.
        const record = await loadGoalRecord(coordinator, task.goalId);
        recordKeys[task.key] = record!.tasks.map(([key]) => key);
        return { probed: cases.length };
      },
    },
  });
  const sandboxed = new AutonomousAgent({
    agentId: 'spawn-exec-sandbox',
    capabilities: ['spawner'],
    redisCoordinator: coordinator,
    breaker: false,
    sandboxed: { handlersFile: resolve(__dirname, '../fixtures/handlers/spawning.cjs') },
  });
  const script = (line: string) => `process.stdout.write('working\\n' + ${JSON.stringify(line)})`;
  const shell = new AutonomousAgent({
    agentId: 'spawn-exec-shell',
    capabilities: ['sh', 'shbad'],
    redisCoordinator: coordinator,
    breaker: false,
    handlers: {
      sh: createShellHandler([
        process.execPath,
        '-e',
        script(
          JSON.stringify({
            spawn: [t('from-shell'), t('after-shell', 'work', { dependsOn: ['from-shell'] })],
          }),
        ),
      ]),
      shbad: createShellHandler([
        process.execPath,
        '-e',
        script(JSON.stringify({ spawn: [t('loop1', 'work', { dependsOn: ['nowhere'] })] })),
      ]),
    },
  });

  beforeAll(async () => {
    await Promise.all([work.start(), sandboxed.start(), shell.start()]);
  });
  afterAll(async () => {
    await Promise.all([
      work.close({ graceMs: 1000 }),
      sandboxed.close({ graceMs: 1000 }),
      shell.close({ graceMs: 1000 }),
    ]);
    await coordinator.close();
    await registry.close();
  });

  const sqlGoal = (goalId: string, state: string) =>
    waitFor(
      `goal ${goalId} ${state} in SQL`,
      async () => {
        const g = await supervisor.getGoal(goalId);
        return g.goal.state === state ? g : null;
      },
      { timeoutMs: 60000 },
    );

  it('throws an InputError naming the field for a bad spawn, and adds nothing', async () => {
    const longTitle = 'x'.repeat(501);
    const cases: Array<TaskSpec[] | 'too many'> = [
      [t('c1', 'work', { dependsOn: ['c2'] }), t('c2', 'work', { dependsOn: ['c1'] })],
      [t('u1', 'work', { dependsOn: ['nowhere'] })],
      [t('d1'), t('d1')],
      [t('other')],
      [t('self', 'work', { dependsOn: ['probe'] })],
      [t('late', 'work', { dependsOn: ['after'] })],
      [t('long', 'work', { title: longTitle })],
      'too many',
      'not a list' as unknown as TaskSpec[],
    ];
    const { goalId } = await supervisor.submitPlan({
      goal: 'bad spawns',
      tasks: [
        t('other'),
        t('probe', 'probe', { data: { cases: cases as never } }),
        t('after', 'work', { dependsOn: ['probe'] }),
      ],
    });
    const goal = await sqlGoal(goalId, 'DONE');
    expect(refusals.probe!.map((r) => [r.name, r.field])).toEqual([
      ['InputError', 'tasks'],
      ['InputError', 'tasks[0].dependsOn[0]'],
      ['InputError', 'tasks[1].key'],
      ['InputError', 'tasks[0].key'],
      ['InputError', 'tasks[0].dependsOn[0]'],
      ['InputError', 'tasks[0].dependsOn[0]'],
      ['InputError', 'tasks[0].title'],
      ['InputError', 'tasks'],
      ['InputError', 'tasks'],
    ]);
    expect(refusals.probe![0]!.message).toMatch(/cycle/);
    expect(refusals.probe![4]!.message).toMatch(/waits for the spawning task 'probe'/);
    expect(refusals.probe![5]!.message).toMatch(/waits for the spawning task 'probe'/);
    expect(goal.goal.taskCount).toBe(3);
    expect(recordKeys.probe).toEqual(['other', 'probe', 'after']);
  });

  it('spawns from a sandboxed handler through its child process', async () => {
    // tasks:new on the raw channel (the agents' mirror runs the bridge; channel prefix '').
    const subscriber = new Redis(REDIS_URL);
    const news: Array<{ goalId: string; key: string; spawnedBy?: string }> = [];
    subscriber.on('message', (_channel: string, raw: string) => news.push(JSON.parse(raw)));
    await subscriber.subscribe('tasks:new');
    const { goalId } = await supervisor.submitPlan({
      goal: 'sandboxed spawn',
      tasks: [
        t('base'),
        t('gen', 'spawner', {
          data: {
            bad: [t('x', 'work', { dependsOn: ['ghost'] })] as never,
            spawn: [
              t('s1', 'work', { dependsOn: ['base'] }),
              t('s2', 'work', { dependsOn: ['s1'] }),
            ] as never,
          },
        }),
        t('use', 'work', { dependsOn: ['gen'] }),
      ],
    });
    const goal = await sqlGoal(goalId, 'DONE');
    const gen = goal.tasks.find((x) => x.key === 'gen')!;
    expect(gen.result).toEqual({
      spawned: [
        { key: 's1', id: `${goalId}.s1` },
        { key: 's2', id: `${goalId}.s2` },
      ],
      refused: {
        name: 'InputError',
        field: 'tasks[0].dependsOn[0]',
        message: expect.stringMatching(/^tasks\[0\]\.dependsOn\[0\]: unknown task key 'ghost'/),
      },
    });
    expect(seen.s1).toEqual({ base: { from: 'base' } });
    expect(seen.use).toMatchObject({ s1: { from: 's1' }, s2: { from: 's2' } });
    expect(goal.tasks.find((x) => x.key === 's2')!.spawnedBy).toBe(`${goalId}.gen`);
    const spawnedNews = await waitFor('tasks:new for the spawned tasks', () => {
      const mine = new Map(
        news.filter((n) => n.goalId === goalId && n.spawnedBy).map((n) => [n.key, n.spawnedBy]),
      );
      return mine.size === 2 ? mine : null;
    });
    await subscriber.quit();
    expect([...spawnedNews].sort()).toEqual([
      ['s1', `${goalId}.gen`],
      ['s2', `${goalId}.gen`],
    ]);
  });

  it('spawns from a shell command’s last JSON line', async () => {
    const { goalId } = await supervisor.submitPlan({
      goal: 'shell spawn',
      tasks: [t('cmd', 'sh'), t('next', 'work', { dependsOn: ['cmd'] })],
    });
    const goal = await sqlGoal(goalId, 'DONE');
    const cmd = goal.tasks.find((x) => x.key === 'cmd')!;
    expect(cmd.result).toMatchObject({
      exitCode: 0,
      spawned: [
        { key: 'from-shell', id: `${goalId}.from-shell` },
        { key: 'after-shell', id: `${goalId}.after-shell` },
      ],
    });
    expect(seen['after-shell']).toEqual({ 'from-shell': { from: 'from-shell' } });
    expect(Object.keys(seen.next!).sort()).toEqual(['after-shell', 'cmd', 'from-shell']);
  });

  it('fails a shell task whose spawn line is invalid, naming the field, and adds nothing', async () => {
    const { goalId } = await supervisor.submitPlan({
      goal: 'bad shell spawn',
      tasks: [t('cmd', 'shbad')],
    });
    const goal = await sqlGoal(goalId, 'FAILED');
    expect(goal.tasks).toHaveLength(1);
    expect(goal.tasks[0]!.error?.message).toMatch(
      /tasks\[0\]\.dependsOn\[0\]: unknown task key 'nowhere'/,
    );
  });
});
