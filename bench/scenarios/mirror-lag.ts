/**
 * Mirror lag p99 at 1,000 tasks/s: `runMirrorLagBench` of bench/mirror-lag.ts (the mirror's own
 * benchmark), loaded when that file is there so the suite runs without it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { needs, type BenchContext, type Missing } from './types';

export interface MirrorLagSection {
  rate: number;
  /** Commit time − stream entry time, p99 in ms. */
  p99: number | null;
  /** Pub/sub delivery after the transition, p50 in ms (issue 5: ≤ 2 ms). */
  deliveryP50: number | null;
  detail: MirrorLagResult | Missing;
}

interface MirrorLagResult {
  lagP50: number;
  lagP99: number;
  deliveryP50: number;
  deliveryP99: number;
  tasks: number;
  seconds: number;
}

type MirrorLagBench = (options: {
  redisUrl: string;
  rate: number;
  seconds: number;
}) => Promise<MirrorLagResult>;

export async function mirrorLagScenario(ctx: BenchContext): Promise<MirrorLagSection> {
  const rate = 1000;
  const file = join(__dirname, '..', 'mirror-lag.ts');
  const missing = { rate, p99: null, deliveryP50: null };
  if (!existsSync(file)) return { ...missing, detail: needs('bench/mirror-lag.ts') };
  const module = (await import(file)) as { runMirrorLagBench?: MirrorLagBench };
  if (!module.runMirrorLagBench) return { ...missing, detail: needs('runMirrorLagBench') };
  ctx.step(`mirror lag at ${rate}/s`);
  const detail = await module.runMirrorLagBench({
    redisUrl: ctx.redis.url,
    rate,
    seconds: ctx.quick ? 3 : 10,
  });
  return { rate, p99: detail.lagP99, deliveryP50: detail.deliveryP50, detail };
}
