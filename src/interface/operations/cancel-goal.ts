/** Cancels every unfinished task of a goal (a PAUSED one too); the goal ends CANCELLED. */
import { isGoalOpen } from '../../entities/task-model';
import { ConflictError, NotFoundError } from '../../errors';
import { cancelGoal as cancelGoalFlow } from '../../queues/cancellation';
import type { Actor, OperationDeps } from './deps';

export interface CancelGoalInput {
  goalId: string;
}

/** Unknown id: NotFoundError. A goal that already ended: ConflictError. */
export async function cancelGoal(
  deps: OperationDeps,
  input: CancelGoalInput,
  actor: Actor,
): Promise<{ goalId: string; cancelling: true }> {
  const goal = await deps.store.getGoal(input.goalId);
  if (!goal) throw new NotFoundError('goal', input.goalId);
  if (!isGoalOpen(goal.state)) {
    throw new ConflictError(`goal ${goal.id} has already ended (${goal.state})`);
  }
  await cancelGoalFlow(deps.coordinator, goal.id, actor);
  return { goalId: goal.id, cancelling: true };
}
