/** Task jobs for agent tests, built with the protocol types (standalone tasks, no flow). */
import { randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import type { Json } from '../../src/entities/task-model';
import { bullPriority, type TaskResultEnvelope } from '../../src/queues/protocol';
import type { RedisCoordinator } from '../../src/queues/redis-coordinator';
import type { TaskJobData } from '../../src/queues/task-job';

export interface TestTask {
  type: string;
  key?: string;
  title?: string;
  data?: { [key: string]: Json };
  attempts?: number;
  timeoutMs?: number;
  priority?: number;
  concurrencyKey?: string;
  /** The shard whose queue gets the job. @defaultValue 0 */
  shard?: number;
}

export async function addTask(
  coordinator: RedisCoordinator,
  task: TestTask,
): Promise<Job<TaskJobData, TaskResultEnvelope>> {
  const goalId = `g-${randomBytes(8).toString('hex')}`;
  const key = task.key ?? 'task';
  const taskId = `${goalId}.${key}`;
  const data: TaskJobData = {
    v: 1,
    kind: 'task',
    taskId,
    goalId,
    key,
    title: task.title ?? key,
    description: '',
    type: task.type,
    priority: task.priority ?? 5,
    data: task.data ?? {},
    dependsOn: [],
    timeoutMs: task.timeoutMs ?? 60000,
    optional: false,
    ...(task.concurrencyKey ? { concurrencyKey: task.concurrencyKey } : {}),
    epoch: 0,
    shard: task.shard ?? 0,
  };
  return coordinator.queue(task.type, task.shard ?? 0).add(task.type, data, {
    jobId: taskId,
    attempts: task.attempts ?? 1,
    backoff: { type: 'fixed', delay: 50 },
    priority: bullPriority(data.priority),
    removeOnComplete: false,
    removeOnFail: false,
  }) as Promise<Job<TaskJobData, TaskResultEnvelope>>;
}
