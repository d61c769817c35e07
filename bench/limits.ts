/**
 * What capability limits cost (`npm run bench:limits`, `-- --quick` for smaller counts): no-op
 * throughput of one agent at concurrency 50 with no limit, against a concurrency limit set too
 * high to bind (BullMQ's global concurrency, read in its move-to-active script: target ≥ 0.9×),
 * and the per-key scheduler's throughput with 1,000 keys (`--per-key 1`): keys interleaved (each
 * claim finds its key free) and keys in runs (most claims park and are handed a slot later).
 * Not a test. Each figure is the median of five runs, the runs of the variants interleaved so a
 * shared machine's load falls on all of them alike. Writes bench/results/limits.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type RedisConfig } from '../src/config';
import { ensureRedis } from '../src/cli/private-redis';
import type { CapabilityLimits, TaskSpec } from '../src/entities/task-model';
import { benchPrefix } from './context';
import { startBenchSystem } from './agentq/system';
import { hrtimeMs } from './stats';

const KEYS = 1000;
const RUNS = 5;

interface Variant {
  name: string;
  limits: CapabilityLimits | null;
  /** The concurrencyKey of task i. */
  keyOf?: (i: number, tasks: number) => string;
}

const VARIANTS: Variant[] = [
  { name: 'no limit', limits: null },
  { name: 'concurrency limit 10000 (not binding)', limits: { concurrency: 10_000 } },
  {
    name: `per key 1, ${KEYS} keys interleaved`,
    limits: { perKey: 1 },
    keyOf: (i) => `k${i % KEYS}`,
  },
  {
    name: `per key 1, ${KEYS} keys in runs (most claims park)`,
    limits: { perKey: 1 },
    keyOf: (i, tasks) => `k${Math.floor((i * KEYS) / tasks)}`,
  },
];

interface RunFigure {
  tasksPerSecond: number;
  /** The agent process's CPU time (user + system) per task, µs: steadier on a shared machine. */
  cpuUsPerTask: number;
}

async function run(redis: RedisConfig, variant: Variant, tasks: number): Promise<RunFigure> {
  const system = await startBenchSystem(redis, benchPrefix('lim'), { mirror: false });
  try {
    if (variant.limits) await system.coordinator.setCapabilityLimits('noop', variant.limits);
    const specs: TaskSpec[] = Array.from({ length: tasks }, (_, i) => ({
      key: `t${i}`,
      title: `t${i}`,
      type: 'noop',
      ...(variant.keyOf ? { concurrencyKey: variant.keyOf(i, tasks) } : {}),
    }));
    await system.submit({ goal: variant.name, tasks: specs });
    // As in the throughput scenario: the agent starts before the clock, on a paused queue.
    const queue = system.coordinator.queue('noop');
    await queue.pause();
    await system.agent({
      agentId: 'limits-bench',
      capabilities: ['noop'],
      concurrency: 50,
      breaker: false,
      handlers: { noop: () => null },
    });
    const t0 = hrtimeMs();
    const cpu0 = process.cpuUsage();
    await queue.resume();
    while ((await system.completed('noop')) < tasks) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const cpu = process.cpuUsage(cpu0);
    return {
      tasksPerSecond: Math.round(tasks / ((hrtimeMs() - t0) / 1000)),
      cpuUsPerTask: Math.round((cpu.user + cpu.system) / tasks),
    };
  } finally {
    await system.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const tasks = values.quick ? 5_000 : 20_000;
  const redis = await ensureRedis(loadConfig().redis, { log: (line) => console.error(line) });
  try {
    const runs = new Map<string, RunFigure[]>(VARIANTS.map((v) => [v.name, []]));
    for (let round = 0; round < RUNS; round++) {
      for (const variant of VARIANTS) {
        const figure = await run(redis.config, variant, tasks);
        console.error(
          `round ${round + 1}: ${variant.name}: ${figure.tasksPerSecond} tasks/s, ` +
            `${figure.cpuUsPerTask} µs CPU per task`,
        );
        runs.get(variant.name)!.push(figure);
      }
    }
    const rate = (name: string) => median(runs.get(name)!.map((r) => r.tasksPerSecond));
    const cpu = (name: string) => median(runs.get(name)!.map((r) => r.cpuUsPerTask));
    const base = rate('no limit');
    const baseCpu = cpu('no limit');
    const rows = VARIANTS.map((v) => ({
      variant: v.name,
      limits: v.limits,
      tasksPerSecond: rate(v.name),
      ratioToNoLimit: Math.round((rate(v.name) / base) * 100) / 100,
      cpuUsPerTask: cpu(v.name),
      cpuRatioToNoLimit: Math.round((cpu(v.name) / baseCpu) * 100) / 100,
      runs: runs.get(v.name)!,
    }));
    const doc = {
      measuredAt: new Date().toISOString(),
      tasks,
      layout: 'one process: one agent (concurrency 50) on one queue; no mirror; Redis on loopback',
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadavg: loadavg() },
      node: process.version,
      rows,
    };
    const dir = join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'limits.json'), `${JSON.stringify(doc, null, 2)}\n`);
    console.log(
      `| variant | tasks/s (median of ${RUNS}) | × no limit | agent CPU µs/task | × no limit |`,
    );
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const r of rows) {
      console.log(
        `| ${r.variant} | ${r.tasksPerSecond} | ${r.ratioToNoLimit} | ${r.cpuUsPerTask} | ${r.cpuRatioToNoLimit} |`,
      );
    }
  } finally {
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
