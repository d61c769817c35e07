/**
 * Runs an ended task again. The rule, the same for REST, CLI and library:
 * - a task of a FAILED goal that is FAILED or CANCELLED (the goal's failure cancelled it, or it
 *   failed itself): the goal is re-opened (queues/reopen-goal.ts): every task of it that is not
 *   DONE runs again in a new epoch, what is DONE hands its result on;
 * - otherwise a FAILED task is redriven from its dead letter, attempts reset; one that failed
 *   because a dependency did (no dead letter of its own) is a ConflictError naming the dependency;
 * - a CANCELLED task of a goal that did not fail: ConflictError (it was never dead-lettered);
 * - a task that has not ended, or is DONE: ConflictError.
 */
import type { TaskRecord } from '../../entities/task-model';
import { ConflictError, NotFoundError } from '../../errors';
import { deadLetterId, retryDeadLetter, type Redrive } from '../../processors/dead-letters';
import { reopenGoal, type ReopenedGoal } from '../../queues/reopen-goal';
import type { Actor, OperationDeps } from './deps';

export interface RetryTaskInput {
  taskId: string;
}

/** How the task runs again: its own dead letter redriven, or its whole goal re-opened. */
export type RetryOutcome = { redrive: Redrive } | { reopened: ReopenedGoal };

export async function retryTask(
  deps: OperationDeps,
  input: RetryTaskInput,
  actor: Actor,
): Promise<RetryOutcome> {
  const task = await deps.store.getTask(input.taskId);
  if (!task) throw new NotFoundError('task', input.taskId);
  if (task.state !== 'FAILED' && task.state !== 'CANCELLED') {
    throw new ConflictError(`task ${task.id} is ${task.state}: only a FAILED task can be retried`);
  }
  const goal = await deps.store.getGoal(task.goalId);
  if (goal?.state === 'FAILED') {
    return { reopened: await reopenGoal(deps.store, deps.coordinator, goal.id, actor) };
  }
  if (task.state === 'CANCELLED') {
    throw new ConflictError(
      `task ${task.id} is CANCELLED: only a FAILED task can be retried (a cancelled task is not dead-lettered)`,
    );
  }
  try {
    return {
      redrive: await retryDeadLetter(deps.coordinator, deadLetterId(task.id, task.epoch), actor),
    };
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    throw new ConflictError(`task ${task.id} has no dead letter to redrive${causeOf(task)}`);
  }
}

function causeOf(task: TaskRecord): string {
  return task.error?.dependency ? ` (dependency ${task.error.dependency} failed: retry it)` : '';
}
