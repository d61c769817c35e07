/**
 * The README's "What to do next", as a user types it: `agentq serve`, `agentq worker --handlers
 * examples/feature-handlers.ts`, `agentq goal "…" --wait`, then `agentq status --json` and the
 * REST API — real processes, a temp SQLite file, a unique prefix on the test Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/redis-server';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const CAPABILITIES = 'design,backend,frontend,testing,review,documentation';

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function readyLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const onData = (c: Buffer) => {
      stdout += c.toString();
      if (stdout.split('\n').includes(line)) {
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => reject(new Error(`exited ${code} before: ${line}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

describe("the README's walkthrough", () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-readme-'));
  const common = ['--redis', REDIS_URL, '--db', `sqlite:${join(dir, 'agentq.db')}`];
  const prefix = ['--prefix', uniquePrefix('readme')];
  const long: ChildProcess[] = [];

  afterAll(async () => {
    await Promise.all(long.map(stop));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serve + worker + goal --wait: the goal and every task DONE, seen by status and the API', async () => {
    const port = await freePort();
    const serve = spawn(
      process.execPath,
      [BIN, 'serve', '--port', String(port), ...common, ...prefix],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const worker = spawn(
      process.execPath,
      [
        BIN,
        'worker',
        '--id',
        'dev-1',
        '--capabilities',
        CAPABILITIES,
        '--handlers',
        './examples/feature-handlers.ts',
        ...common,
        ...prefix,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    long.push(serve, worker);
    // Each prints its one ready line (docs/cli.md) once it serves.
    await Promise.all([
      readyLine(serve, `agentq serve: listening on http://127.0.0.1:${port}`),
      readyLine(
        worker,
        `agentq worker dev-1: serves ${CAPABILITIES} (concurrency 1 per capability)`,
      ),
    ]);

    const goal = await run([
      'goal',
      'Build user authentication system',
      '--wait',
      '--json',
      ...common,
      ...prefix,
    ]);
    expect(goal.code).toBe(0);
    const submitted = JSON.parse(goal.stdout) as {
      goalId: string;
      state: string;
      planner: string;
      tasks: Array<{ key: string; state: string; result: { by: string; after: string[] } }>;
    };
    expect(submitted).toMatchObject({ state: 'DONE', planner: 'template:feature' });
    // `--wait` printed the tasks as SQL records them at the end: `goal show` says the same.
    const tasks = submitted.tasks;
    expect(tasks.every((t) => t.state === 'DONE')).toBe(true);
    const shown = await run(['goal', 'show', submitted.goalId, '--json', ...common, ...prefix]);
    expect(shown.code).toBe(0);
    expect((JSON.parse(shown.stdout) as { tasks: unknown }).tasks).toEqual(tasks);
    expect(tasks).toHaveLength(6);
    const testing = tasks.find((t) => t.key === 'integration-tests')!;
    expect(testing.result).toMatchObject({ by: 'dev-1', after: ['backend', 'frontend'] });

    const api = (await (
      await fetch(`http://127.0.0.1:${port}/api/goals/${submitted.goalId}`)
    ).json()) as {
      goal: { state: string };
    };
    expect(api.goal.state).toBe('DONE');
  });
});
