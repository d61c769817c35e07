/**
 * No-op task throughput on a private 3-master Redis Cluster (issue 8): agentq with 1 shard and
 * with 3 shards (the same total work, the same agent processes), and plain BullMQ on one queue
 * for reference. End to end: from the first goal submitted to the last goal's root job completed.
 * Besides tasks/s it measures what each task costs — Redis CPU (INFO cpu on every master), agent
 * process CPU and the submitting process's CPU — the inputs of the capacity model in
 * docs/scaling.md. Writes bench/results/cluster.json.
 *
 *   npx tsx bench/cluster-throughput.ts [--json] [--tasks N] [--agents N]
 *
 * Run with `--agent` it is one agent process of a run (forked by the parent, driven over IPC).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { TaskRegistry } from '../src/entities/task-registry';
import type { PlanSpec } from '../src/entities/task-model';
import { AutonomousAgent } from '../src/processors/autonomous-agent';
import { startInternalWorkers } from '../src/queues/internal-workers';
import { GOALS_QUEUE } from '../src/queues/names';
import { shardOf } from '../src/queues/protocol';
import { RedisCoordinator } from '../src/queues/redis-coordinator';
import { SupervisorAgent } from '../src/queues/supervisor-agent';
import { deleteKeysMatching, PrivateRedisCluster } from '../test/helpers/redis-cluster';
import { benchPrefix } from './context';
import { hrtimeMs } from './stats';

const CAPABILITY = 'noop';
/** Worker concurrency per capability and shard in each agent process: enough to never wait. */
const CONCURRENCY = 64;
const TASKS_PER_GOAL = 200;

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

interface CpuFigures {
  /** Redis CPU (user + sys) per task over all masters, in ms. */
  redisCpuMsPerTask: number;
  /** Redis CPU per task on each master, in ms (how evenly the shards spread). */
  redisCpuMsPerTaskByNode: number[];
  /** Agent processes' CPU per task, in ms. */
  agentCpuMsPerTask: number;
  /** The submitting process (supervisor, goal/gate workers; plain BullMQ: producer and worker). */
  driverCpuMsPerTask: number;
}

interface RunFigures extends CpuFigures {
  name: string;
  shards: number;
  tasks: number;
  goals: number;
  goalsPerShard: number[];
  agentProcesses: number;
  seconds: number;
  tasksPerSecond: number;
}

// ——— the agent process ———

async function agentProcess(): Promise<void> {
  const env = process.env;
  const coordinator = new RedisCoordinator({
    url: env.BENCH_REDIS_URL,
    prefix: env.BENCH_PREFIX,
    shards: Number(env.BENCH_SHARDS),
  });
  const agent = new AutonomousAgent({
    agentId: `bench-${process.pid}`,
    capabilities: [CAPABILITY],
    redisCoordinator: coordinator,
    concurrency: CONCURRENCY,
    breaker: false,
    handlers: { [CAPABILITY]: () => null },
  });
  let cpuAtGo = process.cpuUsage();
  process.on('message', (message: string) => {
    if (message === 'go') {
      cpuAtGo = process.cpuUsage();
      void agent.start().then(() => process.send?.('started'));
    }
    if (message === 'stop') {
      const cpu = process.cpuUsage(cpuAtGo);
      process.send?.({ cpuMs: (cpu.user + cpu.system) / 1000 });
      void agent
        .close({ graceMs: 1000 })
        .then(() => coordinator.close())
        .finally(() => process.disconnect());
    }
  });
  await coordinator.assertReachable();
  process.send?.('ready');
}

// ——— the parent ———

