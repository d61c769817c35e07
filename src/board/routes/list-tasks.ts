/** `GET /api/tasks`: filters goalId, state (one or a comma list), type, limit, offset. */
import { z } from 'zod';
import { TASK_STATES, type TaskState } from '../../entities/task-state';
import type { RouteHandler } from './route-handler';
import { parseInput } from './validate';

const stateList = z
  .string()
  .transform((raw) => raw.split(',').map((s) => s.trim().toUpperCase()))
  .pipe(z.array(z.enum(TASK_STATES, { error: `must be one of ${TASK_STATES.join(', ')}` })));

export const taskQuerySchema = z.object({
  goalId: z.string().min(1).max(200).optional(),
  state: stateList.optional(),
  type: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export const listTasks: RouteHandler = async (deps, req, res) => {
  const query = parseInput(taskQuerySchema, req.query, 'query');
  const tasks = await deps.store.findTasks({
    ...(query.goalId ? { goalId: query.goalId } : {}),
    ...(query.state ? { state: query.state as TaskState[] } : {}),
    ...(query.type ? { type: query.type } : {}),
    limit: query.limit,
    offset: query.offset,
  });
  res.json({ tasks, limit: query.limit, offset: query.offset });
};
