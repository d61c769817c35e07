/**
 * A catch-up bigger than one chunk: a stream trimmed past the mirror's cursor is reconciled in
 * transactions of at most `chunkSize` changes, the cursor moving past the stream with the last
 * one; the mirror yields between chunks, so it keeps a tight leader lock throughout (one
 * leadership, never "lost the lock") and SQL ends equal to Redis with each transition once.
 */
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { taskJobId } from '../../src/queues/task-job';
import { waitFor } from '../helpers/wait-for';
import { expectEachTransitionOnce, runFlatGoalUnmirrored, trimmedWorld } from './trimmed-world';

jest.setTimeout(60000);

const TASKS = 120;
const CHUNK = 40;
const QUEUE = 'tiny';

describe('mirror catch-up in chunks', () => {
  const world = trimmedWorld('mirror-chunks', [QUEUE]);
  const { store, coordinator } = world;
  const logs: string[] = [];
  const commits: number[] = [];
  let mirror: MirrorHandle | null = null;

  beforeAll(() => world.open());

  afterAll(async () => {
    await mirror?.close();
    await world.close();
  });

  it('commits a catch-up of ~360 transitions in chunks of at most 40, keeping the lock', async () => {
    const goalId = await runFlatGoalUnmirrored(world, QUEUE, TASKS);

    mirror = startMirror({
      store,
      coordinator,
      chunkSize: CHUNK,
      // A tight lock: a catch-up that held the event loop would lose it.
      lock: { ttlMs: 600, intervalMs: 200 },
      onLog: (line) => logs.push(line),
      onCommit: (commit) => commits.push(commit.events.length),
    });
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
    const reconciled = commits.filter((n) => n > 0);
    expect(reconciled.length).toBeGreaterThanOrEqual(Math.ceil((TASKS * 2) / CHUNK));
    expect(Math.max(...reconciled)).toBeLessThanOrEqual(CHUNK);
    expect(mirror.stats.leaderships).toBe(1);
    expect(logs.filter((l) => /lost the lock|stepping down/.test(l))).toEqual([]);
    expect(mirror.isLeader).toBe(true);

    const broken = await store.getTask(taskJobId(goalId, 't7'));
    expect(broken).toMatchObject({ state: 'FAILED', error: { message: 't7 is broken' } });
    const done = await store.getTask(taskJobId(goalId, 't3'));
    expect(done).toMatchObject({ state: 'DONE', result: 't3', agentId: 'test-agent' });

    await expectEachTransitionOnce(store);
  });
});
