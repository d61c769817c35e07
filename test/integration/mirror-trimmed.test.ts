/**
 * A stream trimmed past the mirror's cursor (a tiny `streams.events.maxLen`, jobs run while the
 * mirror is down): at start the mirror reconciles from the jobs' states, logs that it did, and
 * SQL ends equal to Redis with each transition recorded once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, type Worker } from 'bullmq';
import { TaskRegistry } from '../../src/entities/task-registry';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { taskJobId } from '../../src/queues/task-job';
import { startMirror, type MirrorHandle } from '../../src/board/mirror';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';
import { createFlatGoalRows, newGoalId, taskJob, taskWorker } from './mirror-protocol';

jest.setTimeout(60000);

const TASKS = 120;
const QUEUE = 'tiny';

describe('mirror on a trimmed stream', () => {
  const prefix = uniquePrefix();
  const dir = mkdtempSync(join(tmpdir(), 'agentq-mirror-trim-'));
  const store = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const queue = new Queue(QUEUE, {
    connection: coordinator.duplicate(),
    prefix: coordinator.bullPrefix(0),
    streams: { events: { maxLen: 10 } },
  });
  const logs: string[] = [];
  let worker: Worker | null = null;
  let mirror: MirrorHandle | null = null;

  beforeAll(async () => {
    await store.open();
    await coordinator.registerCapabilities([QUEUE]);
  });

  afterAll(async () => {
    await worker?.close();
    await mirror?.close();
    await queue.close();
    const keys = await coordinator.client.keys(`{${prefix}}*`);
    if (keys.length > 0) await coordinator.client.del(...keys);
    await coordinator.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reconciles the tasks whose transitions were trimmed away, and logs it', async () => {
    const goalId = newGoalId();
    const keys = await createFlatGoalRows(store, goalId, QUEUE, TASKS);
    await queue.addBulk(keys.map((key) => taskJob(goalId, key, QUEUE)));
    worker = taskWorker(coordinator, QUEUE, (data) => {
      if (data.key === 't7') throw new Error('t7 is broken');
      return data.key;
    });
    await waitFor('every job to finish in Redis', async () => {
      const counts = await queue.getJobCounts('completed', 'failed');
      return counts.completed === TASKS - 1 && counts.failed === 1;
    });
    await worker.close();
    worker = null;
    const info = (await coordinator.client.call(
      'XINFO',
      'STREAM',
      `${coordinator.bullPrefix(0)}:${QUEUE}:events`,
    )) as unknown[];
    expect(Number(info[info.indexOf('length') + 1])).toBeLessThan(TASKS * 3);

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

    const events = await store.eventsAfter(0, 10000);
    expect(events.every((e, i) => e.seq === i + 1)).toBe(true);
    const seen = new Set<string>();
    for (const e of events) {
      const id = `${e.taskId}/${e.attempt}/${e.toState}`;
      expect(seen.has(id)).toBe(false);
      seen.add(id);
    }
  });
});