/** Forks `count` agent processes and starts them; `stop()` returns their CPU ms since 'go'. */
async function startAgents(
  count: number,
  env: Record<string, string>,
): Promise<{ stop(): Promise<number> }> {
  const children: ChildProcess[] = [];
  const cpu: number[] = [];
  let ready = 0;
  let started = 0;
  for (let i = 0; i < count; i++) {
    const child = fork(__filename, ['--agent'], {
      execArgv: ['--require', require.resolve('tsx/cjs')],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (message: unknown) => {
      if (message === 'ready') ready++;
      else if (message === 'started') started++;
      else if (typeof message === 'object' && message && 'cpuMs' in message)
        cpu.push((message as { cpuMs: number }).cpuMs);
    });
    children.push(child);
  }
  await until(() => ready === count, 60_000, 'agent processes to connect');
  for (const child of children) child.send('go');
  await until(() => started === count, 60_000, 'agent processes to start');
  return {
    async stop() {
      const exits = children.map(
        (child) => new Promise<void>((resolve) => child.once('exit', () => resolve())),
      );
      for (const child of children) child.send('stop');
      await until(() => cpu.length === count, 30_000, 'agent CPU figures');
      await Promise.all(exits);
      return cpu.reduce((a, b) => a + b, 0);
    },
  };
}

async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** CPU seconds (user + sys) each master has used so far, by node port (node order varies). */
async function redisCpu(cluster: Cluster): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  await Promise.all(
    cluster.nodes('master').map(async (node) => {
      const info = await node.info('cpu');
      const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
      out.set(node.options.port ?? 0, field('used_cpu_user') + field('used_cpu_sys'));
    }),
  );
  return out;
}

