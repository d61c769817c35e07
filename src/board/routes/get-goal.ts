/** `GET /api/goals/:id`: the goal and its tasks. */
import { loadGoal } from './goal-tasks';
import type { RouteHandler } from './route-handler';

export const getGoal: RouteHandler = async (deps, req, res) => {
  res.json(await loadGoal(deps.store, String(req.params.id)));
};
