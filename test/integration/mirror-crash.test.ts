/**
 * kill -9 of the mirror's process in the middle of more than 10,000 task transitions, then a
 * restart: SQL ends equal to Redis, the audit log has no gap and no transition twice, and the
 * bridge published every seq exactly once across the crash.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, type Worker } from 'bullmq';
import { TaskRegistry } from '../../src/entities/task-registry';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import type { TaskChannelPayload } from '../../src/mirror/channel-payload';
import { deleteKeysMatching } from '../helpers/redis-cluster';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';
import { createFlatGoalRows, newGoalId, taskJob, taskWorker } from './mirror-protocol';
import { spawnMirror, type MirrorProcess } from './mirror-spawn';

// 3,400 tasks through a real worker and two mirror processes on a shared 2-core machine.
jest.setTimeout(240000);

const TASKS = 3400; // × 3 transitions (claimed, active, done) = 10,200, plus 3,400 `new`
const QUEUE = 'bulk';

describe('mirror crash', () => {
  const prefix = uniquePrefix();
  const channelPrefix = `${prefix}/`;
  const dir = mkdtempSync(join(tmpdir(), 'agentq-mirror-crash-'));
  const path = join(dir, 'agentq.db');
  const store = new TaskRegistry({ backend: 'sqlite', path });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix, channelPrefix });
  // Room for the whole run in the stream: this test is about the cursor, not about trimming.
  const queue = new Queue(QUEUE, {
    connection: coordinator.duplicate(),
    prefix: coordinator.bullPrefix(0),
    streams: { events: { maxLen: 200000 } },
  });
  const subscriber = coordinator.duplicate('worker');
  const seqs: number[] = [];
  const processes: MirrorProcess[] = [];
  let worker: Worker | null = null;

  beforeAll(async () => {
    subscriber.on('error', () => undefined);
    // Subscribing before ioredis' ready check ends breaks the check: wait for it (once).
    if (subscriber.status !== 'ready')
      await new Promise((resolve) => subscriber.once('ready', resolve));
    await subscriber.psubscribe(`${channelPrefix}tasks:*`);
    subscriber.on('pmessage', (_p, _c, raw) =>
      seqs.push((JSON.parse(raw) as TaskChannelPayload).seq),
    );
    await store.open();
    await coordinator.registerCapabilities([QUEUE]);
  });

  afterAll(async () => {
    await worker?.close();
    for (const p of processes) await p.killHard();
    await queue.close();
    await deleteKeysMatching(coordinator.client, `{${prefix}}*`);
    await coordinator.close();
    // The subscriber may already have been closed by a failed run's teardown; either way, let go.
    await subscriber.quit().catch(() => subscriber.disconnect());
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes from its cursor with nothing lost and nothing recorded or published twice', async () => {
    const first = spawnMirror(path, prefix, channelPrefix);
    processes.push(first);
    await waitFor('the first mirror to lead', () => first.lines.some((l) => l.includes('leading')));

    const goalId = newGoalId();
    const keys = await createFlatGoalRows(store, goalId, QUEUE, TASKS);
    for (let i = 0; i < TASKS; i += 500) {
      await queue.addBulk(keys.slice(i, i + 500).map((key) => taskJob(goalId, key, QUEUE)));
    }
    worker = taskWorker(coordinator, QUEUE, (data) => ({ n: Number(data.key.slice(1)) }), {
      concurrency: 50,
    });

    // Kill it mid-stream: once it recorded a few thousand transitions, well before the end.
    await waitFor(
      'a few thousand recorded transitions',
      async () => (await store.lastSeq()) > TASKS + 3000,
      {
        timeoutMs: 120000,
      },
    );
    await first.killHard();
    const recordedAtKill = await store.lastSeq();
    expect(recordedAtKill).toBeLessThan(TASKS * 4);

    const second = spawnMirror(path, prefix, channelPrefix);
    processes.push(second);
    await waitFor(
      'the jobs to finish in Redis',
      async () => (await queue.getJobCounts('completed')).completed === TASKS,
      {
        timeoutMs: 180000,
      },
    );
    await waitFor('SQL to catch up', async () => (await store.countByState()).DONE >= TASKS, {
      timeoutMs: 120000,
      intervalMs: 200,
    });
    expect(second.lines.some((l) => l.includes('leading'))).toBe(true);

    // SQL equals Redis: every task DONE with the result and agent its job returned.
    const tasks = await store.findTasks({ goalId, limit: TASKS + 1 });
    expect(tasks).toHaveLength(TASKS);
    for (const task of tasks) {
      expect(task.state).toBe('DONE');
      expect(task.result).toEqual({ n: Number(task.key.slice(1)) });
      expect(task.agentId).toBe('test-agent');
    }

    // The audit log: seq gap-free, and each transition once per task and attempt.
    const events = await store.eventsAfter(0, 100000);
    expect(events.every((e, i) => e.seq === i + 1)).toBe(true);
    expect(events).toHaveLength(TASKS * 4);
    const perTransition = new Map<string, number>();
    for (const e of events) {
      const id = `${e.taskId}/${e.attempt}/${e.toState}/${e.event}`;
      perTransition.set(id, (perTransition.get(id) ?? 0) + 1);
    }
    expect([...perTransition.values()].every((n) => n === 1)).toBe(true);
    expect(perTransition.size).toBe(TASKS * 4);

    // The bridge: every seq published once, in order, across the crash.
    const last = events.at(-1)!.seq;
    await waitFor('every seq published', () => seqs.at(-1) === last);
    expect(seqs).toEqual(events.map((e) => e.seq));
  });
});
