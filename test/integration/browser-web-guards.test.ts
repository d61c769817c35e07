/**
 * Debian's Chromium against real servers: a page served from another loopback port (the same
 * site, so SameSite=Strict cookies go along) that submits a form or sends a no-cors fetch must not
 * change anything; a page reached through a name re-pointed at 127.0.0.1 (DNS rebinding) gets
 * nothing; a login with a `next` that a browser reads as another site stays on the server; and
 * the same actions from the app's own pages still work.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium';
import request from 'supertest';
import { startServer, type RunningServer } from '../../src/board/server';
import { GOAL_CANCELLED_FIELD } from '../../src/queues/cancellation';
import { goalRecordKey } from '../../src/queues/compiler';
import { GOALS_QUEUE } from '../../src/queues/names';
import { startApiApp, type ApiFixture } from '../helpers/api-app';

const TOKEN = 'browser-guards-token';
const PLAN = { plan: { goal: 'Guarded', tasks: [{ key: 'a', title: 'A', type: 'paint' }] } };

/** The other site's pages: `/form?action=URL` posts a form there, `/fetch?url=URL` a no-cors fetch. */
function attackerPage(url: URL): string {
  const target = JSON.stringify(url.searchParams.get('action') ?? url.searchParams.get('url'));
  if (url.pathname === '/form') {
    return `<form id="f" method="post"></form><script>
const f = document.getElementById('f'); f.action = ${target}; f.submit();</script>`;
  }
  return `<script>fetch(${target}, { method: 'POST', mode: 'no-cors', credentials: 'include' })
  .then(() => (document.title = 'sent'), () => (document.title = 'failed'));</script>`;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('web guards in a browser', () => {
  let open: ApiFixture;
  let guarded: ApiFixture;
  let openServer: RunningServer;
  let guardedServer: RunningServer;
  const attacker = createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(attackerPage(new URL(req.url ?? '/', 'http://localhost')));
  });
  let evil = '';
  let browser: BrowserContext;
  let chrome: LaunchedChromium | undefined;

  beforeAll(async () => {
    open = await startApiApp({ supervisor: true });
    guarded = await startApiApp({ token: TOKEN, supervisor: true });
    openServer = await startServer({ app: open.app, host: '127.0.0.1', port: 0, token: null });
    guardedServer = await startServer({
      app: guarded.app,
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
    });
    evil = `http://localhost:${await listen(attacker)}`;
    // The rebinding attacker's name, resolved to this machine as a rebound DNS answer would.
    chrome = await launchChromium(['--host-resolver-rules=MAP rebind.example 127.0.0.1']);
    browser = chrome.context;
  });

  afterAll(async () => {
    await chrome?.close();
    await new Promise<void>((resolve) => attacker.close(() => resolve()));
    await openServer?.close();
    await guardedServer?.close();
    await open?.close();
    await guarded?.close();
  });

  async function newGoal(api: ApiFixture): Promise<string> {
    const res = await request(api.app)
      .post('/api/goals')
      .auth(TOKEN, { type: 'bearer' })
      .send(PLAN);
    expect(res.status).toBe(201);
    return res.body.goalId as string;
  }

  function cancelledBy(api: ApiFixture, goalId: string): Promise<string | null> {
    return api.coordinator.client.hget(
      goalRecordKey(api.coordinator, goalId),
      GOAL_CANCELLED_FIELD,
    );
  }

  /** Opens the other site's page and waits until its request has been answered. */
  async function attack(page: Page, kind: 'form' | 'fetch', target: string): Promise<void> {
    if (kind === 'form') {
      const answered = page.waitForResponse((r) => r.url() === target);
      await page.goto(`${evil}/form?action=${encodeURIComponent(target)}`);
      await answered;
    } else {
      await page.goto(`${evil}/fetch?url=${encodeURIComponent(target)}`);
      await page.waitForFunction("document.title === 'sent' || document.title === 'failed'");
    }
  }

  async function ownFetch(page: Page, method: string, path: string): Promise<number> {
    return page.evaluate(
      async ([m, p]) => (await fetch(p!, { method: m, credentials: 'same-origin' })).status,
      [method, path],
    );
  }

  it('without a token: another port’s form and no-cors fetch change nothing; the app’s own page can', async () => {
    const local = `http://localhost:${openServer.port}`;
    const goalId = await newGoal(open);
    const page = await browser.newPage();
    await attack(page, 'form', `${local}/api/goals/${goalId}/cancel`);
    await attack(page, 'fetch', `${local}/api/goals/${goalId}/cancel`);
    await attack(page, 'fetch', `${local}/board/api/queues/${GOALS_QUEUE}/pause`);
    expect(await cancelledBy(open, goalId)).toBeNull();
    expect(await open.coordinator.queue(GOALS_QUEUE).isPaused()).toBe(false);

    await page.goto(`${local}/`);
    expect(await ownFetch(page, 'POST', `/api/goals/${goalId}/cancel`)).toBe(202);
    expect(await cancelledBy(open, goalId)).toBe(JSON.stringify('api:anonymous'));
    await page.close();
  });

  it('without a token: a page on a rebound name gets nothing and changes nothing', async () => {
    const goals = (await open.store.listGoals()).length;
    const page = await browser.newPage();
    const rebound = `http://rebind.example:${openServer.port}`;
    const answer = await page.goto(`${rebound}/`);
    expect(answer?.status()).toBe(403);
    const status = await page.evaluate(
      async () =>
        (
          await fetch('/api/tasks', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ title: 'T', type: 'paint' }),
          })
        ).status,
    );
    expect(status).toBe(403);
    expect(await ownFetch(page, 'PUT', `/board/api/queues/${GOALS_QUEUE}/pause`)).toBe(403);
    expect((await open.store.listGoals()).length).toBe(goals);
    expect(await open.coordinator.queue(GOALS_QUEUE).isPaused()).toBe(false);
    await page.close();
  });

  it('with a token: a login whose next a browser reads as another site stays on the server', async () => {
    const local = `http://localhost:${guardedServer.port}`;
    const page = await browser.newPage();
    // Chromium reads `/\evil.example` as `//evil.example`.
    await page.goto(`${local}/login?next=${encodeURIComponent('/\\evil.example')}`);
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([page.waitForURL(`${local}/`), page.click('button[type="submit"]')]);
    expect(new URL(page.url()).host).toBe(`localhost:${guardedServer.port}`);
    await page.close();
  });

  it('with a token: a logged-in browser is not made to act by another port; its own pages act', async () => {
    const local = `http://localhost:${guardedServer.port}`;
    const goalId = await newGoal(guarded);
    const page = await browser.newPage();
    await page.goto(`${local}/login?next=/board`);
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([page.waitForURL(`${local}/board`), page.click('button[type="submit"]')]);

    await attack(page, 'form', `${local}/api/goals/${goalId}/cancel`);
    await attack(page, 'fetch', `${local}/api/goals/${goalId}/cancel`);
    await attack(page, 'fetch', `${local}/board/api/queues/${GOALS_QUEUE}/pause`);
    expect(await cancelledBy(guarded, goalId)).toBeNull();
    expect(await guarded.coordinator.queue(GOALS_QUEUE).isPaused()).toBe(false);

    await page.goto(`${local}/board`);
    expect(await ownFetch(page, 'PUT', `/board/api/queues/${GOALS_QUEUE}/pause`)).toBe(200);
    expect(await guarded.coordinator.queue(GOALS_QUEUE).isPaused()).toBe(true);
    expect(await ownFetch(page, 'PUT', `/board/api/queues/${GOALS_QUEUE}/resume`)).toBe(200);
    expect(await ownFetch(page, 'POST', `/api/goals/${goalId}/cancel`)).toBe(202);
    expect(await cancelledBy(guarded, goalId)).toBe(JSON.stringify('api:admin'));
    await page.close();
  });
});
