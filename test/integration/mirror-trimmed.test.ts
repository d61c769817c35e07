/**
 * A stream trimmed past the mirror's cursor (a tiny `streams.events.maxLen`, jobs run while the
 * mirror is down): at start the mirror reconciles from the jobs' states, logs that it did, and
 * SQL ends equal to Redis with each transition recorded once — a held task whose dependency ended
 * meanwhile becomes PENDING, and tasks whose jobs never moved are left as they are.
 */
import type { Worker } from 'bullmq';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { taskJobId } from '../../src/queues/task-job';
import { waitFor } from '../helpers/wait-for';
import { createGoalRows, newGoalId, submitGoal, taskJob, taskWorker } from './mirror-protocol';
import { expectEachTransitionOnce, runFlatGoalUnmirrored, trimmedWorld } from './trimmed-world';

jest.setTimeout(60000);

const TASKS = 120;
const QUEUE = 'tiny';
/** No worker takes this queue's jobs: they stay waiting. */
const HELD = 'held';

describe('mirror on a trimmed stream', () => {
  const world = trimmedWorld('mirror-trim', [QUEUE, HELD]);
  const { store, coordinator } = world;
  const held = world.queue(HELD);
  const logs: string[] = [];
  let worker: Worker | null = null;
  let mirror: MirrorHandle | null = null;

  beforeAll(() => world.open());

  afterAll(async () => {
    await worker?.close();
    await mirror?.close();
    await world.close();
  });

  it('reconciles the tasks whose transitions were trimmed away, and logs it', async () => {
    const goalId = await runFlatGoalUnmirrored(world, QUEUE, TASKS);

    mirror = startMirror({ store, coordinator, onLog: (line) => logs.push(line) });
    await waitFor(
      'SQL to equal Redis',
      async () => (await store.countByState()).DONE === TASKS - 1,
    ).catch(async (error: Error) => {
      const counts = JSON.stringify(await store.countByState());
      throw new Error(`${error.message}; logs: ${logs.join(' | ')}; counts ${counts}`);
    });
    expect(logs.some((l) => /tiny:events was trimmed past its cursor .* reconciled/.test(l))).toBe(
      true,
    );
    expect(mirror.stats.reconciles).toBeGreaterThanOrEqual(1);

    const broken = await store.getTask(taskJobId(goalId, 't7'));
    expect(broken).toMatchObject({ state: 'FAILED', error: { message: 't7 is broken' } });
    const done = await store.getTask(taskJobId(goalId, 't3'));
    expect(done).toMatchObject({ state: 'DONE', result: 't3', agentId: 'test-agent' });

    await expectEachTransitionOnce(store);
  });

  it('moves a held task whose dependency ended to PENDING and leaves unmoved jobs alone', async () => {
    await mirror?.close();
    mirror = null;
    const goalId = newGoalId();
    // `parent` (in HELD) waits on `child` (in QUEUE); w0…w4 wait in HELD and never move.
    const waiting = Array.from({ length: 5 }, (_, i) => ({ key: `w${i}`, type: HELD }));
    await submitGoal(store, coordinator, goalId, [
      { key: 'child', type: QUEUE },
      { key: 'parent', type: HELD, dependsOn: 'child' },
      ...waiting,
    ]);
    worker = taskWorker(coordinator, QUEUE, (data) => data.key);
    await waitFor('parent to wait once child is done', async () =>
      (await held.getJobState(taskJobId(goalId, 'parent'))) === 'waiting' ? true : null,
    );
    await worker.close();
    worker = null;
    // More jobs through HELD: its stream is trimmed past parent's `waiting` entry.
    const later = newGoalId();
    const laterKeys = Array.from({ length: 150 }, (_, i) => `l${i}`);
    await createGoalRows(
      store,
      later,
      laterKeys.map((key) => ({ key, type: HELD })),
    );
    await held.addBulk(laterKeys.map((key) => taskJob(later, key, HELD)));
    const before = await store.eventsAfter(0, 100000);
    const seqBefore = before.at(-1)!.seq;

    mirror = startMirror({ store, coordinator, onLog: (line) => logs.push(line) });
    // child's DONE comes from its own (untrimmed) stream, read in any order with HELD's.
    await waitFor('parent PENDING and child DONE in SQL', async () => {
      const parent = await store.getTask(taskJobId(goalId, 'parent'));
      const child = await store.getTask(taskJobId(goalId, 'child'));
      return parent?.state === 'PENDING' && child?.state === 'DONE' ? true : null;
    });
    expect(logs.some((l) => /held:events was trimmed past its cursor .* reconciled/.test(l))).toBe(
      true,
    );
    const after = (await store.eventsAfter(seqBefore, 100000)).map((e) => e.taskId);
    expect(after.filter((id) => id === taskJobId(goalId, 'parent'))).toHaveLength(1);
    for (const w of [...waiting.map((t) => taskJobId(goalId, t.key)), taskJobId(later, 'l0')]) {
      expect(after).not.toContain(w);
      expect((await store.getTask(w))?.state).toBe('PENDING');
    }
  });
});
