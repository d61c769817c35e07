/**
 * Property-based fuzzing of the REST API (supertest against `createApp` with a real SQLite store,
 * real Redis and the real supervisor): malformed, huge, deep and unicode JSON bodies, hostile
 * ids and query strings. Never a 500 and never a crash: a success, one 400 naming a field, a
 * 404/409 for ids, or a 413 for size.
 */
import fc from 'fast-check';
import request from 'supertest';
import { startApiApp, type ApiFixture } from '../helpers/api-app';

const RUNS = 100;
const MIB = 1024 * 1024;

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    '\u0000',
    '\uD800',
    'a\uDFFFb',
    '\u202Etxt.exe',
    'مرحبا',
    '../../etc/passwd',
    '%00',
    '__proto__',
    'constructor',
  ),
);

const hostileValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const hostileTask = fc.record(
  {
    key: fc.oneof(fc.constant('a'), hostileString),
    title: fc.oneof(fc.constant('A'), hostileValue),
    type: fc.oneof(fc.constant('fuzz'), hostileString),
    priority: fc.oneof(fc.integer({ min: 0, max: 11 }), hostileValue),
    dependsOn: fc.oneof(fc.constant([]), hostileValue),
    data: fc.oneof(fc.constant({}), hostileValue),
    attempts: fc.oneof(fc.constant(1), hostileValue),
    timeoutMs: fc.oneof(fc.constant(1000), hostileValue),
    optional: hostileValue,
  },
  { requiredKeys: [] },
);

const goalBody = fc.oneof(
  fc.record({ goal: hostileValue, key: fc.option(hostileValue) }, { requiredKeys: [] }),
  fc.record(
    {
      plan: fc.oneof(
        hostileValue,
        fc.record({
          goal: fc.oneof(fc.constant('g'), hostileValue),
          tasks: fc.array(hostileTask, { maxLength: 3 }),
        }),
      ),
      key: fc.option(hostileValue),
    },
    { requiredKeys: [] },
  ),
  hostileValue,
);

