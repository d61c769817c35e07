/**
 * The `_approvals` worker of one shard (see approvals.ts): parks approval tasks, ends decided
 * ones, then releases the ended task's links and lets its approval hash expire.
 */
import { Worker, type WorkerOptions } from 'bullmq';
import { createApprovalProcessor, forgetApproval } from './approvals';
import { releaseLinksOfCompleted, releaseLinksOfFailed } from './links';
import { APPROVALS_QUEUE } from './names';
import type { TaskResultEnvelope } from './protocol';
import type { RedisCoordinator } from './redis-coordinator';
import type { TaskJobData } from './task-job';

export function startApprovalWorker(
  c: RedisCoordinator,
  shard: number,
  options: Pick<WorkerOptions, 'connection' | 'prefix' | 'telemetry'>,
): Worker<TaskJobData, TaskResultEnvelope> {
  const worker = new Worker<TaskJobData, TaskResultEnvelope>(
    APPROVALS_QUEUE,
    createApprovalProcessor(c, shard),
    { ...options, concurrency: 20, name: 'approvals' },
  );
  const report = (error: unknown) => worker.emit('error', error as Error);
  worker.on('completed', (job) => {
    void (async () => {
      await releaseLinksOfCompleted(c, job.data);
      await forgetApproval(c, shard, job.data.taskId);
    })().catch(report);
  });
  worker.on('failed', (job, error) => {
    if (!job || typeof job.finishedOn !== 'number') return;
    void (async () => {
      await releaseLinksOfFailed(c, job.data, error.message);
      await forgetApproval(c, shard, job.data.taskId);
    })().catch(report);
  });
  return worker;
}
