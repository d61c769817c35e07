/**
 * One goal's progress for the home page: done / total and, when it cannot move on its own, why
 * (a PAUSED goal, or a PENDING task no live agent can take). The wait reasons come from
 * `diagnoseTask`, the same logic `task show` uses, so the page and the CLI agree.
 */
import type { AgentInfo, GoalRecord, TaskRecord } from '../../entities/task-model';
import { describeStuckReason, diagnoseTask } from '../../interface/interface-diagnosis';

export interface GoalProgress {
  done: number;
  total: number;
  /** Why the goal is stuck, in one sentence per cause; empty when it is not. */
  stuck: string[];
}

export function goalProgress(
  goal: Pick<GoalRecord, 'state'>,
  tasks: readonly TaskRecord[],
  agents: readonly AgentInfo[],
): GoalProgress {
  const stuck = new Set<string>();
  if (goal.state === 'PAUSED') stuck.add('goal is paused');
  let done = 0;
  for (const task of tasks) {
    if (task.state === 'DONE') done++;
    // Only PENDING tasks: a BACKLOG task waits on its dependencies, which is progress, not stuck.
    if (task.state !== 'PENDING') continue;
    const reason = diagnoseTask(task, { agents, pausedQueues: new Set() });
    if (reason) stuck.add(describeStuckReason(reason));
  }
  return { done, total: tasks.length, stuck: [...stuck] };
}
