/** `GET /api/limits`: every capability limit, with what runs under it now. */
import { viewCapabilityLimits } from '../../queues/limits-view';
import type { RouteHandler } from './route-handler';

export const listLimits: RouteHandler = async (deps, _req, res) => {
  res.json({ limits: await viewCapabilityLimits(deps.coordinator) });
};
