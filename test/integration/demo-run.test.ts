import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
// The demo promises under 30 s; a loaded test machine gets twice that.
const DEMO_TIMEOUT_MS = 60_000;

/** `node dist/cli/bin.js demo` (the built CLI; jest's global setup keeps it current). */
function demoCommand(): [string, string[]] {
  return [process.execPath, [join(ROOT, 'dist', 'cli', 'bin.js'), 'demo']];
}

async function demo(redisUrl: string) {
  const [file, argv] = demoCommand();
  return run(file, argv, { cwd: ROOT, env: { ...process.env, REDIS_URL: redisUrl } });
}

/** Where `line` (a regular expression) first matches in `text`; fails when it does not. */
function at(text: string, line: RegExp): number {
  const found = line.exec(text);
  if (!found) throw new Error(`no line matching ${line} in:\n${text}`);
  return found.index;
}

/** Keys left under the demo's prefix (printed on its first line). */
async function keysLeft(redis: Redis, stdout: string): Promise<string[]> {
  const prefix = /prefix (demo-[0-9a-f]+)/.exec(stdout)![1]!;
  const [, left] = await redis.scan('0', 'MATCH', `{${prefix}}*`, 'COUNT', 10_000);
  return left;
}

/** `agentq demo --serve` on a free port, its board wanting TOKEN; output collected as it comes. */
function serveDemo(options: { detached?: boolean } = {}) {
  const [file, argv] = demoCommand();
  const child = spawn(file, [...argv, '--serve'], {
    cwd: ROOT,
    detached: options.detached ?? false,
    env: {
      ...process.env,
      REDIS_URL,
      AGENTQ_HOST: '127.0.0.1',
      AGENTQ_PORT: '0',
      AGENTQ_TOKEN: TOKEN,
      AGENTQ_READONLY_TOKEN: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    child,
    exited,
    get stdout() {
      return out.stdout;
    },
    get stderr() {
      return out.stderr;
    },
    /** Waits for the line that leaves the approval to a person: [line, board URL, goal id]. */
    awaitingPerson: () =>
      waitFor(
        'the demo to leave the approval to a person',
        () =>
          /waiting for you: open (http:\/\/\S+)\/goals\/(g-[0-9a-f]+) and click Approve/.exec(
            out.stdout,
          ),
        { timeoutMs: DEMO_TIMEOUT_MS },
      ),
  };
}

/** The demo's approval task, and the token the --serve run's board wants. */
const APPROVE_KEY = 'approve';
const TOKEN = 'demo-serve-admin';

interface TaskJson {
  id: string;
  key: string;
  state: string;
  spawnedBy: string | null;
}

describe('agentq demo (a real child process)', () => {
  let redis: Redis;
  // One run serves the tests that read its output.
  let run1: ReturnType<typeof demo>;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    run1 = demo(REDIS_URL);
    run1.catch(() => undefined);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it(
    'runs the goal with three agents, prints live events, the report and metrics, exits 0',
    async () => {
      const { stdout } = await run1;
      expect(stdout).toContain('"Build user authentication system" → 8 tasks');
      // Live lines from the pub/sub bridge, with agent ids.
      expect(stdout).toMatch(/claimed\s+design\s+\(design, attempt 1\) by architect-1/);
      expect(stdout).toMatch(/complete\s+design\s+\(design, attempt 1\) by architect-1/);
      expect(stdout).toMatch(/retry\s+backend\s+\(backend, attempt 1\) by developer-1 — package/);
      expect(stdout).toMatch(/complete\s+backend\s+\(backend, attempt 2\) by developer-1/);
      expect(stdout).toMatch(/failed\s+security\s+\(security, attempt 1\) by qa-1 — no security/);
      expect(stdout).toMatch(/complete\s+tests\s+\(testing, attempt 1\) by qa-1/);
      expect(stdout).toMatch(/complete\s+review\s+\(review, attempt 1\) by architect-1/);
      // The interface agent's report, then each task's metrics: the plan's 8 and the 4 spawned.
      expect(stdout).toMatch(/agentq status at .*\nTasks: 12 total/);
      expect(stdout).toMatch(/task metrics:\n(\s+\S+\s+(DONE|FAILED)\s+agent .*\n){12}/);
      expect(stdout).toMatch(/dead-letter queue: g-[0-9a-f]+\.security/);
      expect(stdout).toMatch(/goal DONE in [\d.]+ s/);
      expect(await keysLeft(redis, stdout)).toEqual([]);
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    'grows the goal at run time (ctx.spawn) and grants its approval as actor demo',
    async () => {
      const { stdout } = await run1;
      const spawned = ['api-login', 'api-logout', 'api-me', 'api-join'];
      const backendDone = at(stdout, /complete\s+backend\s+\(backend, attempt 2\)/);
      for (const key of spawned) {
        // Spawned by the second attempt of "Implement the API", which ends after all of them.
        const created = at(stdout, new RegExp(`spawned\\s+${key}\\s+\\(backend\\) by backend`));
        const done = at(
          stdout,
          new RegExp(`complete\\s+${key}\\s+\\(backend, attempt 1\\) by developer-1`),
        );
        expect(at(stdout, /claimed\s+backend\s+\(backend, attempt 2\)/)).toBeLessThan(created);
        expect(created).toBeLessThan(done);
        expect(done).toBeLessThan(backendDone);
        // SQL: the row's spawnedBy and addedBy.
        expect(stdout).toMatch(
          new RegExp(`\\n  ${key}\\s+DONE\\s+spawned by backend \\(added by agent:developer-1\\)`),
        );
      }
      // The join ran after the endpoints.
      for (const key of ['api-login', 'api-logout', 'api-me']) {
        expect(at(stdout, new RegExp(`complete\\s+${key}\\s`))).toBeLessThan(
          at(stdout, /claimed\s+api-join\s/),
        );
      }
      // The approval waits after review, is granted by the demo, then the deploy runs.
      const review = at(stdout, /complete\s+review\s/);
      const waiting = at(
        stdout,
        /awaiting approve\s+approval: "Deploy the auth service to production\?"/,
      );
      const approved = at(stdout, /complete\s+approve\s+\(_approvals, attempt 1\) by demo/);
      const deploy = at(stdout, /claimed\s+deploy\s+\(deploy, attempt 1\) by developer-1/);
      expect(review).toBeLessThan(waiting);
      expect(waiting).toBeLessThan(
        at(stdout, /claimed\s+approve\s+\(_approvals, attempt 1\) by demo/),
      );
      expect(waiting).toBeLessThan(approved);
      expect(approved).toBeLessThan(deploy);
      expect(stdout).toMatch(/complete\s+deploy\s+\(deploy, attempt 1\) by developer-1/);
      // The audit log's actor and note of the approval's DONE event.
      expect(stdout).toMatch(
        /\n {2}approve\s+DONE\s+approved by demo \(audit log\): "the demo grants its own deploy"/,
      );
      expect(stdout).not.toMatch(/waiting for you/);
      expect(stdout).toMatch(/goal DONE in [\d.]+ s/);
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    '--serve: the board is up from the start, the approval awaits a person until approved over REST',
    async () => {
      const demo = serveDemo();
      try {
        const [, base, goalId] = await demo.awaitingPerson();
        expect(demo.stdout).toContain(`board: ${base}/board\n`);
        expect(demo.stdout).toContain(`goal page: ${base}/goals/${goalId}\n`);
        const api = async (path: string, body?: object) => {
          const res = await fetch(`${base}${path}`, {
            method: body ? 'POST' : 'GET',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            ...(body ? { body: JSON.stringify(body) } : {}),
          });
          return { status: res.status, body: (await res.json()) as Record<string, unknown> };
        };
        const taskId = `${goalId}.${APPROVE_KEY}`;
        // Nobody decided: it awaits approval, and the deploy behind it has not started.
        const { body: status } = await api('/api/status');
        const waiting = status.awaitingApproval as { tasks: Array<{ taskId: string }> };
        expect(waiting.tasks.map((t) => t.taskId)).toEqual([taskId]);
        expect(((await api(`/api/tasks/${taskId}`)).body.task as TaskJson).state).toBe('PENDING');
        const deploy = (await api(`/api/tasks/${goalId}.deploy`)).body.task as TaskJson;
        expect(deploy.state).toBe('BACKLOG');
        expect(demo.stdout).not.toMatch(/claimed\s+approve\s/);

        const approved = await api(`/api/tasks/${taskId}/approve`, { note: 'ship it' });
        expect(approved).toEqual({
          status: 200,
          body: { taskId, approved: true, by: 'api:admin' },
        });
        await waitFor('the goal to end', () => /goal \w+ in [\d.]+ s/.test(demo.stdout), {
          timeoutMs: DEMO_TIMEOUT_MS,
        });
        const { stdout } = demo;
        expect(stdout).toMatch(/goal DONE in [\d.]+ s/);
        expect(stdout).toMatch(/complete\s+approve\s+\(_approvals, attempt 1\) by api:admin/);
        expect(stdout).toMatch(/complete\s+deploy\s+\(deploy, attempt 1\) by developer-1/);
        expect(stdout).toMatch(
          /\n {2}approve\s+DONE\s+approved by api:admin \(audit log\): "ship it"/,
        );
        expect(stdout).toContain(`board: ${base}/board  (Ctrl-C to stop)`);
        // Over REST, still up: the audit actor of the approval, and the spawned rows.
        const { body: audit } = await api(`/api/tasks/${taskId}/events`);
        const events = audit.events as Array<{ event: string; actor: string | null }>;
        expect(events.find((e) => e.event === 'complete')?.actor).toBe('api:admin');
        const { body: goal } = await api(`/api/goals/${goalId}`);
        const spawned = (goal.tasks as TaskJson[]).filter((t) => t.spawnedBy);
        expect(spawned.map((t) => [t.key, t.state, t.spawnedBy]).sort()).toEqual(
          ['api-join', 'api-login', 'api-logout', 'api-me'].map((k) => [
            k,
            'DONE',
            `${goalId}.backend`,
          ]),
        );
      } finally {
        // `agentq demo` passes a SIGTERM on to the demo, which closes everything and exits.
        demo.child.kill('SIGTERM');
        await demo.exited;
      }
      expect(demo.child.exitCode).toBe(0);
      expect(demo.stderr).toBe('');
      expect(await keysLeft(redis, demo.stdout)).toEqual([]);
    },
    DEMO_TIMEOUT_MS * 2,
  );

  it(
    '--serve: Ctrl-C while the approval waits stops the demo, which cleans up and exits 1',
    async () => {
      // Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
      const demo = serveDemo({ detached: true });
      try {
        await demo.awaitingPerson();
        process.kill(-demo.child.pid!, 'SIGINT');
        await demo.exited;
      } finally {
        if (demo.child.exitCode === null) process.kill(-demo.child.pid!, 'SIGTERM');
        await demo.exited;
      }
      // `agentq demo` waited for the demo rather than dying of the signal first.
      expect(demo.child.signalCode).toBeNull();
      expect(demo.child.exitCode).toBe(1);
      expect(demo.stdout).toContain('interrupted before the goal ended');
      expect(demo.stdout).not.toMatch(/goal DONE/);
      expect(demo.stderr).toBe('');
      expect(await keysLeft(redis, demo.stdout)).toEqual([]);
    },
    DEMO_TIMEOUT_MS * 2,
  );

  it(
    'starts a private Redis when nothing answers at REDIS_URL',
    async () => {
      const { stdout } = await demo('redis://127.0.0.1:1');
      expect(stdout).toMatch(/started a private redis-server on 127\.0\.0\.1:\d+/);
      expect(stdout).toMatch(/goal DONE in [\d.]+ s/);
    },
    DEMO_TIMEOUT_MS,
  );
});
