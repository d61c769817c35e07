/**
 * The mirror on the PostgreSQL store: a goal run by real workers ends in SQL as in Redis, the
 * cursor commits with the batches, and a restarted mirror resumes from it without recording
 * anything twice.
 */
import type { Worker } from 'bullmq';
import { TaskRegistry } from '../../src/entities/task-registry';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { startMirror } from '../../src/mirror/mirror';
import { MIRROR_CURSOR, parseCursor } from '../../src/mirror/mirror-cursor';
import { createPgSchema, PG_URL, REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';
import { goalWorker, newGoalId, submitGoal, taskWorker } from './mirror-protocol';

jest.setTimeout(60000);

describe('mirror on PostgreSQL', () => {
  const prefix = uniquePrefix();
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const workers: Worker[] = [];
  let store: TaskRegistry;
  let drop: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    const pg = await createPgSchema();
    drop = pg.drop;
    store = new TaskRegistry({ backend: 'postgres', url: PG_URL, schema: pg.schema });
    await store.open();
    await coordinator.registerCapabilities(['dev']);
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    const keys = await coordinator.client.keys(`{${prefix}}*`);
    if (keys.length > 0) await coordinator.client.del(...keys);
    await coordinator.close();
    await store?.close();
    await drop();
  });

  it('records a goal, commits its cursor, and resumes from it after a restart', async () => {
    const first = startMirror({ store, coordinator });
    const goalId = newGoalId();
    const tasks = Array.from({ length: 30 }, (_, i) => ({ key: `t${i}`, type: 'dev' }));
    try {
      await submitGoal(store, coordinator, goalId, tasks);
      workers.push(
        taskWorker(coordinator, 'dev', (data) => data.key),
        goalWorker(coordinator),
      );
      await waitFor(
        'the goal DONE in SQL',
        async () => (await store.getGoal(goalId))?.state === 'DONE',
      );
    } finally {
      await first.close();
    }
    const cursor = parseCursor(await store.getCursor(MIRROR_CURSOR));
    expect(cursor[`${coordinator.bullPrefix(0)}:dev:events`]).toMatch(/^\d+-\d+$/);
    const before = await store.lastSeq();

    // A restart reads from the cursor: nothing new to record, nothing recorded twice.
    const second = startMirror({ store, coordinator });
    const goal2 = newGoalId();
    try {
      await waitFor('the second to lead', () => second.isLeader);
      await submitGoal(store, coordinator, goal2, [{ key: 'after', type: 'dev' }]);
      await waitFor(
        'the new goal DONE',
        async () => (await store.getGoal(goal2))?.state === 'DONE',
      );
    } finally {
      await second.close();
    }
    const events = await store.eventsAfter(before, 1000);
    expect(events.every((e) => e.goalId === goal2)).toBe(true);
    expect(events.map((e) => e.toState)).toEqual(['PENDING', 'ASSIGNED', 'ACTIVE', 'DONE']);
    const done = await store.findTasks({ goalId, state: 'DONE', limit: 100 });
    expect(done).toHaveLength(30);
  });
});
