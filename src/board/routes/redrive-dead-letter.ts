/** `POST /api/dlq/:id/retry`: redrives one dead letter (`<taskId>@<epoch>` or a task id). */
import { redriveDeadLetter as redrive } from '../../interface/operations/redrive-dead-letter';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';

export const redriveDeadLetter: RouteHandler = async (deps, req, res) => {
  res
    .status(202)
    .json({ redrive: await redrive(deps, { id: String(req.params.id) }, actorOf(res)) });
};
