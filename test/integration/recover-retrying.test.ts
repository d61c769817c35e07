/**
 * Redis wiped (FLUSHALL on a private server) while a task waits out the backoff before its third
 * attempt, then `agentq recover` (the real CLI): the task is re-queued as a fresh run in a new
 * epoch, so the mirror takes the new run's attempt 1 for the current one (not for a stale change
 * older than SQL's attempt 2), and the task and its dependent end DONE in SQL.
 */
import { Redis } from 'ioredis';
import type { Json, PlanSpec } from '../../src/entities/task-model';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import type { TaskContext, TaskInput } from '../../src/processors/handler-types';
import { FaultWorld } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

const plan: PlanSpec = {
  goal: 'recover a task between retries',
  tasks: [
    { key: 'flaky', title: 'flaky', type: 'retrying', attempts: 3 },
    { key: 'after', title: 'after', type: 'retrying', dependsOn: ['flaky'] },
  ],
};

describe('agentq recover of a task waiting for its retry', () => {
  let world: FaultWorld;
  let agent: AutonomousAgent;
  let wiped = false;
  const starts: Array<{ key: string; attempt: number; wiped: boolean }> = [];
  const depsOfAfter: Array<{ [key: string]: Json }> = [];

  beforeAll(async () => {
    world = await FaultWorld.start();
    const retrying = async (task: TaskInput, ctx: TaskContext): Promise<Json> => {
      starts.push({ key: task.key, attempt: task.attempt, wiped });
      if (task.key === 'after') depsOfAfter.push(ctx.dependencies);
      if (task.key === 'flaky' && !wiped) {
        // The second failure pauses the queue first: the third attempt cannot start before the
        // wipe, so the task waits in `delayed` (SQL: PENDING, attempt 2) for as long as needed.
        if (task.attempt === 2) await world.coordinator.queue('retrying').pause();
        throw new Error(`attempt ${task.attempt} fails`);
      }
      return { from: task.key, attempt: task.attempt };
    };
    agent = new AutonomousAgent({
      agentId: 'agent-retrying',
      capabilities: ['retrying'],
      redisCoordinator: world.coordinator,
      handlers: { retrying },
      breaker: false,
      heartbeatMs: 500,
      onError: () => undefined,
    });
    await agent.start();
  });

  afterAll(async () => {
    await agent.close({ graceMs: 500 });
    await world.close();
  });

  it('runs it again in a new epoch and records it DONE in SQL', async () => {
    const { goalId } = await world.supervisor.submitPlan(plan);
    const flakyId = `${goalId}.flaky`;
    await waitFor(
      'flaky PENDING after its second failed attempt in SQL',
      async () => {
        const task = await world.registry.getTask(flakyId);
        return task?.state === 'PENDING' && task.attempt === 2;
      },
      { timeoutMs: 30000, intervalMs: 50 },
    );
    const before = (await world.registry.getTask(flakyId))!;
    expect(before.error).toEqual({ message: 'attempt 2 fails' });
    expect(before.epoch).toBe(0);

    const wipe = new Redis(world.redis.url);
    await wipe.flushall();
    await wipe.quit();
    wiped = true;

    const recovered = await world.cli(['recover', '--json']);
    expect(recovered.stderr).toBe('');
    expect(recovered.code).toBe(0);
    const report = JSON.parse(recovered.stdout) as {
      goals: Array<{ goalId: string; requeued: string[] }>;
    };
    expect(report.goals.map((g) => [g.goalId, [...g.requeued].sort()])).toEqual([
      [goalId, ['after', 'flaky']],
    ]);

    expect(await world.goalEnd(goalId)).toBe('DONE');
    // The wipe took the capability set: the mirror finds the rebuilt queue's stream on its next
    // refresh (each second), possibly after the goal's end, so the tasks' ends may follow it.
    const tasks = await waitFor(
      'both tasks to leave PENDING and BACKLOG in SQL',
      async () => {
        const found = await world.registry.findTasks({ goalId });
        return found.every((t) => t.state !== 'PENDING' && t.state !== 'BACKLOG') ? found : null;
      },
      { timeoutMs: 30000, intervalMs: 100 },
    );
    expect(tasks.map((t) => [t.key, t.state]).sort()).toEqual([
      ['after', 'DONE'],
      ['flaky', 'DONE'],
    ]);
    const flaky = tasks.find((t) => t.key === 'flaky')!;
    // A fresh run: epoch 1, its first attempt succeeded, the old error is gone.
    expect([flaky.epoch, flaky.attempt, flaky.error]).toEqual([1, 1, null]);
    expect(flaky.result).toEqual({ from: 'flaky', attempt: 1 });
    expect(starts.filter((s) => s.key === 'flaky')).toEqual([
      { key: 'flaky', attempt: 1, wiped: false },
      { key: 'flaky', attempt: 2, wiped: false },
      { key: 'flaky', attempt: 1, wiped: true },
    ]);
    expect(depsOfAfter).toEqual([{ flaky: { from: 'flaky', attempt: 1 } }]);

    // The audit log: the retry wait, the new epoch opened by `recover`, then one run to DONE.
    const events = (await world.events(goalId)).filter((e) => e.taskId === flakyId);
    expect(events[0]).toMatchObject({ event: 'new', toState: 'PENDING' });
    expect(events.slice(1).map((e) => [e.fromState, e.toState, e.attempt, e.actor])).toEqual([
      ['PENDING', 'ASSIGNED', 1, null],
      ['ASSIGNED', 'ACTIVE', 1, null],
      ['ACTIVE', 'PENDING', 1, null],
      ['PENDING', 'ASSIGNED', 2, null],
      ['ASSIGNED', 'ACTIVE', 2, null],
      ['ACTIVE', 'PENDING', 2, null],
      ['PENDING', 'PENDING', 0, 'recover'],
      ['PENDING', 'ASSIGNED', 1, null],
      ['ASSIGNED', 'ACTIVE', 1, null],
      ['ACTIVE', 'DONE', 1, null],
    ]);
  });
});
