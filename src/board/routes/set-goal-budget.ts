/**
 * `POST /api/goals/:id/budget` `{ tokens?, costUsd?, wallMs? }`: sets the goal's budget; a goal
 * its budget paused resumes once under the new one (raiseGoalBudget). Below use: 400.
 */
import { raiseGoalBudget } from '../../interface/operations/raise-goal-budget';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';

export const setGoalBudget: RouteHandler = async (deps, req, res) => {
  const goalId = String(req.params.id);
  res.json(await raiseGoalBudget(deps, { goalId, budget: req.body }, actorOf(res)));
};
