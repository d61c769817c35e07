/**
 * Goal budgets under faults, with three agent processes on a private Redis (AOF, fsync always):
 * - an agent killed (SIGKILL) while it runs a task of a goal that is then paused: BullMQ takes
 *   the task back, and the agent that gets it holds it at the budget gate instead of running it;
 * - Redis killed and restarted: budget, use, PAUSED and the held tasks are still there, and
 *   nothing of the goal starts until its budget is raised;
 * - Redis wiped and `agentq recover` run: budget, use and PAUSED come back from SQL, the rebuilt
 *   tasks are held, and raising the budget finishes the goal.
 */
import { Redis } from 'ioredis';
import type { PlanSpec } from '../../src/entities/task-model';
import { pauseGoal } from '../../src/interface/operations/pause-goal';
import { raiseGoalBudget } from '../../src/interface/operations/raise-goal-budget';
import { resumeGoal } from '../../src/interface/operations/resume-goal';
import { readGoalBudget } from '../../src/queues/goal-budget';
import { FaultWorld, type FaultAgent } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(120_000);

function plan(name: string, count: number, ms: number, budget?: PlanSpec['budget']): PlanSpec {
  return {
    goal: `faults: ${name}`,
    ...(budget ? { budget } : {}),
    tasks: Array.from({ length: count }, (_, i) => ({
      key: `t${i}`,
      title: `task ${i}`,
      type: 'spend',
      data: { tokens: 10, ms },
    })),
  };
}

describe('goal budgets under faults', () => {
  let world: FaultWorld;
  const agents: FaultAgent[] = [];

  beforeAll(async () => {
    world = await FaultWorld.start({
      redisArgs: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    for (let i = 1; i <= 3; i++) {
      // Short locks: a killed agent's task comes back within seconds.
      agents.push(
        await world.startAgent(`agent-${i}`, ['spend'], {
          concurrency: 1,
          lockDurationMs: 3000,
          stalledIntervalMs: 1500,
        }),
      );
    }
  });

  afterAll(async () => {
    await world?.close();
  });

  const deps = () => ({ store: world.registry, coordinator: world.coordinator });
  const starts = (goalId: string, key?: string) =>
    world
      .records()
      .filter(
        (r) => r.phase === 'start' && r.taskId.startsWith(`${goalId}.`) && (!key || r.key === key),
      );

  /** Nothing of the goal runs and every task not started yet is held. */
  const untilHeld = (goalId: string, count: number) =>
    waitFor(
      `goal ${goalId}: the rest held`,
      async () => {
        const record = await readGoalBudget(world.coordinator, goalId);
        if (!record || record.running > 0) return null;
        const started = new Set(starts(goalId).map((r) => r.key)).size;
        return record.held >= count - started ? record : null;
      },
      { timeoutMs: 60_000 },
    );

  it("holds a killed agent's task at the gate when BullMQ hands it back to another agent", async () => {
    const { goalId } = await world.supervisor.submitPlan(plan('kill -9', 1, 6000, { tokens: 100 }));
    const first = await waitFor('the task to start', () => starts(goalId)[0]);
    await pauseGoal(deps(), { goalId }, 'test');
    const victim = agents.find((a) => a.id === first.agentId)!;
    await world.stopAgent(victim, 'SIGKILL');
    // BullMQ finds the stalled task and hands it out again: the agent that gets it holds it.
    const held = await waitFor(
      'the task held after its agent died',
      async () => {
        const record = await readGoalBudget(world.coordinator, goalId);
        return record && record.held === 1 ? record : null;
      },
      { timeoutMs: 60_000 },
    );
    expect(held).toMatchObject({ state: 'PAUSED', running: 0, budget: { tokens: 100 } });
    expect(starts(goalId)).toHaveLength(1);
    expect((await world.registry.getGoal(goalId))!.state).toBe('PAUSED');
    // Resumed, it runs again (on a live agent) and the goal ends.
    agents.push(
      await world.startAgent('agent-4', ['spend'], {
        concurrency: 1,
        lockDurationMs: 3000,
        stalledIntervalMs: 1500,
      }),
    );
    await resumeGoal(deps(), { goalId }, 'test');
    expect(await world.goalEnd(goalId, 60_000)).toBe('DONE');
    expect(starts(goalId)).toHaveLength(2);
    expect((await readGoalBudget(world.coordinator, goalId))!.usage.tokens).toBe(10);
  });

  it('keeps budget, use, PAUSED and the held tasks across a Redis kill and AOF restart', async () => {
    const count = 6;
    const { goalId } = await world.supervisor.submitPlan(plan('aof', count, 100, { tokens: 20 }));
    const before = await untilHeld(goalId, count);
    expect(before.state).toBe('PAUSED');
    const startedBefore = starts(goalId).length;

    await world.redis.stopProcess('SIGKILL');
    await world.redis.startProcess();

    const after = await readGoalBudget(world.coordinator, goalId);
    expect(after).toMatchObject({
      state: 'PAUSED',
      pausedBy: 'budget',
      budget: { tokens: 20 },
      usage: { tokens: before.usage.tokens },
      held: before.held,
      rev: before.rev,
    });
    expect(starts(goalId)).toHaveLength(startedBefore);
    await raiseGoalBudget(deps(), { goalId, budget: { tokens: 1000 } }, 'test');
    expect(await world.goalEnd(goalId, 60_000)).toBe('DONE');
    expect(starts(goalId)).toHaveLength(count);
  });

  it('restores budget, use and PAUSED from SQL with agentq recover after Redis lost its keys', async () => {
    const count = 6;
    const { goalId } = await world.supervisor.submitPlan(
      plan('recover', count, 100, { tokens: 20 }),
    );
    const record = await untilHeld(goalId, count);
    // SQL has the copy (the mirror copies each tick) before Redis loses it.
    await waitFor('SQL to hold the budget copy', async () => {
      const goal = await world.registry.getGoal(goalId);
      return goal?.state === 'PAUSED' && goal.usageRev === record.rev;
    });
    const startedBefore = starts(goalId).length;
    const wipe = new Redis(world.redis.url);
    await wipe.flushall();
    await wipe.quit();
    expect(await readGoalBudget(world.coordinator, goalId)).toBeNull();

    const recovered = await world.cli(['recover', '--json']);
    expect(recovered.code).toBe(0);
    expect(JSON.parse(recovered.stdout).goals.map((g: { goalId: string }) => g.goalId)).toContain(
      goalId,
    );
    const restored = await readGoalBudget(world.coordinator, goalId);
    expect(restored).toMatchObject({
      state: 'PAUSED',
      budget: { tokens: 20 },
      usage: { tokens: record.usage.tokens, wallMs: record.usage.wallMs },
      level: 'hard',
    });
    // The rebuilt tasks meet the gate: held, not run.
    await untilHeld(goalId, count);
    expect(starts(goalId)).toHaveLength(startedBefore);
    expect((await world.registry.getGoal(goalId))!.state).toBe('PAUSED');

    const raised = await world.cli(['goal', 'budget', goalId, '--tokens', '1000']);
    expect(raised.code).toBe(0);
    expect(await world.goalEnd(goalId, 60_000)).toBe('DONE');
    expect(new Set(starts(goalId).map((r) => r.key)).size).toBe(count);
    // SQL's copy catches up with the use of the runs after the recovery too.
    await waitFor('SQL to hold the final use', async () => {
      const goal = await world.registry.getGoal(goalId);
      return (goal?.usage?.tokens ?? 0) >= count * 10;
    });
  });
});
