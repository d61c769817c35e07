/** No-op tasks, one worker at concurrency 50: agentq (mirror and bridge on) against plain BullMQ. */
import { bullmqThroughput, type ThroughputFigure } from '../baseline/throughput';
import { agentqThroughput } from '../agentq/throughput';
import { countRedisCalls } from '../redis-calls';
import { ratio } from '../stats';
import type { BenchContext, Missing } from './types';

export interface ThroughputSection {
  tasks: number;
  /** Tasks per second. */
  agentq: number | null;
  bullmq: number;
  ratio: number | null;
  /**
   * Redis commands this process sent per task, submission and draining together (bench/redis-calls.ts:
   * a pipelined command counts once each, a Lua script once). agentq's includes its mirror, bridge
   * and gate/goal workers, which run in the same process.
   */
  redisCallsPerTask: { agentq: number; bullmq: number };
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
  let calls = countRedisCalls();
  const bullmq = await bullmqThroughput(ctx, tasks);
  const bullmqCalls = calls.read();
  ctx.step(`throughput: ${tasks} no-op tasks, agentq (mirror and bridge on)`);
  calls = countRedisCalls();
  const agentq = await agentqThroughput(ctx, tasks);
  const agentqCalls = calls.read();
  const perTask = (n: number) => Math.round((n / tasks) * 100) / 100;
  return {
    tasks,
    agentq: agentq.tasksPerSecond,
    bullmq: bullmq.tasksPerSecond,
    ratio: ratio(agentq.tasksPerSecond, bullmq.tasksPerSecond),
    redisCallsPerTask: { agentq: perTask(agentqCalls), bullmq: perTask(bullmqCalls) },
    layout: {
      agentq:
        'one process: agent (concurrency 50), mirror to SQLite, pub/sub bridge, gate/goal workers',
      bullmq: 'one process: one Worker (concurrency 50); no mirror, no bridge',
    },
    detail: { bullmq, agentq },
  };
}
