/**
 * What a running process tree costs: CPU time (user + system) and peak resident memory, sampled
 * from /proc while it runs. The shell executor starts one sampler per command.
 *
 * Node gives no rusage of a child process, and reaps a child the moment it exits, so the last
 * sample before the exit is the final word: CPU burnt in the last interval is not counted.
 */
import type { ExecutionMetrics } from './handler-types';
import { sampleTree } from './process-tree';

export interface TreeSamplerOptions {
  /** Sampling period. @defaultValue 50 */
  intervalMs?: number;
}

export class TreeSampler {
  private cpuMs = 0;
  private peakRssBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly rootPid: number,
    private readonly options: TreeSamplerOptions = {},
  ) {}

  /** Takes a first sample at once, then one every `intervalMs` until `stop()`. */
  start(): this {
    const { intervalMs = 50 } = this.options;
    let busy = true;
    this.inFlight = this.sample()
      .catch(() => undefined)
      .finally(() => (busy = false));
    this.timer = setInterval(() => {
      // On a loaded machine a look can take longer than the period: skip a beat rather than queue.
      if (busy) return;
      busy = true;
      this.inFlight = this.sample()
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, intervalMs);
    return this;
  }

  /** Stops sampling and returns what was measured. */
  async stop(): Promise<ExecutionMetrics> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
    return this.metrics();
  }

  metrics(): ExecutionMetrics {
    return { cpuMs: this.cpuMs, peakRssBytes: this.peakRssBytes };
  }

  /**
   * One look at the tree. Each process's figure covers its own CPU and that of the children it
   * has reaped, and a process that ends moves into its parent's figure when reaped, so the sum
   * over the processes present counts everything once. It dips only for a moment (a process read
   * just as it ends), hence the running maximum.
   */
  private async sample(): Promise<void> {
    const samples = await sampleTree(this.rootPid);
    const cpu = samples.reduce((sum, s) => sum + s.cpuMs, 0);
    const rss = samples.reduce((sum, s) => sum + s.rssBytes, 0);
    this.cpuMs = Math.max(this.cpuMs, cpu);
    this.peakRssBytes = Math.max(this.peakRssBytes, rss);
  }
}
