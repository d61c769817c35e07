/**
 * Redis keys wiped mid-goal (FLUSHALL on a private server), then `agentq recover` (the real CLI).
 *
 * "Nothing lost" here means: the goal finishes DONE in SQL; every task SQL recorded as DONE
 * before the wipe ran exactly once (never again after it); their results still reached their
 * dependents (`ctx.dependencies`); the interrupted task went back to PENDING in a new epoch with
 * actor `recover` in the audit log; and a second `recover` does nothing.
 */
import { Redis } from 'ioredis';
import type { PlanSpec } from '../../src/entities/task-model';
import { FaultWorld } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

// a → b, a → c (c waits on a through a link), b,c → d → e; f stands alone.
const plan = (ms: { [key: string]: number }): PlanSpec => ({
  goal: 'recover after a wipe',
  tasks: [
    { key: 'a', title: 'a', type: 'build', data: { ms: ms.a ?? 100 } },
    { key: 'b', title: 'b', type: 'build', dependsOn: ['a'], data: { ms: ms.b ?? 100 } },
    { key: 'c', title: 'c', type: 'test', dependsOn: ['a'], data: { ms: ms.c ?? 100 } },
    { key: 'd', title: 'd', type: 'build', dependsOn: ['b', 'c'], data: { ms: 100 } },
    { key: 'e', title: 'e', type: 'test', dependsOn: ['d'], data: { ms: 100 } },
    { key: 'f', title: 'f', type: 'build', data: { ms: 100 } },
  ],
});

describe('agentq recover after FLUSHALL mid-goal', () => {
  let world: FaultWorld;

  beforeAll(async () => {
    world = await FaultWorld.start();
    await world.startAgent('agent-1', ['build', 'test']);
    await world.startAgent('agent-2', ['build', 'test']);
  });

  afterAll(async () => {
    await world.close();
  });

  it('finishes the goal without re-running what SQL records as done', async () => {
    // c runs long enough to be wiped while it runs.
    const { goalId } = await world.supervisor.submitPlan(plan({ c: 5000 }));
    const taskId = (key: string) => `${goalId}.${key}`;
    await waitFor(
      'a, b and f DONE and c ACTIVE in SQL',
      async () => {
        const tasks = await world.registry.findTasks({ goalId });
        const state = (key: string) => tasks.find((t) => t.key === key)?.state;
        return ['a', 'b', 'f'].every((k) => state(k) === 'DONE') && state('c') === 'ACTIVE';
      },
      { timeoutMs: 30000, intervalMs: 50 },
    );
    const doneBefore = ['a', 'b', 'f'];
    const wipe = new Redis(world.redis.url);
    await wipe.flushall();
    await wipe.quit();

    const first = await world.cli(['recover', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as {
      goalsRebuilt: number;
      tasksRequeued: number;
      tasksKeptDone: number;
      goals: Array<{ goalId: string; requeued: string[]; keptDone: string[] }>;
    };
    expect(report.goalsRebuilt).toBe(1);
    expect(report.goals[0]!.goalId).toBe(goalId);
    expect([...report.goals[0]!.keptDone].sort()).toEqual(doneBefore);
    expect([...report.goals[0]!.requeued].sort()).toEqual(['c', 'd', 'e']);

    // Idempotent: the goal is known to Redis again, so a second run does nothing.
    const second = await world.cli(['recover', '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ goalsRebuilt: 0, goals: [] });

    expect(await world.goalEnd(goalId)).toBe('DONE');
    const tasks = await world.registry.findTasks({ goalId });
    expect(tasks.map((t) => [t.key, t.state]).sort()).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [k, 'DONE']),
    );

    const records = world.records();
    const ends = (key: string) => records.filter((r) => r.key === key && r.phase === 'end');
    // Done before the wipe: run once, never again.
    for (const key of doneBefore) expect(ends(key)).toHaveLength(1);
    for (const key of ['d', 'e']) expect(ends(key)).toHaveLength(1);
    // c was running when Redis lost it: that run may still end in its handler, but only one
    // result is committed (one DONE below), and the rerun started after the recover.
    expect(records.filter((r) => r.key === 'c' && r.phase === 'start')).toHaveLength(2);
    const cResult = tasks.find((t) => t.key === 'c')!.result;
    // Results of tasks done before the wipe reached their dependents through `resolved`.
    expect(ends('d')[0]!.deps).toEqual({
      b: { from: 'b', by: ends('b')[0]!.agentId },
      c: cResult,
    });
    expect(ends('c')[0]!.deps).toEqual({ a: { from: 'a', by: ends('a')[0]!.agentId } });
    expect(ends('e')[0]!.deps).toEqual({ d: { from: 'd', by: ends('d')[0]!.agentId } });
    expect(tasks.find((t) => t.key === 'd')!.result).toEqual({
      from: 'd',
      by: ends('d')[0]!.agentId,
    });

    // The audit log: c went back to PENDING by `recover`, then DONE exactly once.
    const events = await world.events(goalId);
    const ofC = events.filter((e) => e.taskId === taskId('c'));
    expect(ofC).toContainEqual(
      expect.objectContaining({ fromState: 'ACTIVE', toState: 'PENDING', actor: 'recover' }),
    );
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) {
      expect(events.filter((e) => e.taskId === taskId(key) && e.toState === 'DONE')).toHaveLength(
        1,
      );
    }
    expect(tasks.find((t) => t.key === 'c')!.epoch).toBe(1);
  });
});
