/** `POST /api/goals/:id/cancel`: every unfinished task ends CANCELLED (the cancelGoal operation). */
import { cancelGoal as cancelGoalOperation } from '../../interface/operations/cancel-goal';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';

export const cancelGoal: RouteHandler = async (deps, req, res) => {
  const outcome = await cancelGoalOperation(deps, { goalId: String(req.params.id) }, actorOf(res));
  res.status(202).json(outcome);
};
