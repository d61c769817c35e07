/**
 * `agentq recover` after a Redis wipe (FLUSHALL on a private server) while spawned tasks run
 * (issue 15 point 5), with two agent processes and the mirror on SQLite: the rebuilt goal has
 * every spawned task once, the spawning task waits for the re-queued ones and ends with all their
 * results (kept DONE ones from SQL), a spawner that had ended keeps its spawned results for its
 * dependents, and every task is DONE exactly once.
 */
import { Redis } from 'ioredis';
import type { TaskSpec } from '../../src/entities/task-model';
import { FaultWorld } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

const t = (key: string, extra: Partial<TaskSpec> = {}): TaskSpec => ({
  key,
  title: `task ${key}`,
  type: 'work',
  ...extra,
});

const SPAWNED = Array.from({ length: 10 }, (_, i) => `s${i}`);

describe('agentq recover of a goal with spawned tasks', () => {
  let world: FaultWorld;

  beforeAll(async () => {
    world = await FaultWorld.start();
    await world.startAgent('agent-1', ['work'], { concurrency: 3 });
    await world.startAgent('agent-2', ['work'], { concurrency: 3 });
  });

  afterAll(async () => {
    await world.close();
  });

  it('rebuilds spawned tasks under their spawner and runs each once', async () => {
    const { goalId } = await world.supervisor.submitPlan({
      goal: 'spawn, wipe, recover',
      tasks: [
        t('quick', { data: { spawn: [t('q1', { data: { ms: 10 } })] as never } }),
        t('gen', {
          data: {
            spawn: [
              ...SPAWNED.map((key) => t(key, { data: { ms: 3000 } })),
              t('sjoin', { dependsOn: SPAWNED, data: { ms: 10 } }),
            ] as never,
          },
        }),
        t('after', { dependsOn: ['quick', 'gen'] }),
      ],
    });
    const state = async (key: string) => (await world.registry.getTask(`${goalId}.${key}`))?.state;
    await waitFor(
      'quick DONE and some spawned tasks DONE in SQL, their join not yet',
      async () => {
        if ((await state('quick')) !== 'DONE') return null;
        const done = (await Promise.all(SPAWNED.map(state))).filter((s) => s === 'DONE');
        return done.length >= 2 && (await state('sjoin')) === 'BACKLOG' ? true : null;
      },
      { timeoutMs: 60000, intervalMs: 20 },
    );
    // `task show` says what the spawning task waits for.
    const shown = await world.cli(['task', 'show', `${goalId}.gen`]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/spawned\s+s0 \(\w+\), s1/);
    expect(shown.stdout).toMatch(/waiting for\s+\d+ spawned task\(s\) to end: .*sjoin/);
    const spawnedShow = await world.cli(['task', 'show', `${goalId}.sjoin`]);
    expect(spawnedShow.stdout).toMatch(new RegExp(`spawned by\\s+${goalId}\\.gen`));

    const wiper = new Redis(world.redis.url);
    await wiper.flushall();
    await wiper.quit();

    const recovered = await world.cli(['recover', '--json']);
    expect(recovered.stderr).toBe('');
    expect(recovered.code).toBe(0);
    const report = JSON.parse(recovered.stdout) as {
      goalsRebuilt: number;
      goals: Array<{ requeued: string[]; keptDone: string[] }>;
    };
    expect(report.goalsRebuilt).toBe(1);
    expect(report.goals[0]!.requeued).toEqual(expect.arrayContaining(['gen', 'sjoin', 'after']));
    expect(report.goals[0]!.keptDone).toEqual(expect.arrayContaining(['quick', 'q1']));

    expect(await world.goalEnd(goalId, 90000)).toBe('DONE');
    const tasks = await world.registry.findTasks({ goalId, limit: 100 });
    expect(tasks.map((x) => x.key).sort()).toEqual(
      ['after', 'gen', 'q1', 'quick', 'sjoin', ...SPAWNED].sort(),
    );
    expect(tasks.filter((x) => x.state !== 'DONE').map((x) => x.key)).toEqual([]);
    const doneEvents = new Map<string, number>();
    for (const e of await world.events(goalId)) {
      if (e.toState === 'DONE') doneEvents.set(e.taskId, (doneEvents.get(e.taskId) ?? 0) + 1);
    }
    expect(tasks.filter((x) => doneEvents.get(x.id) !== 1).map((x) => x.key)).toEqual([]);

    const table = await world.cli(['goal', 'show', goalId]);
    expect(table.stdout).toMatch(/spawned by/);
    expect(table.stdout).toMatch(/sjoin .*│ gen +│/);

    // The dependent saw everything: the spawners' results and each spawned task's.
    const ends = world.records().filter((r) => r.phase === 'end');
    const after = ends.find((r) => r.key === 'after' && r.taskId === `${goalId}.after`)!;
    expect(Object.keys(after.deps!).sort()).toEqual(
      ['gen', 'q1', 'quick', 'sjoin', ...SPAWNED].sort(),
    );
    for (const key of ['q1', 'sjoin', ...SPAWNED]) {
      expect(after.deps![key]).toEqual({ from: key, by: expect.any(String) });
    }
    // The spawning task ran its handler again after the wipe; its spawn added nothing new.
    const genStarts = world.records().filter((r) => r.phase === 'start' && r.key === 'gen');
    expect(genStarts).toHaveLength(2);
    const sjoinEnds = ends.filter((r) => r.key === 'sjoin');
    expect(sjoinEnds).toHaveLength(1);
  });
});
