/**
 * A reconcile walks every open task, however their ids sort against their creation order. The
 * soak of 30,000 tasks found thousands left PENDING after a catch-up: the walk's first page was
 * read without `afterId`, so ordered by creation, and the keyset walk went on from that page's
 * last id, skipping every open task whose id sorts before it — here the whole second goal,
 * created after the first but with an id that sorts before it.
 */
import type { Worker } from 'bullmq';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { taskJobId } from '../../src/queues/task-job';
import { waitFor } from '../helpers/wait-for';
import { createFlatGoalRows, taskJob, taskWorker } from './mirror-protocol';
import { trimmedWorld } from './trimmed-world';

jest.setTimeout(60000);

const QUEUE = 'paging';
/** More than one page of the reconcile's walk (200 open tasks per page). */
const FIRST_GOAL_TASKS = 210;
const SECOND_GOAL_TASKS = 20;

describe('mirror reconcile paging', () => {
  const world = trimmedWorld('mirror-paging', [QUEUE]);
  const { prefix, store, coordinator } = world;
  const queue = world.queue(QUEUE);
  const logs: string[] = [];
  let worker: Worker | null = null;
  let mirror: MirrorHandle | null = null;

  beforeAll(() => world.open());

  afterAll(async () => {
    await worker?.close();
    await mirror?.close();
    await world.close();
  });

  async function createGoal(goalId: string, size: number): Promise<string[]> {
    const keys = await createFlatGoalRows(store, goalId, QUEUE, size);
    await queue.addBulk(keys.map((key) => taskJob(goalId, key, QUEUE)));
    return keys;
  }

  it('reconciles the open tasks whose ids sort before the first ones created', async () => {
    // Created first, sorts last; created later, sorts first.
    const late = `g-ffff${prefix
      .replace(/[^0-9a-f]/g, '')
      .padEnd(12, '0')
      .slice(0, 12)}`;
    const early = `g-0000${late.slice(6)}`;
    await createGoal(late, FIRST_GOAL_TASKS);
    // A later created_at for the second goal, whatever the clock's resolution.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await createGoal(early, SECOND_GOAL_TASKS);
    const total = FIRST_GOAL_TASKS + SECOND_GOAL_TASKS;

    worker = taskWorker(coordinator, QUEUE, (data) => data.key);
    await waitFor('every job to finish in Redis', async () => {
      const counts = await queue.getJobCounts('completed');
      return counts.completed === total;
    });
    await worker.close();
    worker = null;

    // The stream (maxLen 10) was trimmed past the new mirror's cursor: it reconciles.
    mirror = startMirror({ store, coordinator, chunkSize: 50, onLog: (line) => logs.push(line) });
    await waitFor('the reconcile to end', () =>
      logs.some((l) => /paging:events was trimmed past its cursor .* reconciled/.test(l)),
    );
    await waitFor('SQL to equal Redis', async () => (await store.countByState()).DONE === total, {
      timeoutMs: 10000,
    }).catch(async (error: Error) => {
      const pending = await store.findTasks({ state: 'PENDING', limit: 5 });
      throw new Error(
        `${error.message}; counts ${JSON.stringify(await store.countByState())}; still PENDING ` +
          `e.g. ${pending.map((t) => t.id).join(', ')}; logs: ${logs.join(' | ')}`,
      );
    });
    expect(await store.getTask(taskJobId(early, 't3'))).toMatchObject({
      state: 'DONE',
      result: 't3',
    });
  });
});
