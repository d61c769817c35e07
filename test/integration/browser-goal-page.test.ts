/**
 * Headless Chromium (Debian's, through playwright-core) against a real server: log in through
 * the form, open Bull Board, open a goal page and watch a node turn green as a real agent
 * finishes its task. The screenshot is kept under test-output/.
 */
import type { BrowserContext } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium';
import request from 'supertest';
import { STATE_COLOURS } from '../../src/board/graph-svg';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { startServer, type RunningServer } from '../../src/board/server';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { startInternalWorkers, type InternalWorkers } from '../../src/queues/internal-workers';
import { startApiApp, type ApiFixture } from '../helpers/api-app';
import { waitFor } from '../helpers/wait-for';

const TOKEN = 'browser-test-token';

describe('goal page in a browser', () => {
  let api: ApiFixture;
  let server: RunningServer;
  let mirror: MirrorHandle;
  let internal: InternalWorkers;
  let agent: AutonomousAgent;
  let browser: BrowserContext;
  let chrome: LaunchedChromium | undefined;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    api = await startApiApp({ token: TOKEN, supervisor: true });
    mirror = startMirror({ store: api.store, coordinator: api.coordinator, blockMs: 50 });
    internal = startInternalWorkers(api.coordinator);
    agent = new AutonomousAgent({
      agentId: 'browser-agent',
      capabilities: ['paint'],
      taskRegistry: api.store,
      redisCoordinator: api.coordinator,
      handlers: { paint: async () => (await released, { painted: true }) },
    });
    await agent.start();
    server = await startServer({ app: api.app, host: '127.0.0.1', port: 0, token: TOKEN });
    chrome = await launchChromium();
    browser = chrome.context;
  });

  afterAll(async () => {
    release();
    await chrome?.close();
    await agent?.close();
    await internal?.close();
    await mirror?.close();
    await api?.close();
    await server?.close();
  });

  it('logs in, opens the board, and sees a node change colour when its task finishes', async () => {
    const submitted = await request(api.app)
      .post('/api/goals')
      .auth(TOKEN, { type: 'bearer' })
      .send({
        plan: {
          goal: 'Paint the fence',
          tasks: [{ key: 'paint', title: 'Paint it', type: 'paint' }],
        },
      })
      .expect(201);
    const goalId = submitted.body.goalId as string;
    const taskId = `${goalId}.paint`;

    const page = await browser.newPage();
    await page.goto(`${server.url}/board`);
    expect(page.url()).toContain('/login');
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([
      page.waitForURL(`${server.url}/board`),
      page.click('button[type="submit"]'),
    ]);
    await page.waitForSelector('text=paint', { timeout: 20000 });

    await page.goto(`${server.url}/goals/${goalId}`);
    const node = page.locator(`g.task[data-task-id="${taskId}"]`);
    await waitFor(
      'the task to be running',
      async () => (await api.store.getTask(taskId))?.state === 'ACTIVE',
    );
    await expect(node.getAttribute('data-state')).resolves.not.toBe('DONE');

    release();
    await page.waitForSelector(`g.task[data-task-id="${taskId}"][data-state="DONE"]`, {
      timeout: 20000,
    });
    expect(await node.locator('rect').getAttribute('fill')).toBe(STATE_COLOURS.DONE);
    await page.screenshot({ path: 'test-output/browser-goal-page.png', fullPage: true });
    await page.close();
  });
});
