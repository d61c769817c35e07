/**
 * `supervisor.extendGoal` end to end (DESIGN.md "Living goals"), with an agent and the state
 * mirror on SQLite: tasks added while the goal runs get a finished dependency's result at once,
 * wait for a running one, reach DONE in SQL with their `new` events in the audit log, and the goal
 * ends only after them; a repeat adds nothing; bad input adds nothing; an ended goal is refused.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Json } from '../../src/entities/task-model';
import { TaskRegistry } from '../../src/entities/task-registry';
import { ConflictError, InputError } from '../../src/errors';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

describe('extendGoal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-extend-'));
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix: uniquePrefix('extendgoal') });
  const supervisor = new SupervisorAgent(registry, coordinator, {});
  const seen: Record<string, { [key: string]: Json }> = {};
  let releaseSlow: () => void = () => undefined;
  const slowMayEnd = new Promise<void>((resolve) => (releaseSlow = resolve));
  const agent = new AutonomousAgent({
    agentId: 'extend-goal-1',
    capabilities: ['work'],
    redisCoordinator: coordinator,
    taskRegistry: registry,
    concurrency: 4,
    breaker: false,
    handlers: {
      work: async (task, ctx) => {
        if (task.key === 'slow') await slowMayEnd;
        seen[task.key] = ctx.dependencies;
        return { from: task.key };
      },
    },
  });

  beforeAll(() => agent.start());
  afterAll(async () => {
    releaseSlow();
    await agent.close({ graceMs: 1000 });
    await coordinator.close();
    await registry.close();
  });

  const state = async (goalId: string) => (await registry.getGoal(goalId))!.state;

  it('adds tasks to a running goal, which ends after them', async () => {
    const { goalId } = await supervisor.submitPlan({
      goal: 'living',
      tasks: [
        { key: 'a', title: 'a', type: 'work' },
        { key: 'slow', title: 'slow', type: 'work' },
      ],
    });
    await waitFor('a DONE in SQL', async () =>
      (await registry.getTask(`${goalId}.a`))?.state === 'DONE' ? true : null,
    );
    await expect(
      supervisor.extendGoal(goalId, [{ key: 'x', title: 'x', type: 'work', dependsOn: ['nope'] }]),
    ).rejects.toThrow(expect.objectContaining({ field: 'tasks[0].dependsOn[0]' }));
    await expect(supervisor.extendGoal(goalId, 'not a list')).rejects.toThrow(InputError);
    expect((await registry.getGoal(goalId))!.taskCount).toBe(2);

    const added = [
      { key: 'after-a', title: 'after a', type: 'work', dependsOn: ['a'] },
      { key: 'after-slow', title: 'after slow', type: 'work', dependsOn: ['slow'] },
    ];
    const extended = await supervisor.extendGoal(goalId, added, { actor: 'tester' });
    expect(extended.created).toEqual([`${goalId}.after-a`, `${goalId}.after-slow`]);
    expect(extended.tasks.map((t) => t.key)).toEqual(['after-a', 'after-slow']);
    const again = await supervisor.extendGoal(goalId, added);
    expect(again.created).toEqual([]);
    expect(again.tasks.map((t) => t.key).sort()).toEqual(['after-a', 'after-slow']);

    await waitFor('after-a DONE in SQL', async () =>
      (await registry.getTask(`${goalId}.after-a`))?.state === 'DONE' ? true : null,
    );
    expect(seen['after-a']).toEqual({ a: { from: 'a' } });
    expect(await state(goalId)).toBe('ACTIVE');

    releaseSlow();
    await waitFor('the goal DONE in SQL', async () =>
      (await state(goalId)) === 'DONE' ? true : null,
    );
    const afterSlow = (await registry.getTask(`${goalId}.after-slow`))!;
    expect(afterSlow.state).toBe('DONE');
    expect(afterSlow.result).toEqual({ from: 'after-slow' });
    expect(seen['after-slow']).toEqual({ slow: { from: 'slow' } });
    const { goal, tasks } = await supervisor.getGoal(goalId);
    expect(goal.taskCount).toBe(4);
    expect(tasks.map((t) => t.key).sort()).toEqual(['a', 'after-a', 'after-slow', 'slow']);

    // The audit log: one `new` per added task, by its actor, before that task's first change.
    const events = (await registry.eventsAfter(0, 1000)).filter((e) => e.goalId === goalId);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    for (const id of extended.created) {
      const mine = events.filter((e) => e.taskId === id);
      expect(mine[0]).toMatchObject({ event: 'new', actor: 'tester' });
      expect(mine.filter((e) => e.event === 'new')).toHaveLength(1);
    }

    await expect(
      supervisor.extendGoal(goalId, [{ key: 'late', title: 'late', type: 'work' }]),
    ).rejects.toThrow(ConflictError);
    expect((await registry.getGoal(goalId))!.taskCount).toBe(4);
  });
});
