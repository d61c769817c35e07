/**
 * Adding validated tasks to a running goal's flow in Redis (`extendGoal`; a spawn's and a repair
 * patch's tasks take the same path): the capabilities registered, the goal's record extended (the
 * goal worker finalizes from it), then the jobs and links in one MULTI (extension-writer.ts).
 */
import type { ResolvedTaskSpec } from '../entities/task-model';
import { ConflictError } from '../errors';
import type { ParentRef } from './bullmq-internals';
import type { ExistingTask } from './extension-plan';
import {
  appendGoalRecord,
  writeExtension,
  type LinkedSource,
  type StreamAnnouncement,
} from './extension-writer';
import { taskKeyOfJobId } from './protocol';
import { GOALS_QUEUE } from './names';
import type { RedisCoordinator } from './redis-coordinator';

/** The goal's root job: where an extension's tasks hang, so the goal ends after them. */
export function goalRootRef(
  coordinator: RedisCoordinator,
  goalId: string,
  shard: number,
): ParentRef {
  const queue = coordinator.queue(GOALS_QUEUE, shard);
  return { id: goalId, key: queue.toKey(goalId), queueKey: queue.qualifiedName };
}

/** True while the goal's root waits for its tasks (after that the goal is ending or has ended). */
export async function goalRootWaits(
  coordinator: RedisCoordinator,
  goalId: string,
  shard: number,
): Promise<boolean> {
  const queue = coordinator.queue(GOALS_QUEUE, shard);
  return (await coordinator.client.zscore(queue.keys['waiting-children']!, goalId)) !== null;
}

export interface AddToFlowInput {
  goalId: string;
  shard: number;
  tasks: readonly ResolvedTaskSpec[];
  /** The goal's tasks as they are (the dependencies of new tasks among them get linked). */
  existing: ReadonlyMap<string, ExistingTask>;
  parent: { ref: ParentRef; onFailure: 'fail' | 'continue' };
  spawnedBy?: string;
  /** An events-stream entry written in the same MULTI, before the jobs (a spawn's, for the mirror). */
  announce?: StreamAnnouncement;
}

export async function addTasksToFlow(
  coordinator: RedisCoordinator,
  input: AddToFlowInput,
): Promise<void> {
  const sources = new Map<string, LinkedSource>();
  for (const t of input.tasks) {
    for (const d of t.dependsOn) {
      const known = input.existing.get(d);
      if (known) sources.set(d, { key: d, type: known.type, optional: known.optional });
    }
  }
  await coordinator.registerCapabilities([...new Set(input.tasks.map((t) => t.type))]);
  const spawner = input.spawnedBy ? taskKeyOfJobId(input.spawnedBy) : undefined;
  if (!(await appendGoalRecord(coordinator, input.goalId, input.tasks, spawner))) {
    throw new ConflictError(`goal ${input.goalId} has ended: no task can be added to it`);
  }
  await writeExtension(coordinator, {
    goalId: input.goalId,
    shard: input.shard,
    tasks: input.tasks,
    sources,
    parent: input.parent,
    ...(input.spawnedBy ? { spawnedBy: input.spawnedBy } : {}),
    ...(input.announce ? { announce: input.announce } : {}),
  });
}
