/**
 * Capability limits through the REST API and the CLI: set, show, clear, in `status` and in
 * `/metrics`; bad input (0, negative, non-numeric, an unknown duration unit, an unknown field) is
 * one message naming the field, HTTP 400 / exit 2, and changes nothing in Redis or SQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { TaskRegistry } from '../../src/entities/task-registry';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { startApiApp, type ApiFixture } from '../helpers/api-app';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { runAgentq as agentq } from '../helpers/run-cli';

describe('limits through the REST API', () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await startApiApp();
  });

  afterAll(async () => {
    await api?.close();
  });

  it('sets, lists and clears limits, kept in SQL and shown by Bull Board’s queue meta', async () => {
    const put = await request(api.app)
      .put('/api/limits/llm')
      .send({ concurrency: 4, rate: { max: 60, durationMs: 60000 }, perKey: 2 })
      .expect(200);
    expect(put.body).toEqual({
      capability: 'llm',
      limits: { concurrency: 4, rate: { max: 60, durationMs: 60000 }, perKey: 2 },
    });
    const list = await request(api.app).get('/api/limits').expect(200);
    expect(list.body.limits).toEqual([
      {
        capability: 'llm',
        limits: { concurrency: 4, rate: { max: 60, durationMs: 60000 }, perKey: 2 },
        running: 0,
        rateLimitedForMs: 0,
        keys: { running: 0, keysRunning: 0, parked: 0, keysParked: 0 },
      },
    ]);
    expect((await api.store.listCapabilityLimits()).map((r) => r.limits)).toEqual([
      { concurrency: 4, rate: { max: 60, durationMs: 60000 }, perKey: 2 },
    ]);
    // BullMQ's own global concurrency and rate limit: what Bull Board's queue view shows.
    const queue = api.coordinator.queue('llm');
    expect(await queue.getGlobalConcurrency()).toBe(4);
    expect(await queue.getGlobalRateLimit()).toEqual({ max: 60, duration: 60000 });

    const status = await request(api.app).get('/api/status').expect(200);
    expect(status.body.limits[0]).toMatchObject({ capability: 'llm', running: 0 });
    const metrics = await request(api.app).get('/metrics').expect(200);
    expect(metrics.text).toContain(
      'agentq_capability_limit{capability="llm",limit="concurrency"} 4',
    );
    expect(metrics.text).toContain('agentq_capability_limit{capability="llm",limit="rate_max"} 60');
    expect(metrics.text).toContain('agentq_key_slots{capability="llm",state="parked"} 0');

    await request(api.app).delete('/api/limits/llm').expect(200);
    expect((await request(api.app).get('/api/limits').expect(200)).body.limits).toEqual([]);
    expect(await api.store.listCapabilityLimits()).toEqual([]);
    expect(await queue.getGlobalConcurrency()).toBeNull();
  });

  it.each([
    [{ concurrency: 0 }, 'concurrency'],
    [{ concurrency: -3 }, 'concurrency'],
    [{ concurrency: 'four' }, 'concurrency'],
    [{ concurrency: 2.5 }, 'concurrency'],
    [{ rate: { max: 0, durationMs: 1000 } }, 'rate.max'],
    [{ rate: { max: 10 } }, 'rate.durationMs'],
    [{ rate: '60/1m' }, 'rate'],
    [{ perKey: -1 }, 'perKey'],
    [{ concurrncy: 3 }, 'limits'],
    [{}, 'limits'],
  ])('answers 400 naming the field for %j, and changes nothing', async (body, field) => {
    await request(api.app).put('/api/limits/steady').send({ concurrency: 7 }).expect(200);
    const res = await request(api.app).put('/api/limits/steady').send(body).expect(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_input', field });
    expect(await api.coordinator.getCapabilityLimits('steady')).toEqual({ concurrency: 7 });
    expect((await api.store.listCapabilityLimits()).map((r) => r.limits)).toEqual([
      { concurrency: 7 },
    ]);
    expect(await api.coordinator.queue('steady').getGlobalConcurrency()).toBe(7);
  });

  it('answers 400 for a capability name that cannot be one', async () => {
    const res = await request(api.app).put('/api/limits/_dlq').send({ concurrency: 1 }).expect(400);
    expect(res.body.error.field).toBe('capability');
  });
});

describe('limits through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-limits-cli-'));
  const prefix = uniquePrefix('limcli');
  const db = `sqlite:${join(dir, 'agentq.db')}`;
  const common = ['--redis', REDIS_URL, '--db', db, '--prefix', prefix];
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });

  afterAll(async () => {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sets, shows and clears the limits of a capability', async () => {
    const set = await agentq([
      ...common,
      'limits',
      'set',
      'claude',
      '--concurrency',
      '4',
      '--rate',
      '60/1m',
      '--per-key',
      '2',
    ]);
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toContain('Limits of claude: concurrency 4, rate 60/1m, per key 2.');
    const show = await agentq([...common, '--json', 'limits', 'show']);
    expect(JSON.parse(show.stdout).limits).toEqual([
      {
        capability: 'claude',
        limits: { concurrency: 4, rate: { max: 60, durationMs: 60000 }, perKey: 2 },
        running: 0,
        rateLimitedForMs: 0,
        keys: { running: 0, keysRunning: 0, parked: 0, keysParked: 0 },
      },
    ]);
    const table = await agentq([...common, 'limits', 'show']);
    expect(table.stdout).toMatch(/claude.*4.*0.*60\/1m.*2/);
    const status = await agentq([...common, 'status']);
    expect(status.stdout).toContain('Limits:');
    expect(status.stdout).toMatch(/claude.*60\/1m/);
    const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
    try {
      expect((await registry.listCapabilityLimits()).map((r) => r.capability)).toEqual(['claude']);
    } finally {
      await registry.close();
    }
    const clear = await agentq([...common, 'limits', 'clear', 'claude']);
    expect(clear).toMatchObject({ code: 0, stdout: 'Limits of claude cleared.\n' });
    expect(await coordinator.getCapabilityLimits('claude')).toBeNull();
  });

  it.each([
    [['--concurrency', '0'], 'concurrency: must be at least 1'],
    [['--concurrency', '-2'], 'concurrency: must be at least 1'],
    [['--concurrency', 'many'], "concurrency: 'many' is not a whole number"],
    [['--rate', '60/1y'], "rate.duration: unknown duration unit 'y'"],
    [['--rate', 'lots/1m'], "rate.max: 'lots' is not a whole number"],
    [['--rate', '60'], "rate: '60' is not MAX/DURATION"],
    [['--per-key', '0'], 'perKey: must be at least 1'],
    [[], 'limits: give at least one of concurrency, rate, perKey'],
  ])(
    'refuses %j with exit 2, one line naming the field, nothing changed',
    async (flags, message) => {
      await coordinator.setCapabilityLimits('steady', { concurrency: 3 });
      const result = await agentq([...common, 'limits', 'set', 'steady', ...flags]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(message);
      expect(await coordinator.getCapabilityLimits('steady')).toEqual({ concurrency: 3 });
    },
  );
});

describe('limits through the REST API with tokens', () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await startApiApp({ token: 'admin-token', readonlyToken: 'look-token' });
  });

  afterAll(async () => {
    await api?.close();
  });

  it('lets the read-only token list limits but not set or clear them (403)', async () => {
    await request(api.app)
      .put('/api/limits/llm')
      .set('Authorization', 'Bearer admin-token')
      .send({ concurrency: 2 })
      .expect(200);
    const look = { Authorization: 'Bearer look-token' };
    await request(api.app).get('/api/limits').set(look).expect(200);
    await request(api.app).put('/api/limits/llm').set(look).send({ concurrency: 9 }).expect(403);
    await request(api.app).delete('/api/limits/llm').set(look).expect(403);
    await request(api.app).put('/api/limits/llm').send({ concurrency: 9 }).expect(401);
    expect(await api.coordinator.getCapabilityLimits('llm')).toEqual({ concurrency: 2 });
  });
});
