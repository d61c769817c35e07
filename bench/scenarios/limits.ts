/**
 * What capability limits cost (DESIGN.md, "Limits and budgets"): no-op throughput of one agent at
 * concurrency 50 with no limit, against a concurrency limit set too high to bind (BullMQ's global
 * concurrency, read in its move-to-active script: target ≥ 0.9×), and the per-key scheduler's
 * throughput with 1,000 keys (`perKey: 1`): keys interleaved (each claim finds its key free) and
 * keys in runs (most claims park and are handed a slot later). Medians of several rounds, the
 * variants interleaved in each round so a shared machine's load falls on all of them alike; the
 * agent's CPU per task beside tasks/s, as the steadier figure on a busy machine.
 */
import type { CapabilityLimits, TaskSpec } from '../../src/entities/task-model';
import type { RedisConfig } from '../../src/config';
import { startBenchSystem } from '../agentq/system';
import { benchPrefix } from '../context';
import { hrtimeMs } from '../stats';
import type { BenchContext } from './types';

const KEYS = 1000;

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
  /** This process's CPU time (user + system) per task, µs (the agent runs in it). */
  cpuUsPerTask: number;
}

export interface LimitsRow {
  variant: string;
  limits: CapabilityLimits | null;
  tasksPerSecond: number;
  ratioToNoLimit: number;
  cpuUsPerTask: number;
  cpuRatioToNoLimit: number;
}

export interface LimitsSection {
  tasks: number;
  rounds: number;
  rows: LimitsRow[];
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

const round2 = (value: number) => Math.round(value * 100) / 100;

export async function limitsScenario(ctx: BenchContext): Promise<LimitsSection> {
  const tasks = ctx.quick ? 2_000 : 20_000;
  const rounds = ctx.quick ? 1 : 5;
  ctx.step('capability limits: no limit, a limit that does not bind, per-key scheduling');
  const runs = new Map<string, RunFigure[]>(VARIANTS.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of VARIANTS)
      runs.get(variant.name)!.push(await run(ctx.redis, variant, tasks));
  }
  const rate = (name: string) => median(runs.get(name)!.map((r) => r.tasksPerSecond));
  const cpu = (name: string) => median(runs.get(name)!.map((r) => r.cpuUsPerTask));
  const base = rate('no limit');
  const baseCpu = cpu('no limit');
  return {
    tasks,
    rounds,
    rows: VARIANTS.map((v) => ({
      variant: v.name,
      limits: v.limits,
      tasksPerSecond: rate(v.name),
      ratioToNoLimit: round2(rate(v.name) / base),
      cpuUsPerTask: cpu(v.name),
      cpuRatioToNoLimit: round2(cpu(v.name) / baseCpu),
    })),
  };
}
