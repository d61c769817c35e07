/**
 * Limits over several shards (one BullMQ queue per capability per shard), three agent processes
 * serving both shards: the concurrency limit is split into shares that add up to it, so the total
 * never exceeds it and is reached when both shards have work; a key's slots are shared by its
 * tasks on every shard; a limit below the number of shards is refused, nothing changed.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { InputError } from '../../src/errors';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { spawnAgent, type AgentChild } from '../helpers/agent-spawn';
import { addTask } from '../helpers/agent-tasks';
import { peakPerKey, peakRunning, readLimitLog } from '../helpers/limit-log';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

// Three agent processes start through tsx.
jest.setTimeout(90000);

const SHARDS = 2;
const prefix = uniquePrefix('limshard');
const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix, shards: SHARDS });
const handlers = resolve(__dirname, '../fixtures/handlers/limits.cjs');
const agents: AgentChild[] = [];

type Jobs = Array<Awaited<ReturnType<typeof addTask>>>;

async function enqueue(log: string, count: number, concurrencyKey?: string): Promise<Jobs> {
  const jobs: Jobs = [];
  for (let i = 0; i < count; i++) {
    const shard = i % SHARDS;
    jobs.push(
      await addTask(coordinator, {
        type: 'limited',
        key: `t${i}`,
        shard,
        ...(concurrencyKey ? { concurrencyKey } : {}),
        data: { log, ms: 150, key: concurrencyKey ?? `shard${shard}` },
      }),
    );
  }
  return jobs;
}

async function allDone(jobs: Jobs): Promise<boolean> {
  for (const job of jobs) if (!(await job.isCompleted())) return false;
  return true;
}

describe('limits over two shards and three agent processes', () => {
  beforeAll(async () => {
    const env = { ...process.env, AGENTQ_TEST_LIMITS_REDIS: REDIS_URL };
    for (const id of ['s1', 's2', 's3']) {
      agents.push(
        await spawnAgent(
          {
            url: REDIS_URL,
            prefix,
            agentId: id,
            capabilities: ['limited'],
            handlersFile: handlers,
            concurrency: 4,
            shards: SHARDS,
          },
          env,
        ),
      );
    }
  });

  afterAll(async () => {
    for (const { child, exited } of agents) {
      child.kill('SIGKILL');
      await exited;
    }
    await coordinator.clearCapabilityLimits('limited');
    await coordinator.close();
  });

  it('splits the concurrency limit into shares that add up to it', async () => {
    await coordinator.setCapabilityLimits('limited', { concurrency: 5 });
    expect(await coordinator.queue('limited', 0).getGlobalConcurrency()).toBe(3);
    expect(await coordinator.queue('limited', 1).getGlobalConcurrency()).toBe(2);
    const log = `{${prefix}}:limitlog:${randomBytes(4).toString('hex')}`;
    const jobs = await enqueue(log, 30);
    await waitFor('every task done', () => allDone(jobs), { timeoutMs: 60000 });
    const events = await readLimitLog(coordinator.client, log);
    // 24 worker slots (3 agents × 2 shards × 4); the shares hold them to 3 + 2.
    expect(peakRunning(events)).toBe(5);
    expect(peakPerKey(events)).toEqual(
      new Map([
        ['shard0', 3],
        ['shard1', 2],
      ]),
    );
  });

  it("holds a key's slots over its tasks on every shard", async () => {
    await coordinator.setCapabilityLimits('limited', { perKey: 2 });
    const log = `{${prefix}}:limitlog:${randomBytes(4).toString('hex')}`;
    const jobs = await enqueue(log, 16, 'tenant');
    await waitFor('every task done', () => allDone(jobs), { timeoutMs: 60000 });
    const events = await readLimitLog(coordinator.client, log);
    expect(peakPerKey(events).get('tenant')).toBe(2);
  });

  it('refuses a limit below the number of shards, and changes nothing', async () => {
    await coordinator.setCapabilityLimits('limited', { concurrency: 4 });
    await expect(coordinator.setCapabilityLimits('limited', { concurrency: 1 })).rejects.toThrow(
      InputError,
    );
    await expect(
      coordinator.setCapabilityLimits('limited', { rate: { max: 1, durationMs: 1000 } }),
    ).rejects.toThrow('rate.max: must be at least the number of shards (2)');
    expect(await coordinator.getCapabilityLimits('limited')).toEqual({ concurrency: 4 });
    expect(await coordinator.queue('limited', 1).getGlobalConcurrency()).toBe(2);
  });
});
