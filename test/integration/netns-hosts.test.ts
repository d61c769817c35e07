/**
 * agentq across hosts: three Linux network namespaces joined by a bridge stand in for three
 * machines. The data host runs Redis, PostgreSQL and `agentq serve`; two worker hosts each run an
 * agent process. The test runner (the root namespace, on the bridge) submits a goal to the
 * server's address over HTTP and watches it finish with tasks run on both worker hosts (issue 8).
 * Needs root for `ip netns` (the test machine and CI run as root): skipped only without it.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { AgentProcessConfig } from '../helpers/agent-process';
import {
  startHostPostgres,
  startHostRedis,
  TestNetwork,
  waitForPort,
  type Host,
  type HostService,
} from '../helpers/netns';
import { waitFor } from '../helpers/wait-for';

const ROOT = resolve(__dirname, '../..');
const HANDLERS = resolve(ROOT, 'test/fixtures/handlers/behaviours.cjs');
const TOKEN = randomBytes(12).toString('hex');
const PREFIX = 'netns';
const SERVE_PORT = 3000;
const WORK_TASKS = 8;

interface TaskView {
  key: string;
  state: string;
  agentId: string | null;
}

/** Children of `ip netns exec …`: their output kept for the failure message. */
interface HostProcess {
  child: ChildProcess;
  output(): string;
}

function hostProcess(network: TestNetwork, host: Host, args: string[], env = {}): HostProcess {
  const child = network.spawn(host, process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return { child, output: () => out };
}

async function stopProcess(proc: HostProcess | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise<void>((done) => proc.child.once('exit', () => done()));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

// `ip netns` needs root; a non-root run skips this file rather than failing it.
const describeAsRoot = process.getuid?.() === 0 ? describe : describe.skip;

describeAsRoot('agentq on three hosts (network namespaces)', () => {
  let network: TestNetwork;
  let redis: HostService;
  let postgres: HostService;
  let server: HostProcess;
  const agents: HostProcess[] = [];

  beforeAll(async () => {
    network = await TestNetwork.create(3);
    const [data, workerA, workerB] = network.hosts as [Host, Host, Host];
    [redis, postgres] = await Promise.all([
      startHostRedis(network, data),
      startHostPostgres(network, data),
    ]);
    const redisUrl = `redis://${data.address}:${redis.port}`;
    const dbUrl = `postgres://postgres@${data.address}:${postgres.port}/postgres`;
    server = hostProcess(
      network,
      data,
      [
        'dist/cli/bin.js',
        'serve',
        '--redis',
        redisUrl,
        '--db',
        dbUrl,
        '--prefix',
        PREFIX,
        '--host',
        data.address,
        '--port',
        String(SERVE_PORT),
      ],
      { AGENTQ_TOKEN: TOKEN },
    );
    await waitFor(`agentq serve listening (output: ${server.output()})`, () => {
      if (server.child.exitCode !== null) throw new Error(`serve exited: ${server.output()}`);
      return server.output().includes('listening');
    });
    for (const [i, host] of [workerA, workerB].entries()) {
      const config: AgentProcessConfig = {
        url: redisUrl,
        prefix: PREFIX,
        agentId: `host-${i + 1}`,
        capabilities: ['work'],
        handlersFile: HANDLERS,
      };
      const agent = hostProcess(network, host, [
        '-r',
        'tsx/cjs',
        'test/helpers/agent-process.ts',
        JSON.stringify(config),
      ]);
      agents.push(agent);
    }
    for (const agent of agents) {
      await waitFor(`an agent ready (output: ${agent.output()})`, () => {
        if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.output()}`);
        return agent.output().includes('ready');
      });
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(agents.map((agent) => stopProcess(agent)));
    await stopProcess(server);
    await redis?.stop();
    await postgres?.stop();
    await network?.destroy();
  });

  it('runs a goal submitted to the server over the network on both worker hosts', async () => {
    const data = network.hosts[0]!;
    const base = `http://${data.address}:${SERVE_PORT}`;
    await waitForPort(data.address, SERVE_PORT);
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const work = Array.from({ length: WORK_TASKS }, (_, i) => ({
      key: `w${i}`,
      title: `work ${i}`,
      type: 'work',
      data: { ms: 300 },
    }));
    const plan = {
      goal: 'across hosts',
      tasks: [
        ...work,
        {
          key: 'join',
          title: 'join',
          type: 'work',
          dependsOn: work.map((t) => t.key),
          data: { ms: 0 },
        },
      ],
    };
    const submitted = await fetch(`${base}/api/goals`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ plan }),
    });
    expect(submitted.status).toBe(201);
    const { goalId } = (await submitted.json()) as { goalId: string };

    const done = await waitFor(
      'the goal DONE',
      async () => {
        const response = await fetch(`${base}/api/goals/${goalId}`, { headers: auth });
        const body = (await response.json()) as { goal: { state: string }; tasks: TaskView[] };
        return body.goal.state === 'DONE' ? body : null;
      },
      { timeoutMs: 40_000, intervalMs: 250 },
    );
    expect(done.tasks).toHaveLength(WORK_TASKS + 1);
    expect(done.tasks.every((task) => task.state === 'DONE')).toBe(true);
    const ranOn = new Set(done.tasks.map((task) => task.agentId));
    expect([...ranOn].sort()).toEqual(['host-1', 'host-2']);
  }, 60_000);
});
