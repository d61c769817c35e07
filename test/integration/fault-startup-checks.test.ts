/**
 * Start-up checks of `agentq serve` and `agentq worker` (real processes, private Redis servers):
 * - against `maxmemory-policy allkeys-lru` both refuse to start (exit 1) naming the fix;
 * - against a server without persistence it warns, and with `--recover` it rebuilds a goal SQL
 *   holds as unfinished that Redis lost.
 *
 * "Nothing lost" here means: serve never starts on a server that may evict accepted tasks, and
 * the goal Redis lost gets its root job back (its tasks re-queued) before serve listens.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { GOALS_QUEUE } from '../../src/queues/names';
import { FaultWorld } from '../helpers/fault-world';
import { freePort } from '../helpers/redis-server';
import { waitFor } from '../helpers/wait-for';

const ROOT = resolve(__dirname, '../..');
const AGENTQ = [join(ROOT, 'dist/cli/bin.js')];

function agentq(world: FaultWorld, args: string[]) {
  const child = spawn(
    process.execPath,
    [
      ...AGENTQ,
      '--redis',
      world.redis.url,
      '--db',
      `sqlite:${world.dbPath}`,
      '--prefix',
      world.prefix,
      ...args,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  const closed = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  return { child, out, closed };
}

describe('agentq serve start-up checks', () => {
  let evicting: FaultWorld;
  let plain: FaultWorld;

  beforeAll(async () => {
    evicting = await FaultWorld.start({
      redisArgs: ['--maxmemory-policy', 'allkeys-lru'],
      services: false,
    });
    plain = await FaultWorld.start({ services: false });
  });

  afterAll(async () => {
    await evicting?.close();
    await plain?.close();
  });

  it('refuses a server that may evict keys, naming the fix', async () => {
    const port = await freePort();
    const serve = agentq(evicting, ['serve', '--port', String(port)]);
    expect(await serve.closed).toBe(1);
    expect(serve.out.stderr).toMatch(/maxmemory-policy is 'allkeys-lru'/);
    expect(serve.out.stderr).toMatch(/CONFIG SET maxmemory-policy noeviction/);
    expect(serve.out.stdout).toBe('');
  });

  it('refuses to start a worker on a server that may evict keys', async () => {
    const worker = agentq(evicting, [
      'worker',
      '--id',
      'w-1',
      '--capabilities',
      'echo',
      '--handlers',
      join(ROOT, 'test/fixtures/handlers/cjs-exports.cjs'),
    ]);
    expect(await worker.closed).toBe(1);
    expect(worker.out.stderr).toMatch(/maxmemory-policy is 'allkeys-lru'/);
    expect(worker.out.stderr).toMatch(/CONFIG SET maxmemory-policy noeviction/);
    expect(worker.out.stdout).not.toMatch(/serves/);
  });

  it('warns without persistence and rebuilds lost goals with --recover', async () => {
    const { goalId } = await plain.supervisor.submitPlan({
      goal: 'lost before serve started',
      tasks: [
        { key: 'a', title: 'a', type: 'work' },
        { key: 'b', title: 'b', type: 'work', dependsOn: ['a'] },
      ],
    });
    const wipe = new Redis(plain.redis.url);
    await wipe.flushall();
    await wipe.quit();
    expect(await plain.coordinator.queue(GOALS_QUEUE).getJobState(goalId)).toBe('unknown');

    const port = await freePort();
    const { child, out, closed } = agentq(plain, ['serve', '--port', String(port), '--recover']);
    let stderrWhenReady = '';
    try {
      await waitFor(
        'serve listening',
        () => {
          if (child.exitCode !== null) throw new Error(`serve exited: ${out.stderr}`);
          stderrWhenReady = out.stderr;
          return out.stdout.includes(`agentq serve: listening on http://127.0.0.1:${port}\n`);
        },
        { timeoutMs: 30000 },
      );
    } finally {
      child.kill('SIGTERM');
      await closed;
    }
    const stderr = out.stderr;
    expect(stderr).toMatch(/warning: Redis persistence is off/);
    // Recovered before the ready line: the log already said so when the line came.
    expect(stderrWhenReady).toContain(
      `recover: ${goalId} rebuilt: 2 tasks re-queued, 0 kept as done`,
    );
    expect(await plain.coordinator.queue(GOALS_QUEUE).getJobState(goalId)).toBe('waiting-children');
    const a = await plain.registry.getTask(`${goalId}.a`);
    expect(a?.state).toBe('PENDING');
  });
});
