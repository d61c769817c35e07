/**
 * Tasks added to a running goal's flow (src/queues/goal-extension.ts, extension-writer.ts), at
 * the Redis level: a new task that depends on a finished task gets its result at once, one that
 * depends on a running task waits for it through a runtime link and then gets its result, new
 * tasks depending on each other run in order, the goal's root does not end before the new tasks,
 * and the goal record (what the goal worker finalizes from) holds them once even when the same
 * tasks are added again.
 */
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { addGoalFlow, loadGoalRecord } from '../../src/queues/compiler';
import { planExtension, type ExistingTask } from '../../src/queues/extension-plan';
import { appendGoalRecord } from '../../src/queues/extension-writer';
import { addTasksToFlow, goalRootRef, goalRootWaits } from '../../src/queues/goal-extension';
import { pendingLinksKey } from '../../src/queues/links';
import { GOALS_QUEUE } from '../../src/queues/names';
import { resolvePlan } from '../../src/queues/plan-schema';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import type { Json } from '../../src/entities/task-model';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

describe('adding tasks to a running goal (Redis)', () => {
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix: uniquePrefix('extend') });
  const seen: Record<string, { [key: string]: Json }> = {};
  const order: string[] = [];
  let releaseSlow: () => void = () => undefined;
  const slowMayEnd = new Promise<void>((resolve) => (releaseSlow = resolve));
  const agent = new AutonomousAgent({
    agentId: 'extend-1',
    capabilities: ['work'],
    redisCoordinator: coordinator,
    concurrency: 4,
    breaker: false,
    handlers: {
      work: async (task, ctx) => {
        if (task.key === 'slow') await slowMayEnd;
        seen[task.key] = ctx.dependencies;
        order.push(task.key);
        return { from: task.key };
      },
    },
  });

  afterAll(async () => {
    releaseSlow();
    await agent.close({ graceMs: 1000 });
    await coordinator.close();
  });

  it('links new tasks to finished, running and new tasks; the goal ends after them', async () => {
    await agent.start();
    const goalId = 'g-extend';
    const { tasks } = resolvePlan({
      goal: 'extend me',
      tasks: [
        { key: 'a', title: 'a', type: 'work' },
        { key: 'slow', title: 'slow', type: 'work' },
      ],
    });
    await addGoalFlow(coordinator, { goalId, title: 'extend me', shard: 0, tasks });
    const work = coordinator.queue('work');
    await waitFor('a to finish and slow to run', async () =>
      (await work.getJobState(`${goalId}.a`)) === 'completed' &&
      (await work.getJobState(`${goalId}.slow`)) === 'active'
        ? true
        : null,
    );
    const existing = new Map<string, ExistingTask>([
      ['a', { key: 'a', type: 'work', state: 'DONE', optional: false }],
      ['slow', { key: 'slow', type: 'work', state: 'ACTIVE', optional: false }],
    ]);
    const added = [
      { key: 'after-a', title: 'after a', type: 'work', dependsOn: ['a'] },
      { key: 'after-slow', title: 'after slow', type: 'work', dependsOn: ['slow', 'after-a'] },
      { key: 'last', title: 'last', type: 'work', dependsOn: ['after-slow'] },
    ];
    const { fresh } = planExtension(added, existing);
    const input = {
      goalId,
      shard: 0,
      tasks: fresh,
      existing,
      parent: { ref: goalRootRef(coordinator, goalId, 0), onFailure: 'continue' as const },
    };
    await addTasksToFlow(coordinator, input);

    await waitFor('after-a to run on a result that was there already', async () =>
      seen['after-a'] ? true : null,
    );
    expect(seen['after-a']).toEqual({ a: { from: 'a' } });
    expect(await work.getJobState(`${goalId}.after-slow`)).toBe('waiting-children');
    expect(await goalRootWaits(coordinator, goalId, 0)).toBe(true);

    releaseSlow();
    await waitFor('the added tasks to end', async () => (seen.last ? true : null), {
      timeoutMs: 20000,
    });
    expect(seen['after-slow']).toEqual({ slow: { from: 'slow' }, 'after-a': { from: 'after-a' } });
    expect(order.indexOf('after-slow')).toBeGreaterThan(order.indexOf('slow'));
    expect(order.indexOf('last')).toBeGreaterThan(order.indexOf('after-slow'));
    await waitFor('the goal root to complete', async () =>
      (await coordinator.queue(GOALS_QUEUE).getJobState(goalId)) === 'completed' ? true : null,
    );
    expect(await coordinator.client.zcard(pendingLinksKey(coordinator, 0))).toBe(0);

    // Added twice (a retried call): the record holds each task once.
    expect(await appendGoalRecord(coordinator, goalId, fresh)).toBe(true);
    const record = (await loadGoalRecord(coordinator, goalId))!;
    expect(record.tasks.map((t) => t[0])).toEqual(['a', 'slow', 'after-a', 'after-slow', 'last']);
  });

  it('refuses bad additions naming the field, and a goal with no record', async () => {
    const existing = new Map<string, ExistingTask>([
      ['a', { key: 'a', type: 'work', state: 'DONE', optional: false }],
      ['broken', { key: 'broken', type: 'work', state: 'FAILED', optional: false }],
    ]);
    const bad = (tasks: unknown) => () => planExtension(tasks, existing);
    expect(bad([])).toThrow(/names no task/);
    expect(bad([{ key: 'x', title: 'x', type: 'work', dependsOn: ['nope'] }])).toThrow(
      expect.objectContaining({ field: 'tasks[0].dependsOn[0]' }),
    );
    expect(bad([{ key: 'x', title: 'x', type: 'work', dependsOn: ['broken'] }])).toThrow(/failed/);
    expect(
      bad([
        { key: 'x', title: 'x', type: 'work', dependsOn: ['y'] },
        { key: 'y', title: 'y', type: 'work', dependsOn: ['x'] },
      ]),
    ).toThrow(/cycle/);
    expect(
      bad([
        { key: 'x', title: 'x', type: 'work' },
        { key: 'x', title: 'x again', type: 'work' },
      ]),
    ).toThrow(expect.objectContaining({ field: 'tasks[1].key' }));
    expect(planExtension([{ key: 'a', title: 'a', type: 'work' }], existing)).toEqual({
      fresh: [],
      repeated: ['a'],
    });
    const { fresh } = planExtension([{ key: 'z', title: 'z', type: 'work' }], existing);
    await expect(
      addTasksToFlow(coordinator, {
        goalId: 'g-none',
        shard: 0,
        tasks: fresh,
        existing,
        parent: { ref: goalRootRef(coordinator, 'g-none', 0), onFailure: 'continue' },
      }),
    ).rejects.toThrow(/has ended/);
    expect(await coordinator.queue('work').getJobState('g-none.z')).toBe('unknown');
  });
});
