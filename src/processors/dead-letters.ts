/**
 * The dead-letter queue (`_dlq`): one job per task whose attempts ran out (or that failed with an
 * `UnrecoverableError`), id `<taskId>@<epoch>`, holding what is needed to understand and redrive it.
 * Nothing consumes it; `agentq dlq list` reads it and `agentq dlq retry` redrives from it.
 *
 * A redrive re-runs the task's own (failed) job with `job.retry('failed')`, attempts reset and
 * the epoch bumped so the mirror counts the new attempts apart from the old ones. A standalone
 * task, or an optional one (its parent never failed), simply runs again and ends DONE. A
 * required task whose failure already failed its BullMQ parent (failParentOnFailure) or its linked
 * dependents runs again too, but those dependents stay FAILED: retry them (or the goal) as well.
 */
import { Job, type JobType } from 'bullmq';
import { ConflictError, NotFoundError } from '../errors';
import { DLQ_QUEUE } from '../queues/names';
import { goalIdOfTaskId, shardOf } from '../queues/protocol';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import type { TaskJobData } from '../queues/task-job';

export interface DeadLetter {
  /** `<taskId>@<epoch>` */
  id: string;
  taskId: string;
  goalId: string;
  key: string;
  type: string;
  shard: number;
  epoch: number;
  task: TaskJobData;
  error: { message: string; stack?: string };
  /** Attempts made before it was dead-lettered. */
  attempts: number;
  /** The agents that ran its attempts, in order. */
  agentIds: string[];
  failedAt: number;
}

const ATTEMPT_LOG = /^\[agentq\] attempt \d+ started by (.+)$/;
const ALL_STATES: JobType[] = [
  'waiting',
  'prioritized',
  'delayed',
  'active',
  'completed',
  'failed',
];

export function deadLetterId(taskId: string, epoch: number): string {
  return `${taskId}@${epoch}`;
}

/** The agent ids of a task job's attempts, from the log lines the attempts wrote. */
async function attemptAgents(
  coordinator: RedisCoordinator,
  job: Job<TaskJobData>,
): Promise<string[]> {
  const queue = coordinator.queue(job.data.type, job.data.shard);
  const { logs } = await queue.getJobLogs(job.id!, 0, -1);
  return logs.flatMap((line) => ATTEMPT_LOG.exec(line)?.slice(1, 2) ?? []);
}

/** Adds the dead letter of a task job that failed for good; idempotent on its id. */
export async function recordDeadLetter(
  coordinator: RedisCoordinator,
  job: Job<TaskJobData>,
  error: Error,
): Promise<DeadLetter> {
  const data = job.data;
  const letter: DeadLetter = {
    id: deadLetterId(data.taskId, data.epoch),
    taskId: data.taskId,
    goalId: data.goalId,
    key: data.key,
    type: data.type,
    shard: data.shard,
    epoch: data.epoch,
    task: data,
    error: { message: error.message, ...(error.stack ? { stack: error.stack } : {}) },
    attempts: job.attemptsMade,
    agentIds: await attemptAgents(coordinator, job),
    failedAt: job.finishedOn ?? Date.now(),
  };
  await coordinator.queue(DLQ_QUEUE, data.shard).add('dead-letter', letter, { jobId: letter.id });
  return letter;
}

function shardsOf(coordinator: RedisCoordinator): number[] {
  return Array.from({ length: coordinator.shards }, (_, i) => i);
}

export async function listDeadLetters(coordinator: RedisCoordinator): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (const shard of shardsOf(coordinator)) {
    const jobs = await coordinator.queue(DLQ_QUEUE, shard).getJobs(ALL_STATES);
    for (const job of jobs) if (job) letters.push(job.data as DeadLetter);
  }
  return letters.sort((a, b) => a.failedAt - b.failedAt);
}

export interface Redrive {
  id: string;
  taskId: string;
  /** The epoch the task runs under now. */
  epoch: number;
}

/** Re-runs a dead-lettered task (see the module comment) and removes its dead letter. */
export async function retryDeadLetter(
  coordinator: RedisCoordinator,
  id: string,
  actor: string | null,
): Promise<Redrive> {
  const taskId = id.includes('@') ? id.slice(0, id.lastIndexOf('@')) : id;
  const shard = shardOf(goalIdOfTaskId(taskId), coordinator.shards);
  const dlq = coordinator.queue(DLQ_QUEUE, shard);
  const letterJob =
    (await Job.fromId<DeadLetter>(dlq, id)) ??
    (await listDeadLetters(coordinator).then((all) => {
      const found = all.find((l) => l.taskId === taskId);
      return found ? Job.fromId<DeadLetter>(dlq, found.id) : undefined;
    }));
  if (!letterJob) throw new NotFoundError('job', id);
  const letter = letterJob.data;
  const taskJob = await Job.fromId<TaskJobData>(
    coordinator.queue(letter.type, letter.shard),
    taskId,
  );
  if (!taskJob) throw new NotFoundError('task', taskId);
  const state = await taskJob.getState();
  if (state !== 'failed') {
    throw new ConflictError(`task ${taskId} is ${state}, not failed: it cannot be redriven`);
  }
  const epoch = taskJob.data.epoch + 1;
  await taskJob.log(`[agentq] redriven from the dead-letter queue by ${actor ?? 'unknown'}`);
  await taskJob.updateData({ ...taskJob.data, epoch });
  await taskJob.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  await letterJob.remove();
  return { id: letter.id, taskId, epoch };
}

/** Redrives every dead letter; one that cannot be redriven is reported, the rest still run. */
export async function retryAllDeadLetters(
  coordinator: RedisCoordinator,
  actor: string | null,
): Promise<{ redriven: Redrive[]; refused: Array<{ id: string; error: string }> }> {
  const redriven: Redrive[] = [];
  const refused: Array<{ id: string; error: string }> = [];
  for (const letter of await listDeadLetters(coordinator)) {
    try {
      redriven.push(await retryDeadLetter(coordinator, letter.id, actor));
    } catch (error) {
      refused.push({ id: letter.id, error: (error as Error).message });
    }
  }
  return { redriven, refused };
}
