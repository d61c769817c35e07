/**
 * In-process execution: the handler runs in the agent's own process. Cheapest, and the handler
 * shares the agent's fate: a handler that ignores `ctx.signal` keeps running after its attempt
 * ended (the attempt itself still ends on time). Use the sandboxed executor for untrusted code.
 */
import type { Job } from 'bullmq';
import type { StartedMessage } from '../queues/attempt-started';
import type { TaskResultEnvelope } from '../queues/protocol';
import type { TaskJobData } from '../queues/task-job';
import type { HandlerMap } from './handler-types';
import { runAttempt } from './task-runner';

export type InProcessExecutor = (
  job: Job<TaskJobData, TaskResultEnvelope>,
  workdir: string,
  signal: AbortSignal,
  reportStarted?: (message: StartedMessage) => Promise<unknown>,
) => Promise<TaskResultEnvelope>;

export function createFunctionExecutor(handlers: HandlerMap, agentId: string): InProcessExecutor {
  return async (job, workdir, signal, reportStarted) => {
    const handler = handlers[job.data.type];
    if (!handler) throw new Error(`agent ${agentId} has no handler for '${job.data.type}'`);
    return runAttempt(job, {
      agentId,
      handler,
      signal,
      workdir,
      ...(reportStarted ? { reportStarted } : {}),
    });
  };
}
