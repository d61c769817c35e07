/**
 * Goal reads: `GET /api/goals` (recent goals), `GET /api/goals/:id` (the goal and its tasks) and
 * `GET /api/goals/:id/graph.svg` (the DAG as a picture, nodes coloured by state).
 */
import { Router } from 'express';
import { z } from 'zod';
import { GOAL_STATES } from '../../entities/task-model';
import { MAX_GRAPH_TASKS, renderGoalSvg, renderTooLargeSvg } from '../graph-svg';
import { type ApiContext, summarizeGoal } from './context';
import { loadGoal } from './goal-tasks';
import { parseInput } from './validate';

const goalListQuery = z.object({
  state: z.enum(GOAL_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
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
    res.json(await loadGoal(ctx.store, req.params.id));
  });

  router.get('/api/goals/:id/graph.svg', async (req, res) => {
    const { tasks } = await loadGoal(ctx.store, req.params.id);
    const svg =
      tasks.length > MAX_GRAPH_TASKS ? renderTooLargeSvg(tasks.length) : renderGoalSvg(tasks);
    res.type('image/svg+xml').send(svg);
  });

  return router;
}
