/**
 * Per-key concurrency with fairness over three agent processes (real child processes, real
 * Redis): at most K tasks of one `concurrencyKey` run at once, keys take turns (a key queued
 * behind 200 tasks of another finishes first), a raised limit lets parked tasks run without a
 * restart, and the slot of an agent killed with -9 comes back when BullMQ takes its task back.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { viewCapabilityLimits } from '../../src/queues/limits-view';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { spawnAgent, type AgentChild } from '../helpers/agent-spawn';
import { addTask } from '../helpers/agent-tasks';
import { peakPerKey, readLimitLog, type LimitEvent } from '../helpers/limit-log';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

// Three agent processes start through tsx; the crash test waits for a lock to expire.
jest.setTimeout(120000);

const prefix = uniquePrefix('perkey');
const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
const handlers = resolve(__dirname, '../fixtures/handlers/limits.cjs');
const agents: AgentChild[] = [];
const byId = new Map<string, AgentChild>();
const env = { ...process.env, AGENTQ_TEST_LIMITS_REDIS: REDIS_URL };

async function startAgent(id: string): Promise<AgentChild> {
  const agent = await spawnAgent(
    {
      url: REDIS_URL,
      prefix,
      agentId: id,
      capabilities: ['keyed'],
      handlersFile: handlers,
      concurrency: 3,
      // Short locks so a killed agent's task is taken back in seconds (production: 30 s).
      lockDurationMs: 2000,
      stalledIntervalMs: 1000,
    },
    env,
  );
  agents.push(agent);
  byId.set(id, agent);
  return agent;
}

function newLog(): string {
  // One hash tag for both keys of the log: one slot on Redis Cluster.
  return `{${prefix}}:limitlog:${randomBytes(4).toString('hex')}`;
}

type Jobs = Array<Awaited<ReturnType<typeof addTask>>>;

async function enqueue(log: string, key: string, count: number, ms: number): Promise<Jobs> {
  const jobs: Jobs = [];
  for (let i = 0; i < count; i++) {
    jobs.push(
      await addTask(coordinator, {
        type: 'keyed',
        key: `${key}-${i}`,
        concurrencyKey: key,
        data: { log, ms, key },
      }),
    );
  }
  return jobs;
}

async function allDone(jobs: Jobs): Promise<boolean> {
  for (const job of jobs) if (!(await job.isCompleted())) return false;
  return true;
}

function ends(events: readonly LimitEvent[], key: string): number[] {
  return events.flatMap((e, i) => (e.kind === 'end' && e.key === key ? [i] : []));
}

describe('per-key concurrency over three agent processes', () => {
  beforeAll(async () => {
    for (const id of ['k1', 'k2', 'k3']) await startAgent(id);
  });

  afterAll(async () => {
    for (const { child, exited } of agents) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    await coordinator.clearCapabilityLimits('keyed');
    await coordinator.close();
  });

  it('serves keys in turn: 5 tasks queued behind 200 of another key finish before half of those', async () => {
    await coordinator.setCapabilityLimits('keyed', { perKey: 2 });
    const log = newLog();
    const big = await enqueue(log, 'big', 200, 20);
    const small = await enqueue(log, 'small', 5, 20);
    const parked = await waitFor('tasks of the big key parked', async () => {
      const [view] = await viewCapabilityLimits(coordinator);
      return view?.keys && view.keys.parked > 0 ? view.keys : null;
    });
    expect(parked.running).toBeLessThanOrEqual(4);
    await waitFor('every task done', () => allDone([...big, ...small]), { timeoutMs: 90000 });
    const events = await readLimitLog(coordinator.client, log);
    const lastSmall = ends(events, 'small').at(-1)!;
    const bigBefore = ends(events, 'big').filter((i) => i < lastSmall).length;
    expect(ends(events, 'small')).toHaveLength(5);
    expect(bigBefore).toBeLessThan(100);
    // Nine worker slots over three processes; the per-key limit holds each key to 2, and is reached.
    expect(peakPerKey(events)).toEqual(
      new Map([
        ['big', 2],
        ['small', 2],
      ]),
    );
  });

  it('lets parked tasks run when the per-key limit is raised, without a restart', async () => {
    await coordinator.setCapabilityLimits('keyed', { perKey: 1 });
    const log = newLog();
    const jobs = await enqueue(log, 'tenant', 12, 300);
    await waitFor('two tasks done one at a time', async () => {
      const events = await readLimitLog(coordinator.client, log);
      return ends(events, 'tenant').length >= 2;
    });
    const before = (await readLimitLog(coordinator.client, log)).length;
    await coordinator.setCapabilityLimits('keyed', { perKey: 3 });
    await waitFor('every task done', () => allDone(jobs), { timeoutMs: 60000 });
    const events = await readLimitLog(coordinator.client, log);
    expect(peakPerKey(events.slice(0, before)).get('tenant')).toBe(1);
    expect(peakPerKey(events).get('tenant')).toBe(3);
  });

  it('lets every parked task run when the per-key limit is cleared', async () => {
    await coordinator.setCapabilityLimits('keyed', { perKey: 1 });
    const log = newLog();
    const jobs = await enqueue(log, 'cleared', 6, 600);
    await waitFor('the rest parked', async () => {
      const [view] = await viewCapabilityLimits(coordinator);
      return view?.keys && view.keys.parked >= 4;
    });
    const before = (await readLimitLog(coordinator.client, log)).length;
    await coordinator.clearCapabilityLimits('keyed');
    await waitFor('every task done', () => allDone(jobs), { timeoutMs: 60000 });
    const events = await readLimitLog(coordinator.client, log);
    expect(peakPerKey(events.slice(0, before)).get('cleared')).toBe(1);
    expect(peakPerKey(events).get('cleared')).toBeGreaterThanOrEqual(4);
  });

  it('gives a killed agent’s slot back when BullMQ takes its task back (kill -9)', async () => {
    await coordinator.setCapabilityLimits('keyed', { perKey: 1 });
    const log = newLog();
    const jobs = await enqueue(log, 'solo', 4, 1500);
    const first = await waitFor('the first task to start', async () => {
      const events = await readLimitLog(coordinator.client, log);
      return events.find((e) => e.kind === 'start');
    });
    const job = jobs.find((j) => j.data.key === first.task)!;
    const holder = (await coordinator.queue('keyed').getJob(job.id!))!.processedBy;
    const agent = byId.get(holder!)!;
    agent.child.kill('SIGKILL');
    await agent.exited;
    const killedAt = (await readLimitLog(coordinator.client, log)).length;
    await waitFor('every task done by the other agents', () => allDone(jobs), { timeoutMs: 90000 });
    const events = await readLimitLog(coordinator.client, log);
    // The killed handler never recorded its end: it ended when its process did.
    const withKill: LimitEvent[] = [
      ...events.slice(0, killedAt),
      { kind: 'end', at: 0, running: 0, key: 'solo', task: first.task },
      ...events.slice(killedAt),
    ];
    expect(peakPerKey(withKill).get('solo')).toBe(1);
    expect(ends(events, 'solo')).toHaveLength(4);
  });
});
