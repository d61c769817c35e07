/**
 * The web surface refuses what a browser on another page (or a bad client) would get through:
 * open redirects after login, cross-site mutations (another port of the same host is the same
 * site, so SameSite cookies are sent), foreign Host names without a token (DNS rebinding), a
 * session cookie that outlives logout, a malformed cookie, and bodies that cannot be decoded.
 */
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { goalRecordKey } from '../../src/queues/compiler';
import { GOAL_CANCELLED_FIELD } from '../../src/queues/cancellation';
import { GOALS_QUEUE } from '../../src/queues/names';
import { startApiApp, type ApiFixture } from '../helpers/api-app';

const ADMIN = 'guards-admin-token';
const PLAN = { plan: { goal: 'Guarded', tasks: [{ key: 'a', title: 'A', type: 'paint' }] } };

async function cancelledBy(api: ApiFixture, goalId: string): Promise<string | null> {
  return api.coordinator.client.hget(goalRecordKey(api.coordinator, goalId), GOAL_CANCELLED_FIELD);
}

describe('web guards with a token', () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await startApiApp({ token: ADMIN, supervisor: true });
  });

  afterAll(async () => {
    await api?.close();
  });

  async function login(next = '/') {
    const res = await request(api.app)
      .post('/login')
      .type('form')
      .send({ token: ADMIN, next })
      .expect(303);
    return {
      location: res.headers.location,
      cookie: String(res.headers['set-cookie']).split(';')[0]!,
    };
  }

  it.each([
    '/\\evil.example',
    '/\\/evil.example',
    '/\t/evil.example',
    '//evil.example',
    'https://evil.example/',
  ])('never redirects off-site after login (next=%j)', async (next) => {
    expect((await login(next)).location).toBe('/');
    const form = await request(api.app).get('/login').query({ next }).expect(200);
    expect(form.text).toContain('name="next" value="/"');
  });

  it('still redirects to a path of this server', async () => {
    expect((await login('/goals/g-1?x=1')).location).toBe('/goals/g-1?x=1');
  });

  it('ends the session at logout: the same cookie no longer works', async () => {
    const { cookie } = await login();
    await request(api.app).get('/api/status').set('Cookie', cookie).expect(200);
    await request(api.app).post('/logout').set('Cookie', cookie).expect(303);
    await request(api.app).get('/api/status').set('Cookie', cookie).expect(401);
  });

  it('ignores a malformed cookie instead of failing every route', async () => {
    await request(api.app).get('/login').set('Cookie', 'agentq_session=%E0%A4%A').expect(200);
    await request(api.app)
      .get('/api/status')
      .set('Cookie', 'agentq_session=%zz; other=%')
      .auth(ADMIN, { type: 'bearer' })
      .expect(200);
  });

  it('refuses a cookie-authenticated mutation from another site or another port', async () => {
    const created = await request(api.app)
      .post('/api/goals')
      .auth(ADMIN, { type: 'bearer' })
      .send(PLAN)
      .expect(201);
    const goalId = created.body.goalId as string;
    const { cookie } = await login();
    const host = '127.0.0.1:3000';
    for (const headers of [
      { Origin: 'http://127.0.0.1:4000', 'Sec-Fetch-Site': 'same-site' },
      { Origin: 'http://127.0.0.1:4000' },
      { 'Sec-Fetch-Site': 'cross-site' },
      { Origin: 'null' },
    ]) {
      const res = await request(api.app)
        .post(`/api/goals/${goalId}/cancel`)
        .set('Host', host)
        .set('Cookie', cookie)
        .set(headers);
      expect([headers, res.status, res.body.error?.code]).toEqual([headers, 403, 'cross_site']);
      const board = await request(api.app)
        .put(`/board/api/queues/${GOALS_QUEUE}/pause`)
        .set('Host', host)
        .set('Cookie', cookie)
        .set(headers);
      expect([headers, board.status]).toEqual([headers, 403]);
    }
    expect(await cancelledBy(api, goalId)).toBeNull();
    expect(await api.coordinator.queue(GOALS_QUEUE).isPaused()).toBe(false);

    // The same request from the server's own page goes through.
    await request(api.app)
      .post(`/api/goals/${goalId}/cancel`)
      .set('Host', host)
      .set('Cookie', cookie)
      .set({ Origin: `http://${host}`, 'Sec-Fetch-Site': 'same-origin' })
      .expect(202);
    expect(await cancelledBy(api, goalId)).toBe(JSON.stringify('api:admin'));
  });

  it('lets a bearer-token client act whatever its Origin (no browser can attach one cross-site)', async () => {
    await request(api.app)
      .post('/api/tasks')
      .auth(ADMIN, { type: 'bearer' })
      .set('Origin', 'http://elsewhere.example')
      .send({ title: 'T', type: 'paint' })
      .expect(201);
  });

  it.each([
    ['gzip', Buffer.from('not gzip at all')],
    ['deflate', Buffer.from('not deflate')],
    ['br', Buffer.from('not brotli')],
    [
      'gzip',
      gzipSync(Buffer.from(JSON.stringify({ title: 'x'.repeat(2000), type: 'paint' }))).subarray(
        0,
        30,
      ),
    ],
  ])('answers 400 to a corrupt %s body, with no stack in the log', async (encoding, body) => {
    const res = await request(api.app)
      .post('/api/tasks')
      .auth(ADMIN, { type: 'bearer' })
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', encoding)
      .send(body);
    expect([res.status, res.body.error?.code]).toEqual([400, 'malformed_body']);
    expect(api.lines.filter((l) => l.startsWith('internal error'))).toEqual([]);
  });
});

