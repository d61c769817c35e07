/**
 * In-process execution: the handler runs in the agent's own process. Cheapest, and the handler
 * shares the agent's fate: a handler that ignores `ctx.signal` keeps running after its attempt
 * ended (the attempt itself still ends on time). Use the sandboxed executor for untrusted code.
 */
import type { Job } from 'bullmq';
import type { TaskResultEnvelope } from '../queues/protocol';
import type { TaskJobData } from '../queues/task-job';
import type { HandlerMap } from './handler-types';
import { runAttempt, type AttemptOptions } from './task-runner';

export type InProcessExecutor = (
  job: Job<TaskJobData, TaskResultEnvelope>,
  workdir: string,
  signal: AbortSignal,
  hooks?: Pick<AttemptOptions, 'reportStarted' | 'onWorkdirMade' | 'onUsage' | 'onSpawn'>,
) => Promise<TaskResultEnvelope>;

export function createFunctionExecutor(handlers: HandlerMap, agentId: string): InProcessExecutor {
  return async (job, workdir, signal, hooks) => {
    const handler = handlers[job.data.type];
    if (!handler) throw new Error(`agent ${agentId} has no handler for '${job.data.type}'`);
    return runAttempt(job, { ...hooks, agentId, handler, signal, workdir });
  };
}
