/**
 * Goal reads: `GET /api/goals` (recent goals), `GET /api/goals/:id` (the goal and one page of its
 * tasks) and `GET /api/goals/:id/graph.svg` (the DAG as a picture, nodes coloured by state).
 */
import { Router } from 'express';
import { z } from 'zod';
import { GOAL_STATES } from '../../entities/task-model';
import { NotFoundError } from '../../errors';
import { MAX_GRAPH_TASKS, renderGoalSvg, renderTooLargeSvg } from '../graph-svg';
import { type ApiContext, summarizeGoal } from './context';
import { loadGoal } from './goal-tasks';
import { parseInput } from './validate';

const goalListQuery = z.object({
  state: z.enum(GOAL_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/**
 * A goal's tasks come a page at a time: a goal may hold 100,000 tasks (one read of all of them
 * was hundreds of MB in one answer). `next` is the offset of the next page, null after the last.
 */
export const GOAL_TASKS_PAGE = 1000;
export const GOAL_TASKS_MAX_PAGE = 10_000;
const goalTasksQuery = z.object({
  limit: z.coerce.number().int().min(1).max(GOAL_TASKS_MAX_PAGE).default(GOAL_TASKS_PAGE),
  offset: z.coerce.number().int().min(0).default(0),
});

export function goalsRouter(ctx: ApiContext): Router {
  const router = Router();

  router.get('/api/goals', async (req, res) => {
    const query = parseInput(goalListQuery, req.query, 'query');
    const goals = await ctx.store.listGoals({
      ...(query.state ? { state: query.state } : {}),
      limit: query.limit,
      offset: query.offset,
    });
    res.json({ goals: goals.map(summarizeGoal) });
  });

  router.get('/api/goals/:id', async (req, res) => {
    const { limit, offset } = parseInput(goalTasksQuery, req.query, 'query');
    const goal = await ctx.store.getGoal(req.params.id);
    if (!goal) throw new NotFoundError('goal', req.params.id);
    // One more than asked says whether another page follows.
    const page = await ctx.store.findTasks({ goalId: goal.id, limit: limit + 1, offset });
    const tasks = page.slice(0, limit);
    const next = page.length > limit ? offset + limit : null;
    res.json({ goal, tasks, limit, offset, next });
  });

  router.get('/api/goals/:id/graph.svg', async (req, res) => {
    const { tasks } = await loadGoal(ctx.store, req.params.id);
    const svg =
      tasks.length > MAX_GRAPH_TASKS ? renderTooLargeSvg(tasks.length) : renderGoalSvg(tasks);
    res.type('image/svg+xml').send(svg);
  });

  return router;
}
