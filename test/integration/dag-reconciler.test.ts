/**
 * The reconciler releases the links of a task whose agent died between ending it and releasing
 * them (these workers never release anything): after a completion the dependents run with its
 * result; after a failure for good they fail through gates, and the goal fails. Either way the
 * shard's pending-links set is empty afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { TaskRegistry } from '../../src/entities/task-registry';
import { collectDependencies } from '../../src/queues/dependencies';
import { startInternalWorkers, type InternalWorkers } from '../../src/queues/internal-workers';
import { pendingLinksKey } from '../../src/queues/links';
import { GATES_QUEUE, GOALS_QUEUE } from '../../src/queues/names';
import type { TaskResultEnvelope } from '../../src/queues/protocol';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import type { TaskJobData } from '../../src/queues/task-job';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

describe('reconciler', () => {
  const prefix = uniquePrefix('rec');
  const dir = mkdtempSync(join(tmpdir(), 'agentq-rec-'));
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const supervisor = new SupervisorAgent(registry, coordinator, {});
  const workers: Worker[] = [];
  let internal: InternalWorkers;
  const got: Record<string, unknown> = {};

  beforeAll(() => {
    internal = startInternalWorkers(coordinator, { reconcileIntervalMs: 200 });
    // An agent that "crashes" after each task ends: it never releases links.
    for (const type of ['a', 'b']) {
      const worker = new Worker<TaskJobData, TaskResultEnvelope>(
        type,
        async (job) => {
          if (job.data.key === 'broken') throw new UnrecoverableError('broken for good');
          got[job.data.key] = await collectDependencies(job);
          const now = Date.now();
          return {
            v: 1,
            key: job.data.key,
            result: job.data.key,
            agentId: 'x',
            attempt: 1,
            startedAt: now,
            finishedAt: now,
          };
        },
        {
          connection: coordinator.duplicate('worker'),
          prefix: coordinator.bullPrefix(0),
          concurrency: 10,
        },
      );
      worker.on('error', () => undefined);
      workers.push(worker);
    }
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await internal.close();
    for await (const keys of (coordinator.client as Redis).scanStream({ match: `{${prefix}}*` })) {
      if ((keys as string[]).length > 0) await coordinator.client.del(...(keys as string[]));
    }
    await coordinator.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('releases the links of a completed task nobody released', async () => {
    const dependents = ['d0', 'd1', 'd2', 'd3'].map((key) => ({
      key,
      title: key,
      type: 'b',
      dependsOn: ['shared'],
    }));
    const { goalId } = await supervisor.submitPlan({
      goal: 'reconcile',
      tasks: [{ key: 'shared', title: 'shared', type: 'a' }, ...dependents],
    });
    await waitFor('the goal to complete through reconciled links', async () =>
      (await coordinator.queue(GOALS_QUEUE, 0).getJobState(goalId)) === 'completed' ? true : null,
    );
    for (const d of dependents) expect(got[d.key]).toEqual({ shared: 'shared' });
    expect(await coordinator.client.zcard(pendingLinksKey(coordinator, 0))).toBe(0);
  });

  it('fails the dependents of a task that failed for good and nobody released', async () => {
    // f0 (the BullMQ parent of `broken`) is optional, so the failure does not reach the root
    // through the tree: only the links' gates can end f1 and f2.
    const dependents = ['f0', 'f1', 'f2'].map((key) => ({
      key,
      title: key,
      type: 'b',
      dependsOn: ['broken'],
      optional: key === 'f0',
    }));
    const { goalId } = await supervisor.submitPlan({
      goal: 'reconcile failure',
      tasks: [{ key: 'broken', title: 'broken', type: 'a', attempts: 1 }, ...dependents],
    });
    await waitFor('the goal to fail', async () =>
      (await coordinator.queue(GOALS_QUEUE, 0).getJobState(goalId)) === 'failed' ? true : null,
    );
    for (const d of dependents) {
      expect(got[d.key]).toBeUndefined();
      const state = await coordinator.queue('b', 0).getJobState(`${goalId}.${d.key}`);
      expect(['failed', 'unknown']).toContain(state);
    }
    const gates = await coordinator.queue(GATES_QUEUE, 0).getFailed();
    expect(gates.map((g) => g.failedReason)).toContain('dependency broken failed');
    expect(await coordinator.client.zcard(pendingLinksKey(coordinator, 0))).toBe(0);
  });
});
