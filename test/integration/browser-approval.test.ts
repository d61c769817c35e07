/**
 * Headless Chromium (Debian's, through playwright-core) on a goal page with an approval task:
 * the read-only token sees what awaits approval without buttons; the full token's Approve button
 * (the page's own same-origin fetch to the REST route) releases the dependent, which runs with
 * the approval's result. The screenshots are kept under test-output/.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium';
import request from 'supertest';
import type { Json } from '../../src/entities/task-model';
import { startServer, type RunningServer } from '../../src/board/server';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { startInternalWorkers, type InternalWorkers } from '../../src/queues/internal-workers';
import { startApiApp, type ApiFixture } from '../helpers/api-app';
import { waitFor } from '../helpers/wait-for';

const TOKEN = 'browser-approval-admin';
const READONLY = 'browser-approval-viewer';

describe('the Approve button on the goal page', () => {
  let api: ApiFixture;
  let server: RunningServer;
  let mirror: MirrorHandle;
  let internal: InternalWorkers;
  let agent: AutonomousAgent;
  let browser: BrowserContext;
  let chrome: LaunchedChromium | undefined;

  beforeAll(async () => {
    api = await startApiApp({ token: TOKEN, readonlyToken: READONLY, supervisor: true });
    mirror = startMirror({ store: api.store, coordinator: api.coordinator, blockMs: 50 });
    internal = startInternalWorkers(api.coordinator);
    agent = new AutonomousAgent({
      agentId: 'browser-approval-agent',
      capabilities: ['ship'],
      taskRegistry: api.store,
      redisCoordinator: api.coordinator,
      handlers: { ship: async (_task, ctx) => ({ shipped: true, deps: ctx.dependencies }) },
    });
    await agent.start();
    server = await startServer({ app: api.app, host: '127.0.0.1', port: 0, token: TOKEN });
    chrome = await launchChromium();
    browser = chrome.context;
  });

  afterAll(async () => {
    await chrome?.close();
    await agent?.close();
    await internal?.close();
    await mirror?.close();
    await api?.close();
    await server?.close();
  });

  async function logIn(page: Page, token: string): Promise<void> {
    await page.goto(`${server.url}/login`);
    await page.fill('input[name="token"]', token);
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type="submit"]')]);
  }

  it('read-only: listed, no buttons; full token: Approve releases the dependent', async () => {
    const submitted = await request(api.app)
      .post('/api/goals')
      .auth(TOKEN, { type: 'bearer' })
      .send({
        plan: {
          goal: 'Ship the release',
          tasks: [
            { key: 'build', title: 'Build it', type: 'ship' },
            {
              key: 'gate',
              title: 'Release?',
              dependsOn: ['build'],
              approval: { prompt: 'Ship 1.0 to everyone?' },
            },
            { key: 'release', title: 'Release it', type: 'ship', dependsOn: ['gate'] },
          ],
        },
      })
      .expect(201);
    const goalId = submitted.body.goalId as string;
    const gate = `${goalId}.gate`;
    const release = `${goalId}.release`;
    await waitFor('the approval to be parked', async () => {
      const state = await api.coordinator.queue('_approvals').getJobState(gate);
      return state === 'delayed' && (await api.store.getTask(gate))?.state === 'PENDING';
    });

    const viewer = await browser.newPage();
    await logIn(viewer, READONLY);
    await viewer.goto(`${server.url}/goals/${goalId}`);
    const listed = viewer.locator(`li[data-approval="${gate}"]`);
    await expect(listed.textContent()).resolves.toContain('Ship 1.0 to everyone?');
    await expect(listed.textContent()).resolves.toMatch(/since \d{4}-\d\d-\d\dT/);
    expect(await viewer.locator('button.approve').count()).toBe(0);
    expect(await viewer.locator('button.reject').count()).toBe(0);
    await viewer.screenshot({ path: 'test-output/browser-approval-readonly.png', fullPage: true });
    await viewer.close();
    await browser.clearCookies();

    const page = await browser.newPage();
    await logIn(page, TOKEN);
    await page.goto(`${server.url}/goals/${goalId}`);
    const item = page.locator(`li[data-approval="${gate}"]`);
    await item.locator('input.note').fill('go for it');
    await item.locator('button.approve').click();
    await page.waitForSelector(
      `li[data-approval="${gate}"] .outcome:has-text("approved by api:admin")`,
    );
    await page.waitForSelector(`g.task[data-task-id="${release}"][data-state="DONE"]`, {
      timeout: 20000,
    });
    await page.screenshot({ path: 'test-output/browser-approval.png', fullPage: true });
    await page.close();

    const done = await api.store.getTask(release);
    expect((done?.result as { deps: Record<string, Json> }).deps.gate).toEqual({
      approved: true,
      by: 'api:admin',
      note: 'go for it',
      data: null,
    });
  });
});
