/**
 * Redis down and back again, seen from real `agentq worker` and `agentq serve` processes on a
 * private redis-server: each process says exactly one line when it loses Redis and one when it
 * is back, however many connections, queues and workers it holds (the worker serves four
 * capabilities at concurrency 2; serve runs the mirror, the bridge and the internal workers).
 * Nothing else about the connection: no stream of `ECONNREFUSED` lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { freePort, PrivateRedis } from '../helpers/redis-server';
import { spawnAgentq, type AgentqProcess } from '../helpers/serve-process';
import { uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

/** The scenario: Redis stays down this long (the issue saw 50 lines per worker in 5 s). */
const OUTAGE_MS = 5000;
/** Starting two agentq processes on a shared 2-core machine can take a while. */
const START_MS = 40000;

const CONNECTION_NOISE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection is closed/;

describe('Redis down and back under running worker and serve processes', () => {
  const prefix = uniquePrefix('outage');
  const dir = mkdtempSync(join(tmpdir(), 'agentq-outage-'));
  let redis: PrivateRedis;
  let worker: AgentqProcess | undefined;
  let serve: AgentqProcess | undefined;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
  });

  afterAll(async () => {
    await worker?.stop();
    await serve?.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints one "lost" and one "back" line per process, and nothing else about it', async () => {
    const common = ['--redis', redis.url, '--prefix', prefix];
    worker = spawnAgentq([
      ...common,
      'worker',
      '--id',
      'outage-1',
      '--capabilities',
      'alpha,beta,gamma,delta',
      '--concurrency',
      '2',
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
    const w = worker;
    const s = serve;
    await waitFor('the worker to serve', () => w.lines.some((l) => l.includes('serves')), {
      timeoutMs: START_MS,
    });
    await waitFor('serve to listen', () => s.lines.some((l) => l.includes('listening')), {
      timeoutMs: START_MS,
    });
    const from = { worker: w.lines.length, serve: s.lines.length };
    const where = `127.0.0.1:${redis.port}`;
    const lost = (line: string) => line.includes(`Lost the connection to Redis at ${where}`);
    const back = (line: string) => line.includes(`Redis at ${where} is back.`);

    await redis.stopProcess('SIGKILL');
    await waitFor('both processes to say Redis is lost', () =>
      [w, s].every((p) => p.lines.some(lost)),
    );
    // The outage itself: every connection of both processes keeps failing to reconnect meanwhile.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    const whileDown = {
      worker: w.lines.slice(from.worker),
      serve: s.lines.slice(from.serve),
    };
    await redis.startProcess();
    await waitFor('both processes to say Redis is back', () =>
      [w, s].every((p) => p.lines.some(back)),
    );
    // The worker is really back: its heartbeat is in the (empty, restarted) Redis again.
    const reader = new RedisCoordinator({ url: redis.url, prefix, role: 'command' });
    try {
      await waitFor('the worker to heartbeat again', async () =>
        (await reader.getAllAgents()).some((a) => a.id === 'outage-1'),
      );
    } finally {
      await reader.close();
    }

    for (const [name, lines] of [
      ['worker', w.lines.slice(from.worker)],
      ['serve', s.lines.slice(from.serve)],
    ] as const) {
      expect({ name, lost: lines.filter(lost).length }).toEqual({ name, lost: 1 });
      expect({ name, back: lines.filter(back).length }).toEqual({ name, back: 1 });
      expect({ name, noise: lines.filter((l) => !lost(l) && CONNECTION_NOISE.test(l)) }).toEqual({
        name,
        noise: [],
      });
    }
    // While Redis was down the worker said only that; serve also said its mirror stepped down.
    expect(whileDown.worker).toEqual([expect.stringMatching(/^warning: Lost the connection/)]);
    expect(whileDown.serve.filter((l) => !/ mirror: /.test(l))).toEqual([
      expect.stringMatching(/ warning: Lost the connection/),
    ]);
  });
});
