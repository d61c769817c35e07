/**
 * The mirror's metrics. Created without a registry: the server registers them on its own
 * (`registry.registerMetric(mirrorLagSeconds)`), so several mirrors in one process (tests) and
 * several registries never clash. `RecentSamples` keeps the recent lags for `lagMs()`.
 */
import { Counter, Gauge, Histogram } from 'prom-client';

/** now − the stream entry's timestamp, at the commit of the transition it produced. */
export const mirrorLagSeconds = new Histogram({
  name: 'agentq_mirror_lag_seconds',
  help: 'Time from a BullMQ event to its transition being committed to SQL by the mirror',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [],
});

export const mirrorEventsTotal = new Counter({
  name: 'agentq_mirror_events_total',
  help: 'Events-stream entries the mirror consumed, by outcome',
  labelNames: ['outcome'] as const,
  registers: [],
});

export const mirrorIsLeader = new Gauge({
  name: 'agentq_mirror_leader',
  help: '1 while this process holds the mirror lock',
  registers: [],
});

export const mirrorMetrics = [mirrorLagSeconds, mirrorEventsTotal, mirrorIsLeader] as const;

/** A fixed-size ring of recent samples with percentiles. */
export class RecentSamples {
  private readonly values: number[] = [];
  private next = 0;

  constructor(private readonly size = 10_000) {}

  add(value: number): void {
    if (this.values.length < this.size) this.values.push(value);
    else this.values[this.next] = value;
    this.next = (this.next + 1) % this.size;
  }

  /** p in 0–100; 0 when empty. */
  percentile(p: number): number {
    if (this.values.length === 0) return 0;
    const sorted = [...this.values].sort((a, b) => a - b);
    const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
    return sorted[Math.max(0, index)]!;
  }

  get count(): number {
    return this.values.length;
  }

  clear(): void {
    this.values.length = 0;
    this.next = 0;
  }
}
