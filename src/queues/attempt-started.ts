/**
 * The `started` report of an attempt as plain commands in one round trip instead of two BullMQ
 * Lua scripts (`updateProgress` and `addLog`). What lands in Redis is exactly what those scripts
 * write — the job hash's `progress` field, a `progress` entry on the queue's events stream and
 * the attempt's log line — so the mirror, the reconcile (reads `progress` from the job), dead
 * letters (read the log lines) and any QueueEvents listener see no difference.
 *
 * The scripts first check that the job exists; these commands do not need to: the attempt holds
 * the job's lock from its claim on, and BullMQ refuses to remove a locked job. The stream is not
 * trimmed here: BullMQ's next XADD on it (MAXLEN ~) trims it anyway.
 */
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisConnection } from './connection';
import type { TaskProgressMessage } from './protocol';

export type StartedMessage = Extract<TaskProgressMessage, { phase: 'started' }>;

/** The log line an attempt writes when it starts; dead letters read the agent ids back from it. */
export function attemptStartedLine(attempt: number, agentId: string): string {
  return `[agentq] attempt ${attempt} started by ${agentId}`;
}

/**
 * The worker that claimed the job: its keys (a BullMQ Worker has them) and the connection it was
 * given — BullMQ sends the job's own commands (the result, too) on it, so these come first.
 */
export interface ClaimingWorker {
  readonly connection: RedisConnection;
  readonly keys: Readonly<Record<string, string>>;
  toKey(type: string): string;
}

/**
 * Writes `message` and its log line for `job`, claimed by `worker`: plain commands written back
 * to back on the worker's connection (one round trip's wait). Not a `pipeline()`: ioredis copies
 * every loaded script (BullMQ loads dozens) onto each new Pipeline, ~50 µs per attempt.
 */
export async function writeAttemptStarted(
  worker: ClaimingWorker,
  job: Pick<Job, 'id' | 'opts'>,
  message: StartedMessage,
): Promise<void> {
  const client = worker.connection;
  const jobId = job.id!;
  const jobKey = worker.toKey(jobId);
  const logsKey = `${jobKey}:logs`;
  const json = JSON.stringify(message);
  // One socket write for the three commands (a single server's connection; a cluster routes).
  const socket = client instanceof Redis && client.status === 'ready' ? client.stream : null;
  socket?.cork();
  const writes: Array<Promise<unknown>> = [];
  try {
    writes.push(client.hset(jobKey, 'progress', json));
    writes.push(client.rpush(logsKey, attemptStartedLine(message.attempt, message.agentId)));
    const keepLogs = job.opts.keepLogs;
    if (typeof keepLogs === 'number') writes.push(client.ltrim(logsKey, -keepLogs, -1));
    writes.push(
      client.xadd(worker.keys.events!, '*', 'event', 'progress', 'jobId', jobId, 'data', json),
    );
  } finally {
    socket?.uncork();
  }
  await Promise.all(writes);
}
