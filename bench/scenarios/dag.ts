/** A random-DAG goal end to end; plain BullMQ runs a flow with as many children. */
import { bullmqFlow } from '../baseline/dag';
import { needs, type BenchContext, type Missing } from './types';

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
  return {
    tasks,
    seconds: null,
    bullmqSeconds: bullmq.seconds,
    ratio: null,
    agentq: needs('SupervisorAgent and AutonomousAgent'),
  };
}
