/**
 * First start of a big plan (issue 14, point 5): milliseconds from `supervisor.submitPlan` to the
 * first task's handler start, for plans of independent no-op tasks, one agent (concurrency 50)
 * already waiting. Target: ≤ ~100 ms for any plan size.
 */
import { benchPrefix, until } from '../context';
import { startBenchSystem } from '../agentq/system';
import { hrtimeMs } from '../stats';
import type { BenchContext } from './types';

export interface FirstStartSection {
  /** Plan sizes measured (full: 1,000 and 10,000; quick: 100 and 1,000). */
  sizes: { small: number; large: number };
  /** Submission → first handler start (ms) for the small plan. */
  tasks1000Ms: number;
  /** The same for the large plan. */
  tasks10000Ms: number;
  /** submitPlan's own duration for each (ms): the whole goal's write. */
  submitMs: { small: number; large: number };
}

async function firstStart(ctx: BenchContext, tasks: number): Promise<[number, number]> {
  const system = await startBenchSystem(ctx.redis, benchPrefix(`fs${tasks}`), { mirror: false });
  try {
    let first: number | null = null;
    await system.agent({
      agentId: `first-start-${tasks}`,
      capabilities: ['noop'],
      concurrency: 50,
      breaker: false,
      handlers: {
        noop: () => {
          first ??= hrtimeMs();
          return null;
        },
      },
    });
    const t0 = hrtimeMs();
    await system.submit({
      goal: `first-start-${tasks}`,
      tasks: Array.from({ length: tasks }, (_, i) => ({
        key: `t${i}`,
        title: `t${i}`,
        type: 'noop',
      })),
    });
    const submitMs = hrtimeMs() - t0;
    await until(() => first !== null, 300_000, `first start of a ${tasks}-task plan`);
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return [round(first! - t0), round(submitMs)];
  } finally {
    await system.close();
  }
}

export async function firstStartScenario(ctx: BenchContext): Promise<FirstStartSection> {
  const sizes = ctx.quick ? { small: 100, large: 1_000 } : { small: 1_000, large: 10_000 };
  ctx.step(`first start: plan of ${sizes.small} tasks`);
  const [small, submitSmall] = await firstStart(ctx, sizes.small);
  ctx.step(`first start: plan of ${sizes.large} tasks`);
  const [large, submitLarge] = await firstStart(ctx, sizes.large);
  return {
    sizes,
    tasks1000Ms: small,
    tasks10000Ms: large,
    submitMs: { small: submitSmall, large: submitLarge },
  };
}
