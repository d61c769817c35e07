/**
 * Authentication with AGENTQ_TOKEN and AGENTQ_READONLY_TOKEN: every route (API, board and its
 * static files, metrics, pages) wants a credential; the read-only token may look but every
 * mutation — ours and Bull Board's own API — is 403 on the server; the login form sets a cookie.
 */
import request from 'supertest';
import { GOALS_QUEUE } from '../../src/queues/names';
import { startApiApp, type ApiFixture } from '../helpers/api-app';

const ADMIN = 'admin-secret-token';
const READONLY = 'readonly-secret-token';

describe('REST API auth', () => {
  let api: ApiFixture;
  let goalId: string;

  beforeAll(async () => {
    api = await startApiApp({ token: ADMIN, readonlyToken: READONLY });
    goalId = (await api.seedGoal({ only: [] })).goalId;
  });

  afterAll(async () => {
    await api?.close();
  });

  it.each([
    '/api/status',
    '/healthz',
    '/metrics',
    '/board',
    '/board/static/favicon.ico',
    '/api/events?after=0',
  ])('answers 401 on %s without a credential', async (path) => {
    const res = await request(api.app).get(path).expect(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it('answers 401 to a wrong bearer token and a forged cookie', async () => {
    await request(api.app).get('/api/status').auth('nope', { type: 'bearer' }).expect(401);
    await request(api.app).get('/api/status').set('Cookie', 'agentq_session=admin.00').expect(401);
  });

  it('sends a browser without a session to the login form', async () => {
    const res = await request(api.app).get('/').set('Accept', 'text/html').expect(302);
    expect(res.headers.location).toBe('/login?next=%2F');
    const form = await request(api.app).get('/login').expect(200);
    expect(form.text).toContain('name="token"');
  });

  it('lets the admin token read and act', async () => {
    await request(api.app).get('/api/status').auth(ADMIN, { type: 'bearer' }).expect(200);
    await request(api.app).get('/board/api/queues').auth(ADMIN, { type: 'bearer' }).expect(200);
    const cancel = await request(api.app)
      .post(`/api/goals/${goalId}/cancel`)
      .auth(ADMIN, { type: 'bearer' });
    // Reaches the handler (the goal has no flow in Redis here): anything but 401/403.
    expect([401, 403]).not.toContain(cancel.status);
  });

  it('lets the read-only token read but refuses every mutation with 403', async () => {
    await request(api.app).get('/api/status').auth(READONLY, { type: 'bearer' }).expect(200);
    await request(api.app)
      .get(`/api/goals/${goalId}/graph.svg`)
      .auth(READONLY, { type: 'bearer' })
      .expect(200);
    const queues = await request(api.app)
      .get('/board/api/queues')
      .auth(READONLY, { type: 'bearer' })
      .expect(200);
    expect(
      queues.body.queues.find((q: { name: string }) => q.name === GOALS_QUEUE).readOnlyMode,
    ).toBe(true);
    for (const [method, path] of [
      ['post', `/api/goals/${goalId}/cancel`],
      ['post', `/api/tasks/${goalId}.only/cancel`],
      ['post', '/api/goals'],
      ['post', '/api/dlq/x/retry'],
      ['put', '/board/api/queues/pause'],
      ['put', `/board/api/queues/${GOALS_QUEUE}/pause`],
      ['delete', `/board/api/queues/${GOALS_QUEUE}/clean/completed`],
    ] as const) {
      const res = await request(api.app)[method](path).auth(READONLY, { type: 'bearer' }).send({});
      expect([method, path, res.status]).toEqual([method, path, 403]);
      expect(res.body.error.code).toBe('forbidden');
    }
    expect(await api.coordinator.queue(GOALS_QUEUE).isPaused()).toBe(false);
  });

  it('logs a browser in with the form: the cookie opens every page, never holds the token', async () => {
    const agent = request.agent(api.app);
    await agent.post('/login').type('form').send({ token: 'wrong', next: '/' }).expect(401);
    const login = await agent
      .post('/login')
      .type('form')
      .send({ token: ADMIN, next: `/goals/${goalId}` })
      .expect(303);
    expect(login.headers.location).toBe(`/goals/${goalId}`);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/agentq_session=admin\.[0-9a-f]{64}/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(ADMIN);
    const page = await agent.get(`/goals/${goalId}`).expect(200);
    expect(page.text).toContain('<svg');
    await agent.get('/board').expect(200);
    await agent.get('/metrics').expect(200);
    await agent.post('/logout').expect(303);
    await agent.get('/api/status').expect(401);
  });

  it('refuses an open redirect after login', async () => {
    const res = await request(api.app)
      .post('/login')
      .type('form')
      .send({ token: READONLY, next: '//evil.example' })
      .expect(303);
    expect(res.headers.location).toBe('/');
  });
});
