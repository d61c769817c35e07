/** `GET /api/tasks/:id/events?limit=N`: the task's audit events and the attempts read from them. */
import { z } from 'zod';
import { NotFoundError } from '../../errors';
import { taskAttempts } from '../../interface/task-attempts';
import type { RouteHandler } from './route-handler';
import { parseInput } from './validate';

const eventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(10000).default(1000),
});

export const taskEvents: RouteHandler = async (deps, req, res) => {
  const id = String(req.params.id);
  const query = parseInput(eventsQuery, req.query, 'query');
  const task = await deps.store.getTask(id);
  if (!task) throw new NotFoundError('task', id);
  const events = await deps.store.taskEvents(task.goalId, task.id, query.limit);
  res.json({ events, attempts: taskAttempts(events) });
};
