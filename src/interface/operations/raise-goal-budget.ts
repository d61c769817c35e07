/**
 * Sets a goal's budget (`{ tokens?, costUsd?, wallMs? }`; the fields not given stay): a goal its
 * budget paused resumes once it is under the new one (a goal paused by hand stays paused). A value below what the goal used already is
 * bad input (nothing changes). Recorded in the audit log (`budget_set`).
 */
import { isGoalOpen, type GoalBudget } from '../../entities/task-model';
import { ConflictError, InputError, NotFoundError } from '../../errors';
import { parseBudget } from '../../queues/goal-budget-schema';
import { releaseHeldRuns, setGoalBudget, syncGoalBudgets } from '../../queues/goal-budget';
import type { Actor, OperationDeps } from './deps';

export interface RaiseGoalBudgetInput {
  goalId: string;
  /** Checked here: `{ tokens?, costUsd?, wallMs? }`, each more than 0. */
  budget: unknown;
}

/**
 * Unknown id: NotFoundError. An ended goal: ConflictError. A bad or too small value: InputError
 * naming the field (`tokens`), and nothing changed.
 */
export async function raiseGoalBudget(
  deps: OperationDeps,
  input: RaiseGoalBudgetInput,
  actor: Actor,
): Promise<{ goalId: string; budget: GoalBudget | null; state: 'ACTIVE' | 'PAUSED' }> {
  const budget = parseBudget(input.budget, '');
  const goal = await deps.store.getGoal(input.goalId);
  if (!goal) throw new NotFoundError('goal', input.goalId);
  if (!isGoalOpen(goal.state)) {
    throw new ConflictError(`goal ${goal.id} has already ended (${goal.state})`);
  }
  const outcome = await setGoalBudget(deps.coordinator, goal.id, budget, actor);
  if (!outcome.ok) {
    throw new InputError(
      `${budget[outcome.field]} is below what the goal used already (${outcome.used})`,
      outcome.field,
      'budget_below_usage',
    );
  }
  if (outcome.state === 'ACTIVE') await releaseHeldRuns(deps.coordinator, goal.id);
  await syncGoalBudgets(deps.store, deps.coordinator);
  const updated = await deps.store.getGoal(goal.id);
  return { goalId: goal.id, budget: updated?.budget ?? null, state: outcome.state };
}
