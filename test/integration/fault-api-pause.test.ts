/**
 * `CLIENT PAUSE <ms> WRITE` on a private redis-server while goals are submitted through the REST
 * API. "Nothing lost, nothing half-made" means: each submit answers 503 within the supervisor's
 * configured Redis write timeout (not when the pause ends), SQL holds no trace of it, Redis holds
 * no flow of it, and once writes are taken again the retried request with the same idempotency
 * key makes exactly one goal whose every task is a job in Redis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createApp, type AgentqApp } from '../../src/board/app';
import { parseRedisUrl } from '../../src/config';
import { TaskRegistry } from '../../src/entities/task-registry';
import { GOALS_QUEUE } from '../../src/queues/names';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { taskJobId } from '../../src/queues/task-job';
import { PrivateRedis } from '../helpers/redis-server';
import { uniquePrefix } from '../helpers/servers';

/** The bound under test; the pause is far longer, so a 503 inside it proves the bound works. */
const WRITE_TIMEOUT_MS = 500;
const PAUSE_MS = 20_000;

const plan = (key?: string) => ({
  plan: {
    goal: 'paused goal',
    tasks: [
      { key: 'a', title: 'A', type: 'pause' },
      { key: 'b', title: 'B', type: 'pause', dependsOn: ['a'] },
    ],
  },
  ...(key ? { key } : {}),
});

describe('the API while Redis refuses writes (CLIENT PAUSE WRITE)', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  let store: TaskRegistry;
  let coordinator: RedisCoordinator;
  let api: AgentqApp;
  const dir = mkdtempSync(join(tmpdir(), 'agentq-pause-'));
  const lines: string[] = [];

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    store = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
    await store.open();
    coordinator = new RedisCoordinator({
      redis: parseRedisUrl(redis.url),
      prefix: uniquePrefix('pause'),
    });
    api = createApp({
      store,
      coordinator,
      config: { token: null, readonlyToken: null },
      log: (line) => lines.push(line),
      goals: new SupervisorAgent(store, coordinator, {
        templatesDir: null,
        llm: null,
        redisWriteTimeoutMs: WRITE_TIMEOUT_MS,
      }),
    });
    await api.ready;
  });

  afterAll(async () => {
    await admin?.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    await api?.close();
    await coordinator?.close();
    await store?.close();
    admin?.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function rootJobs(): Promise<number> {
    const counts = await coordinator.queue(GOALS_QUEUE).getJobCounts();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  it('creates a goal while Redis takes writes', async () => {
    await request(api.app).post('/api/goals').send(plan('before')).expect(201);
    expect(await rootJobs()).toBe(1);
  });

  it('answers 503 within the write timeout while writes are paused, and writes nothing', async () => {
    const pausedAt = Date.now();
    await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'WRITE');

    const keyed = await request(api.app).post('/api/goals').send(plan('retry-me'));
    const header = await request(api.app)
      .post('/api/goals')
      .set('Idempotency-Key', 'by-header')
      .send(plan());
    const unkeyed = await request(api.app).post('/api/goals').send(plan());
    const task = await request(api.app).post('/api/tasks').send({ title: 'one', type: 'pause' });
    const answeredAfter = Date.now() - pausedAt;

    for (const res of [keyed, header, unkeyed, task]) {
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('connection');
      expect(res.body.error.message).toMatch(/Redis did not take/);
    }
    // Bounded by the write timeout, not by the pause: all four answered while it still held.
    expect(answeredAfter).toBeLessThan(PAUSE_MS);
    expect((await store.listGoals()).map((g) => g.key)).toEqual(['before']);
    expect(await store.findTasks({ type: 'pause', limit: 100 })).toHaveLength(2);
    expect(lines.filter((l) => l.includes('internal error'))).toEqual([]);
  });

  it('makes exactly one goal when the request is retried with the same key after the pause', async () => {
    await admin.call('CLIENT', 'UNPAUSE');
    const first = await request(api.app).post('/api/goals').send(plan('retry-me'));
    expect(first.status).toBe(201);
    const again = await request(api.app).post('/api/goals').send(plan('retry-me'));
    expect(again.status).toBe(200);
    expect(again.body.goalId).toBe(first.body.goalId);
    const viaHeader = await request(api.app)
      .post('/api/goals')
      .set('Idempotency-Key', 'by-header')
      .send(plan());
    expect(viaHeader.status).toBe(201);

    const goals = await store.listGoals();
    expect(goals.map((g) => g.key).sort()).toEqual(['before', 'by-header', 'retry-me']);
    // Nothing the paused requests sent landed late: one root job per SQL goal, no more.
    expect(await rootJobs()).toBe(3);
    const goalId = first.body.goalId as string;
    for (const key of ['a', 'b']) {
      expect(await coordinator.queue('pause').getJob(taskJobId(goalId, key))).toBeDefined();
    }
  });
});
