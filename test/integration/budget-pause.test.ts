/**
 * Goal budgets across three agent processes (two tasks at once each): the goal pauses at 100 %
 * of its budget and no task of it starts after the crossing (every task not started by then is
 * held), the overshoot is bounded by the tasks running at the crossing, a soft event comes at
 * 80 %, and raising the budget resumes it. Also: pause and resume by hand, and cancelling a
 * paused goal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { RedisConnection } from '../../src/queues/connection';
import { readGoalBudget } from '../../src/queues/goal-budget';
import { cancelGoal } from '../../src/interface/operations/cancel-goal';
import { pauseGoal } from '../../src/interface/operations/pause-goal';
import { raiseGoalBudget } from '../../src/interface/operations/raise-goal-budget';
import { InterfaceAgent } from '../../src/interface/interface-agent';
import { FaultWorld } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(120_000);

const CHANNEL_PREFIX = 'bp.';
const AGENTS = 3;
const CONCURRENCY = 2;

let world: FaultWorld;
let subscriber: RedisConnection;
const budgetMessages: Array<Record<string, unknown>> = [];
const validate = new Ajv2020({ validateFormats: false }).compile(
  JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'docs', 'events.schema.json'), 'utf8'),
  ) as object,
);

function deps() {
  return { store: world.registry, coordinator: world.coordinator };
}

function spendPlan(name: string, count: number, extra: Record<string, unknown> = {}) {
  return {
    goal: `spend ${name}`,
    ...extra,
    tasks: Array.from({ length: count }, (_, i) => ({
      key: `t${i}`,
      title: `task ${i}`,
      type: 'spend',
      data: { tokens: 10, ms: 150 },
    })),
  };
}

function startsOf(goalId: string): number {
  return world.records().filter((r) => r.phase === 'start' && r.taskId.startsWith(`${goalId}.`))
    .length;
}

/** Every task of the goal has started or is held: nothing else of it can start. */
async function untilSettledAndHeld(goalId: string, count: number) {
  return waitFor(`goal ${goalId}: nothing running, the rest held`, async () => {
    const record = await readGoalBudget(world.coordinator, goalId);
    if (!record || record.running > 0) return null;
    return record.held === count - startsOf(goalId) ? record : null;
  });
}

