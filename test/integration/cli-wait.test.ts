/**
 * `agentq plan FILE --wait` as a child process, against real agents in this process (their mirror
 * writes SQL) on the test Redis under a unique prefix and a temp SQLite file:
 * - `--wait --json` prints the goal and its tasks as SQL records them at the end, exactly what
 *   `goal show --json` prints afterwards (a failing optional task in a DONE goal; a FAILED goal
 *   whose dependent failed with it);
 * - at submission one warning line per capability no live agent serves, and while it waits a
 *   line on stderr (off a TTY) each time the reason changes: no live agent serves a capability,
 *   or the breaker of every agent serving it is open;
 * - with no mirror anywhere (SQL never follows), the end comes from Redis with the no-mirror
 *   warning.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { NO_MIRROR_WARNING } from '../../src/cli/context';
import { TaskRegistry } from '../../src/entities/task-registry';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'bin.js');
// Each test spawns the CLI and runs a goal end to end, a breaker's retry included.
jest.setTimeout(90_000);

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  closed: Promise<number | null>;
}

/** `node dist/cli/bin.js …` directly: no shell between, stdio pipes (so stderr is not a TTY). */
function agentq(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  return { child, stdout: () => stdout, stderr: () => stderr, closed };
}

describe('agentq plan --wait', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-cli-wait-'));
  const prefix = uniquePrefix('cliwait');
  const dbPath = join(dir, 'a.db');
  const common = ['--redis', REDIS_URL, '--db', `sqlite:${dbPath}`, '--prefix', prefix];
  const registry = new TaskRegistry({ backend: 'sqlite', path: dbPath });
  const redis = new RedisCoordinator({ url: REDIS_URL, prefix });
  const supervisor = new SupervisorAgent(registry, redis);
  // Runs the whole time: its mirror candidate writes SQL for every test.
  const agent = new AutonomousAgent({
    agentId: 'wait-agent',
    capabilities: ['build', 'boom'],
    taskRegistry: registry,
    redisCoordinator: redis,
    handlers: {
      build: async (task) => ({ built: task.key }),
      boom: async () => {
        throw new UnrecoverableError('boom');
      },
    },
    graceMs: 1000,
  });
  const extra: AutonomousAgent[] = [];
  const runs: Run[] = [];

  beforeAll(() => agent.start());

  afterAll(async () => {
    for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL');
    await Promise.all(runs.map((r) => r.closed));
    for (const a of extra) await a.close();
    await agent.close();
    await redis.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function planFile(name: string, plan: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(plan));
    return path;
  }

  async function waitAndShow(file: string) {
    const run = agentq(['plan', file, '--wait', '--json', ...common]);
    runs.push(run);
    const code = await run.closed;
    const waited = JSON.parse(run.stdout()) as { goalId: string; state: string; goal: unknown };
    const shown = agentq(['goal', 'show', waited.goalId, '--json', ...common]);
    runs.push(shown);
    expect(await shown.closed).toBe(0);
    return { code, stderr: run.stderr(), waited, shown: JSON.parse(shown.stdout()) };
  }

  it('prints the final states SQL records, as goal show then does (optional task failed)', async () => {
    const file = planFile('optional.json', {
      goal: 'Build around a failing optional task',
      tasks: [
        { key: 'a', title: 'A', type: 'build' },
        { key: 'lint', title: 'Lint', type: 'boom', optional: true, dependsOn: ['a'] },
        { key: 'b', title: 'B', type: 'build', dependsOn: ['a', 'lint'] },
        { key: 'c', title: 'C', type: 'build' },
      ],
    });
    const { code, stderr, waited, shown } = await waitAndShow(file);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(waited.state).toBe('DONE');
    const states = (waited as unknown as { tasks: Array<{ key: string; state: string }> }).tasks
      .map((t) => [t.key, t.state])
      .sort();
    expect(states).toEqual([
      ['a', 'DONE'],
      ['b', 'DONE'],
      ['c', 'DONE'],
      ['lint', 'FAILED'],
    ]);
    // The records themselves, not only their states: what goal show reads from SQL afterwards.
    expect(waited.goal).toEqual(shown.goal);
    expect((waited as unknown as { tasks: unknown }).tasks).toEqual(shown.tasks);
  });

  it('prints a FAILED goal with its failed dependent, as goal show then does', async () => {
    const file = planFile('failed.json', {
      goal: 'Fail for good',
      tasks: [
        { key: 'a', title: 'A', type: 'build' },
        { key: 'x', title: 'X', type: 'boom', dependsOn: ['a'] },
        { key: 'after', title: 'After', type: 'build', dependsOn: ['x'] },
      ],
    });
    const { code, waited, shown } = await waitAndShow(file);
    expect(code).toBe(1);
    expect(waited.state).toBe('FAILED');
    const tasks = (waited as unknown as { tasks: Array<{ key: string; state: string }> }).tasks;
    expect(Object.fromEntries(tasks.map((t) => [t.key, t.state]))).toEqual({
      a: 'DONE',
      x: 'FAILED',
      after: 'FAILED',
    });
    expect(waited.goal).toEqual(shown.goal);
    expect(tasks).toEqual(shown.tasks);
  });

  it('warns at submission per unserved capability and says while waiting that no agent serves it', async () => {
    const file = planFile('lonely.json', {
      goal: 'Nobody here yet',
      tasks: [
        { key: 'first', title: 'First', type: 'lonely-a' },
        { key: 'second', title: 'Second', type: 'lonely-b', dependsOn: ['first'] },
        { key: 'served', title: 'Served', type: 'build' },
      ],
    });
    const run = agentq(['plan', file, '--wait', '--json', ...common]);
    runs.push(run);
    await waitFor(
      `the reason for waiting (stderr: ${run.stderr()})`,
      () => run.stderr().includes("waiting: no live agent serves 'lonely-a'\n"),
      { timeoutMs: 40_000 },
    );
    const late = new AutonomousAgent({
      agentId: 'late-agent',
      capabilities: ['lonely-a', 'lonely-b'],
      taskRegistry: registry,
      redisCoordinator: redis,
      handlers: { 'lonely-a': async () => ({ ok: 1 }), 'lonely-b': async () => ({ ok: 2 }) },
      graceMs: 1000,
    });
    extra.push(late);
    await late.start();
    expect(await run.closed).toBe(0);
    expect(JSON.parse(run.stdout())).toMatchObject({ state: 'DONE' });
    // One line per unserved capability at submission (not for `build`), then the one reason:
    // `second` waits on `first`, so only lonely-a stands in the way.
    expect(run.stderr().split('\n').filter(Boolean)).toEqual([
      "warning: no live agent serves 'lonely-a'; its tasks wait until one does",
      "warning: no live agent serves 'lonely-b'; its tasks wait until one does",
      "waiting: no live agent serves 'lonely-a'",
    ]);
  });

  it('says while waiting that the breaker of every agent serving a capability is open', async () => {
    const fragile = new AutonomousAgent({
      agentId: 'brk-1',
      capabilities: ['fragile'],
      taskRegistry: registry,
      redisCoordinator: redis,
      breaker: { threshold: 1, cooldownMs: 120_000 },
      heartbeatMs: 200,
      handlers: {
        fragile: async () => {
          throw new Error('fragile failure');
        },
      },
      onError: () => undefined,
      graceMs: 1000,
    });
    extra.push(fragile);
    await fragile.start();
    const file = planFile('fragile.json', {
      goal: 'Trip the breaker',
      tasks: [{ key: 'f', title: 'F', type: 'fragile', attempts: 3 }],
    });
    const run = agentq(['plan', file, '--wait', '--json', ...common]);
    runs.push(run);
    await waitFor(
      `the breaker as the reason (stderr: ${run.stderr()})`,
      () =>
        run
          .stderr()
          .includes("waiting: the breaker of every agent serving 'fragile' is open (brk-1)\n"),
      { timeoutMs: 40_000 },
    );
    const goal = (await registry.listGoals({ limit: 10 })).find(
      (g) => g.title === 'Trip the breaker',
    );
    await supervisor.cancelGoal(goal!.id);
    expect(await run.closed).toBe(1);
    expect(JSON.parse(run.stdout())).toMatchObject({ state: 'CANCELLED' });
    expect(run.stderr()).not.toMatch(/warning: no live agent/);
  });
});

