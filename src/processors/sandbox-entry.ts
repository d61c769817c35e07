/**
 * The processor file BullMQ runs in a sandbox child process (one child per running task, reused
 * between tasks). It loads the user's handler module once and runs the same attempt logic as the
 * agent's own process; the parent (sandboxed-executor.ts) watches it and kills it when it hangs.
 */
import type { TaskJobData } from '../queues/task-job';
import type { HandlerMap } from './handler-types';
import { handlerFor, loadHandlerModule } from './handler-module';
import { SANDBOX_ENV, type SandboxHello, type SandboxJobData } from './sandbox-protocol';
import { runAttempt, type AttemptJob } from './task-runner';

let handlers: Promise<HandlerMap> | null = null;

/** The part of BullMQ's child-side job proxy (child-processor.js `wrapJob`) an attempt uses. */
interface SandboxJob extends Omit<AttemptJob, 'data' | 'updateProgress'> {
  data: SandboxJobData;
  updateProgress(value: unknown): Promise<unknown>;
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

export default async function processTask(
  job: SandboxJob,
  _token: string,
  signal: AbortSignal,
): Promise<unknown> {
  // The parent's private channel to this child (not configuration): set in the fork options.
  const file = process.env[SANDBOX_ENV.handlers];
  const agentId = process.env[SANDBOX_ENV.agentId] ?? 'sandbox';
  if (!file) throw new Error(`${SANDBOX_ENV.handlers} is not set in the sandbox child`);
  const hello: SandboxHello = { phase: 'sandbox', pid: process.pid };
  await job.updateProgress(hello);
  handlers ??= loadHandlerModule(file);
  const { sandboxWorkdir, ...data } = job.data;
  const handler = handlerFor(await handlers, data.type);
  if (!handler) throw new Error(`${file} has no handler for '${data.type}' (nor '*')`);
  const cpuAtStart = process.cpuUsage();
  return runAttempt({ ...job, data: data as TaskJobData } as AttemptJob, {
    agentId,
    handler,
    signal,
    workdir: sandboxWorkdir,
    baseMetrics: () => ({
      cpuMs: cpuMs(process.cpuUsage(cpuAtStart)),
      // maxRSS is the child's lifetime peak (KiB): an upper bound for this task when reused.
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    }),
  });
}
