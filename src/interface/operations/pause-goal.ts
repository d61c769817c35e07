/**
 * Pauses a goal by hand: no task of it starts until it is resumed (tasks running now finish and
 * their use counts). Recorded in the audit log (`paused`) and published on `goals:budget`.
 */
import { isGoalOpen } from '../../entities/task-model';
import { ConflictError, NotFoundError } from '../../errors';
import { setGoalRunState, syncGoalBudgets } from '../../queues/goal-budget';
import type { Actor, OperationDeps } from './deps';

export interface PauseGoalInput {
  goalId: string;
}

/** Unknown id: NotFoundError. An ended or already paused goal: ConflictError. */
export async function pauseGoal(
  deps: OperationDeps,
  input: PauseGoalInput,
  actor: Actor,
): Promise<{ goalId: string; state: 'PAUSED' }> {
  const goal = await deps.store.getGoal(input.goalId);
  if (!goal) throw new NotFoundError('goal', input.goalId);
  if (!isGoalOpen(goal.state)) {
    throw new ConflictError(`goal ${goal.id} has already ended (${goal.state})`);
  }
  if (!(await setGoalRunState(deps.coordinator, goal.id, 'PAUSED', actor))) {
    throw new ConflictError(`goal ${goal.id} is paused already`);
  }
  await syncGoalBudgets(deps.store, deps.coordinator);
  return { goalId: goal.id, state: 'PAUSED' };
}
