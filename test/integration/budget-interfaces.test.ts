/**
 * Goal budgets as people see and change them: use and budget in `GET /api/goals/:id`,
 * `/api/status`, `/metrics`, the goal page, `agentq goal show` and `agentq status`; raising and
 * pausing through REST and the CLI; and bad input — a budget below what is used, negative,
 * non-numeric, unknown fields, a plan with a bad budget — answered 400 / exit 2 with the field
 * named and nothing changed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createApp, type AgentqApp } from '../../src/board/app';
import type { PlanSpec } from '../../src/entities/task-model';
import { readGoalBudget } from '../../src/queues/goal-budget';
import { FaultWorld } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(120_000);

function plan(name: string, count: number, budget?: object | string) {
  return {
    goal: `spend ${name}`,
    ...(budget === undefined ? {} : { budget }),
    tasks: Array.from({ length: count }, (_, i) => ({
      key: `t${i}`,
      title: `task ${i}`,
      type: 'spend',
      data: { tokens: 10, ms: 50 },
    })),
  };
}

describe('goal budgets through REST, the CLI, the page and /metrics', () => {
  let world: FaultWorld;
  let api: AgentqApp;
  let goalId: string;

  beforeAll(async () => {
    world = await FaultWorld.start({ bridge: true });
    api = createApp({
      store: world.registry,
      coordinator: world.coordinator,
      config: { token: null, readonlyToken: null },
      log: () => undefined,
      goals: world.supervisor,
    });
    await api.ready;
    await world.startAgent('spender', ['spend'], { concurrency: 1 });
    const created = await request(api.app)
      .post('/api/goals')
      .send({ plan: plan('shown', 5, { tokens: 20, costUsd: 5 }) })
      .expect(201);
    goalId = created.body.goalId as string;
    await waitFor(
      'the goal PAUSED in SQL',
      async () => (await world.goalState(goalId)) === 'PAUSED',
    );
    await waitFor('its running task settled', async () => {
      const r = await readGoalBudget(world.coordinator, goalId);
      return r && r.running === 0 && r.held > 0;
    });
  });

  afterAll(async () => {
    await api?.close();
    await world?.close();
  });

  it('shows use and budget in GET /api/goals/:id and /api/status', async () => {
    const goal = await request(api.app).get(`/api/goals/${goalId}`).expect(200);
    expect(goal.body.goal).toMatchObject({ state: 'PAUSED', budget: { tokens: 20, costUsd: 5 } });
    expect(goal.body.budget).toMatchObject({
      state: 'PAUSED',
      pausedBy: 'budget',
      budget: { tokens: 20, costUsd: 5 },
      usage: { tokens: 20 },
      used: 1,
      running: 0,
      source: 'redis',
    });
    expect(goal.body.budget.held).toBeGreaterThan(0);
    const status = await request(api.app).get('/api/status').expect(200);
    expect(status.body.budgets).toEqual([
      expect.objectContaining({
        goalId,
        state: 'PAUSED',
        usage: expect.objectContaining({ tokens: 20 }),
      }),
    ]);
  });

  it('exports budget, use and paused per goal in /metrics', async () => {
    const text = (await request(api.app).get('/metrics').expect(200)).text;
    expect(text).toContain(`agentq_goal_budget{goal="${goalId}",dimension="tokens"} 20`);
    expect(text).toContain(`agentq_goal_budget{goal="${goalId}",dimension="costUsd"} 5`);
    expect(text).toContain(`agentq_goal_usage{goal="${goalId}",dimension="tokens"} 20`);
    expect(text).toContain(`agentq_goal_paused{goal="${goalId}"} 1`);
  });

  it('shows use against budget on the goal page', async () => {
    const html = (await request(api.app).get(`/goals/${goalId}`).expect(200)).text;
    expect(html).toMatch(
      /<span id="goal-budget">tokens 20\/20 \(100 %\), costUsd 0\/5 \(0 %\), wallMs \d+<\/span>/,
    );
    expect(html).toMatch(/id="goal-state" class="state">PAUSED</);
    expect(html).toContain("addEventListener('goals:budget'");
  });

  it('shows use and budget in agentq goal show and agentq status', async () => {
    const show = await world.cli(['goal', 'show', goalId]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('PAUSED');
    expect(show.stdout).toMatch(
      /Budget: tokens 20\/20 \(100 %\), costUsd 0\/5 \(0 %\), wallMs \d+ — paused by its budget \(\d+ held, 0 running\)/,
    );
    const json = await world.cli(['--json', 'goal', 'show', goalId]);
    expect(JSON.parse(json.stdout).budget).toMatchObject({
      state: 'PAUSED',
      usage: { tokens: 20 },
    });
    const status = await world.cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('paused: 1');
    expect(status.stdout).toMatch(new RegExp(`${goalId}\\W+PAUSED\\W+tokens 20/20 \\(100 %\\)`));
    const statusJson = JSON.parse((await world.cli(['--json', 'status'])).stdout);
    expect(statusJson.budgets[0]).toMatchObject({ goalId, state: 'PAUSED' });
  });

  it('refuses a budget below use, negative, non-numeric or unknown: 400 naming the field, nothing changed', async () => {
    const cases: Array<[object, string, RegExp]> = [
      [{ tokens: 10 }, 'tokens', /below what the goal used already \(20\)/],
      [{ tokens: -5 }, 'tokens', /more than 0/],
      [{ tokens: 'abc' }, 'tokens', /must be a number/],
      [{ tokens: 2.5 }, 'tokens', /whole number/],
      [{ tokenz: 50 }, 'tokenz', /not a budget field/],
      [{}, 'budget', /at least one/],
    ];
    for (const [body, field, message] of cases) {
      const res = await request(api.app).post(`/api/goals/${goalId}/budget`).send(body).expect(400);
      expect(res.body.error.field).toBe(field);
      expect(res.body.error.message).toMatch(message);
    }
    const after = await readGoalBudget(world.coordinator, goalId);
    expect(after).toMatchObject({ state: 'PAUSED', budget: { tokens: 20, costUsd: 5 } });
    await request(api.app)
      .post('/api/goals/g-0000000000000000/budget')
      .send({ tokens: 5 })
      .expect(404);
  });

  it('refuses the same through the CLI with exit 2, and a plan with a bad budget', async () => {
    const below = await world.cli(['goal', 'budget', goalId, '--tokens', '10']);
    expect(below.code).toBe(2);
    expect(below.stderr).toMatch(/tokens: 10 is below what the goal used already \(20\)/);
    const text = await world.cli(['goal', 'budget', goalId, '--tokens', 'abc']);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/--tokens: 'abc' is not a number/);
    const negative = await world.cli(['goal', 'budget', goalId, '--cost-usd', '-1']);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toMatch(/costUsd: must be more than 0/);
    const none = await world.cli(['goal', 'budget', goalId]);
    expect(none.code).toBe(2);
    expect((await readGoalBudget(world.coordinator, goalId))!.budget).toEqual({
      tokens: 20,
      costUsd: 5,
    });

    const goalsBefore = (await world.registry.listGoals({ limit: 1000 })).length;
    const file = join(world.dir, 'bad-budget.json');
    writeFileSync(file, JSON.stringify(plan('bad', 1, { tokens: -1 })));
    const bad = await world.cli(['plan', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/budget\.tokens: must be more than 0/);
    const res = await request(api.app)
      .post('/api/goals')
      .send({ plan: plan('bad', 1, { tokens: 10, wallMs: 'soon' }) })
      .expect(400);
    expect(res.body.error.field).toBe('budget.wallMs');
    await request(api.app)
      .post('/api/goals')
      .send({ plan: plan('bad', 1, 'lots') })
      .expect(400);
    expect((await world.registry.listGoals({ limit: 1000 })).length).toBe(goalsBefore);
  });

  it('pauses and resumes through REST and the CLI; raising the budget resumes the goal', async () => {
    const paused = await world.cli(['goal', 'pause', goalId]);
    expect(paused.code).toBe(1);
    expect(paused.stderr).toMatch(/paused already/);
    const raised = await world.cli(['--json', 'goal', 'budget', goalId, '--tokens', '1000']);
    expect(raised.code).toBe(0);
    expect(JSON.parse(raised.stdout)).toMatchObject({ state: 'ACTIVE', budget: { tokens: 1000 } });
    expect(await world.goalEnd(goalId)).toBe('DONE');
    expect((await world.cli(['goal', 'pause', goalId])).code).toBe(1);

    const other = await request(api.app)
      .post('/api/goals')
      .send({ plan: plan('rest', 3) })
      .expect(201);
    const id = other.body.goalId as string;
    const pause = await request(api.app).post(`/api/goals/${id}/pause`).expect(200);
    expect(pause.body).toEqual({ goalId: id, state: 'PAUSED' });
    await request(api.app).post(`/api/goals/${id}/pause`).expect(409);
    const resume = await request(api.app).post(`/api/goals/${id}/resume`).expect(200);
    expect(resume.body).toMatchObject({ goalId: id, state: 'ACTIVE' });
    expect(await world.goalEnd(id)).toBe('DONE');
    await request(api.app).post(`/api/goals/${id}/resume`).expect(409);
    await request(api.app).post('/api/goals/g-0000000000000000/pause').expect(404);
    // Long enough tasks that the goal still runs when the CLI (a new process) gets to it.
    const slow = plan('cli', 3) as PlanSpec;
    for (const task of slow.tasks) task.data = { tokens: 10, ms: 3000 };
    const cliGoal = await world.supervisor.submitPlan(slow);
    expect((await world.cli(['goal', 'pause', cliGoal.goalId])).code).toBe(0);
    expect((await world.registry.getGoal(cliGoal.goalId))!.state).toBe('PAUSED');
    const resumed = await world.cli(['goal', 'resume', cliGoal.goalId]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/resumed/);
    expect(await world.goalEnd(cliGoal.goalId)).toBe('DONE');
  });
});
