/**
 * agentq: a random DAG goal end to end — submit (SQL + flow) to the goal's root job completed —
 * run by one agent at concurrency 50 with agentq's gate and goal workers. Each task depends on
 * up to three earlier ones (a fixed seed, so every run has the same graph).
 */
import type { TaskSpec } from '../../src/entities/task-model';
import { benchPrefix, type BenchContext } from '../context';
import { hrtimeMs } from '../stats';
import { startBenchSystem } from './system';

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

export function randomDag(tasks: number, seed = 42): TaskSpec[] {
  const next = random(seed);
  return Array.from({ length: tasks }, (_, i) => {
    const deps = new Set<string>();
    const count = i === 0 ? 0 : Math.floor(next() * 4);
    for (let d = 0; d < count; d++) deps.add(`t${Math.floor(next() * i)}`);
    return { key: `t${i}`, title: `t${i}`, type: 'dag', dependsOn: [...deps] };
  });
}

export async function agentqDag(ctx: BenchContext, tasks: number): Promise<{ seconds: number }> {
  const system = await startBenchSystem(ctx.redis, benchPrefix('adag'), { mirror: false });
  try {
    await system.agent({
      agentId: 'dag-1',
      capabilities: ['dag'],
      concurrency: 50,
      breaker: false,
      handlers: { dag: () => null },
    });
    const t0 = hrtimeMs();
    const goalId = await system.submit({ goal: 'random DAG', tasks: randomDag(tasks) });
    await system.goalDone(goalId);
    return { seconds: Math.round(hrtimeMs() - t0) / 1000 };
  } finally {
    await system.close();
  }
}
