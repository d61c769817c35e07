/** `GET /api/goals`: recent goals (without their plans), filter by state. */
import { z } from 'zod';
import { GOAL_STATES } from '../../entities/task-model';
import { summarizeGoal } from './context';
import type { RouteHandler } from './route-handler';
import { parseInput } from './validate';

const goalListQuery = z.object({
  state: z.enum(GOAL_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const listGoals: RouteHandler = async (deps, req, res) => {
  const query = parseInput(goalListQuery, req.query, 'query');
  const goals = await deps.store.listGoals({
    ...(query.state ? { state: query.state } : {}),
    limit: query.limit,
    offset: query.offset,
  });
  res.json({ goals: goals.map(summarizeGoal) });
};