describe('web guards without a token (loopback only)', () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await startApiApp({ supervisor: true });
  });

  afterAll(async () => {
    await api?.close();
  });

  it.each(['evil.example', 'evil.example:3000', '10.0.0.1:3000', '127.0.0.1.evil.example'])(
    'refuses a foreign Host %s (DNS rebinding): nothing is created or paused',
    async (host) => {
      const task = await request(api.app)
        .post('/api/tasks')
        .set('Host', host)
        .send({ title: 'T', type: 'paint' });
      expect([task.status, task.body.error?.code]).toEqual([403, 'forbidden_host']);
      const board = await request(api.app)
        .put(`/board/api/queues/${GOALS_QUEUE}/pause`)
        .set('Host', host);
      expect(board.status).toBe(403);
      await request(api.app).get('/api/status').set('Host', host).expect(403);
      expect(await api.coordinator.queue(GOALS_QUEUE).isPaused()).toBe(false);
      expect(await api.store.listGoals()).toEqual([]);
    },
  );

  it.each(['localhost:3000', '127.0.0.1', '127.0.0.2:80', '[::1]:3000'])(
    'serves the loopback Host %s',
    async (host) => {
      await request(api.app).get('/api/status').set('Host', host).expect(200);
    },
  );

  it('refuses a no-cors fetch from another loopback port, and takes the same from its own page', async () => {
    const created = await request(api.app).post('/api/goals').send(PLAN).expect(201);
    const goalId = created.body.goalId as string;
    const res = await request(api.app)
      .post(`/api/goals/${goalId}/cancel`)
      .set('Host', 'localhost:3000')
      .set({
        Origin: 'http://localhost:4000',
        'Sec-Fetch-Site': 'same-site',
        'Sec-Fetch-Mode': 'no-cors',
      });
    expect(res.status).toBe(403);
    expect(await cancelledBy(api, goalId)).toBeNull();
    await request(api.app)
      .post(`/api/goals/${goalId}/cancel`)
      .set('Host', 'localhost:3000')
      .set({ Origin: 'http://localhost:3000', 'Sec-Fetch-Site': 'same-origin' })
      .expect(202);
    expect(await cancelledBy(api, goalId)).toBe(JSON.stringify('api:anonymous'));
  });
});
