/**
 * Headless Chromium (Debian's, through playwright-core) on the goal page's task details, with a
 * real agent: a click on a node shows the task's result, its attempt with the agent id and its
 * job log lines; the timeline is drawn for finished tasks; the read-only token sees no Cancel or
 * Retry; with the full token Retry runs a failed task again (DONE in SQL afterwards) and Cancel
 * ends a task no agent serves (CANCELLED). The screenshots are kept under test-output/.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium';
import request from 'supertest';
import { startServer, type RunningServer } from '../../src/board/server';
import type { TaskSpec } from '../../src/entities/task-model';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { startInternalWorkers, type InternalWorkers } from '../../src/queues/internal-workers';
import { startApiApp, type ApiFixture } from '../helpers/api-app';
import { waitFor } from '../helpers/wait-for';

const TOKEN = 'browser-details-admin';
const READONLY = 'browser-details-viewer';
const AGENT = 'browser-details-agent';

describe('task details on the goal page', () => {
  let api: ApiFixture;
  let server: RunningServer;
  let mirror: MirrorHandle;
  let internal: InternalWorkers;
  let agent: AutonomousAgent;
  let browser: BrowserContext;
  let chrome: LaunchedChromium | undefined;
  /** Task ids whose first run failed: their next run succeeds. */
  const failedOnce = new Set<string>();

  beforeAll(async () => {
    api = await startApiApp({ token: TOKEN, readonlyToken: READONLY, supervisor: true });
    mirror = startMirror({ store: api.store, coordinator: api.coordinator, blockMs: 50 });
    internal = startInternalWorkers(api.coordinator);
    agent = new AutonomousAgent({
      agentId: AGENT,
      capabilities: ['craft'],
      taskRegistry: api.store,
      redisCoordinator: api.coordinator,
      handlers: {
        craft: async (task, ctx) => {
          await ctx.log(`crafting ${task.key}`);
          if (task.data.failOnce === true && !failedOnce.has(task.id)) {
            failedOnce.add(task.id);
            throw new Error(`${task.key} broke on its first run`);
          }
          await ctx.log(`crafted ${task.key}`);
          return { made: task.key };
        },
      },
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

  async function submit(goal: string, tasks: TaskSpec[]): Promise<string> {
    const submitted = await request(api.app)
      .post('/api/goals')
      .auth(TOKEN, { type: 'bearer' })
      .send({ plan: { goal, tasks } })
      .expect(201);
    return submitted.body.goalId as string;
  }

  async function stateOf(taskId: string): Promise<string | undefined> {
    return (await api.store.getTask(taskId))?.state;
  }

  async function logIn(token: string): Promise<Page> {
    await browser.clearCookies();
    const page = await browser.newPage();
    await page.goto(`${server.url}/login`);
    await page.fill('input[name="token"]', token);
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type="submit"]')]);
    return page;
  }

  /** Clicks the task's node and waits until the dialog shows it loaded. */
  async function openDetails(page: Page, taskId: string, state: string): Promise<void> {
    await page.click(`g.task[data-task-id="${taskId}"]`);
    await page.waitForSelector(
      `dialog#task-details[open][data-task-id="${taskId}"][data-state="${state}"]`,
    );
  }

  it('shows a finished task: result, attempt with agent and times, log lines, timeline', async () => {
    const goalId = await submit('Make and pack', [
      { key: 'make', title: 'Make it', type: 'craft' },
      { key: 'pack', title: 'Pack it', type: 'craft', dependsOn: ['make'] },
    ]);
    const make = `${goalId}.make`;
    await waitFor('both tasks DONE', async () => (await stateOf(`${goalId}.pack`)) === 'DONE');

    const page = await logIn(READONLY);
    await page.goto(`${server.url}/goals/${goalId}`);
    await openDetails(page, make, 'DONE');
    const dialog = page.locator('dialog#task-details');
    expect(JSON.parse(await dialog.locator('.d-result').innerText())).toEqual({ made: 'make' });
    const attempt = dialog.locator('tr.d-attempt');
    expect(await attempt.count()).toBe(1);
    const cells = await attempt.locator('td').allInnerTexts();
    expect(cells[0]).toBe('1');
    expect(cells[1]).toBe(AGENT);
    for (const time of cells.slice(2, 5)) expect(time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(cells[5]).toBe('DONE');
    const log = await dialog.locator('.d-logs').innerText();
    expect(log).toContain('crafting make');
    expect(log).toContain('crafted make');
    expect(await dialog.locator('button.d-cancel, button.d-retry').count()).toBe(0);
    await page.screenshot({ path: 'test-output/browser-goal-details.png' });
    await page.click('form.d-close button');
    expect(await page.locator('dialog#task-details[open]').count()).toBe(0);

    // The timeline: a wait and a run bar for each finished task.
    for (const key of ['make', 'pack']) {
      const row = page.locator(`#timeline g.timeline-task[data-task-id="${goalId}.${key}"]`);
      expect(await row.locator('rect.run').count()).toBe(1);
      expect(await row.locator('rect.wait').count()).toBe(1);
      await expect(row.locator('text.durations').textContent()).resolves.toMatch(/ran \d/);
    }
    await page.screenshot({ path: 'test-output/browser-goal-timeline.png', fullPage: true });

    // A table row opens the details too.
    await page.click(`#tasks tr[data-task-id="${goalId}.pack"]`);
    await page.waitForSelector(`dialog#task-details[open][data-task-id="${goalId}.pack"]`);
    await page.close();
  });

  it('read-only: no Cancel or Retry; full token: Retry runs a failed task again', async () => {
    const goalId = await submit('Break once', [
      { key: 'flaky', title: 'Flaky', type: 'craft', attempts: 1, data: { failOnce: true } },
    ]);
    const flaky = `${goalId}.flaky`;
    await waitFor('the task to fail', async () => (await stateOf(flaky)) === 'FAILED');
    await waitFor('the goal to fail', async () => {
      return (await api.store.getGoal(goalId))?.state === 'FAILED';
    });

    const viewer = await logIn(READONLY);
    await viewer.goto(`${server.url}/goals/${goalId}`);
    await openDetails(viewer, flaky, 'FAILED');
    await expect(viewer.locator('.d-error').innerText()).resolves.toContain('broke on its first');
    expect(await viewer.locator('button.d-cancel, button.d-retry').count()).toBe(0);
    await viewer.screenshot({ path: 'test-output/browser-goal-details-readonly.png' });
    await viewer.close();

    const page = await logIn(TOKEN);
    await page.goto(`${server.url}/goals/${goalId}`);
    await openDetails(page, flaky, 'FAILED');
    expect(await page.locator('button.d-cancel').isVisible()).toBe(false);
    await page.click('button.d-retry');
    await page.waitForSelector('.d-outcome[data-ok="true"]');
    await expect(page.locator('.d-outcome').innerText()).resolves.toContain('re-opened');
    await waitFor('the retried task DONE', async () => (await stateOf(flaky)) === 'DONE');
    // The dialog follows the task's events: DONE, with a second attempt.
    await page.waitForSelector(`dialog#task-details[data-state="DONE"]`);
    await page.waitForSelector('tr.d-attempt:nth-child(2)');
    const outcomes = await page.locator('tr.d-attempt td:nth-child(6)').allInnerTexts();
    expect(outcomes).toEqual(['FAILED', 'DONE']);
    await page.screenshot({ path: 'test-output/browser-goal-details-retry.png' });

    // Retry on the DONE task (the button forced back): the route's 409 is said, nothing breaks.
    await page.evaluate("document.querySelector('button.d-retry').hidden = false");
    await page.click('button.d-retry');
    await page.waitForSelector('.d-outcome[data-ok="false"]');
    await expect(page.locator('.d-outcome').innerText()).resolves.toMatch(/^HTTP 409: .*DONE/);
    expect(await stateOf(flaky)).toBe('DONE');
    await page.close();
  });

  it('full token: Cancel ends a task no agent serves; a second Cancel shows the 409', async () => {
    const goalId = await submit('Wait for nobody', [
      { key: 'orphan', title: 'Nobody serves this', type: 'nobody-serves-this' },
    ]);
    const orphan = `${goalId}.orphan`;
    await waitFor('the task to be PENDING', async () => (await stateOf(orphan)) === 'PENDING');

    const page = await logIn(TOKEN);
    await page.goto(`${server.url}/goals/${goalId}`);
    await openDetails(page, orphan, 'PENDING');
    expect(await page.locator('button.d-retry').isVisible()).toBe(false);
    await page.click('button.d-cancel');
    await page.waitForSelector('.d-outcome[data-ok="true"]');
    await expect(page.locator('.d-outcome').innerText()).resolves.toContain('cancelled 1 task');
    await waitFor('the task CANCELLED', async () => (await stateOf(orphan)) === 'CANCELLED');
    await page.waitForSelector(`dialog#task-details[data-state="CANCELLED"]`);
    await page.screenshot({ path: 'test-output/browser-goal-details-cancel.png' });

    // A Cancel that comes too late (the button forced back, as a page a moment behind would
    // still show it): the route's 409 is shown in the dialog, which stays open.
    const stale = await logIn(TOKEN);
    await stale.goto(`${server.url}/goals/${goalId}`);
    await openDetails(stale, orphan, 'CANCELLED');
    await stale.evaluate("document.querySelector('button.d-cancel').hidden = false");
    await stale.click('button.d-cancel');
    await stale.waitForSelector('.d-outcome[data-ok="false"]');
    await expect(stale.locator('.d-outcome').innerText()).resolves.toMatch(/^HTTP 409: /);
    expect(await stale.locator('dialog#task-details[open]').count()).toBe(1);
    await stale.close();
    await page.close();
  });
});