describe('a goal budget across three agent processes', () => {
  beforeAll(async () => {
    world = await FaultWorld.start({ bridge: true, channelPrefix: CHANNEL_PREFIX });
    subscriber = world.coordinator.duplicate('worker');
    subscriber.on('message', (_channel: string, message: string) =>
      budgetMessages.push(JSON.parse(message) as Record<string, unknown>),
    );
    await subscriber.subscribe(`${CHANNEL_PREFIX}goals:budget`);
    for (let i = 1; i <= AGENTS; i++) {
      await world.startAgent(`spender-${i}`, ['spend'], { concurrency: CONCURRENCY });
    }
  });

  afterAll(async () => {
    await subscriber?.quit();
    await world?.close();
  });

  it('pauses at 100 %: no task starts after the crossing, the overshoot is the running tasks, raising resumes', async () => {
    const count = 30;
    const { goalId } = await world.supervisor.submitPlan(
      spendPlan('budgeted', count, { budget: { tokens: 100 } }),
    );
    await waitFor(
      'the goal PAUSED in SQL',
      async () => (await world.goalState(goalId)) === 'PAUSED',
    );
    const held = await untilSettledAndHeld(goalId, count);
    expect(held.state).toBe('PAUSED');
    expect(held.pausedBy).toBe('budget');
    // Tasks that passed the gate before the crossing finished; nothing started after it.
    const running = held.runningAtPause!;
    expect(running).toBeGreaterThanOrEqual(1);
    expect(running).toBeLessThanOrEqual(AGENTS * CONCURRENCY);
    const started = startsOf(goalId);
    expect(held.usage.tokens).toBe(started * 10);
    // The crossing task brought use to exactly 100; the others running then add 10 each at most.
    expect(held.usage.tokens).toBeGreaterThanOrEqual(100);
    expect(held.usage.tokens).toBeLessThanOrEqual(100 + (running - 1) * 10);
    expect(held.usage.wallMs).toBeGreaterThanOrEqual(started * 150);
    expect(held.held).toBe(count - started);

    // The audit log has the soft and the hard crossing; the channel carried both.
    await waitFor('both crossings on goals:budget', () =>
      ['soft', 'hard'].every((level) =>
        budgetMessages.some((m) => m.goalId === goalId && m.level === level),
      ),
    );
    const soft = budgetMessages.find((m) => m.goalId === goalId && m.level === 'soft')!;
    expect((soft.usage as { tokens: number }).tokens).toBeGreaterThanOrEqual(80);
    expect((soft.usage as { tokens: number }).tokens).toBeLessThan(100);
    expect(soft.budget).toEqual({ tokens: 100 });
    const hard = budgetMessages.find((m) => m.goalId === goalId && m.level === 'hard')!;
    expect(hard).toMatchObject({ event: 'budget', state: 'PAUSED', budget: { tokens: 100 } });
    // Every message matches the published schema (docs/events.schema.json).
    for (const message of budgetMessages)
      expect([validate(message), validate.errors]).toEqual([true, null]);
    const audit = (await world.events(goalId)).filter((e) => e.event === 'budget');
    expect(audit.map((e) => e.detail?.budget?.level)).toEqual(['soft', 'hard']);
    expect(audit[1]).toMatchObject({ taskId: goalId, fromState: 'ACTIVE', toState: 'PAUSED' });

    // Still nothing starts while it stays paused (every remaining task is held, none runs).
    expect(startsOf(goalId)).toBe(started);

    const raised = await raiseGoalBudget(deps(), { goalId, budget: { tokens: 1000 } }, 'test');
    expect(raised.state).toBe('ACTIVE');
    expect(await world.goalEnd(goalId)).toBe('DONE');
    const after = await readGoalBudget(world.coordinator, goalId);
    expect(after!.usage.tokens).toBe(count * 10);
    expect(startsOf(goalId)).toBe(count);
    const goal = await world.registry.getGoal(goalId);
    expect(goal!.budget).toEqual({ tokens: 1000 });
  });

  it('pauses and resumes by hand (InterfaceAgent)', async () => {
    const count = 12;
    const iface = new InterfaceAgent(world.registry, world.coordinator, { mirror: false });
    const { goalId } = await world.supervisor.submitPlan(spendPlan('by hand', count));
    await waitFor('a first task to start', () => startsOf(goalId) > 0);
    await iface.pauseGoal(goalId, 'cli:test');
    expect((await world.registry.getGoal(goalId))!.state).toBe('PAUSED');
    const held = await untilSettledAndHeld(goalId, count);
    expect(held.pausedBy).toBe('hand');
    const started = startsOf(goalId);
    expect(started).toBeLessThan(count);
    await expect(iface.pauseGoal(goalId, 'cli:test')).rejects.toThrow(/paused already/);
    // A task that started before the pause reports its use when it ends.
    await waitFor('the use of a started task', async () => {
      const record = await readGoalBudget(world.coordinator, goalId);
      return (record?.usage.tokens ?? 0) >= 10;
    });
    await expect(iface.setGoalBudget(goalId, { tokens: 5 })).rejects.toThrow(
      /tokens: 5 is below what the goal used already/,
    );
    expect((await readGoalBudget(world.coordinator, goalId))!.state).toBe('PAUSED');
    // A new budget does not resume a goal paused by hand.
    const set = await iface.setGoalBudget(goalId, { tokens: 10_000 });
    expect(set).toMatchObject({ state: 'PAUSED', budget: { tokens: 10_000 } });
    const resumed = await iface.resumeGoal(goalId, 'cli:test');
    expect(resumed.released).toBeGreaterThan(0);
    expect(await world.goalEnd(goalId)).toBe('DONE');
    expect(startsOf(goalId)).toBe(count);
    const events = (await world.events(goalId)).filter((e) => e.taskId === goalId);
    expect(events.map((e) => [e.event, e.actor, e.toState])).toEqual([
      ['paused', 'cli:test', 'PAUSED'],
      ['budget_set', 'interface', 'PAUSED'],
      ['resumed', 'cli:test', 'ACTIVE'],
    ]);
    await expect(iface.resumeGoal(goalId, 'cli:test')).rejects.toThrow(/has already ended/);
    await iface.close();
  });

  it('cancels a paused goal', async () => {
    const count = 8;
    const { goalId } = await world.supervisor.submitPlan(spendPlan('cancelled', count));
    await pauseGoal(deps(), { goalId }, 'cli:test');
    await untilSettledAndHeld(goalId, count);
    await cancelGoal(deps(), { goalId }, 'cli:test');
    expect(await world.goalEnd(goalId)).toBe('CANCELLED');
    // The held tasks never ran; one running when it was cancelled is stopped (or finishes): a
    // CANCELLED goal is recorded at once, its running tasks end a moment later.
    const tasks = await waitFor('every task ended', async () => {
      const all = await world.registry.findTasks({ goalId });
      return all.every((t) => t.state === 'CANCELLED' || t.state === 'DONE') ? all : null;
    });
    const cancelled = tasks.filter((t) => t.state === 'CANCELLED').length;
    expect(cancelled).toBeGreaterThanOrEqual(count - startsOf(goalId));
  });
});
