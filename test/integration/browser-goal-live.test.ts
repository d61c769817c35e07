/**
 * Headless Chromium (Debian's, through playwright-core) on a goal page that grows while it is
 * open: a real agent's handler spawns two tasks (ctx.spawn) only once the page is loaded, and the
 * goal is extended from outside; the page shows the new nodes and rows without a reload, the
 * spawned ones boxed under their spawner and marked "spawned by" it. The approval after the
 * spawner then joins the list, its Approve button (full token) releases the tasks after it,
 * which turn DONE in SQL and on the page, and the goal with them. The screenshots are kept under
 * test-output/.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium';
import request from 'supertest';
import { startServer, type RunningServer } from '../../src/board/server';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { startInternalWorkers, type InternalWorkers } from '../../src/queues/internal-workers';
import { startApiApp, type ApiFixture } from '../helpers/api-app';
import { waitFor } from '../helpers/wait-for';

const TOKEN = 'browser-live-admin';

describe('the goal page as its goal grows', () => {
  let api: ApiFixture;
  let server: RunningServer;
  let mirror: MirrorHandle;
  let internal: InternalWorkers;
  let agent: AutonomousAgent;
  let browser: BrowserContext;
  let chrome: LaunchedChromium | undefined;
  // The spawning handler waits for this: the page must be open before anything is spawned.
  let pageOpen: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (pageOpen = resolve));

  beforeAll(async () => {
    api = await startApiApp({ token: TOKEN, supervisor: true });
    mirror = startMirror({ store: api.store, coordinator: api.coordinator, blockMs: 50 });
    internal = startInternalWorkers(api.coordinator);
    agent = new AutonomousAgent({
      agentId: 'browser-live-agent',
      capabilities: ['fork', 'leaf'],
      taskRegistry: api.store,
      redisCoordinator: api.coordinator,
      concurrency: 2,
      handlers: {
        fork: async (_task, ctx) => {
          await opened;
          const spawned = await ctx.spawn([
            { key: 'part-a', title: 'First part', type: 'leaf' },
            { key: 'part-b', title: 'Second part', type: 'leaf', dependsOn: ['part-a'] },
          ]);
          return { spawned: spawned.length };
        },
        leaf: async (task) => ({ made: task.key }),
      },
    });
    await agent.start();
    server = await startServer({ app: api.app, host: '127.0.0.1', port: 0, token: TOKEN });
    chrome = await launchChromium();
    browser = chrome.context;
  });

  afterAll(async () => {
    pageOpen();
    await chrome?.close();
    await agent?.close();
    await internal?.close();
    await mirror?.close();
    await api?.close();
    await server?.close();
  });

  /** The `tasks:new` payloads the stream replays for a goal from seq 0, up to `lastKey`'s. */
  async function replayedNews(
    goalId: string,
    lastKey: string,
  ): Promise<Array<Record<string, unknown>>> {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/events/stream?after=0&goalId=${goalId}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const news: Array<Record<string, unknown>> = [];
    let buffer = '';
    try {
      while (!news.some((e) => e.key === lastKey)) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (let end; (end = buffer.indexOf('\n\n')) >= 0; buffer = buffer.slice(end + 2)) {
          const frame = buffer.slice(0, end);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (/^event: tasks:new$/m.test(frame) && data) news.push(JSON.parse(data));
        }
      }
    } finally {
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
    return news;
  }

  async function logIn(token: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${server.url}/login`);
    await page.fill('input[name="token"]', token);
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type="submit"]')]);
    return page;
  }

  it('GET /goals/:id/parts: the picture and rows as the page renders them, 404 and 401', async () => {
    const submitted = await request(api.app)
      .post('/api/goals')
      .auth(TOKEN, { type: 'bearer' })
      .send({ plan: { goal: 'One leaf', tasks: [{ key: 'leaf', title: 'Leaf', type: 'leaf' }] } })
      .expect(201);
    const goalId = submitted.body.goalId as string;
    const res = await request(api.app)
      .get(`/goals/${goalId}/parts`)
      .auth(TOKEN, { type: 'bearer' })
      .expect(200);
    expect(res.body.taskCount).toBe(1);
    expect(res.body.seq).toBeGreaterThan(0);
    expect(res.body.picture).toMatch(/^<div class="graph"><svg [^]*data-task-id="[^"]+\.leaf"/);
    expect(res.body.rows).toMatch(/^<tr data-task-id="[^"]+\.leaf"><td>leaf<\/td>/);
    await request(api.app)
      .get('/goals/g-0000000000000000/parts')
      .auth(TOKEN, { type: 'bearer' })
      .expect(404);
    await request(api.app).get(`/goals/${goalId}/parts`).expect(401);
  });

  it('draws spawned and added tasks live, and Approve then finishes the goal', async () => {
    const submitted = await request(api.app)
      .post('/api/goals')
      .auth(TOKEN, { type: 'bearer' })
      .send({
        plan: {
          goal: 'Split and ship',
          tasks: [
            { key: 'split', title: 'Split the work', type: 'fork' },
            {
              key: 'gate',
              title: 'Ship it?',
              dependsOn: ['split'],
              approval: { prompt: 'Ship both parts?' },
            },
            { key: 'ship', title: 'Ship it', type: 'leaf', dependsOn: ['gate'] },
          ],
        },
      })
      .expect(201);
    const goalId = submitted.body.goalId as string;
    const id = (key: string) => `${goalId}.${key}`;
    await waitFor(
      'the spawner to run',
      async () => (await api.store.getTask(id('split')))?.state === 'ACTIVE',
    );

    const page = await logIn(TOKEN);
    await page.goto(`${server.url}/goals/${goalId}`);
    expect(await page.locator('g.task').count()).toBe(3);
    expect(await page.locator('#task-rows tr').count()).toBe(3);
    expect(await page.locator('g.spawn-group').count()).toBe(0);
    // Kept on this document only: still there at the end means the page never reloaded.
    await page.evaluate(
      () => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true),
    );
    pageOpen();

    // The spawned tasks: nodes in a box under the spawner, rows saying who spawned them.
    for (const key of ['part-a', 'part-b']) {
      await page.waitForSelector(
        `g.task[data-task-id="${id(key)}"][data-spawned-by="${id('split')}"]`,
      );
      const row = page.locator(`tr[data-task-id="${id(key)}"]`);
      await expect(row.getAttribute('data-spawned-by')).resolves.toBe(id('split'));
      await expect(row.locator('td.spawned-by').textContent()).resolves.toBe('split');
    }
    const group = page.locator(`g.spawn-group[data-spawned-by="${id('split')}"]`);
    await expect(group.textContent()).resolves.toBe('spawned by split');
    const box = await group.locator('rect').boundingBox();
    for (const key of ['part-a', 'part-b']) {
      const node = await page.locator(`g.task[data-task-id="${id(key)}"] rect`).boundingBox();
      expect(node!.x).toBeGreaterThanOrEqual(box!.x);
      expect(node!.y).toBeGreaterThanOrEqual(box!.y);
      expect(node!.x + node!.width).toBeLessThanOrEqual(box!.x + box!.width);
      expect(node!.y + node!.height).toBeLessThanOrEqual(box!.y + box!.height);
    }
    const spawner = await page.locator(`g.task[data-task-id="${id('split')}"] rect`).boundingBox();
    expect(box!.y).toBeGreaterThan(spawner!.y);
    expect(await page.locator('path.spawn-edge').count()).toBe(1);
    await expect(page.locator('#task-count').textContent()).resolves.toBe('5');
    await page.screenshot({ path: 'test-output/browser-goal-live-spawned.png', fullPage: true });
    // A page that connects later gets them replayed with spawnedBy too, as the live events had it.
    const news = await replayedNews(goalId, 'part-b');
    expect(Object.fromEntries(news.map((e) => [e.key, e.spawnedBy ?? null]))).toEqual({
      split: null,
      gate: null,
      ship: null,
      'part-a': id('split'),
      'part-b': id('split'),
    });

    // An extension from outside joins too, without a spawn mark.
    await request(api.app)
      .post(`/api/goals/${goalId}/tasks`)
      .auth(TOKEN, { type: 'bearer' })
      .send({ tasks: [{ key: 'notes', title: 'Write notes', type: 'leaf', dependsOn: ['ship'] }] })
      .expect(201);
    await page.waitForSelector(`tr[data-task-id="${id('notes')}"]`);
    await page.waitForSelector(`g.task[data-task-id="${id('notes')}"]`);
    expect(
      await page.locator(`g.task[data-task-id="${id('notes')}"]`).getAttribute('data-spawned-by'),
    ).toBeNull();
    await expect(
      page.locator(`tr[data-task-id="${id('notes')}"] td.spawned-by`).textContent(),
    ).resolves.toBe('');

    // The spawner ends after what it spawned; then the approval waits, and Approve releases ship.
    const item = page.locator(`li[data-approval="${id('gate')}"]`);
    await expect(item.locator('b').textContent()).resolves.toBe('Ship it?');
    await item.locator('button.approve').click();
    await page.waitForSelector(
      `li[data-approval="${id('gate')}"] .outcome:has-text("approved by api:admin")`,
    );
    await waitFor(
      'ship to be DONE',
      async () => (await api.store.getTask(id('ship')))?.state === 'DONE',
    );
    await page.waitForSelector(`g.task[data-task-id="${id('ship')}"][data-state="DONE"]`);
    await page.waitForSelector(`tr[data-task-id="${id('ship')}"] td.state:has-text("DONE")`);
    for (const key of ['part-a', 'part-b', 'split', 'notes']) {
      await page.waitForSelector(`g.task[data-task-id="${id(key)}"][data-state="DONE"]`);
      expect((await api.store.getTask(id(key)))?.state).toBe('DONE');
    }
    await page.waitForSelector('#goal-state:has-text("DONE")');
    // Rendered while part-b waited on part-a; gone once it ran.
    await expect(
      page.locator(`tr[data-task-id="${id('part-b')}"] td.wait-reason`).textContent(),
    ).resolves.toBe('');
    await expect(
      page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument),
    ).resolves.toBe(true);
    await expect(page.locator('#live-status').textContent()).resolves.toBe('');
    await page.screenshot({ path: 'test-output/browser-goal-live.png', fullPage: true });
    await page.close();
  });
});
