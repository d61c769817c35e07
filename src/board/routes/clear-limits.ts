/** `DELETE /api/limits/:capability`: removes every limit of the capability (the clearLimits operation). */
import { clearLimits as clearLimitsOperation } from '../../interface/operations/set-limits';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';

export const clearLimits: RouteHandler = async (deps, req, res) => {
  const outcome = await clearLimitsOperation(
    deps,
    { capability: String(req.params.capability) },
    actorOf(res),
  );
  res.json(outcome);
};
