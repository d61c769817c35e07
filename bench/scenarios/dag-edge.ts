/**
 * DAG edge latency (issue 14, point 1): the time from a dependency's end (its handler about to
 * return) to its dependent's handler start, for every edge, with free slots (the agent's
 * concurrency is at least the widest level of the graph, so no ready task waits for a slot).
 * Three shapes of no-op tasks: a chain, a fan-out/fan-in 1 → N → 1 and a random DAG with shared
 * dependencies (a fixed seed, each task depending on 1–3 earlier ones). A task with several
 * dependencies gives one sample: from its LAST dependency's end to its start. Plain BullMQ in the
 * same run as the anchor: the parent-after-child latency of flows (a parent with one child, many
 * times, and a chain of nested flows), from the child's handler end to the parent's handler start.
 * Both sides read one monotonic clock (process.hrtime) in this process.
 */
import { FlowProducer, Worker, type FlowJob } from 'bullmq';
import type { TaskSpec } from '../../src/entities/task-model';
import { startBenchSystem, type BenchSystem } from '../agentq/system';
import { benchConnection, benchPrefix, until, withPrefix } from '../context';
import { hrtimeMs, ratio, summarize } from '../stats';
import type { BenchContext } from './types';

export interface EdgeFigure {
  /** The fastest edge: with p50 and max, whether a wide level's dependents start late together. */
  min: number;
  p50: number;
  p99: number;
  max: number;
  /** Edge samples: one per task with dependencies. */
  edges: number;
}

export interface ShapeFigure extends EdgeFigure {
  tasks: number;
  /** The most tasks on one level: the agent's concurrency is at least this. */
  widestLevel: number;
}

export interface DagEdgeSection {
  /** Over every edge of the three shapes combined (chain + fan + random). */
  min: number;
  p50: number;
  p99: number;
  max: number;
  /** The agent's concurrency: the widest level of any shape, so no ready task waits for a slot. */
  concurrency: number;
  chain: ShapeFigure;
  fan: ShapeFigure;
  random: ShapeFigure;
  /** Plain BullMQ flows: one-child parents and a nested-flow chain, samples combined. */
  bullmq: EdgeFigure & {
    pairs: EdgeFigure & { flows: number };
    chain: EdgeFigure & { levels: number };
  };
  /** agentq's combined p50 / BullMQ's p50 (target ≤ 1.5). */
  ratioP50: number;
}

const CAPABILITY = 'edge';

/** A deterministic PRNG (mulberry32): the same DAG every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const task = (key: string, dependsOn: string[] = []): TaskSpec => ({
  key,
  title: key,
  type: CAPABILITY,
  dependsOn,
});

export function chainShape(tasks: number): TaskSpec[] {
  return Array.from({ length: tasks }, (_, i) => task(`c${i}`, i === 0 ? [] : [`c${i - 1}`]));
}

export function fanShape(width: number): TaskSpec[] {
  const middle = Array.from({ length: width }, (_, i) => task(`m${i}`, ['src']));
  return [
    task('src'),
    ...middle,
    task(
      'sink',
      middle.map((t) => t.key),
    ),
  ];
}

/** Task i > 0 depends on 1–3 distinct earlier tasks, chosen uniformly (so shared by many). */
export function randomShape(tasks: number, seed = 14): TaskSpec[] {
  const next = random(seed);
  return Array.from({ length: tasks }, (_, i) => {
    const deps = new Set<string>();
    const count = i === 0 ? 0 : Math.min(i, 1 + Math.floor(next() * 3));
    while (deps.size < count) deps.add(`r${Math.floor(next() * i)}`);
    return task(`r${i}`, [...deps]);
  });
}

/** The most tasks on one level (level = 1 + the deepest dependency's level). */
function widestLevel(specs: TaskSpec[]): number {
  const level = new Map<string, number>();
  const width = new Map<number, number>();
  for (const spec of specs) {
    const l = Math.max(-1, ...(spec.dependsOn ?? []).map((d) => level.get(d)!)) + 1;
    level.set(spec.key, l);
    width.set(l, (width.get(l) ?? 0) + 1);
  }
  return Math.max(...width.values());
}

function edgeFigure(samples: number[]): EdgeFigure {
  const s = summarize(samples);
  const min = Math.round(Math.min(...samples) * 1000) / 1000;
  return { min, p50: s.p50, p99: s.p99, max: s.max, edges: s.samples };
}

/** Per edge: the dependent's start minus its last dependency's end (ms). */
function edgeSamples(
  specs: TaskSpec[],
  ends: Map<string, number>,
  starts: Map<string, number>,
): number[] {
  const samples: number[] = [];
  for (const spec of specs) {
    const deps = spec.dependsOn ?? [];
    if (deps.length === 0) continue;
    const lastEnd = Math.max(...deps.map((d) => ends.get(d)!));
    samples.push(starts.get(spec.key)! - lastEnd);
  }
  return samples;
}

async function agentqShape(
  system: BenchSystem,
  name: string,
  specs: TaskSpec[],
  starts: Map<string, number>,
  ends: Map<string, number>,
): Promise<{ samples: number[]; figure: ShapeFigure }> {
  starts.clear();
  ends.clear();
  const goalId = await system.submit({ goal: `dag edge: ${name}`, tasks: specs });
  await system.goalDone(goalId);
  const missing = specs.filter((s) => !starts.has(s.key) || !ends.has(s.key));
  if (missing.length > 0) throw new Error(`dag edge: ${missing.length} ${name} tasks not timed`);
  const samples = edgeSamples(specs, ends, starts);
  const figure = { ...edgeFigure(samples), tasks: specs.length, widestLevel: widestLevel(specs) };
  return { samples, figure };
}

