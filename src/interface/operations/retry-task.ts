/**
 * Runs a FAILED task again through its dead letter, attempts reset. The rule, the same for REST,
 * CLI and library:
 * - a task that is not FAILED or CANCELLED: ConflictError (it has not ended, or it is DONE);
 * - a CANCELLED task: ConflictError; it was never dead-lettered, so nothing can re-run it;
 * - a FAILED task that failed because a dependency did (it never ran out of attempts itself):
 *   ConflictError naming the dependency to retry instead.
 */
import type { TaskRecord } from '../../entities/task-model';
import { ConflictError, NotFoundError } from '../../errors';
import { deadLetterId, retryDeadLetter, type Redrive } from '../../processors/dead-letters';
import type { Actor, OperationDeps } from './deps';

export interface RetryTaskInput {
  taskId: string;
}

export async function retryTask(
  deps: OperationDeps,
  input: RetryTaskInput,
  actor: Actor,
): Promise<Redrive> {
  const task = await deps.store.getTask(input.taskId);
  if (!task) throw new NotFoundError('task', input.taskId);
  if (task.state === 'CANCELLED') {
    throw new ConflictError(
      `task ${task.id} is CANCELLED: only a FAILED task can be retried (a cancelled task is not dead-lettered)`,
    );
  }
  if (task.state !== 'FAILED') {
    throw new ConflictError(`task ${task.id} is ${task.state}: only a FAILED task can be retried`);
  }
  try {
    return await retryDeadLetter(deps.coordinator, deadLetterId(task.id, task.epoch), actor);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    throw new ConflictError(`task ${task.id} has no dead letter to redrive${causeOf(task)}`);
  }
}

function causeOf(task: TaskRecord): string {
  return task.error?.dependency ? ` (dependency ${task.error.dependency} failed: retry it)` : '';
}