/** Percent-encodes every UTF-8 byte (lone surrogates become U+FFFD, as a client would send). */
function pct(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

/** Escapes a server must survive: truncated, overlong and invalid UTF-8, sent as is. */
const BAD_ESCAPES = ['%', '%E0%A4%A', '%C0%AF', '%FF%FE', '%ED%A0%80', '%00', '%zz'];

function deep(depth: number): string {
  return `{"title":"t","type":"fuzz","data":{"d":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
}

describe('the REST API under hostile input', () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await startApiApp({ supervisor: true });
  });

  afterAll(async () => {
    await api?.close();
  });

  /** Every answer that is not a success is one error document; a 400 names its field. */
  function expectClearAnswer(res: request.Response, allowed: number[]): void {
    if (!allowed.includes(res.status)) {
      throw new Error(`status ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
    }
    if (res.status >= 400) {
      expect(typeof res.body.error.code).toBe('string');
      expect(typeof res.body.error.message).toBe('string');
      if (res.status === 400) expect(res.body.error.field).toBeTruthy();
    }
  }

  it('answers any JSON body on POST /api/goals with 201/200 or a 400 naming a field', async () => {
    await fc.assert(
      fc.asyncProperty(goalBody, async (body) => {
        const res = await request(api.app)
          .post('/api/goals')
          .send(JSON.stringify(body) ?? 'null')
          .type('json');
        expectClearAnswer(res, [200, 201, 400]);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers any JSON body on POST /api/tasks with 201 or a 400 naming a field', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileTask, hostileValue), async (body) => {
        const res = await request(api.app)
          .post('/api/tasks')
          .send(JSON.stringify(body) ?? 'null')
          .type('json');
        expectClearAnswer(res, [201, 400]);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers malformed bodies and odd content types with a 400 or a clear refusal', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=utf-16',
          'application/json; charset=latin1',
        ),
        fc.constantFrom(
          '/api/goals',
          '/api/tasks',
          '/api/goals/g-x/cancel',
          '/api/tasks/t-x/retry',
        ),
        async (text, type, path) => {
          const res = await request(api.app).post(path).set('Content-Type', type).send(text);
          expectClearAnswer(res, [200, 201, 400, 404, 409, 415]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers hostile ids and query strings on every read route without a 500', async () => {
    const paths = [
      (s: string) => `/api/tasks/${pct(s)}`,
      (s: string) => `/api/goals/${pct(s)}`,
      (s: string) => `/api/goals/${pct(s)}/graph.svg`,
      (s: string) => `/goals/${pct(s)}`,
      (s: string) => `/api/tasks?state=${pct(s)}&limit=${pct(s)}`,
      (s: string) => `/api/tasks?goalId=${pct(s)}&offset=${pct(s)}&type=${pct(s)}`,
      (s: string) => `/api/tasks?goalId=a&goalId=${pct(s)}`,
      (s: string) => `/api/goals?state=${pct(s)}&limit=${pct(s)}`,
      (s: string) => `/api/events?after=${pct(s)}&limit=${pct(s)}`,
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          hostileString,
          fc.constantFrom('-1', '1e308', 'NaN', '0x10', '99999999999999999999', '%', '%E0%A4%A'),
        ),
        fc.nat({ max: paths.length - 1 }),
        async (s, i) => {
          const res = await request(api.app).get(paths[i]!(s));
          if (res.status >= 500)
            throw new Error(`${paths[i]!(s)} → ${res.status} ${res.text.slice(0, 300)}`);
          expect([200, 400, 404]).toContain(res.status);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers malformed percent-escapes in paths and queries without a 500', async () => {
    for (const bad of BAD_ESCAPES) {
      for (const path of [
        `/api/tasks/${bad}`,
        `/api/goals/${bad}`,
        `/goals/${bad}`,
        `/api/tasks?state=${bad}`,
        `/board/${bad}`,
      ]) {
        const res = await request(api.app).get(path);
        if (res.status >= 500) throw new Error(`${path} → ${res.status} ${res.text.slice(0, 300)}`);
      }
      expectClearAnswer(await request(api.app).post(`/api/tasks/${bad}/cancel`), [400, 404]);
    }
  });

  it('answers hostile ids on every mutation route with a 404 or a 400, never a 500', async () => {
    const paths = [
      '/api/tasks/%s/cancel',
      '/api/tasks/%s/retry',
      '/api/goals/%s/cancel',
      '/api/dlq/%s/retry',
    ];
    await fc.assert(
      fc.asyncProperty(hostileString, fc.constantFrom(...paths), async (s, path) => {
        const res = await request(api.app).post(path.replace('%s', pct(s)));
        expectClearAnswer(res, [400, 404, 409]);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers task data 200,000 levels deep with a 400 naming data', async () => {
    const res = await request(api.app).post('/api/tasks').type('json').send(deep(200_000));
    expectClearAnswer(res, [400]);
    expect(res.body.error.field).toBe('data');
  });

  it('answers a plan whose task data is 200,000 levels deep with a 400 naming the field', async () => {
    const body = `{"plan":{"goal":"g","tasks":[${deep(200_000).replace('"title"', '"key":"a","title"')}]}}`;
    const res = await request(api.app).post('/api/goals').type('json').send(body);
    expectClearAnswer(res, [400]);
    expect(res.body.error.field).toBe('tasks[0].data');
  });

  it('accepts a body just under 1 MiB and answers one just over it with 413', async () => {
    const task = (size: number) =>
      JSON.stringify({ title: 'big', type: 'fuzz', data: { s: 'x'.repeat(size) } });
    const under = task(MIB - 2000);
    expect(Buffer.byteLength(under)).toBeLessThan(MIB);
    expectClearAnswer(await request(api.app).post('/api/tasks').type('json').send(under), [201]);
    const over = await request(api.app)
      .post('/api/tasks')
      .type('json')
      .send(task(MIB + 10));
    expectClearAnswer(over, [413]);
    expect(over.body.error.code).toBe('payload_too_large');
  });

  it('answers a 1 MiB body of nested arrays with a 400 or a 413, never a 500', async () => {
    const res = await request(api.app)
      .post('/api/goals')
      .type('json')
      .send(`{"plan":${'['.repeat(MIB / 2 - 20)}${']'.repeat(MIB / 2 - 20)}}`);
    expectClearAnswer(res, [400, 413]);
  });

  it('keeps unicode and RTL text in a created task as given', async () => {
    const title = 'مرحبا \u202E 𝕏';
    const res = await request(api.app)
      .post('/api/tasks')
      .send({ title, type: 'fuzz', data: { [title]: title } });
    expectClearAnswer(res, [201]);
    const got = await request(api.app)
      .get(`/api/tasks/${encodeURIComponent(res.body.task.id)}`)
      .expect(200);
    expect(got.body.task.title).toBe(title);
    expect(got.body.task.data).toEqual({ [title]: title });
  });

  it('refuses a NUL, which PostgreSQL cannot store, with a 400 naming the field', async () => {
    const res = await request(api.app).post('/api/tasks').send({ title: 'a\u0000b', type: 'fuzz' });
    expectClearAnswer(res, [400]);
    expect(res.body.error.field).toBe('title');
  });

  it('logged no internal error', () => {
    expect(api.lines.filter((line) => line.includes('internal error'))).toEqual([]);
  });
});