function cpuFigures(
  tasks: number,
  redisBefore: Map<number, number>,
  redisAfter: Map<number, number>,
  agentCpuMs: number,
  driverCpu: NodeJS.CpuUsage,
): CpuFigures {
  const byNode = [...redisAfter.keys()]
    .sort((a, b) => a - b)
    .map((port) => ((redisAfter.get(port)! - (redisBefore.get(port) ?? 0)) * 1000) / tasks);
  return {
    redisCpuMsPerTask: round(byNode.reduce((a, b) => a + b, 0)),
    redisCpuMsPerTaskByNode: byNode.map((ms) => round(ms)),
    agentCpuMsPerTask: round(agentCpuMs / tasks),
    driverCpuMsPerTask: round((driverCpu.user + driverCpu.system) / 1000 / tasks),
  };
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function plan(goal: number): PlanSpec {
  return {
    goal: `bench goal ${goal}`,
    tasks: Array.from({ length: TASKS_PER_GOAL }, (_, i) => ({
      key: `t${i}`,
      title: `no-op ${i}`,
      type: CAPABILITY,
    })),
  };
}

async function runAgentq(
  cluster: PrivateRedisCluster,
  admin: Cluster,
  shards: number,
  tasks: number,
  agentProcesses: number,
): Promise<RunFigures> {
  const prefix = benchPrefix(`cl${shards}`);
  const dir = mkdtempSync(join(tmpdir(), 'agentq-cluster-bench-'));
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  await registry.open();
  const coordinator = new RedisCoordinator({ url: cluster.url, prefix, shards });
  const supervisor = new SupervisorAgent(registry, coordinator, { actor: 'bench' });
  const internal = startInternalWorkers(coordinator);
  try {
    await coordinator.registerCapabilities([CAPABILITY]);
    const agents = await startAgents(agentProcesses, {
      BENCH_REDIS_URL: cluster.url,
      BENCH_PREFIX: prefix,
      BENCH_SHARDS: String(shards),
    });
    const goals = Math.ceil(tasks / TASKS_PER_GOAL);
    const plans = Array.from({ length: goals }, (_, g) => plan(g));
    const goalsPerShard = new Array<number>(shards).fill(0);
    const redisBefore = await redisCpu(admin);
    const cpuBefore = process.cpuUsage();
    const t0 = hrtimeMs();
    for (const spec of plans) {
      const { goalId } = await supervisor.submitPlan(spec);
      goalsPerShard[shardOf(goalId, shards)]! += 1;
    }
    const roots = Array.from({ length: shards }, (_, s) => coordinator.queue(GOALS_QUEUE, s));
    for (;;) {
      const done = await Promise.all(roots.map((q) => q.getCompletedCount()));
      if (done.reduce((a, b) => a + b, 0) >= goals) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (hrtimeMs() - t0) / 1000;
    const driverCpu = process.cpuUsage(cpuBefore);
    const redisAfter = await redisCpu(admin);
    const agentCpuMs = await agents.stop();
    const total = goals * TASKS_PER_GOAL;
    return {
      name: `agentq, ${shards} shard${shards > 1 ? 's' : ''}`,
      shards,
      tasks: total,
      goals,
      goalsPerShard,
      agentProcesses,
      seconds: round(seconds),
      tasksPerSecond: Math.round(total / seconds),
      ...cpuFigures(total, redisBefore, redisAfter, agentCpuMs, driverCpu),
    };
  } finally {
    await internal.close();
    await supervisor.close();
    await deleteKeysMatching(coordinator.client, `{${prefix}*`);
    await coordinator.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Plain BullMQ, one queue (one slot): a producer adding in bulk, one worker process's worth. */
async function runPlainBullmq(
  cluster: PrivateRedisCluster,
  admin: Cluster,
  tasks: number,
): Promise<RunFigures> {
  const prefix = `{${benchPrefix('clplain')}}`;
  const coordinator = new RedisCoordinator({ url: cluster.url });
  const queue = new Queue('plain', { connection: coordinator.duplicate(), prefix });
  let done = 0;
  const worker = new Worker('plain', async () => null, {
    connection: coordinator.duplicate(),
    prefix,
    concurrency: CONCURRENCY,
  });
  worker.on('completed', () => (done += 1));
  try {
    await worker.waitUntilReady();
    const redisBefore = await redisCpu(admin);
    const cpuBefore = process.cpuUsage();
    const t0 = hrtimeMs();
    for (let i = 0; i < tasks; i += 1000) {
      const n = Math.min(1000, tasks - i);
      await queue.addBulk(
        Array.from({ length: n }, (_, j) => ({ name: 'noop', data: { i: i + j } })),
      );
    }
    await until(() => done >= tasks, 600_000, 'plain BullMQ jobs');
    const seconds = (hrtimeMs() - t0) / 1000;
    const driverCpu = process.cpuUsage(cpuBefore);
    const redisAfter = await redisCpu(admin);
    return {
      name: 'plain BullMQ, one queue',
      shards: 1,
      tasks,
      goals: 0,
      goalsPerShard: [],
      agentProcesses: 0,
      seconds: round(seconds),
      tasksPerSecond: Math.round(tasks / seconds),
      ...cpuFigures(tasks, redisBefore, redisAfter, 0, driverCpu),
    };
  } finally {
    await worker.close();
    await queue.close();
    await deleteKeysMatching(coordinator.client, `${prefix}*`);
    await coordinator.close();
  }
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const tasks = flag('tasks', 6000);
  const agentProcesses = flag('agents', 2);
  const say = (line: string) => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  const cluster = await PrivateRedisCluster.start(3);
  const admin = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
  admin.on('error', () => undefined);
  const runs: RunFigures[] = [];
  // The machine may be shared: its load says how much of the cores these runs really had.
  const loadBefore = loadavg()[0]!;
  try {
    say(`3-master Redis Cluster on ${cluster.ports.join(', ')}; ${tasks} no-op tasks per run`);
    for (const run of [
      () => runPlainBullmq(cluster, admin, tasks),
      () => runAgentq(cluster, admin, 1, tasks, agentProcesses),
      () => runAgentq(cluster, admin, 3, tasks, agentProcesses),
    ]) {
      const figures = await run();
      runs.push(figures);
      say(
        `${figures.name.padEnd(26)} ${String(figures.tasksPerSecond).padStart(6)} tasks/s ` +
          `(${figures.seconds} s) · Redis ${figures.redisCpuMsPerTask} ms/task ` +
          `[${figures.redisCpuMsPerTaskByNode.join(', ')}] · agents ${figures.agentCpuMsPerTask} ms/task ` +
          `· driver ${figures.driverCpuMsPerTask} ms/task`,
      );
    }
  } finally {
    await admin.quit();
    await cluster.stop();
  }
  const one = runs.find((r) => r.name.startsWith('agentq') && r.shards === 1)!;
  const three = runs.find((r) => r.shards === 3)!;
  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverage1m: { before: round(loadBefore, 2), after: round(loadavg()[0]!, 2) },
    },
    tasksPerRun: tasks,
    concurrencyPerWorker: CONCURRENCY,
    runs,
    speedup3v1: round(three.tasksPerSecond / one.tasksPerSecond, 2),
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'cluster.json'), `${JSON.stringify(result, null, 2)}\n`);
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else say(`3 shards / 1 shard: ${result.speedup3v1}×  (bench/results/cluster.json)`);
}

const entry = process.argv.includes('--agent') ? agentProcess : main;
entry().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
