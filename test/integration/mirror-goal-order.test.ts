/**
 * The mirror writes a goal's DONE only once SQL has every task of the goal DONE. The goal runs to
 * the end in Redis while the mirror is down; the mirror then reads 10 entries per stream per
 * batch, so the root's `completed` entry (in `_goals`, a short stream) comes long before the last
 * tasks' (a stream of some 800 entries). At the moment the goal's state is written, no task of
 * it may be open in SQL (without the hold, all 200 were).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import type { GoalState } from '../../src/entities/task-model';
import { TaskRegistry } from '../../src/entities/task-registry';
import { GOALS_QUEUE } from '../../src/queues/names';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';
import { goalWorker, newGoalId, submitGoal, taskWorker } from './mirror-protocol';

const TASKS = 200;
const QUEUE = 'ordered';

describe('goal ends after its tasks in SQL', () => {
  const prefix = uniquePrefix('gorder');
  const dir = mkdtempSync(join(tmpdir(), 'agentq-goal-order-'));
  const store = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const workers: Worker[] = [];
  let mirror: MirrorHandle | null = null;

  beforeAll(async () => {
    await store.open();
    await coordinator.registerCapabilities([QUEUE]);
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await mirror?.close();
    const keys = await coordinator.client.keys(`{${prefix}}*`);
    if (keys.length > 0) await coordinator.client.del(...keys);
    await coordinator.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes DONE only when no task of the goal is open', async () => {
    const goalId = newGoalId();
    const keys = Array.from({ length: TASKS }, (_, i) => `t${i}`);
    await submitGoal(
      store,
      coordinator,
      goalId,
      keys.map((key) => ({ key, type: QUEUE })),
    );
    workers.push(taskWorker(coordinator, QUEUE, (data) => data.key, { concurrency: 20 }));
    workers.push(goalWorker(coordinator));
    await waitFor('the root to complete in Redis', async () =>
      (await coordinator.queue(GOALS_QUEUE).getJobState(goalId)) === 'completed' ? true : null,
    );

    const openWhenEnded: number[] = [];
    const watched = new Proxy(store, {
      get(target, property, receiver) {
        if (property !== 'setGoalState') return Reflect.get(target, property, receiver) as unknown;
        return async (id: string, state: GoalState, at: Date) => {
          const open = await target.findTasks({
            goalId: id,
            state: ['BACKLOG', 'PENDING', 'ASSIGNED', 'ACTIVE'],
            limit: TASKS,
          });
          openWhenEnded.push(open.length);
          return target.setGoalState(id, state, at);
        };
      },
    });
    mirror = startMirror({ store: watched, coordinator, batchSize: 10, bridge: false });
    await waitFor('the goal DONE in SQL', async () =>
      (await store.getGoal(goalId))?.state === 'DONE' ? true : null,
    );
    expect(openWhenEnded[0]).toBe(0);
    expect(await store.countByState()).toMatchObject({ DONE: TASKS });
  });
});
