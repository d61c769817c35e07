/** Mirror lag p99 at 1,000 tasks/s: `runMirrorLagBench`, the mirror's own benchmark (bench/mirror-lag.ts). */
import { runMirrorLagBench, type MirrorLagBenchResult } from '../mirror-lag';
import type { BenchContext } from './types';

export interface MirrorLagSection {
  rate: number;
  /** Commit time − stream entry time, p99 in ms. */
  p99: number;
  /** Pub/sub delivery after the transition, p50 in ms (issue 5: ≤ 2 ms). */
  deliveryP50: number;
  detail: MirrorLagBenchResult;
}

export async function mirrorLagScenario(ctx: BenchContext): Promise<MirrorLagSection> {
  const rate = 1000;
  const seconds = ctx.quick ? 3 : 10;
  ctx.step(`mirror lag at ${rate}/s for ${seconds} s`);
  const detail = await runMirrorLagBench({ redisUrl: ctx.redis.url, rate, seconds });
  return { rate, p99: detail.lagP99, deliveryP50: detail.deliveryP50, detail };
}
