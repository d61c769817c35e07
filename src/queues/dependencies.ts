/**
 * `ctx.dependencies` for a task job: every dependency's result by key, whether it arrived through
 * a tree link (a child task job), a gate job that ran (carrying a shared task's result or error)
 * or was read from a completed source job whose gate was removed (`fetchGatedResults`, merged
 * into `data.resolved` by the agent before the attempt).
 * An optional dependency that failed appears as `{ error: { message } }`.
 */
import type { Json } from '../entities/task-model';
import { taskKeyOfJobId, type GateResultEnvelope, type TaskResultEnvelope } from './protocol';
import type { RedisCoordinator } from './redis-coordinator';
import { taskJobId, type TaskJobData } from './task-job';

/** The part of a BullMQ `Job` (or sandboxed job) this needs. */
export interface ParentJobLike {
  data: TaskJobData;
  getChildrenValues(): Promise<Record<string, unknown>>;
  getIgnoredChildrenFailures(): Promise<Record<string, string>>;
}

function isEnvelope(value: unknown): value is TaskResultEnvelope | GateResultEnvelope {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { v?: unknown }).v === 1 &&
    typeof (value as { key?: unknown }).key === 'string'
  );
}

export async function collectDependencies(job: ParentJobLike): Promise<{ [key: string]: Json }> {
  const dependencies: { [key: string]: Json } = { ...job.data.resolved };
  if (job.data.dependsOn.length === 0) return dependencies;
  const [values, ignored] = await Promise.all([
    job.getChildrenValues(),
    job.getIgnoredChildrenFailures(),
  ]);
  for (const value of Object.values(values)) {
    if (!isEnvelope(value)) continue;
    if ('error' in value && value.error !== undefined) {
      dependencies[value.key] = { error: { message: value.error.message } };
    } else {
      dependencies[value.key] = value.result ?? null;
    }
  }
  for (const [childKey, reason] of Object.entries(ignored)) {
    dependencies[taskKeyOfJobId(childKey)] = { error: { message: reason } };
  }
  return dependencies;
}

/**
 * The results of a task's gated dependencies that COMPLETED, read from their own jobs with plain
 * HGETs written back to back (one round trip's wait; not a `pipeline()`: ioredis copies every
 * loaded script — BullMQ loads dozens — onto each new Pipeline, which cost more than the reads).
 * Their gates were removed, not run (see gates.ts). A dependency that did not complete is left
 * out: its gate ran and carries its result or error among the children.
 */
export async function fetchGatedResults(
  coordinator: Pick<RedisCoordinator, 'bullPrefix' | 'client'>,
  data: Pick<TaskJobData, 'goalId' | 'shard' | 'gatedSources'>,
): Promise<{ [key: string]: Json }> {
  const sources = Object.entries(data.gatedSources ?? {});
  if (sources.length === 0) return {};
  const prefix = coordinator.bullPrefix(data.shard);
  const client = coordinator.client;
  const replies = await Promise.all(
    sources.map(([key, type]) =>
      client.hget(`${prefix}:${type}:${taskJobId(data.goalId, key)}`, 'returnvalue').then(
        (raw) => raw,
        () => null,
      ),
    ),
  );
  const results: { [key: string]: Json } = {};
  sources.forEach(([key], i) => {
    const raw = replies[i];
    if (typeof raw !== 'string') return;
    const value = JSON.parse(raw) as unknown;
    if (isEnvelope(value) && !('error' in value && value.error !== undefined)) {
      results[key] = value.result ?? null;
    }
  });
  return results;
}
