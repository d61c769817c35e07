/**
 * `PUT /api/limits/:capability` `{ concurrency?, rate?: { max, durationMs }, perKey? }`: replaces
 * the capability's limits (the setLimits operation); a bad value is a 400 naming the field.
 */
import { setLimits } from '../../interface/operations/set-limits';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';

export const putLimits: RouteHandler = async (deps, req, res) => {
  const outcome = await setLimits(
    deps,
    { capability: String(req.params.capability), limits: req.body },
    actorOf(res),
  );
  res.json(outcome);
};
