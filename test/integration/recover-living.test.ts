/**
 * `agentq recover` after a Redis wipe (FLUSHALL on a private server) of living goals (issue 15
 * point 5), with two agent processes and the mirror on SQLite: tasks added by `extendGoal` come
 * back and run once; a repaired task (`onFailure: "replan"`) waits for its replacement again
 * without running its failed handler, ends with the replacement's result, and the revision count
 * survives (no revision is spent on the rebuild).
 */
import { Redis } from 'ioredis';
import type { TaskSpec } from '../../src/entities/task-model';
import { revisionsOf } from '../../src/queues/revisions';
import { FaultWorld } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

const t = (key: string, extra: Partial<TaskSpec> = {}): TaskSpec => ({
  key,
  title: `task ${key}`,
  type: 'work',
  ...extra,
});

describe('agentq recover of extended and repaired goals', () => {
  let world: FaultWorld;

  beforeAll(async () => {
    world = await FaultWorld.start();
    await world.startAgent('agent-1', ['work'], { concurrency: 4 });
    await world.startAgent('agent-2', ['work'], { concurrency: 4 });
  });

  afterAll(async () => {
    await world.close();
  });

  const state = async (goalId: string, key: string) =>
    (await world.registry.getTask(`${goalId}.${key}`))?.state;

  it('rebuilds extensions and repairs, and runs every task once', async () => {
    const extended = await world.supervisor.submitPlan({
      goal: 'extended, then wiped',
      tasks: [t('a', { data: { ms: 10 } }), t('slow', { data: { ms: 1500 } })],
    });
    const repaired = await world.supervisor.submitPlan({
      goal: 'repaired, then wiped',
      onFailure: 'replan',
      maxReplans: 1,
      tasks: [
        t('api', { attempts: 1, data: { failKeys: ['api'], ms: 1500 } }),
        t('deploy', { dependsOn: ['api'] }),
      ],
    });
    await waitFor('a DONE', async () =>
      (await state(extended.goalId, 'a')) === 'DONE' ? true : null,
    );
    await world.supervisor.extendGoal(extended.goalId, [
      t('x', { dependsOn: ['a'], data: { ms: 10 } }),
      t('y', { dependsOn: ['slow'] }),
    ]);
    await waitFor(
      'x DONE, slow and api.retry1 running',
      async () =>
        (await state(extended.goalId, 'x')) === 'DONE' &&
        (await state(extended.goalId, 'slow')) === 'ACTIVE' &&
        (await state(repaired.goalId, 'api.retry1')) === 'ACTIVE'
          ? true
          : null,
      { timeoutMs: 30000, intervalMs: 20 },
    );
    const wiper = new Redis(world.redis.url);
    await wiper.flushall();
    await wiper.quit();

    const recovered = await world.cli(['recover', '--json']);
    expect(recovered.stderr).toBe('');
    expect(recovered.code).toBe(0);
    expect(JSON.parse(recovered.stdout)).toMatchObject({ goalsRebuilt: 2 });

    expect(await world.goalEnd(extended.goalId, 90000)).toBe('DONE');
    expect(await world.goalEnd(repaired.goalId, 90000)).toBe('DONE');
    const starts = world.records().filter((r) => r.phase === 'start');
    const ends = world.records().filter((r) => r.phase === 'end');
    const endsOf = (goalId: string, key: string) =>
      ends.filter((r) => r.taskId === `${goalId}.${key}`);

    const ext = await world.registry.findTasks({ goalId: extended.goalId, limit: 10 });
    expect(ext.map((x) => [x.key, x.state]).sort()).toEqual([
      ['a', 'DONE'],
      ['slow', 'DONE'],
      ['x', 'DONE'],
      ['y', 'DONE'],
    ]);
    for (const key of ['a', 'x', 'y']) expect(endsOf(extended.goalId, key)).toHaveLength(1);
    expect(endsOf(extended.goalId, 'y')[0]!.deps).toEqual({
      slow: { from: 'slow', by: expect.any(String) },
    });

    const rep = await world.registry.findTasks({ goalId: repaired.goalId, limit: 10 });
    const byKey = new Map(rep.map((x) => [x.key, x]));
    expect([...byKey.keys()].sort()).toEqual(['api', 'api.retry1', 'deploy']);
    expect(byKey.get('api')).toMatchObject({ state: 'DONE', result: { from: 'api.retry1' } });
    // The failed handler ran once, before the wipe; after it only its replacement ran again.
    expect(starts.filter((r) => r.taskId === `${repaired.goalId}.api`)).toHaveLength(1);
    expect(endsOf(repaired.goalId, 'deploy')[0]!.deps).toMatchObject({
      api: { from: 'api.retry1' },
    });
    expect(revisionsOf(rep).map((r) => r.revision)).toEqual([1]);
  });
});