describe('agentq plan --wait with no mirror anywhere', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-cli-wait-nomirror-'));
  const prefix = uniquePrefix('cliwaitnm');
  const dbPath = join(dir, 'a.db');
  const common = ['--redis', REDIS_URL, '--db', `sqlite:${dbPath}`, '--prefix', prefix];
  const redis = new RedisCoordinator({ url: REDIS_URL, prefix });
  // No task registry: this agent runs no mirror candidate, and nothing else does.
  const agent = new AutonomousAgent({
    agentId: 'nomirror-agent',
    capabilities: ['build'],
    redisCoordinator: redis,
    handlers: { build: async (task) => ({ built: task.key }) },
    graceMs: 1000,
  });

  beforeAll(() => agent.start());

  afterAll(async () => {
    await agent.close();
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the end from Redis and says SQL may be behind', async () => {
    const file = join(dir, 'plan.json');
    writeFileSync(
      file,
      JSON.stringify({ goal: 'g', tasks: [{ key: 'a', title: 'A', type: 'build' }] }),
    );
    const run = agentq(['plan', file, '--wait', '--json', ...common]);
    expect(await run.closed).toBe(0);
    const waited = JSON.parse(run.stdout()) as { state: string; goal: { state: string } };
    expect(waited.state).toBe('DONE');
    // What SQL holds, unmirrored, and said so.
    expect(waited.goal.state).toBe('ACTIVE');
    expect(run.stderr()).toBe(`${NO_MIRROR_WARNING}\n`);
  });
});
