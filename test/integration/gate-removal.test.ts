/**
 * A completed task's gates are removed, not run: with NO gate worker anywhere, a task shared by
 * three dependents still lets all of them run, each with its result (read from the source job),
 * and the gates are gone from `_gates` rather than completed there.
 */
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { addGoalFlow } from '../../src/queues/compiler';
import { GATES_QUEUE } from '../../src/queues/names';
import { resolvePlan } from '../../src/queues/plan-schema';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import type { Json } from '../../src/entities/task-model';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

describe('gate removal on success', () => {
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix: uniquePrefix('gaterm') });
  const seen: Record<string, { [key: string]: Json }> = {};
  const agent = new AutonomousAgent({
    agentId: 'gaterm-1',
    capabilities: ['work'],
    redisCoordinator: coordinator,
    concurrency: 4,
    internalWorkers: false,
    handlers: {
      work: (task, ctx) => {
        seen[task.key] = ctx.dependencies;
        return { from: task.key };
      },
    },
  });

  afterAll(async () => {
    await agent.close({ graceMs: 1000 });
    await coordinator.close();
  });

  it('runs every dependent of a shared task without a gate worker', async () => {
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
    await addGoalFlow(coordinator, { goalId: 'g-gaterm', title: 'fan', shard: 0, tasks });
    await waitFor('every dependent to run', async () => Object.keys(seen).length === 4);
    expect(seen.d1).toEqual({ src: { from: 'src' } });
    expect(seen.d2).toEqual({ src: { from: 'src' } });
    expect(seen.d3).toEqual({ src: { from: 'src' }, d1: { from: 'd1' } });
    const gates = coordinator.queue(GATES_QUEUE);
    expect(await gates.getJobCounts('completed', 'delayed', 'wait', 'active')).toEqual({
      completed: 0,
      delayed: 0,
      wait: 0,
      active: 0,
    });
  });
});
