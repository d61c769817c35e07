/**
 * `GET /api/tasks/:id/logs?limit=N`: the last N lines of the task's BullMQ job log (attempt
 * starts, `ctx.log`, redrives), oldest first, and how many the job holds. Empty once Redis no
 * longer holds the job.
 */
import { z } from 'zod';
import { NotFoundError } from '../../errors';
import { shardOf } from '../../queues/protocol';
import type { RouteHandler } from './route-handler';
import { parseInput } from './validate';

const logsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(10000).default(200),
});

export const taskLogs: RouteHandler = async (deps, req, res) => {
  const id = String(req.params.id);
  const query = parseInput(logsQuery, req.query, 'query');
  const task = await deps.store.getTask(id);
  if (!task) throw new NotFoundError('task', id);
  const shard = shardOf(task.goalId, deps.coordinator.shards);
  const queue = deps.coordinator.queue(task.type, shard);
  const { logs, count } = await queue.getJobLogs(task.id, -query.limit, -1, true);
  res.json({ logs, count });
};
