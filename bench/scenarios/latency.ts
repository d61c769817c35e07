/** Enqueue → start latency at fixed rates with an open-loop producer, p50/p99/p99.9. */
import { bullmqOpenLoopLatency } from '../baseline/latency';
import type { LatencySummary } from '../stats';
import { agentqOpenLoopLatency } from '../agentq/open-loop-latency';
import type { BenchContext, Missing } from './types';

export const RATES = [100, 500, 2000] as const;

export interface LatencyAtRate {
  rate: number;
  seconds: number;
  bullmq: LatencySummary;
  agentq: LatencySummary | Missing;
}

export interface LatencySection {
  /** The headline: agentq at 500/s when it is there, plain BullMQ's figures otherwise. */
  rate: number;
  p50: number | null;
  p99: number | null;
  of: 'agentq' | 'bullmq';
  rates: LatencyAtRate[];
}

export async function latencyScenario(ctx: BenchContext): Promise<LatencySection> {
  const seconds = ctx.quick ? 2 : 10;
  const rates: LatencyAtRate[] = [];
  for (const rate of RATES) {
    ctx.step(`latency: ${rate}/s for ${seconds} s, plain BullMQ`);
    const bullmq = await bullmqOpenLoopLatency(ctx, rate, seconds);
    ctx.step(`latency: ${rate}/s for ${seconds} s, agentq`);
    const agentq = await agentqOpenLoopLatency(ctx, rate, seconds);
    rates.push({ rate, seconds, bullmq, agentq });
  }
  const at500 = rates.find((r) => r.rate === 500)!;
  const agentq = 'p50' in at500.agentq ? at500.agentq : null;
  const headline = agentq ?? at500.bullmq;
  return {
    rate: 500,
    p50: headline.p50,
    p99: headline.p99,
    of: agentq ? 'agentq' : 'bullmq',
    rates,
  };
}
