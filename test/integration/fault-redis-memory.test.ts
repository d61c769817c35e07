/**
 * `maxmemory` reached under `noeviction` (a private server with a small maxmemory): submitting a
 * goal then fails with Redis's OOM error, which names maxmemory.
 *
 * "Nothing lost" here means: every goal whose submission was acknowledged is in SQL and, once
 * memory is available again, runs to DONE; the goal whose submission failed left nothing in SQL
 * (no goal, no tasks, no events) and nothing in Redis (no goal record, no root job).
 */
import { Redis } from 'ioredis';
import type { PlanSpec } from '../../src/entities/task-model';
import { goalRecordKey } from '../../src/queues/compiler';
import { goalIdFor } from '../../src/queues/goal-ids';
import { GOALS_QUEUE } from '../../src/queues/names';
import { FaultWorld } from '../helpers/fault-world';

const BLOB = 'x'.repeat(50_000);

const plan = (i: number): PlanSpec => ({
  goal: `goal ${i}`,
  key: `memory-${i}`,
  tasks: [
    { key: 'a', title: 'a', type: 'work', data: { blob: BLOB } },
    { key: 'b', title: 'b', type: 'work', dependsOn: ['a'], data: { blob: BLOB } },
  ],
});

describe('maxmemory reached under noeviction', () => {
  let world: FaultWorld;

  beforeAll(async () => {
    // Services start later: the mirror's own writes would fail too while memory is full.
    world = await FaultWorld.start({
      redisArgs: ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction'],
      services: false,
    });
  });

  afterAll(async () => {
    await world.close();
  });

  it('refuses a submission cleanly and loses nothing acknowledged', async () => {
    const acknowledged: string[] = [];
    let refused: { index: number; error: Error } | null = null;
    for (let i = 0; i < 200 && !refused; i++) {
      try {
        acknowledged.push((await world.supervisor.submitPlan(plan(i))).goalId);
      } catch (error) {
        refused = { index: i, error: error as Error };
      }
    }
    expect(refused).not.toBeNull();
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(refused!.error.message).toMatch(/maxmemory/);

    // Nothing half-created: not in SQL, not in Redis.
    const failedId = goalIdFor(`memory-${refused!.index}`);
    expect(await world.registry.getGoal(failedId)).toBeNull();
    expect(await world.registry.findTasks({ goalId: failedId })).toEqual([]);
    expect(await world.coordinator.client.exists(goalRecordKey(world.coordinator, failedId))).toBe(
      0,
    );
    expect(await world.coordinator.queue(GOALS_QUEUE).getJobState(failedId)).toBe('unknown');
    const goals = await world.registry.listGoals({ limit: 1000 });
    expect(goals.map((g) => g.id).sort()).toEqual([...acknowledged].sort());

    // Memory back (an operator raises maxmemory): every acknowledged goal runs to the end.
    const admin = new Redis(world.redis.url);
    await admin.config('SET', 'maxmemory', '0');
    await admin.quit();
    world.startServices();
    await world.startAgent('agent-1', ['work'], { concurrency: 10 });
    for (const goalId of acknowledged) expect(await world.goalEnd(goalId)).toBe('DONE');
    const done = await world.registry.findTasks({ state: 'DONE', limit: 10_000 });
    expect(done).toHaveLength(acknowledged.length * 2);
  });
});
