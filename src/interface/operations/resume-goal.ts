/**
 * Resumes a paused goal by hand: its held tasks go back to their queues. A goal its budget paused
 * runs on past that budget until it is paused again (raising the budget resumes it too, and keeps
 * it within the new one). Recorded in the audit log (`resumed`) and published on `goals:budget`.
 */
import { isGoalOpen } from '../../entities/task-model';
import { ConflictError, NotFoundError } from '../../errors';
import { releaseHeldRuns, setGoalRunState, syncGoalBudgets } from '../../queues/goal-budget';
import type { Actor, OperationDeps } from './deps';

export interface ResumeGoalInput {
  goalId: string;
}

/** Unknown id: NotFoundError. An ended goal, or one that is not paused: ConflictError. */
export async function resumeGoal(
  deps: OperationDeps,
  input: ResumeGoalInput,
  actor: Actor,
): Promise<{ goalId: string; state: 'ACTIVE'; released: number }> {
  const goal = await deps.store.getGoal(input.goalId);
  if (!goal) throw new NotFoundError('goal', input.goalId);
  if (!isGoalOpen(goal.state)) {
    throw new ConflictError(`goal ${goal.id} has already ended (${goal.state})`);
  }
  if (!(await setGoalRunState(deps.coordinator, goal.id, 'ACTIVE', actor))) {
    throw new ConflictError(`goal ${goal.id} is not paused`);
  }
  const released = await releaseHeldRuns(deps.coordinator, goal.id);
  await syncGoalBudgets(deps.store, deps.coordinator);
  return { goalId: goal.id, state: 'ACTIVE', released };
}
