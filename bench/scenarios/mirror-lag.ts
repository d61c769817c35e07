/** Mirror lag p99 at 1,000 tasks/s: the mirror helper's bench/mirror-lag.ts when it is there. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { needs, type BenchContext, type Missing } from './types';

export interface MirrorLagSection {
  rate: number;
  p99: number | null;
  detail: unknown;
}

type MirrorLagBench = (options: {
  redis: BenchContext['redis'];
  rate: number;
  seconds: number;
}) => Promise<{ p99: number }>;

export async function mirrorLagScenario(ctx: BenchContext): Promise<MirrorLagSection> {
  const rate = 1000;
  const file = join(__dirname, '..', 'mirror-lag.ts');
  if (!existsSync(file))
    return { rate, p99: null, detail: needs('bench/mirror-lag.ts') as Missing };
  ctx.step(`mirror lag at ${rate}/s`);
  const module = (await import(file)) as { runMirrorLagBench?: MirrorLagBench };
  if (!module.runMirrorLagBench) return { rate, p99: null, detail: needs('runMirrorLagBench') };
  const detail = await module.runMirrorLagBench({
    redis: ctx.redis,
    rate,
    seconds: ctx.quick ? 3 : 10,
  });
  return { rate, p99: detail.p99, detail };
}
