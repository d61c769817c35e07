/**
 * What the goal picture marks on its nodes besides the state: the repairs (a task that failed for
 * good and the task that replaces it, from the goal's revisions) and why a waiting task is not
 * claimed (`diagnoseTask`, as the table's "Waiting because" column). The page computes them with
 * the rows; `graph.svg` draws the repairs only (it has no agents to diagnose against).
 */
import type { AgentInfo, TaskRecord } from '../entities/task-model';
import type { StuckReason } from '../interface/interface-diagnosis';
import { diagnoseTask } from '../interface/interface-diagnosis';
import type { GoalRevision } from '../queues/revisions';

export interface GraphMarks {
  /** Failed key → the key of the task that replaces it. */
  replacedBy: ReadonlyMap<string, string>;
  /** Replacement key → the failed key it replaces. */
  replaces: ReadonlyMap<string, string>;
  /** Task id → why it is not claimed as things stand (waiting tasks only). */
  waiting: ReadonlyMap<string, StuckReason>;
}

export const NO_MARKS: GraphMarks = {
  replacedBy: new Map(),
  replaces: new Map(),
  waiting: new Map(),
};

/** Who replaced whom, from the revisions (a replacement may be replaced in turn: retry2). */
export function repairLinks(
  revisions: readonly GoalRevision[],
): Pick<GraphMarks, 'replacedBy' | 'replaces'> {
  const replacedBy = new Map<string, string>();
  const replaces = new Map<string, string>();
  for (const r of revisions) {
    if (!r.replacement) continue;
    replacedBy.set(r.cause.task, r.replacement);
    replaces.set(r.replacement, r.cause.task);
  }
  return { replacedBy, replaces };
}

/** Each waiting task's reason, diagnosed against the live agents (no queue is seen as paused). */
export function waitReasons(
  tasks: readonly TaskRecord[],
  agents: readonly AgentInfo[],
): Map<string, StuckReason> {
  const dependencyStates = new Map(tasks.map((t) => [t.key, t.state]));
  const reasons = new Map<string, StuckReason>();
  for (const t of tasks) {
    const reason = diagnoseTask(t, { agents, pausedQueues: new Set(), dependencyStates });
    if (reason) reasons.set(t.id, reason);
  }
  return reasons;
}

/**
 * The few words of a node's badge for a task that cannot move as things stand; null for one that
 * waits on its dependencies (the edges show that; the node's tooltip still says it).
 */
export function waitBadge(reason: StuckReason): string | null {
  switch (reason.kind) {
    case 'no-agent':
      return 'no agent';
    case 'paused':
      return 'queue paused';
    case 'breakers-open':
      return 'breakers open';
    case 'job-lost':
      return 'job lost';
    case 'dependencies':
      return null;
  }
}
