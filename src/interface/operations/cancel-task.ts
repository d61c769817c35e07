/** Cancels a task and its dependents; the goal ends CANCELLED once the rest has finished. */
import { isTerminal } from '../../entities/task-state';
import { ConflictError, NotFoundError } from '../../errors';
import { cancelTasks } from '../../queues/cancellation';
import type { Actor, OperationDeps } from './deps';

export interface CancelTaskInput {
  taskId: string;
}

export interface CancelTaskOutcome {
  taskId: string;
  /** Tasks ended or signalled: the task and its unfinished dependents. */
  cancelled: number;
}

/** Unknown id: NotFoundError. A task that already ended: ConflictError. */
export async function cancelTask(
  deps: OperationDeps,
  input: CancelTaskInput,
  actor: Actor,
): Promise<CancelTaskOutcome> {
  const task = await deps.store.getTask(input.taskId);
  if (!task) throw new NotFoundError('task', input.taskId);
  if (isTerminal(task.state)) {
    throw new ConflictError(
      `task ${task.id} is ${task.state}: only an unfinished task can be cancelled`,
    );
  }
  const cancelled = await cancelTasks(deps.coordinator, [task.id], actor);
  return { taskId: task.id, cancelled };
}
