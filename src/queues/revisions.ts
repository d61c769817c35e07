/**
 * A goal's revisions (repair.ts), read back from its tasks: every task a repair patch added
 * carries `data.repair` (revision, the failed task, its error, who wrote the patch, and on the
 * replacement the key it replaces). `goal show --json`, the REST API and the goal page list them.
 */
import type { TaskRecord } from '../entities/task-model';
import type { RepairNote } from './repair';

export interface GoalRevision {
  revision: number;
  /** The task that failed for good, and why. */
  cause: { task: string; error: string };
  /** Keys of the tasks the patch added; `replacement` among them replaces `cause.task`. */
  added: string[];
  replacement: string | null;
  /** Not-started tasks the patch cancelled, with their dependents (the template cancels none). */
  cancelled: string[];
  /** Who wrote the patch: `repair:template`, `repair:llm`. */
  actor: string;
  at: Date;
}

function noteOf(task: TaskRecord): RepairNote | null {
  const note = (task.data as { repair?: unknown }).repair;
  if (typeof note !== 'object' || note === null) return null;
  const n = note as Partial<RepairNote>;
  return typeof n.revision === 'number' && typeof n.of === 'string' ? (n as RepairNote) : null;
}

/** The revisions in order of their numbers. */
export function revisionsOf(tasks: readonly TaskRecord[]): GoalRevision[] {
  const byNumber = new Map<number, GoalRevision>();
  for (const task of tasks) {
    const note = noteOf(task);
    if (!note) continue;
    let revision = byNumber.get(note.revision);
    if (!revision) {
      revision = {
        revision: note.revision,
        cause: { task: note.of, error: note.error },
        added: [],
        replacement: null,
        cancelled: [],
        actor: note.by,
        at: task.createdAt,
      };
      byNumber.set(note.revision, revision);
    }
    revision.added.push(task.key);
    if (note.replaces) revision.replacement = task.key;
    if (note.cancelled) revision.cancelled = [...note.cancelled];
    if (task.createdAt < revision.at) revision.at = task.createdAt;
  }
  return [...byNumber.values()].sort((a, b) => a.revision - b.revision);
}
