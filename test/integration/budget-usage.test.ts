/**
 * `ctx.usage` from the three kinds of handler — in process, in a sandbox child, a shell command's
 * last JSON line — rolls up into the goal's use in Redis (and from there to SQL), and every run
 * adds its run time to `wallMs`. A bad report fails the attempt with a message naming the field.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PlanSpec } from '../../src/entities/task-model';
import { TaskRegistry } from '../../src/entities/task-registry';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { createShellHandler } from '../../src/processors/shell-executor';
import { readGoalBudget, syncGoalBudgets } from '../../src/queues/goal-budget';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { spawnAgent, type AgentChild } from '../helpers/agent-spawn';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(60_000);

const prefix = uniquePrefix('usage');
const dir = mkdtempSync(join(tmpdir(), 'agentq-usage-'));
const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
const supervisor = new SupervisorAgent(registry, coordinator);
let agent: AutonomousAgent;
let sandboxed: AgentChild;

const shellLine = JSON.stringify({ usage: { tokens: 7, costUsd: 0.25 }, note: 'done' });

function plan(type: string, data: Record<string, unknown> = {}): PlanSpec {
  return {
    goal: `usage from ${type}`,
    budget: { tokens: 1_000_000 },
    tasks: [{ key: 'only', title: 'only task', type, data: data as PlanSpec['tasks'][0]['data'] }],
  };
}

async function finished(goalId: string, type: string) {
  const job = await waitFor('the job', () => coordinator.queue(type).getJob(`${goalId}.only`));
  await waitFor('the job to finish', async () => (await job.isCompleted()) || job.isFailed(), {
    timeoutMs: 40_000,
  });
  return (await coordinator.queue(type).getJob(`${goalId}.only`))!;
}

/** The use once the run settled (its wallMs is in). */
async function settledUsage(goalId: string) {
  const record = await waitFor('the run to settle', async () => {
    const r = await readGoalBudget(coordinator, goalId);
    return r && r.running === 0 && r.usage.wallMs > 0 ? r : null;
  });
  return record.usage;
}

describe('ctx.usage', () => {
  beforeAll(async () => {
    agent = new AutonomousAgent({
      agentId: 'usage-agent',
      capabilities: ['inproc', 'shell', 'bad'],
      redisCoordinator: coordinator,
      handlers: {
        inproc: async (_task, ctx) => {
          await ctx.usage({ tokens: 120, costUsd: 0.5 });
          await ctx.usage({ tokens: 30 });
          return { ok: true };
        },
        shell: createShellHandler([
          'node',
          '-e',
          `console.log('working'); console.log(${JSON.stringify(shellLine)})`,
        ]),
        bad: async (_task, ctx) => {
          await ctx.usage({ tokens: -1 });
          return null;
        },
      },
      breaker: false,
      heartbeatMs: 500,
    });
    await agent.start();
    sandboxed = await spawnAgent({
      url: REDIS_URL,
      prefix,
      agentId: 'usage-sandboxed',
      capabilities: ['spend'],
      handlersFile: resolve(__dirname, '../fixtures/handlers/behaviours.cjs'),
      sandboxed: true,
    });
  });

  afterAll(async () => {
    sandboxed?.child.kill('SIGTERM');
    await sandboxed?.exited;
    await agent?.close();
    await supervisor.close();
    await coordinator.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds up reports of an in-process handler, and its run time', async () => {
    const { goalId } = await supervisor.submitPlan(plan('inproc'));
    expect((await finished(goalId, 'inproc')).returnvalue.result).toEqual({ ok: true });
    const usage = await settledUsage(goalId);
    expect(usage.tokens).toBe(150);
    expect(usage.costUsd).toBeCloseTo(0.5);
    // And SQL gets the copy.
    await syncGoalBudgets(registry, coordinator);
    const goal = await registry.getGoal(goalId);
    expect(goal!.usage).toMatchObject({ tokens: 150, costUsd: 0.5 });
    expect(goal!.usage!.wallMs).toBe(usage.wallMs);
    expect(goal!.budget).toEqual({ tokens: 1_000_000 });
  });

  it('takes the reports of a sandboxed handler from its child process', async () => {
    const { goalId } = await supervisor.submitPlan(
      plan('spend', { usage: { tokens: 40, costUsd: 0.125 } }),
    );
    expect((await finished(goalId, 'spend')).returnvalue.result).toEqual({ spent: true });
    const usage = await settledUsage(goalId);
    expect(usage.tokens).toBe(80);
    expect(usage.costUsd).toBeCloseTo(0.25);
  });

  it("reads a shell command's use from its last JSON line", async () => {
    const { goalId } = await supervisor.submitPlan(plan('shell'));
    const job = await finished(goalId, 'shell');
    expect(job.returnvalue.result.output).toEqual({
      usage: { tokens: 7, costUsd: 0.25 },
      note: 'done',
    });
    const usage = await settledUsage(goalId);
    expect(usage.tokens).toBe(7);
    expect(usage.costUsd).toBeCloseTo(0.25);
  });

  it('fails the attempt of a handler reporting a negative use, naming the field', async () => {
    const { goalId } = await supervisor.submitPlan({
      ...plan('bad'),
      tasks: [{ key: 'only', title: 'bad use', type: 'bad', attempts: 1 }],
    });
    const job = await finished(goalId, 'bad');
    expect(job.failedReason).toBe('ctx.usage.tokens: must be 0 or more');
    const record = await readGoalBudget(coordinator, goalId);
    expect(record!.usage.tokens).toBe(0);
  });
});
