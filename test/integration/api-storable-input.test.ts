/**
 * Input the validator must refuse because some store cannot hold it — task keys whose id would
 * not fit varchar(64), NUL bytes and lone surrogates in text and data, `%00` in ids — answers 400
 * naming the field on SQLite and PostgreSQL alike, never a 500. Also the goal read comes a page of
 * tasks at a time, and a Last-Event-ID no seq can have is ignored (PostgreSQL cut the stream).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { MAX_GOAL_CHARS, MAX_KEY_CHARS } from '../../src/queues/plan-schema';
import { startApiApp, type ApiFixture } from '../helpers/api-app';

const NUL = 'a\u0000b';
const LONE = 'a\ud800b';

function plan(task: Record<string, unknown>, goal = 'Storable input') {
  return { plan: { goal, tasks: [{ key: 'one', title: 'One', type: 'paint', ...task }] } };
}

describe.each(['sqlite', 'postgres'] as const)('input every store can hold (%s)', (db) => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await startApiApp({ supervisor: true, db });
  });

  afterAll(async () => {
    await api?.close();
  });

  function expectNoFault() {
    expect(api.lines.filter((l) => l.startsWith('internal error'))).toEqual([]);
  }

  it(`takes a ${MAX_KEY_CHARS}-character key and refuses longer ones (the task id is varchar(64))`, async () => {
    const ok = await request(api.app)
      .post('/api/goals')
      .send(plan({ key: 'k'.repeat(MAX_KEY_CHARS) }));
    expect(ok.status).toBe(201);
    for (const length of [MAX_KEY_CHARS + 1, 64, 100]) {
      const res = await request(api.app)
        .post('/api/goals')
        .send(plan({ key: 'k'.repeat(length) }));
      expect([length, res.status, res.body.error?.field]).toEqual([length, 400, 'tasks[0].key']);
    }
    expectNoFault();
  });

  it('plans goal text of the full length allowed (the template puts it in every description)', async () => {
    const goal = `fix the bug ${'x'.repeat(MAX_GOAL_CHARS - 12)}`;
    expect(goal).toHaveLength(MAX_GOAL_CHARS);
    const res = await request(api.app).post('/api/goals').send({ goal });
    expect([res.status, res.body.error]).toEqual([201, undefined]);
    const over = await request(api.app)
      .post('/api/goals')
      .send({ goal: `${goal}x` });
    expect([over.status, over.body.error?.field]).toEqual([400, 'goal']);
  });

  it.each([
    ['a NUL in a title', plan({ title: NUL }), 'plan.tasks[0].title'],
    ['a lone surrogate in a title', plan({ title: LONE }), 'plan.tasks[0].title'],
    ['a NUL in a description', plan({ description: NUL }), 'plan.tasks[0].description'],
    ['a lone surrogate in the goal', plan({}, LONE), 'plan.goal'],
    ['a NUL in data', plan({ data: { note: NUL } }), 'plan.tasks[0].data.note'],
    ['a lone surrogate in a data key', plan({ data: { [LONE]: 1 } }), 'plan.tasks[0].data'],
    ['a NUL in goal text', { goal: NUL }, 'goal'],
  ])('refuses %s with 400', async (_what, body, field) => {
    const res = await request(api.app).post('/api/goals').send(body);
    expect([res.status, res.body.error?.code, res.body.error?.field]).toEqual([
      400,
      'invalid_input',
      field,
    ]);
    expectNoFault();
  });

  it.each([
    ['title', { title: NUL, type: 'paint' }],
    ['description', { title: 'T', description: LONE, type: 'paint' }],
    ['data.x', { title: 'T', type: 'paint', data: { x: [NUL] } }],
  ])('refuses unstorable text in POST /api/tasks (%s)', async (field, body) => {
    const res = await request(api.app).post('/api/tasks').send(body);
    expect([res.status, res.body.error?.field]).toEqual([
      400,
      field.startsWith('data') ? 'data.x[0]' : field,
    ]);
    expectNoFault();
  });

  it.each([
    '/api/tasks/%00',
    '/api/goals/g-%00',
    '/api/goals/%00/graph.svg',
    '/goals/%00',
    '/api/tasks?goalId=%00',
    '/api/tasks?type=a%00',
    '/api/tasks/%ED%A0%80',
  ])('answers 400 for %s', async (path) => {
    const res = await request(api.app).get(path);
    expect([path, res.status]).toEqual([path, 400]);
    expectNoFault();
  });

  it('refuses a NUL in an id of a mutation', async () => {
    const res = await request(api.app).post('/api/goals/g-%00/cancel');
    expect([res.status, res.body.error?.field]).toEqual([400, 'path']);
    expectNoFault();
  });

  it('answers a goal with one page of its tasks and the offset of the next', async () => {
    const tasks = Array.from({ length: 5 }, (_, i) => ({
      key: `t${i}`,
      title: `T${i}`,
      type: 'paint',
    }));
    const created = await request(api.app)
      .post('/api/goals')
      .send({ plan: { goal: 'Paged', tasks } })
      .expect(201);
    const goalId = created.body.goalId as string;
    const first = await request(api.app).get(`/api/goals/${goalId}?limit=2`).expect(200);
    expect(first.body).toMatchObject({ limit: 2, offset: 0, next: 2 });
    expect(first.body.tasks).toHaveLength(2);
    const last = await request(api.app).get(`/api/goals/${goalId}?limit=2&offset=4`).expect(200);
    expect(last.body.tasks).toHaveLength(1);
    expect(last.body.next).toBeNull();
    const all = await request(api.app).get(`/api/goals/${goalId}`).expect(200);
    expect(all.body.tasks).toHaveLength(5);
    expect(all.body.next).toBeNull();
    await request(api.app).get(`/api/goals/${goalId}?limit=100000`).expect(400);
  });

  it('ignores a Last-Event-ID no seq can have and keeps the stream open', async () => {
    const server = http.createServer(api.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const controller = new AbortController();
      // `after=0` replays the audit log; a Last-Event-ID would win over it, were it taken.
      const res = await fetch(`http://127.0.0.1:${port}/api/events/stream?after=0`, {
        headers: { 'Last-Event-ID': '9'.repeat(40) },
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let seen = '';
      while (!seen.includes('event: tasks:')) {
        const chunk = await reader.read();
        if (chunk.done) break;
        seen += new TextDecoder().decode(chunk.value);
      }
      expect(seen).toContain('event: tasks:new');
      controller.abort();
      await reader.cancel().catch(() => undefined);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expectNoFault();
  });
});
