/**
 * Headless Chromium (Debian's, through playwright-core) on the goal page of a replanning goal
 * (`onFailure: 'replan'`) while it is repaired: a real agent's handler fails `api` for good
 * (UnrecoverableError) only once the page is open; the template planner's revision 1 adds
 * `api.retry1`, and the page shows it without a reload — the Revisions section with the cause, the
 * added task marked as the replacement, the actor — and marks `api` as replaced by it on the
 * graph. A task whose capability no live agent serves says so on its node (a badge, and why in
 * its tooltip), which goes once the task stops waiting. The screenshots are kept under
 * test-output/.
 */
import { UnrecoverableError } from 'bullmq';
import type { BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { startServer, type RunningServer } from '../../src/board/server';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { startInternalWorkers, type InternalWorkers } from '../../src/queues/internal-workers';
import { startApiApp, type ApiFixture } from '../helpers/api-app';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium';
import { waitFor } from '../helpers/wait-for';

const TOKEN = 'browser-revisions-admin';

describe('the goal page of a goal being repaired', () => {
  let api: ApiFixture;
  let server: RunningServer;
  let mirror: MirrorHandle;
  let internal: InternalWorkers;
  let agent: AutonomousAgent;
  let chrome: LaunchedChromium | undefined;
  let browser: BrowserContext;
  // The failing handler waits for this: the page must be open before the repair.
  let pageOpen: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (pageOpen = resolve));

  beforeAll(async () => {
    api = await startApiApp({ token: TOKEN, supervisor: true });
    mirror = startMirror({ store: api.store, coordinator: api.coordinator, blockMs: 50 });
    internal = startInternalWorkers(api.coordinator);
    agent = new AutonomousAgent({
      agentId: 'browser-revisions-agent',
      capabilities: ['build'],
      taskRegistry: api.store,
      redisCoordinator: api.coordinator,
      concurrency: 2,
      handlers: {
        build: async (task) => {
          if (task.key !== 'api') return { made: task.key };
          await opened;
          throw new UnrecoverableError('the api schema is broken');
        },
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

  async function logIn(token: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${server.url}/login`);
    await page.fill('input[name="token"]', token);
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type="submit"]')]);
    return page;
  }

  it('shows the revision live, marks the replaced task, and why a task waits on its node', async () => {
    const submitted = await request(api.app)
      .post('/api/goals')
      .auth(TOKEN, { type: 'bearer' })
      .send({
        plan: {
          goal: 'Ship the users API',
          onFailure: 'replan',
          tasks: [
            { key: 'design', title: 'Design it', type: 'build' },
            {
              key: 'api',
              title: 'Build the API',
              type: 'build',
              dependsOn: ['design'],
              attempts: 1,
            },
            { key: 'deploy', title: 'Deploy it', type: 'build', dependsOn: ['api'] },
            { key: 'docs', title: 'Write the docs', type: 'writer' },
          ],
        },
      })
      .expect(201);
    const goalId = submitted.body.goalId as string;
    const id = (key: string) => `${goalId}.${key}`;
    await waitFor(
      'api to run',
      async () => (await api.store.getTask(id('api')))?.state === 'ACTIVE',
    );
    await waitFor(
      'docs to wait',
      async () => (await api.store.getTask(id('docs')))?.state === 'PENDING',
    );

    const page = await logIn(TOKEN);
    await page.goto(`${server.url}/goals/${goalId}`);
    expect(await page.locator('g.task').count()).toBe(4);
    await expect(page.locator('#goal-revisions').innerHTML()).resolves.toBe('');
    expect(await page.locator('g.task.replaced').count()).toBe(0);
    // docs: nothing serves 'writer', on its node as in its row.
    const docs = page.locator(`g.task.stuck[data-task-id="${id('docs')}"]`);
    await expect(docs.locator('.wait-badge text').textContent()).resolves.toBe('no agent');
    await expect(docs.locator(':scope > title').textContent()).resolves.toBe(
      "docs: Write the docs (writer, PENDING)\nwaiting because no live agent serves 'writer'",
    );
    await expect(
      page.locator(`tr[data-task-id="${id('docs')}"] td.wait-reason`).textContent(),
    ).resolves.toBe("no live agent serves 'writer'");
    await expect(page.locator('.graph-legend').textContent()).resolves.toContain('red badge');
    // deploy waits on api: why in its tooltip, no badge (the edge shows it).
    const deploy = page.locator(`g.task[data-task-id="${id('deploy')}"]`);
    await expect(deploy.getAttribute('data-waiting')).resolves.toBe('dependencies');
    await expect(deploy.locator(':scope > title').textContent()).resolves.toMatch(
      /\nwaiting because waits on api \((ACTIVE|PENDING)\)$/,
    );
    expect(await deploy.locator('.wait-badge').count()).toBe(0);
    await page.evaluate(
      () => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true),
    );
    pageOpen();

    // Revision 1 arrives with its task's `new` event.
    const revision = page.locator('#revisions tr[data-revision="1"]');
    await revision.waitFor();
    await expect(revision.locator('td.revision').textContent()).resolves.toBe('1');
    await expect(revision.locator('td.cause').textContent()).resolves.toBe('api');
    await expect(revision.locator('td.error').textContent()).resolves.toContain(
      'the api schema is broken',
    );
    await expect(revision.locator('td.added').textContent()).resolves.toBe(
      'api.retry1 (replaces api)',
    );
    await expect(revision.locator('td.added code.replacement').textContent()).resolves.toBe(
      'api.retry1',
    );
    await expect(revision.locator('td.actor').textContent()).resolves.toBe('repair:template');
    const revisedAt = await revision.locator('td.at time').getAttribute('datetime');
    expect(Number.isNaN(Date.parse(revisedAt!))).toBe(false);
    await expect(page.locator('#goal-revisions h3').textContent()).resolves.toBe('Revisions');

    // On the graph: api replaced by the retry, which sits in the box of what api spawned.
    const apiNode = page.locator(`g.task.replaced[data-task-id="${id('api')}"]`);
    await expect(apiNode.locator('text.repair-mark').textContent()).resolves.toBe(
      'replaced by api.retry1',
    );
    const retryNode = page.locator(
      `g.task.replacement[data-task-id="${id('api.retry1')}"][data-spawned-by="${id('api')}"]`,
    );
    await expect(retryNode.locator('text.repair-mark').textContent()).resolves.toBe('replaces api');
    await expect(page.locator('.graph-legend').textContent()).resolves.toContain(
      'replaced by a repair',
    );
    await page.screenshot({ path: 'test-output/browser-goal-revisions.png', fullPage: true });

    // The retry's result goes on under api's key: deploy runs after it.
    await waitFor(
      'deploy to be DONE',
      async () => (await api.store.getTask(id('deploy')))?.state === 'DONE',
    );
    for (const key of ['api', 'api.retry1', 'deploy']) {
      await page.waitForSelector(`g.task[data-task-id="${id(key)}"][data-state="DONE"]`);
    }
    expect(await page.locator('#revisions tbody tr').count()).toBe(1);
    await expect(
      page.locator(`g.task[data-task-id="${id('deploy')}"]`).getAttribute('data-waiting'),
    ).resolves.toBeNull();
    await expect(
      page.locator(`tr[data-task-id="${id('deploy')}"] td.wait-reason`).textContent(),
    ).resolves.toBe('');
    // The same parts for a page's script, and the repair on graph.svg too.
    const parts = await request(api.app)
      .get(`/goals/${goalId}/parts`)
      .auth(TOKEN, { type: 'bearer' })
      .expect(200);
    expect(parts.body.revisions).toMatch(/^<h3>Revisions<\/h3>[^]*<tr data-revision="1">/);
    const svg = await request(api.app)
      .get(`/api/goals/${goalId}/graph.svg`)
      .auth(TOKEN, { type: 'bearer' })
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    expect(svg.body).toMatch(/<g class="task replaced" data-task-id="[^"]+\.api"/);
    expect(svg.body).toContain('>replaced by api.retry1</text>');
    expect(svg.body).not.toContain('wait-badge');
    await expect(
      page.locator(`g.task.stuck[data-task-id="${id('docs')}"] .wait-badge`).count(),
    ).resolves.toBe(1);

    // docs stops waiting when the goal is cancelled: its badge and reason go with it.
    await request(api.app)
      .post(`/api/goals/${goalId}/cancel`)
      .auth(TOKEN, { type: 'bearer' })
      .expect(202);
    await page.waitForSelector(`g.task[data-task-id="${id('docs')}"][data-state="CANCELLED"]`);
    const cancelled = page.locator(`g.task[data-task-id="${id('docs')}"]`);
    await expect(cancelled.locator('.wait-badge').count()).resolves.toBe(0);
    // The legend explains no badge that is gone; the repair marks stay.
    expect(await page.locator('.graph-legend .legend-stuck').count()).toBe(0);
    expect(await page.locator('.graph-legend .legend-replaced').count()).toBe(1);
    await expect(cancelled.getAttribute('class')).resolves.toBe('task');
    await expect(cancelled.locator(':scope > title').textContent()).resolves.not.toContain(
      'waiting because',
    );
    await expect(
      page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument),
    ).resolves.toBe(true);
    await expect(page.locator('#live-status').textContent()).resolves.toBe('');
    await page.screenshot({ path: 'test-output/browser-goal-revisions-end.png', fullPage: true });
    await page.close();
  });
});
