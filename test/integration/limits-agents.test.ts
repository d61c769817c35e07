/**
 * Capability limits over three agent processes (real child processes, real Redis): concurrency
 * never above the limit and reaching it, starts per rate window never above the rate, and a
 * changed limit taking effect in the running agents. The handlers record each start and end in
 * Redis (test/fixtures/handlers/limits.cjs), with the number running at each start.
 */
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { spawnAgent, type AgentChild } from '../helpers/agent-spawn';
import { addTask } from '../helpers/agent-tasks';
import { peakRunning, readLimitLog, startsPerWindow } from '../helpers/limit-log';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

// Three agent processes start through tsx; the rate test runs several one-second windows.
jest.setTimeout(90000);

const prefix = uniquePrefix('limits');
const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
const handlers = resolve(__dirname, '../fixtures/handlers/limits.cjs');
const agents: AgentChild[] = [];

async function startAgents(): Promise<void> {
  const env = { ...process.env, AGENTQ_TEST_LIMITS_REDIS: REDIS_URL };
  for (const id of ['a1', 'a2', 'a3']) {
    agents.push(
      await spawnAgent(
        {
          url: REDIS_URL,
          prefix,
          agentId: id,
          capabilities: ['limited'],
          handlersFile: handlers,
          concurrency: 4,
          lockDurationMs: 5000,
          stalledIntervalMs: 2000,
        },
        env,
      ),
    );
  }
}

function newLog(): string {
  // One hash tag for both keys of the log: one slot on Redis Cluster.
  return `{${prefix}}:limitlog:${randomBytes(4).toString('hex')}`;
}

async function enqueue(log: string, count: number, ms: number) {
  const jobs = [];
  for (let i = 0; i < count; i++) {
    jobs.push(await addTask(coordinator, { type: 'limited', key: `t${i}`, data: { log, ms } }));
  }
  return jobs;
}

async function allDone(jobs: Awaited<ReturnType<typeof enqueue>>): Promise<boolean> {
  for (const job of jobs) if (!(await job.isCompleted())) return false;
  return true;
}

describe('capability limits over three agent processes', () => {
  beforeAll(startAgents);

  afterAll(async () => {
    for (const { child, exited } of agents) {
      child.kill('SIGKILL');
      await exited;
    }
    await coordinator.clearCapabilityLimits('limited');
    await coordinator.close();
  });

  it('never runs more than the concurrency limit at once, and reaches it', async () => {
    await coordinator.setCapabilityLimits('limited', { concurrency: 3 });
    const log = newLog();
    const jobs = await enqueue(log, 24, 150);
    await waitFor('every task done', () => allDone(jobs), { timeoutMs: 60000 });
    const events = await readLimitLog(coordinator.client, log);
    expect(events.filter((e) => e.kind === 'start')).toHaveLength(24);
    // 12 worker slots over three processes; the limit is what holds them to 3.
    expect(peakRunning(events)).toBe(3);
  });

  it('takes a changed limit into account in running agents, without a restart', async () => {
    await coordinator.setCapabilityLimits('limited', { concurrency: 2 });
    const log = newLog();
    const jobs = await enqueue(log, 30, 200);
    await waitFor('six tasks done', async () => {
      const events = await readLimitLog(coordinator.client, log);
      return events.filter((e) => e.kind === 'end').length >= 6;
    });
    const before = await readLimitLog(coordinator.client, log);
    await coordinator.setCapabilityLimits('limited', { concurrency: 6 });
    const changedAfter = before.length;
    await waitFor('every task done', () => allDone(jobs), { timeoutMs: 60000 });
    const events = await readLimitLog(coordinator.client, log);
    expect(peakRunning(events.slice(0, changedAfter))).toBe(2);
    expect(peakRunning(events)).toBe(6);
  });

  it('never starts more than the rate per window, and reaches it', async () => {
    await coordinator.setCapabilityLimits('limited', { rate: { max: 4, durationMs: 1000 } });
    const log = newLog();
    const jobs = await enqueue(log, 14, 10);
    await waitFor('every task done', () => allDone(jobs), { timeoutMs: 60000 });
    const events = await readLimitLog(coordinator.client, log);
    // Windows a little shorter than the limiter's: the claim is counted a few ms before the start.
    const windows = startsPerWindow(events, 900);
    expect(windows.reduce((a, b) => a + b, 0)).toBe(14);
    expect(Math.max(...windows)).toBe(4);
    expect(windows.length).toBeGreaterThanOrEqual(4);
  });
});
