/**
 * `POST /api/goals/:id/tasks` `{ tasks: [...] }`: plan-shaped tasks added to a running goal
 * (extendGoal). 201 with `{ goalId, tasks, created }`; `created` lists the ids this call added.
 */
import { InputError } from '../../errors';
import { extendGoal as extendGoalOperation } from '../../interface/operations/extend-goal';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';
import { submittingDeps } from './supervisor-of';

export const extendGoal: RouteHandler = async (deps, req, res) => {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || !('tasks' in body)) {
    throw new InputError('give { "tasks": [...] }', 'tasks');
  }
  const extended = await extendGoalOperation(
    submittingDeps(deps),
    { goalId: String(req.params.id), tasks: body.tasks },
    actorOf(res),
  );
  res.status(201).json({
    goalId: extended.goalId,
    tasks: extended.tasks,
    created: extended.created,
  });
};
