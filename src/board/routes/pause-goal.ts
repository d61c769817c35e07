/** `POST /api/goals/:id/pause`: no task of the goal starts until it is resumed (pauseGoal). */
import { pauseGoal as pauseGoalOperation } from '../../interface/operations/pause-goal';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';

export const pauseGoal: RouteHandler = async (deps, req, res) => {
  res.json(await pauseGoalOperation(deps, { goalId: String(req.params.id) }, actorOf(res)));
};
