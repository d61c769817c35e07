/**
 * Links (src/queues/links.ts): a task shared by several dependents holds every dependent but its
 * BullMQ parent through its job key in the dependent's pending children — no job per link. With
 * NO gate worker anywhere, a dependent that waits only through a link stays in waiting-children
 * until the shared task ends, then runs with its result; Bull Board's view (getDependencies) lists
 * the shared task under it; an optional shared task that fails hands `{ error }` on; nothing is
 * ever added to `_gates` and the shard's pending-links set is empty at the end.
 */
import { Job } from 'bullmq';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { addGoalFlow } from '../../src/queues/compiler';
import { pendingLinksKey } from '../../src/queues/links';
import { GATES_QUEUE } from '../../src/queues/names';
import { resolvePlan } from '../../src/queues/plan-schema';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import type { Json } from '../../src/entities/task-model';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

describe('links', () => {
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix: uniquePrefix('links') });
  const seen: Record<string, { [key: string]: Json }> = {};
  let releaseSource: () => void = () => undefined;
  const sourceMayEnd = new Promise<void>((resolve) => (releaseSource = resolve));
  const agent = new AutonomousAgent({
    agentId: 'links-1',
    capabilities: ['work'],
    redisCoordinator: coordinator,
    concurrency: 4,
    internalWorkers: false,
    breaker: false,
    handlers: {
      work: async (task, ctx) => {
        if (task.key === 'src') await sourceMayEnd;
        if (task.key === 'flaky') throw new Error('flaky broke');
        seen[task.key] = ctx.dependencies;
        return { from: task.key };
      },
    },
  });

  afterAll(async () => {
    await agent.close({ graceMs: 1000 });
    await coordinator.close();
  });

  it('holds link-only dependents until the shared task ends, then hands them its result', async () => {
    await agent.start();
    const { tasks } = resolvePlan({
      goal: 'fan',
      tasks: [
        { key: 'src', title: 'src', type: 'work' },
        { key: 'd1', title: 'd1', type: 'work', dependsOn: ['src'] },
        { key: 'd2', title: 'd2', type: 'work', dependsOn: ['src'] },
        { key: 'd3', title: 'd3', type: 'work', dependsOn: ['src', 'd1'] },
      ],
    });
    await addGoalFlow(coordinator, { goalId: 'g-links', title: 'fan', shard: 0, tasks });
    const work = coordinator.queue('work');
    // d2 has no tree child (src's BullMQ parent is d1): only its link holds it back.
    await waitFor('src to be running', async () =>
      (await work.getJobState('g-links.src')) === 'active' ? true : null,
    );
    expect(await work.getJobState('g-links.d2')).toBe('waiting-children');
    const d2 = (await Job.fromId(work, 'g-links.d2'))!;
    expect((await d2.getDependencies()).unprocessed).toEqual([work.toKey('g-links.src')]);

    releaseSource();
    await waitFor('every dependent to run', async () => Object.keys(seen).length === 4);
    expect(seen.d1).toEqual({ src: { from: 'src' } });
    expect(seen.d2).toEqual({ src: { from: 'src' } });
    expect(seen.d3).toEqual({ src: { from: 'src' }, d1: { from: 'd1' } });
    // Bull Board's view: the shared task is a processed child of each linked dependent too.
    const processed = (await d2.getDependencies()).processed ?? {};
    expect(Object.keys(processed)).toEqual([work.toKey('g-links.src')]);
    expect(await coordinator.queue(GATES_QUEUE).count()).toBe(0);
    expect(await coordinator.queue(GATES_QUEUE).getJobCounts('completed', 'failed')).toEqual({
      completed: 0,
      failed: 0,
    });
    expect(await coordinator.client.zcard(pendingLinksKey(coordinator, 0))).toBe(0);
  });

  it('hands { error } of an optional shared task that failed to every dependent', async () => {
    const { tasks } = resolvePlan({
      goal: 'optional',
      tasks: [
        { key: 'flaky', title: 'flaky', type: 'work', optional: true, attempts: 1 },
        { key: 'e1', title: 'e1', type: 'work', dependsOn: ['flaky'] },
        { key: 'e2', title: 'e2', type: 'work', dependsOn: ['flaky'] },
      ],
    });
    await addGoalFlow(coordinator, { goalId: 'g-optl', title: 'optional', shard: 0, tasks });
    await waitFor('both dependents to run', async () => (seen.e1 && seen.e2 ? true : null));
    expect(seen.e1).toEqual({ flaky: { error: { message: 'flaky broke' } } });
    expect(seen.e2).toEqual({ flaky: { error: { message: 'flaky broke' } } });
    expect(await coordinator.queue(GATES_QUEUE).getJobCounts('completed', 'failed')).toEqual({
      completed: 0,
      failed: 0,
    });
    expect(await coordinator.client.zcard(pendingLinksKey(coordinator, 0))).toBe(0);
  });
});
