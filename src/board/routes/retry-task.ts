/** `POST /api/tasks/:id/retry`: `{ redrive }` or `{ reopened }` (the retryTask operation's rule). */
import { retryTask as retryTaskOperation } from '../../interface/operations/retry-task';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';

export const retryTask: RouteHandler = async (deps, req, res) => {
  const outcome = await retryTaskOperation(deps, { taskId: String(req.params.id) }, actorOf(res));
  res.status(202).json(outcome);
};
