/**
 * Tasks a handler spawned (spawn.ts) reach SQL through the mirror: their write put an `added`
 * entry on the shard's goal-roots events stream ahead of the new jobs — a stream the mirror reads
 * from its start, with every other stream it knows, merged by time — and the mirror makes their
 * rows from it before it applies anything those tasks did (the merge ranks the entry first), and
 * before the goal's end, which comes later in that same stream.
 */
import { ConflictError, NotFoundError } from '../errors';
import type { ResolvedTaskSpec, TaskEventRecord } from '../entities/task-model';
import type { NewTask, TaskStore } from '../entities/task-store';
import { AGENTQ_STREAM_EVENT } from '../queues/protocol';
import { ADDED_STREAM_KIND } from '../queues/spawn';
import { taskJobId } from '../queues/task-job';
import type { StreamEntry } from './mirror-events';

export interface AddedTasks {
  goalId: string;
  /** The spawning task's id. */
  spawnedBy: string;
  actor: string;
  tasks: NewTask[];
  /** The queues whose streams say what came before and after (the spawner's and the tasks'). */
  queues: string[];
}

/** The tasks an `added` entry announces; null for any other entry. */
export function addedTasksOf(entry: StreamEntry): AddedTasks | null {
  const f = entry.fields;
  if (f.event !== AGENTQ_STREAM_EVENT || f.kind !== ADDED_STREAM_KIND) return null;
  if (!f.goalId || !f.taskId || !f.tasks) return null;
  const specs = JSON.parse(f.tasks) as ResolvedTaskSpec[];
  return {
    goalId: f.goalId,
    spawnedBy: f.taskId,
    actor: f.actor || f.taskId,
    queues: [...new Set([...(f.spawnerType ? [f.spawnerType] : []), ...specs.map((t) => t.type)])],
    // BACKLOG until BullMQ releases it (its release is recorded as the move to PENDING).
    tasks: specs.map((t) => ({
      ...t,
      id: taskJobId(f.goalId!, t.key),
      state: t.dependsOn.length > 0 ? 'BACKLOG' : 'PENDING',
    })),
  };
}

/**
 * Writes the rows with their `new` events (a replay after a crash adds none) and returns the
 * events. A goal SQL does not hold open any more is said, not thrown: the mirror goes on.
 */
export async function recordAddedTasks(
  store: TaskStore,
  added: readonly AddedTasks[],
  log: (line: string) => void,
): Promise<TaskEventRecord[]> {
  const events: TaskEventRecord[] = [];
  for (const a of added) {
    try {
      const result = await store.addTasks(a.goalId, a.tasks, a.actor, { spawnedBy: a.spawnedBy });
      events.push(...result.events);
    } catch (error) {
      if (!(error instanceof NotFoundError || error instanceof ConflictError)) throw error;
      log(`mirror: the tasks ${a.spawnedBy} spawned were not recorded: ${error.message}`);
    }
  }
  return events;
}
