/**
 * Mirror lag and pub/sub delivery at a steady load: open-loop task arrivals (default 1,000/s for
 * 10 s) run by a real AutonomousAgent in its own process, the mirror and bridge in this one, a
 * plain Redis subscriber on `tasks:*` in a third (so no process measures its own backlog). Reports the mirror lag (commit − the stream entry's timestamp) and the delivery
 * latency (subscriber receipt − the commit of the transition), p50/p99. Targets of issue 5:
 * lag p99 ≤ 50 ms, delivery p50 ≤ 2 ms.
 *
 * `npx tsx bench/mirror-lag.ts [--json] [--rate N] [--seconds N]`; writes
 * bench/results/mirror-lag.json. The bench suite calls `runMirrorLagBench(options)`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { fork, type ChildProcess } from 'node:child_process';
import { startMirror } from '../src/mirror/mirror';
import { RecentSamples } from '../src/mirror/mirror-metrics';
import { TaskRegistry } from '../src/entities/task-registry';
import type { NewTask } from '../src/entities/task-store';
import { RedisCoordinator } from '../src/queues/redis-coordinator';
import { taskJobId, type TaskJobData } from '../src/queues/task-job';

export interface MirrorLagBenchOptions {
  /** Task arrivals per second. @defaultValue 1000 */
  rate?: number;
  /** Seconds of arrivals. @defaultValue 10 */
  seconds?: number;
  /** @defaultValue process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' */
  redisUrl?: string;
  /** Agent concurrency. @defaultValue 50 */
  concurrency?: number;
}

export interface MirrorLagBenchResult {
  lagP50: number;
  lagP99: number;
  deliveryP50: number;
  deliveryP99: number;
  tasks: number;
  seconds: number;
  transitions: number;
  /** Mirror batches committed, and stream entries per batch on average. */
  batches: number;
  entriesPerBatch: number;
  store: 'sqlite';
}

const CAPABILITY = 'bench';
const TICK_MS = 10;

function newTasks(goalId: string, count: number): NewTask[] {
  return Array.from({ length: count }, (_, i) => ({
    id: taskJobId(goalId, `t${i}`),
    key: `t${i}`,
    title: `t${i}`,
    description: '',
    type: CAPABILITY,
    priority: 5,
    dependsOn: [],
    data: {},
    attempts: 1,
    timeoutMs: 60000,
    optional: false,
    state: 'PENDING',
  }));
}

function jobOf(goalId: string, task: NewTask) {
  const data: TaskJobData = {
    v: 1,
    kind: 'task',
    taskId: task.id,
    goalId,
    key: task.key,
    title: task.title,
    description: '',
    type: CAPABILITY,
    priority: 5,
    data: {},
    dependsOn: [],
    timeoutMs: task.timeoutMs,
    optional: false,
    epoch: 0,
    shard: 0,
  };
  return { name: task.key, data, opts: { jobId: task.id, removeOnComplete: false } };
}

export async function runMirrorLagBench(
  options: MirrorLagBenchOptions = {},
): Promise<MirrorLagBenchResult> {
  const rate = options.rate ?? 1000;
  const seconds = options.seconds ?? 10;
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'agentq-mirror-lag-'));
  const store = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: redisUrl, prefix, channelPrefix: `${prefix}/` });
  const queue = new Queue(CAPABILITY, {
    connection: coordinator.duplicate(),
    prefix: coordinator.bullPrefix(0),
    streams: { events: { maxLen: 1_000_000 } },
  });
  const committedAt = new Map<number, number>();
  const count = rate * seconds;
  const goalId = `g-${randomBytes(8).toString('hex')}`;
  const children: ChildProcess[] = [];
  const mirror = startMirror({
    store,
    coordinator,
    onCommit: (commit) => {
      for (const event of commit.events) committedAt.set(event.seq, commit.committedAt);
    },
  });
  try {
    await store.open();
    const subscriber = spawnChild('mirror-lag-subscriber.ts', [redisUrl, `${prefix}/`]);
    children.push(subscriber);
    await once(subscriber, (m) => m === 'ready');
    const tasks = newTasks(goalId, count);
    await store.createGoal(
      {
        id: goalId,
        key: null,
        title: 'mirror lag',
        planner: 'bench',
        plan: { goal: 'mirror lag', tasks: [] },
      },
      tasks,
    );
    const worker = spawnChild('mirror-lag-worker.ts', [
      redisUrl,
      prefix,
      String(options.concurrency ?? 50),
    ]);
    children.push(worker);
    await once(worker, (m) => m === 'ready');
    await waitUntil(() => mirror.isLeader, 10000);

    // Open loop: arrivals on a fixed schedule, whatever the system does with them.
    const start = performance.now();
    for (let sent = 0; sent < count;) {
      const due = Math.min(count, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      if (due > sent) {
        await queue.addBulk(tasks.slice(sent, due).map((t) => jobOf(goalId, t)));
        sent = due;
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    await waitUntil(async () => (await store.countByState()).DONE >= count, 120000);
    const lastSeq = await store.lastSeq();
    await waitUntil(() => mirror.published >= lastSeq - count, 10000);
    const lag = mirror.lagMs();
    worker.send('stop');
    subscriber.send('report');
    const report = (await once(subscriber, (m) => typeof m === 'object')) as {
      seqs: number[];
      times: number[];
    };
    const delivery = new RecentSamples(1_000_000);
    report.seqs.forEach((seq, i) => {
      const at = committedAt.get(seq);
      if (at !== undefined) delivery.add(report.times[i]! - at);
    });
    return {
      lagP50: lag.p50,
      lagP99: lag.p99,
      deliveryP50: round(delivery.percentile(50)),
      deliveryP99: round(delivery.percentile(99)),
      tasks: count,
      seconds,
      transitions: lastSeq - count,
      batches: mirror.stats.batches,
      entriesPerBatch: Math.round(mirror.stats.entries / Math.max(1, mirror.stats.batches)),
      store: 'sqlite',
    };
  } finally {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
    await mirror.close();
    await queue.close();
    const keys = await coordinator.client.keys(`{${prefix}}*`);
    if (keys.length > 0) await coordinator.client.del(...keys);
    await coordinator.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function spawnChild(file: string, args: string[]): ChildProcess {
  return fork(join(__dirname, file), args, {
    execArgv: ['--require', require.resolve('tsx/cjs')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function once(child: ChildProcess, match: (message: unknown) => boolean): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!match(message)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null) => reject(new Error(`bench child exited (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`mirror-lag bench: timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function argValue(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

async function main(): Promise<void> {
  const result = await runMirrorLagBench({
    rate: argValue('--rate'),
    seconds: argValue('--seconds'),
  });
  const report = {
    ...result,
    cpus: cpus().length,
    // The figures depend on what else runs: say how busy the machine was.
    loadAverage1m: loadavg()[0],
    node: process.version,
    at: new Date().toISOString(),
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', 'mirror-lag.json'),
    `${JSON.stringify(report, null, 2)}\n`,
  );
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  process.stdout.write(
    `${result.tasks} tasks at ${result.tasks / result.seconds}/s, ${result.transitions} transitions\n` +
      `mirror lag      p50 ${result.lagP50} ms  p99 ${result.lagP99} ms  (target p99 ≤ 50 ms: ${pass(result.lagP99 <= 50)})\n` +
      `pub/sub delivery p50 ${result.deliveryP50} ms  p99 ${result.deliveryP99} ms  (target p50 ≤ 2 ms: ${pass(result.deliveryP50 <= 2)})\n`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