async function agentqEdges(
  ctx: BenchContext,
  shapes: { chain: TaskSpec[]; fan: TaskSpec[]; random: TaskSpec[] },
): Promise<{
  concurrency: number;
  chain: ShapeFigure;
  fan: ShapeFigure;
  random: ShapeFigure;
  all: number[];
}> {
  const starts = new Map<string, number>();
  const ends = new Map<string, number>();
  const concurrency = Math.max(...Object.values(shapes).map(widestLevel));
  const system = await startBenchSystem(ctx.redis, benchPrefix('aedge'), { mirror: false });
  try {
    await system.agent({
      agentId: 'dag-edge',
      capabilities: [CAPABILITY],
      concurrency,
      breaker: false,
      handlers: {
        [CAPABILITY]: (input) => {
          starts.set(input.key, hrtimeMs());
          ends.set(input.key, hrtimeMs());
          return null;
        },
      },
    });
    ctx.step(`dag edge: a chain of ${shapes.chain.length}, agentq`);
    const chain = await agentqShape(system, 'chain', shapes.chain, starts, ends);
    ctx.step(`dag edge: a fan 1 → ${shapes.fan.length - 2} → 1, agentq`);
    const fan = await agentqShape(system, 'fan', shapes.fan, starts, ends);
    ctx.step(`dag edge: a random DAG of ${shapes.random.length}, agentq`);
    const rand = await agentqShape(system, 'random', shapes.random, starts, ends);
    return {
      concurrency,
      chain: chain.figure,
      fan: fan.figure,
      random: rand.figure,
      all: [...chain.samples, ...fan.samples, ...rand.samples],
    };
  } finally {
    await system.close();
  }
}

/** Plain BullMQ: one-child flows one after another, then a chain of nested flows. */
async function bullmqEdges(
  ctx: BenchContext,
  flows: number,
  levels: number,
): Promise<DagEdgeSection['bullmq']> {
  return withPrefix(ctx, 'edge', async (prefix, connection) => {
    const producer = new FlowProducer({ connection, prefix: `{${prefix}}` });
    producer.on('error', () => undefined);
    const starts = new Map<string, number>();
    const ends = new Map<string, number>();
    const workerConnection = benchConnection(ctx.redis);
    const worker = new Worker(
      CAPABILITY,
      async (job) => {
        const key = (job.data as { key: string }).key;
        starts.set(key, hrtimeMs());
        ends.set(key, hrtimeMs());
        return null;
      },
      { connection: workerConnection, prefix: `{${prefix}}`, concurrency: 50 },
    );
    worker.on('error', () => undefined);
    const node = (key: string, children?: FlowJob[]): FlowJob => ({
      name: key,
      queueName: CAPABILITY,
      data: { key },
      ...(children ? { children } : {}),
    });
    try {
      await worker.waitUntilReady();
      const pairs: number[] = [];
      for (let i = 0; i < flows; i++) {
        await producer.add(node(`p${i}`, [node(`p${i}-child`)]));
        await until(() => starts.has(`p${i}`), 60_000, `a one-child flow`);
        pairs.push(starts.get(`p${i}`)! - ends.get(`p${i}-child`)!);
      }
      // c0 is the outermost parent (it runs last); c{levels-1} the innermost leaf (first).
      let flow = node(`c${levels - 1}`);
      for (let l = levels - 2; l >= 0; l--) flow = node(`c${l}`, [flow]);
      await producer.add(flow);
      await until(() => starts.has('c0'), 600_000, `a chain of ${levels} nested flows`);
      const chain: number[] = [];
      for (let l = 0; l < levels - 1; l++)
        chain.push(starts.get(`c${l}`)! - ends.get(`c${l + 1}`)!);
      return {
        ...edgeFigure([...pairs, ...chain]),
        pairs: { ...edgeFigure(pairs), flows },
        chain: { ...edgeFigure(chain), levels },
      };
    } finally {
      await worker.close();
      await producer.close();
      await workerConnection.quit();
    }
  });
}

export async function dagEdgeScenario(ctx: BenchContext): Promise<DagEdgeSection> {
  const sizes = ctx.quick
    ? { chain: 100, fan: 100, random: 300, flows: 50, levels: 20 }
    : { chain: 1_000, fan: 1_000, random: 5_000, flows: 200, levels: 100 };
  ctx.step(`dag edge: ${sizes.flows} one-child flows and ${sizes.levels} nested, plain BullMQ`);
  const bullmq = await bullmqEdges(ctx, sizes.flows, sizes.levels);
  const agentq = await agentqEdges(ctx, {
    chain: chainShape(sizes.chain),
    fan: fanShape(sizes.fan),
    random: randomShape(sizes.random),
  });
  const all = edgeFigure(agentq.all);
  return {
    min: all.min,
    p50: all.p50,
    p99: all.p99,
    max: all.max,
    concurrency: agentq.concurrency,
    chain: agentq.chain,
    fan: agentq.fan,
    random: agentq.random,
    bullmq,
    ratioP50: ratio(all.p50, bullmq.p50),
  };
}
