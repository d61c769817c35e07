/**
 * Every route, probed with no credential and with the read-only token: our own routes as
 * enumerated from the Express app's router, Bull Board's API and entry routes as enumerated from
 * a Bull Board router built the way src/board/board.ts builds it, its static files as listed on
 * disk, and the pages. Without a credential: 401 everywhere (a browser asking for HTML is sent
 * to the login form instead). With the read-only token: every GET answers, every mutation is 403
 * and changes nothing.
 */
import { readdirSync } from 'node:fs';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { ExpressAdapter } from '@bull-board/express';
import request from 'supertest';
import { DLQ_QUEUE, GOALS_QUEUE } from '../../src/queues/names';
import { startApiApp, type ApiFixture } from '../helpers/api-app';

const ADMIN = 'probe-admin-token';
const READONLY = 'probe-readonly-token';
const PUBLIC = new Set(['/login', '/logout']);

interface Route {
  method: string;
  path: string;
}

interface LayerLike {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
}

/** Every method+path an Express app or router declares, nested routers included. */
function routesOf(stack: readonly LayerLike[], base = ''): Route[] {
  const out: Route[] = [];
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const path of paths) {
        for (const method of Object.keys(layer.route.methods)) {
          if (method !== '_all') out.push({ method, path: base + path });
        }
      }
    } else if (layer.handle?.stack) {
      out.push(...routesOf(layer.handle.stack, base));
    }
  }
  return out;
}

/** Bull Board's own routes, read from a router built like ours (board.ts). */
function bullBoardRoutes(): Route[] {
  const adapter = new ExpressAdapter();
  adapter.setBasePath('/board');
  createBullBoard({ queues: [], serverAdapter: adapter });
  const app = adapter.getRouter() as unknown as { router: { stack: LayerLike[] } };
  return routesOf(app.router.stack, '/board');
}

/** A few of Bull Board's static files, as they lie on disk. */
function bullBoardStaticFiles(): string[] {
  const root = join(dirname(require.resolve('@bull-board/ui/package.json')), 'dist', 'static');
  const js = readdirSync(join(root, 'js')).filter((f) => f.endsWith('.js'));
  return ['/board/static/favicon.ico', `/board/static/js/${js[0]}`];
}

/** Fills route parameters with values that name real things where that matters. */
function concrete(path: string, goalId: string, taskId: string): string {
  return path
    .replace(':queueName', GOALS_QUEUE)
    .replace(':jobId', `${taskId}`)
    .replace(/\/api\/goals\/:id/, `/api/goals/${goalId}`)
    .replace(/\/goals\/:id/, `/goals/${goalId}`)
    .replace(/\/api\/tasks\/:id/, `/api/tasks/${taskId}`)
    .replace(/\/api\/dlq\/:id/, `/api/dlq/${taskId}`)
    .replace(/:[A-Za-z]+/g, 'x');
}

/** GET of the SSE stream: only the status line matters; the stream is closed at once. */
function sseStatus(
  server: ReturnType<ApiFixture['app']['listen']>,
  token?: string,
): Promise<number> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = get(
      {
        host: '127.0.0.1',
        port,
        path: '/api/events/stream',
        agent: false,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
        req.destroy();
      },
    );
    req.on('error', reject);
  });
}

