/** `GET /api/tasks/:id`: one task, or 404. */
import { NotFoundError } from '../../errors';
import type { RouteHandler } from './route-handler';

export const getTask: RouteHandler = async (deps, req, res) => {
  const id = String(req.params.id);
  const task = await deps.store.getTask(id);
  if (!task) throw new NotFoundError('task', id);
  res.json({ task });
};
