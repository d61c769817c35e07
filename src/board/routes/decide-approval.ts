/**
 * `POST /api/tasks/:id/approve` `{ note?, data? }` and `POST /api/tasks/:id/reject`
 * `{ reason? }`: the approveTask / rejectTask operations (not awaiting approval: 409).
 */
import { z } from 'zod';
import {
  approveTask as approveTaskOperation,
  rejectTask as rejectTaskOperation,
} from '../../interface/operations/decide-approval';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';
import { parseInput } from './validate';

const body = z.object({}, { error: 'must be a JSON object' }).loose();

function bodyOf(raw: unknown): Record<string, unknown> {
  return raw === undefined ? {} : (parseInput(body, raw, 'body') as Record<string, unknown>);
}

export const approveTask: RouteHandler = async (deps, req, res) => {
  const { note, data } = bodyOf(req.body);
  const outcome = await approveTaskOperation(
    deps,
    { taskId: String(req.params.id), note: note as string | undefined, data: data as never },
    actorOf(res),
  );
  res.status(200).json(outcome);
};

export const rejectTask: RouteHandler = async (deps, req, res) => {
  const { reason } = bodyOf(req.body);
  const outcome = await rejectTaskOperation(
    deps,
    { taskId: String(req.params.id), reason: reason as string | undefined },
    actorOf(res),
  );
  res.status(200).json(outcome);
};
