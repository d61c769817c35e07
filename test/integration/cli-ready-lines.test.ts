/**
 * `agentq serve` and `agentq worker` as real processes print one ready line on stdout once they
 * serve (the formats of docs/cli.md), and a handler module's `'*'` handler runs every capability
 * without a handler of its own (in process and sandboxed). Test Redis under a unique prefix, a
 * temp SQLite file the worker's mirror writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRegistry } from '../../src/entities/task-registry';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const STAR = join(ROOT, 'test', 'fixtures', 'handlers', 'star-fallback.cjs');
// Each test starts the CLI and, for the worker, runs a goal end to end.
jest.setTimeout(60_000);

interface Running {
  child: ChildProcess;
  stdout: () => string;
  output: () => string;
  exited: Promise<void>;
  stop(): Promise<void>;
}

/** `node dist/cli/bin.js …` directly (no shell between), so SIGTERM reaches agentq itself. */
function start(args: string[]): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let output = '';
  child.stdout!.on('data', (c: Buffer) => ((stdout += c.toString()), (output += c.toString())));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    stdout: () => stdout,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function readyLine(p: Running, pattern: RegExp): Promise<RegExpExecArray> {
  return waitFor(
    `the ready line (output so far: ${p.output()})`,
    () => {
      if (p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode}: ${p.output()}`);
      return pattern.exec(p.stdout());
    },
    { timeoutMs: 30_000 },
  );
}

describe('ready lines and the * handler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-ready-'));
  const dbPath = join(dir, 'agentq.db');
  const prefix = uniquePrefix('ready');
  const common = ['--redis', REDIS_URL, '--db', `sqlite:${dbPath}`, '--prefix', prefix];
  const registry = new TaskRegistry({ backend: 'sqlite', path: dbPath });
  const redis = new RedisCoordinator({ url: REDIS_URL, prefix });
  const supervisor = new SupervisorAgent(registry, redis);
  const running: Running[] = [];

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await redis.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serve prints "agentq serve: listening on URL" on stdout once it answers there', async () => {
    const serve = start(['serve', '--port', '0', ...common]);
    running.push(serve);
    const match = await readyLine(
      serve,
      /^agentq serve: listening on (http:\/\/127\.0\.0\.1:\d+)$/m,
    );
    const response = await fetch(`${match[1]}/healthz`, { headers: { connection: 'close' } });
    expect(response.ok).toBe(true);
    // One ready line, and nothing else on stdout.
    expect(serve.stdout()).toBe(`${match[0]}\n`);
    await serve.stop();
    expect(serve.child.exitCode).toBe(0);
  });

  it.each([
    ['in process', [] as string[]],
    ['sandboxed', ['--sandboxed']],
  ])(
    "worker prints its ready line, and runs backend with the module's '*' handler (%s)",
    async (label, extra) => {
      const id = `star-${label === 'sandboxed' ? 'sb' : 'ip'}`;
      const worker = start([
        'worker',
        '--id',
        id,
        '--capabilities',
        'design,backend',
        '--concurrency',
        '2',
        '--handlers',
        STAR,
        ...extra,
        ...common,
      ]);
      running.push(worker);
      const line = `agentq worker ${id}: serves design,backend (concurrency 2 per capability)`;
      await readyLine(worker, new RegExp(`^${line.replace(/[()]/g, '\\$&')}$`, 'm'));
      expect(worker.stdout()).toBe(`${line}\n`);

      const { goalId } = await supervisor.submitPlan({
        goal: `star ${label}`,
        tasks: [
          { key: 'd', title: 'Design', type: 'design' },
          { key: 'b', title: 'Backend', type: 'backend', dependsOn: ['d'] },
        ],
      });
      await waitFor(
        'the goal DONE in SQL',
        async () => (await registry.getGoal(goalId))?.state === 'DONE',
        { timeoutMs: 30_000 },
      );
      const d = await registry.getTask(`${goalId}.d`);
      const b = await registry.getTask(`${goalId}.b`);
      expect(d?.result).toEqual({ by: 'design', key: 'd', agentId: id });
      expect(b?.result).toEqual({ by: '*', type: 'backend', key: 'b', after: ['d'] });
      await worker.stop();
      expect(worker.child.exitCode).toBe(0);
    },
  );

  it('refuses at start a sandboxed worker with a capability its module has no handler for', async () => {
    const cjs = join(ROOT, 'test', 'fixtures', 'handlers', 'cjs-exports.cjs');
    const args = ['worker', '--id', 'nohandler-1', '--capabilities', 'echo,other'];
    const worker = start([...args, '--handlers', cjs, '--sandboxed', ...common]);
    running.push(worker);
    await worker.exited;
    expect(worker.child.exitCode).toBe(2);
    expect(worker.stdout()).toBe('');
    expect(worker.output()).toMatch(
      /^agentq: capabilities: no handler for 'other' \(handlers exist for: echo;/m,
    );
  });
});
