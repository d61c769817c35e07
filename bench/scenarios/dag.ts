/** A random-DAG goal end to end; plain BullMQ runs a flow with as many children. */
import { bullmqFlow } from '../baseline/dag';
import { agentqDag } from '../agentq/dag';
import { ratio } from '../stats';
import type { BenchContext, Missing } from './types';

export interface DagSection {
  tasks: number;
  /** agentq's seconds when it is there, null otherwise. */
  seconds: number | null;
  bullmqSeconds: number;
  ratio: number | null;
  agentq: { seconds: number } | Missing;
}

export async function dagScenario(ctx: BenchContext): Promise<DagSection> {
  const tasks = ctx.quick ? 2_000 : 10_000;
  ctx.step(`dag: a flow of ${tasks} children, plain BullMQ`);
  const bullmq = await bullmqFlow(ctx, tasks);
  ctx.step(`dag: a random DAG goal of ${tasks} tasks, agentq`);
  const agentq = await agentqDag(ctx, tasks);
  return {
    tasks,
    seconds: agentq.seconds,
    bullmqSeconds: bullmq.seconds,
    ratio: ratio(agentq.seconds, bullmq.seconds),
    agentq,
  };
}
