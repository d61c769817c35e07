/**
 * The reconciler releases the gates of a task whose agent died between completing it and
 * releasing them: the dependents run without waiting for the gates' own minute-long re-check (GATE_RECHECK_MS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { TaskRegistry } from '../../src/entities/task-registry';
import { collectDependencies } from '../../src/queues/dependencies';
import { startInternalWorkers, type InternalWorkers } from '../../src/queues/internal-workers';
import { GOALS_QUEUE } from '../../src/queues/names';
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
    // An agent that "crashes" after completing: it never calls releaseGates.
    for (const type of ['a', 'b']) {
      const worker = new Worker<TaskJobData, TaskResultEnvelope>(
        type,
        async (job) => {
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

  it('promotes the gates of a finished task nobody released', async () => {
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
    await waitFor('the goal to complete through reconciled gates', async () =>
      (await coordinator.queue(GOALS_QUEUE, 0).getJobState(goalId)) === 'completed' ? true : null,
    );
    for (const d of dependents) expect(got[d.key]).toEqual({ shared: 'shared' });
  });
});
