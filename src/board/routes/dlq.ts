/**
 * The dead-letter queue: `GET /api/dlq` lists the tasks whose attempts ran out, `POST
 * /api/dlq/:id/retry` redrives one (`<taskId>@<epoch>` or a task id), with the caller as actor.
 */
import { Router } from 'express';
import { listDeadLetters, retryDeadLetter } from '../../processors/dead-letters';
import { actorOf } from '../auth';
import type { ApiContext } from './context';

export function dlqRouter(ctx: ApiContext): Router {
  const router = Router();

  router.get('/api/dlq', async (_req, res) => {
    res.json({ deadLetters: await listDeadLetters(ctx.coordinator) });
  });

  router.post('/api/dlq/:id/retry', async (req, res) => {
    const redrive = await retryDeadLetter(ctx.coordinator, req.params.id, actorOf(res));
    res.status(202).json({ redrive });
  });

  return router;
}