describe('every route without a token and with the read-only token', () => {
  let api: ApiFixture;
  let goalId: string;
  let taskId: string;
  let routes: Route[];

  beforeAll(async () => {
    api = await startApiApp({ token: ADMIN, readonlyToken: READONLY, supervisor: true });
    const seeded = await api.seedGoal({ a: [], b: ['a'] }, 'probe');
    goalId = seeded.goalId;
    taskId = seeded.tasks[0]!.id;
    const own = routesOf((api.app as unknown as { router: { stack: LayerLike[] } }).router.stack);
    routes = [...own, ...bullBoardRoutes()].map((r) => ({
      method: r.method,
      path: concrete(r.path, goalId, taskId),
    }));
  });

  afterAll(async () => {
    await api?.close();
  });

  it('found our routes and Bull Board’s API, entry and mutation routes', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of [
      'get /healthz',
      'get /api/status',
      'post /api/goals',
      'post /api/tasks',
      'get /api/events/stream',
      'get /metrics',
      'get /',
      'get /board/api/queues',
      `put /board/api/queues/${GOALS_QUEUE}/pause`,
    ]) {
      expect(names).toContain(expected);
    }
    expect(routes.filter((r) => r.path.startsWith('/board/api')).length).toBeGreaterThan(20);
  });

  it('answers 401 to every route without a credential', async () => {
    const paths = [...routes, ...bullBoardStaticFiles().map((path) => ({ method: 'get', path }))];
    const unexpected: string[] = [];
    for (const { method, path } of paths) {
      if (PUBLIC.has(path) || path === '/api/events/stream') continue;
      const res = await request(api.app)[method as 'get'](path).set('Accept', 'application/json');
      if (res.status !== 401) unexpected.push(`${method} ${path} → ${res.status}`);
    }
    expect(unexpected).toEqual([]);
  });

  it('answers 401 to the SSE stream without a credential and opens it for the read-only token', async () => {
    const server = api.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      expect(await sseStatus(server)).toBe(401);
      expect(await sseStatus(server, READONLY)).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('sends a browser without a credential to the login form on every page', async () => {
    for (const path of ['/', `/goals/${goalId}`, '/board', ...bullBoardStaticFiles()]) {
      const res = await request(api.app).get(path).set('Accept', 'text/html');
      expect([path, res.status, res.headers.location]).toEqual([
        path,
        302,
        `/login?next=${encodeURIComponent(path)}`,
      ]);
    }
  });

  it('lets the read-only token read every GET route and static file', async () => {
    const unexpected: string[] = [];
    const gets = [
      ...routes.filter((r) => r.method === 'get' && r.path !== '/api/events/stream'),
      ...bullBoardStaticFiles().map((path) => ({ method: 'get', path })),
    ];
    for (const { path } of gets) {
      const res = await request(api.app).get(path).auth(READONLY, { type: 'bearer' });
      // 404 is a fine answer for a probe id; what must not happen is 401/403 or a fault.
      if ([401, 403].includes(res.status) || res.status >= 500) {
        unexpected.push(`GET ${path} → ${res.status}`);
      }
    }
    expect(unexpected).toEqual([]);
  });

  it('answers 403 to every mutation with the read-only token and changes nothing', async () => {
    const mutations = routes.filter((r) => r.method !== 'get' && !PUBLIC.has(r.path));
    expect(mutations.length).toBeGreaterThan(15);
    const unexpected: string[] = [];
    for (const { method, path } of mutations) {
      const call = request(api.app)[method as 'post'];
      const res = await call(path)
        .auth(READONLY, { type: 'bearer' })
        .send({ goal: 'x', title: 'x', type: 'x' });
      if (res.status !== 403 || res.body?.error?.code !== 'forbidden') {
        unexpected.push(`${method} ${path} → ${res.status}`);
      }
    }
    expect(unexpected).toEqual([]);
    expect(await api.coordinator.queue(GOALS_QUEUE).isPaused()).toBe(false);
    expect(await api.coordinator.queue(DLQ_QUEUE).isPaused()).toBe(false);
    expect((await api.store.listGoals()).map((g) => g.id)).toEqual([goalId]);
    expect((await api.store.getTask(taskId))?.state).toBe('PENDING');
  });

  it('lets the admin token reach every GET route', async () => {
    const unexpected: string[] = [];
    for (const { path } of routes.filter(
      (r) => r.method === 'get' && r.path !== '/api/events/stream',
    )) {
      const res = await request(api.app).get(path).auth(ADMIN, { type: 'bearer' });
      if ([401, 403].includes(res.status) || res.status >= 500)
        unexpected.push(`GET ${path} → ${res.status}`);
    }
    expect(unexpected).toEqual([]);
  });
});
