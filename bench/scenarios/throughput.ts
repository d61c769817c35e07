/** No-op tasks, one worker at concurrency 50: agentq (mirror and bridge on) against plain BullMQ. */
import { bullmqThroughput, type ThroughputFigure } from '../baseline/throughput';
import { agentqThroughput } from '../agentq/throughput';
import { ratio } from '../stats';
import type { BenchContext, Missing } from './types';

export interface ThroughputSection {
  tasks: number;
  /** Tasks per second. */
  agentq: number | null;
  bullmq: number;
  ratio: number | null;
  /**
   * Where each side's work runs, so a reader sees the comparison is not process for process:
   * agentq's one process also runs the mirror (SQL) and the bridge, as the issue asks.
   */
  layout: { agentq: string; bullmq: string };
  detail: { bullmq: ThroughputFigure; agentq: ThroughputFigure | Missing };
}

export async function throughputScenario(ctx: BenchContext): Promise<ThroughputSection> {
  const tasks = ctx.quick ? 5_000 : 50_000;
  ctx.step(`throughput: ${tasks} no-op tasks, plain BullMQ`);
  const bullmq = await bullmqThroughput(ctx, tasks);
  ctx.step(`throughput: ${tasks} no-op tasks, agentq (mirror and bridge on)`);
  const agentq = await agentqThroughput(ctx, tasks);
  return {
    tasks,
    agentq: agentq.tasksPerSecond,
    bullmq: bullmq.tasksPerSecond,
    ratio: ratio(agentq.tasksPerSecond, bullmq.tasksPerSecond),
    layout: {
      agentq:
        'one process: agent (concurrency 50), mirror to SQLite, pub/sub bridge, gate/goal workers',
      bullmq: 'one process: one Worker (concurrency 50); no mirror, no bridge',
    },
    detail: { bullmq, agentq },
  };
}
