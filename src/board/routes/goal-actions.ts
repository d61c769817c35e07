/** `POST /api/goals/:id/cancel`: every unfinished task of the goal ends CANCELLED; 409 once ended. */
import { Router } from 'express';
import { ConflictError, NotFoundError } from '../../errors';
import { cancelGoal } from '../../queues/cancellation';
import { actorOf } from '../auth';
import type { ApiContext } from './context';

export function goalActionsRouter(ctx: ApiContext): Router {
  const router = Router();
  router.post('/api/goals/:id/cancel', async (req, res) => {
    const goal = await ctx.store.getGoal(req.params.id);
    if (!goal) throw new NotFoundError('goal', req.params.id);
    if (goal.state !== 'ACTIVE') {
      throw new ConflictError(`goal ${goal.id} has already ended (${goal.state})`);
    }
    await cancelGoal(ctx.coordinator, goal.id, actorOf(res));
    res.status(202).json({ goalId: goal.id, cancelling: true });
  });
  return router;
}
