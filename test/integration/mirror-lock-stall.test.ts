/**
 * A leading mirror whose process is held up longer than the lock's ttl (one long batch: a huge
 * row decoded and written blocks the event loop, renewals included) finds its lock expired. When
 * no other candidate took it meanwhile, it takes it back and goes on, instead of stepping down
 * (the issue saw 7 step-downs in 100 s); when another did take it, it still steps down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import { TaskRegistry } from '../../src/entities/task-registry';
import { startMirror } from '../../src/mirror/mirror';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';
import { goalWorker, newGoalId, submitGoal, taskWorker } from './mirror-protocol';

const LOCK = { ttlMs: 300, intervalMs: 100 };

/** Holds this process's event loop, as a long synchronous batch does (no CPU spent). */
function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('mirror lock under a stalled batch', () => {
  const prefix = uniquePrefix();
  const dir = mkdtempSync(join(tmpdir(), 'agentq-mirror-stall-'));
  const store = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const workers: Worker[] = [];

  beforeAll(async () => {
    await store.open();
    await coordinator.registerCapabilities(['dev']);
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    const keys = await coordinator.client.keys(`{${prefix}}*`);
    if (keys.length > 0) await coordinator.client.del(...keys);
    await coordinator.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps leading after a stall past the ttl when nobody else took the lock', async () => {
    const lines: string[] = [];
    const mirror = startMirror({
      store,
      coordinator,
      lock: LOCK,
      blockMs: 20,
      onLog: (l) => lines.push(l),
    });
    try {
      await waitFor('the mirror to lead', () => mirror.isLeader);
      blockEventLoop(LOCK.ttlMs * 3);
      expect(await coordinator.client.exists(coordinator.key('mirror', 'lock'))).toBe(0);
      await waitFor('the lock taken back', () => lines.some((l) => l.includes('resumed')));
      expect(
        lines.filter((l) => l.includes('lost the lock') || l.includes('stepping down')),
      ).toEqual([]);
      expect(mirror.isLeader).toBe(true);
      expect(mirror.stats.leaderships).toBe(1);

      // And it still records.
      const goalId = newGoalId();
      await submitGoal(store, coordinator, goalId, [{ key: 'a', type: 'dev' }]);
      workers.push(
        taskWorker(coordinator, 'dev', () => 'ok'),
        goalWorker(coordinator),
      );
      await waitFor(
        'the goal recorded DONE',
        async () => (await store.getGoal(goalId))?.state === 'DONE',
      );
    } finally {
      await mirror.close();
    }
  });

  it('steps down after a stall when another candidate led meanwhile', async () => {
    const lines: string[] = [];
    const first = startMirror({
      store,
      coordinator,
      lock: LOCK,
      bridge: false,
      onLog: (l) => lines.push(l),
    });
    try {
      await waitFor('the first to lead', () => first.isLeader);
      blockEventLoop(LOCK.ttlMs * 3);
      // Another process takes the free lock (and lets it go again) before the first runs again.
      const key = coordinator.key('mirror', 'lock');
      expect(await coordinator.client.set(key, 'other', 'PX', LOCK.ttlMs, 'NX')).toBe('OK');
      await coordinator.client.incr(`${key}:gen`);
      await coordinator.client.del(key);
      await waitFor('the first to step down', () => lines.some((l) => l.includes('lost the lock')));
    } finally {
      await first.close();
    }
  });
});
