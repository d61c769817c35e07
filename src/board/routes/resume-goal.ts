/** `POST /api/goals/:id/resume`: a paused goal's held tasks go back to their queues (resumeGoal). */
import { resumeGoal as resumeGoalOperation } from '../../interface/operations/resume-goal';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';

export const resumeGoal: RouteHandler = async (deps, req, res) => {
  res.json(await resumeGoalOperation(deps, { goalId: String(req.params.id) }, actorOf(res)));
};
