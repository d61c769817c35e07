/**
 * Exactly one consumer per deployment: of two candidates one leads; when its process dies
 * (kill -9) the other takes over within a few seconds and goes on recording.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import { TaskRegistry } from '../../src/entities/task-registry';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { startMirror } from '../../src/mirror/mirror';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';
import { goalWorker, newGoalId, submitGoal, taskWorker } from './mirror-protocol';
import { spawnMirror, type MirrorProcess } from './mirror-spawn';

// Child processes and a lock that must expire (3 s) before the takeover.
jest.setTimeout(90000);

describe('mirror takeover', () => {
  const prefix = uniquePrefix();
  const dir = mkdtempSync(join(tmpdir(), 'agentq-mirror-takeover-'));
  const path = join(dir, 'agentq.db');
  const store = new TaskRegistry({ backend: 'sqlite', path });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const processes: MirrorProcess[] = [];
  const workers: Worker[] = [];

  beforeAll(async () => {
    await store.open();
    await coordinator.registerCapabilities(['dev']);
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    for (const p of processes) await p.killHard();
    const keys = await coordinator.client.keys(`{${prefix}}*`);
    if (keys.length > 0) await coordinator.client.del(...keys);
    await coordinator.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets one of two candidates in a process lead, and the other take over when it closes', async () => {
    const a = startMirror({ store, coordinator });
    const b = startMirror({ store, coordinator });
    try {
      const leader = await waitFor('a leader', () => (a.isLeader ? a : b.isLeader ? b : null));
      const other = leader === a ? b : a;
      expect(other.isLeader).toBe(false);
      await leader.close();
      await waitFor('the other to take over', () => other.isLeader);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('takes over within a few seconds after the leading process is killed', async () => {
    const first = spawnMirror(path, prefix);
    processes.push(first);
    await waitFor('the first to lead', () => first.lines.some((l) => l.includes('leading')));
    const second = spawnMirror(path, prefix);
    processes.push(second);
    await waitFor('the second candidate to start', () =>
      second.lines.includes('candidate started'),
    );
    // Two lock periods: had the lock been free, the second would have taken it by now.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(second.lines.some((l) => l.includes('leading'))).toBe(false);

    await first.killHard();
    await waitFor('the second to lead', () => second.lines.some((l) => l.includes('leading')), {
      timeoutMs: 10000,
    });

    const goalId = newGoalId();
    await submitGoal(store, coordinator, goalId, [
      { key: 'a', type: 'dev' },
      { key: 'b', type: 'dev', dependsOn: 'a' },
    ]);
    workers.push(
      taskWorker(coordinator, 'dev', () => 'ok'),
      goalWorker(coordinator),
    );
    await waitFor('the goal recorded DONE by the new leader', async () => {
      const goal = await store.getGoal(goalId);
      return goal?.state === 'DONE';
    });
    const tasks = await store.findTasks({ goalId });
    expect(tasks.map((t) => t.state)).toEqual(['DONE', 'DONE']);
  });
});
