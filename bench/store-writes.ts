/**
 * Batched transition writes per second, SQLite and PostgreSQL: the load the mirror puts on the
 * task store. Not a test; run `npx tsx bench/store-writes.ts [tasks] [batch] [sqlite|postgres]`.
 * Each task walks ASSIGNED → ACTIVE → ACTIVE (progress) → DONE with metrics and a result, fed
 * in batches through `applyChanges`, as the mirror does. Writes bench/results/store-writes.json.
 */
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { TaskRegistry, type TaskRegistryOptions } from '../src/entities/task-registry';
import type { TaskChange } from '../src/entities/task-model';
import type { NewTask } from '../src/entities/task-store';

const TASKS = Number(process.argv[2] ?? 20000);
const BATCH = Number(process.argv[3] ?? 500);
/** `sqlite`, `postgres` or both (the default). */
const ONLY = process.argv[4];
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Figure {
  backend: string;
  transitions: number;
  batch: number;
  seconds: number;
  transitionsPerSecond: number;
  /**
   * This process's CPU time (user + system) over the same writes. The machine is shared, so
   * wall-clock figures swing with the load; for SQLite (in-process) transitions per CPU second
   * is the steadier measure of the store's own cost.
   */
  cpuSeconds: number;
  transitionsPerCpuSecond: number;
  /**
   * PostgreSQL only: CPU time of the server backends serving this process (from /proc; the
   * server's background writers are not counted), and transitions per CPU second of client and
   * backends together — the load-independent figure of a run on a shared machine.
   */
  serverCpuSeconds?: number;
  transitionsPerTotalCpuSecond?: number;
}

/** Local TCP ports of this process's sockets (its connections to the server). */
function ownTcpPorts(): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // The fd closed meanwhile.
    }
  }
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[9] && inodes.has(cols[9])) ports.push(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** CPU seconds (user + system) of the server processes `pids`. */
function processCpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The backend exited.
    }
  }
  return ticks / 100; // USER_HZ
}

/** The pids of the server backends serving this process. */
async function ownBackends(): Promise<number[]> {
  const ports = ownTcpPorts();
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND pid <> pg_backend_pid()',
      [ports],
    );
    return rows.map((row) => row.pid);
  } finally {
    await admin.end();
  }
}

/** Task ids as the compiler makes them: `<goal id>.<key>`, so a goal's rows sit together. */
function tasks(goalId: string): NewTask[] {
  return Array.from({ length: TASKS }, (_, i) => ({
    id: `${goalId}.t${i}`,
    key: `t${i}`,
    title: `task ${i}`,
    description: '',
    type: ['development', 'testing', 'design'][i % 3]!,
    priority: 5,
    dependsOn: [],
    data: { i },
    attempts: 3,
    timeoutMs: 600000,
    optional: false,
    state: 'PENDING',
  }));
}

function changes(list: NewTask[]): TaskChange[] {
  const out: TaskChange[] = [];
  const at = new Date();
  for (const [i, { id }] of list.entries()) {
    const base = { taskId: id, at, attempt: 1, agentId: `agent-${i % 8}` };
    out.push({ ...base, to: 'ASSIGNED', metrics: { claimedAt: at, waitMs: 3 } });
    out.push({ ...base, to: 'ACTIVE', metrics: { startedAt: at } });
    out.push({ ...base, to: 'ACTIVE', progress: { pct: 50 } });
    out.push({
      ...base,
      to: 'DONE',
      result: { ok: true, i },
      metrics: { finishedAt: at, durationMs: 12, cpuMs: 4, peakRssBytes: 1e8, qualityScore: 0.9 },
    });
  }
  // The mirror sees tasks progress concurrently: interleave them, one transition per task in turn.
  const perTask = 4;
  return Array.from({ length: out.length }, (_, k) => {
    const task = k % list.length;
    const step = Math.floor(k / list.length);
    return out[task * perTask + step]!;
  });
}

async function run(backend: string, options: TaskRegistryOptions): Promise<Figure> {
  const registry = new TaskRegistry(options);
  try {
    const goalId = `g-${randomBytes(8).toString('hex')}`;
    const list = tasks(goalId);
    const plan = { goal: 'bench', tasks: [] };
    await registry.createGoal(
      { id: goalId, key: null, title: 'bench', planner: 'bench', plan },
      list,
    );
    const all = changes(list);
    const backends = backend === 'postgres' ? await ownBackends() : [];
    const serverStarted = processCpuSeconds(backends);
    const cpuStarted = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0; i < all.length; i += BATCH) {
      const result = await registry.applyChanges(all.slice(i, i + BATCH), {
        name: 'bench',
        value: String(i),
      });
      if (result.rejected.length > 0) throw result.rejected[0]!.error;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuStarted);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const serverCpuSeconds = processCpuSeconds(backends) - serverStarted;
    const figure = {
      backend,
      transitions: all.length,
      batch: BATCH,
      seconds: Number(seconds.toFixed(3)),
      transitionsPerSecond: Math.round(all.length / seconds),
      cpuSeconds: Number(cpuSeconds.toFixed(3)),
      transitionsPerCpuSecond: Math.round(all.length / cpuSeconds),
      ...(backend === 'postgres'
        ? {
            serverCpuSeconds: Number(serverCpuSeconds.toFixed(2)),
            transitionsPerTotalCpuSecond: Math.round(all.length / (cpuSeconds + serverCpuSeconds)),
          }
        : {}),
    };
    console.log(
      `${backend.padEnd(9)} ${figure.transitions} transitions in batches of ${BATCH}: ` +
        `${figure.transitionsPerSecond.toLocaleString('en')} transitions/s ` +
        `(${figure.transitionsPerCpuSecond.toLocaleString('en')} per CPU second of this process` +
        (figure.transitionsPerTotalCpuSecond
          ? `, ${figure.transitionsPerTotalCpuSecond.toLocaleString('en')} per CPU second with the server backends`
          : '') +
        ')',
    );
    return figure;
  } finally {
    await registry.close();
  }
}

async function withPgSchema<T>(work: (schema: string) => Promise<T>): Promise<T> {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    return await work(schema);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-bench-'));
  const figures: Figure[] = [];
  try {
    if (ONLY !== 'postgres') {
      figures.push(await run('sqlite', { backend: 'sqlite', path: join(dir, 'bench.db') }));
    }
    if (ONLY !== 'sqlite') {
      const pg = (schema: string) => run('postgres', { backend: 'postgres', url: PG_URL, schema });
      figures.push(await withPgSchema(pg));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const out = join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  const report = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    figures,
  };
  writeFileSync(join(out, 'store-writes.json'), JSON.stringify(report, null, 2) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
