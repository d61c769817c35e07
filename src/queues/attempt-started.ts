/**
 * The `started` report of an attempt in one round trip instead of two BullMQ Lua scripts
 * (`updateProgress` and `addLog`): one script of ours (bullmq-internals.ts, `writeStarted`).
 * What lands in Redis is exactly what those scripts write — the job hash's `progress` field, a
 * `progress` entry on the queue's events stream and the attempt's log line — so the mirror, the
 * reconcile (reads `progress` from the job), dead letters (read the log lines) and any
 * QueueEvents listener see no difference. Like them it writes nothing when the job is gone: an
 * agent still running a job Redis lost (a wipe) must not recreate a fragment of its hash.
 */
import type { Job } from 'bullmq';
import { writeStarted } from './bullmq-internals';
import type { RedisConnection } from './connection';
import type { TaskProgressMessage } from './protocol';

export type StartedMessage = Extract<TaskProgressMessage, { phase: 'started' }>;

/** The log line an attempt writes when it starts; dead letters read the agent ids back from it. */
export function attemptStartedLine(attempt: number, agentId: string): string {
  return `[agentq] attempt ${attempt} started by ${agentId}`;
}

/**
 * The worker that claimed the job: its keys (a BullMQ Worker has them) and the connection it was
 * given — BullMQ sends the job's own commands (the result, too) on it, so this comes first.
 */
export interface ClaimingWorker {
  readonly connection: RedisConnection;
  readonly keys: Readonly<Record<string, string>>;
  toKey(type: string): string;
}

/** The job of a `started` report is gone from Redis (as BullMQ's `updateProgress` says it). */
export class StartedJobMissingError extends Error {
  constructor(readonly jobId: string) {
    super(`Missing key for job ${jobId}. started`);
    this.name = 'StartedJobMissingError';
  }
}

/** Writes `message` and its log line for `job`, claimed by `worker`, in one script call. */
export async function writeAttemptStarted(
  worker: ClaimingWorker,
  job: Pick<Job, 'id' | 'opts'>,
  message: StartedMessage,
): Promise<void> {
  const jobId = job.id!;
  const keepLogs = job.opts.keepLogs;
  const written = await writeStarted(worker.connection, {
    jobKey: worker.toKey(jobId),
    eventsKey: worker.keys.events!,
    jobId,
    progress: JSON.stringify(message),
    logLine: attemptStartedLine(message.attempt, message.agentId),
    ...(typeof keepLogs === 'number' ? { keepLogs } : {}),
  });
  if (!written) throw new StartedJobMissingError(jobId);
}
