/** `GET /api/dlq`: the tasks whose attempts ran out, oldest first. */
import { listDeadLetters as listDeadLettersOf } from '../../processors/dead-letters';
import type { RouteHandler } from './route-handler';

export const listDeadLetters: RouteHandler = async (deps, _req, res) => {
  res.json({ deadLetters: await listDeadLettersOf(deps.coordinator) });
};
