/**
 * `ctx.dependencies` for a task job: every dependency's result by key, whether it arrived through
 * a tree link (a child task job) or a link (see links.ts): both leave it in the job's processed
 * children, or among its ignored child failures for an optional dependency that failed, which
 * appears as `{ error: { message } }`. `resolved` holds what `agentq recover` found settled.
 */
import type { Json } from '../entities/task-model';
import { taskKeyOfJobId, type GateResultEnvelope, type TaskResultEnvelope } from './protocol';
import type { TaskJobData } from './task-job';

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
      // A spawning dependency brings what it spawned, each under its own key.
      if ('spawned' in value && value.spawned) Object.assign(dependencies, value.spawned);
    }
  }
  for (const [childKey, reason] of Object.entries(ignored)) {
    dependencies[taskKeyOfJobId(childKey)] = { error: { message: reason } };
  }
  return dependencies;
}
