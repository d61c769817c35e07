/**
 * `agentq worker` and `agentq serve` started while nothing listens on the Redis port: each says
 * once, with the URL and the fix (the one-shot commands' message), that it cannot connect and
 * keeps trying; when a redis-server comes up on that port they say so and start for real.
 * Speed is not what is tested (the processes share a busy machine): the single clear line is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, PrivateRedis } from '../helpers/redis-server';
import { spawnAgentq, type AgentqProcess } from '../helpers/serve-process';
import { uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

/** Generous: starting two agentq processes on a shared 2-core machine can take a while. */
const START_MS = 40000;

describe('worker and serve started against an unreachable Redis', () => {
  const prefix = uniquePrefix('unreach');
  const dir = mkdtempSync(join(tmpdir(), 'agentq-unreach-'));
  let redis: PrivateRedis | undefined;
  let worker: AgentqProcess | undefined;
  let serve: AgentqProcess | undefined;

  afterAll(async () => {
    await worker?.stop();
    await serve?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('say so once with the URL and the fix, keep trying, and start once Redis is there', async () => {
    const port = await freePort();
    const common = ['--redis', `redis://127.0.0.1:${port}`, '--prefix', prefix];
    worker = spawnAgentq([
      ...common,
      'worker',
      '--id',
      'early-1',
      '--capabilities',
      'alpha,beta',
      '--shell',
      'true',
    ]);
    serve = spawnAgentq([
      ...common,
      '--db',
      `sqlite:${join(dir, 'agentq.db')}`,
      'serve',
      '--port',
      String(await freePort()),
    ]);
    const processes = { worker, serve };
    const cannot = (line: string) =>
      line.includes(`Cannot connect to Redis at 127.0.0.1:${port}. Start it (`) &&
      line.includes('or point REDIS_URL at a running server.');
    await waitFor(
      'both processes to say they cannot connect',
      () => Object.values(processes).every((p) => p.lines.some(cannot)),
      { timeoutMs: START_MS },
    );
    // Still running: they wait for Redis instead of exiting.
    for (const p of Object.values(processes)) expect(p.child.exitCode).toBeNull();

    redis = await PrivateRedis.start([], port);
    const connected = (line: string) => line.includes(`Connected to Redis at 127.0.0.1:${port}.`);
    await waitFor('the worker to start serving', () =>
      worker!.lines.some((l) => l.includes('agentq worker early-1: serves alpha,beta')),
    );
    await waitFor('serve to listen', () => serve!.lines.some((l) => l.includes('listening')));
    for (const [name, p] of Object.entries(processes)) {
      expect({ name, cannot: p.lines.filter(cannot).length }).toEqual({ name, cannot: 1 });
      expect({ name, connected: p.lines.filter(connected).length }).toEqual({
        name,
        connected: 1,
      });
      expect({ name, noise: p.lines.filter((l) => /ECONNREFUSED/.test(l)) }).toEqual({
        name,
        noise: [],
      });
    }
  });
});
