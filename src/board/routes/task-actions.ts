/**
 * Task mutations: `POST /api/tasks/:id/cancel` (the task and its dependents, through the
 * supervisor's cancellation) and `POST /api/tasks/:id/retry` (a FAILED task's dead-letter
 * redrive). The caller is the audit actor; a task that already ended (or is not failed) is 409.
 */
import { Router } from 'express';
import { isTerminal } from '../../entities/task-state';
import { ConflictError, NotFoundError } from '../../errors';
import { retryDeadLetter } from '../../processors/dead-letters';
import { cancelTasks } from '../../queues/cancellation';
import { actorOf } from '../auth';
import type { ApiContext } from './context';

export function taskActionsRouter(ctx: ApiContext): Router {
  const router = Router();

  async function requireTask(id: string) {
    const task = await ctx.store.getTask(id);
    if (!task) throw new NotFoundError('task', id);
    return task;
  }

  router.post('/api/tasks/:id/cancel', async (req, res) => {
    const task = await requireTask(req.params.id);
    if (isTerminal(task.state)) {
      throw new ConflictError(
        `task ${task.id} is ${task.state}: only an unfinished task can be cancelled`,
      );
    }
    const cancelled = await cancelTasks(ctx.coordinator, [task.id], actorOf(res));
    res.status(202).json({ taskId: task.id, cancelled });
  });

  router.post('/api/tasks/:id/retry', async (req, res) => {
    const task = await requireTask(req.params.id);
    if (task.state !== 'FAILED') {
      throw new ConflictError(
        `task ${task.id} is ${task.state}: only a FAILED task can be retried (a cancelled task is not dead-lettered)`,
      );
    }
    try {
      const redrive = await retryDeadLetter(ctx.coordinator, task.id, actorOf(res));
      res.status(202).json({ redrive });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      const cause = task.error?.dependency
        ? ` (dependency ${task.error.dependency} failed: retry it)`
        : '';
      throw new ConflictError(`task ${task.id} has no dead letter to redrive${cause}`);
    }
  });

  return router;
}
