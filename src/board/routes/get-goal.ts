/**
 * `GET /api/goals/:id`: the goal and one page of its tasks. A goal may hold 100,000 tasks (one
 * read of all of them was hundreds of MB in one answer); `next` is the offset of the next page,
 * null after the last. `budget`: its budget and use, live (null when it has neither).
 * `revisions`: a replanning goal's repairs (queues/revisions.ts), [] for any other.
 */
import { z } from 'zod';
import { NotFoundError } from '../../errors';
import { goalBudgetView } from '../../interface/goal-budgets';
import { revisionsOf } from '../../queues/revisions';
import type { RouteHandler } from './route-handler';
import { parseInput } from './validate';

export const GOAL_TASKS_PAGE = 1000;
export const GOAL_TASKS_MAX_PAGE = 10_000;
const goalTasksQuery = z.object({
  limit: z.coerce.number().int().min(1).max(GOAL_TASKS_MAX_PAGE).default(GOAL_TASKS_PAGE),
  offset: z.coerce.number().int().min(0).default(0),
});

export const getGoal: RouteHandler = async (deps, req, res) => {
  const { limit, offset } = parseInput(goalTasksQuery, req.query, 'query');
  const goal = await deps.store.getGoal(String(req.params.id));
  if (!goal) throw new NotFoundError('goal', String(req.params.id));
  // One more than asked says whether another page follows.
  const page = await deps.store.findTasks({ goalId: goal.id, limit: limit + 1, offset });
  const tasks = page.slice(0, limit);
  const next = page.length > limit ? offset + limit : null;
  const budget = await goalBudgetView(deps.coordinator, goal);
  // Only a replanning goal has revisions; they are read from all of its tasks, not the page.
  const revisions =
    goal.plan.onFailure === 'replan'
      ? revisionsOf(await deps.store.findTasks({ goalId: goal.id, limit: goal.taskCount }))
      : [];
  res.json({ goal, tasks, budget, revisions, limit, offset, next });
};
