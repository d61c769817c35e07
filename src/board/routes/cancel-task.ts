/** `POST /api/tasks/:id/cancel`: the task and its dependents (the cancelTask operation). */
import { cancelTask as cancelTaskOperation } from '../../interface/operations/cancel-task';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';

export const cancelTask: RouteHandler = async (deps, req, res) => {
  const outcome = await cancelTaskOperation(deps, { taskId: String(req.params.id) }, actorOf(res));
  res.status(202).json(outcome);
};
