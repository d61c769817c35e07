/** `GET /api/agents`: the live agents (heartbeat within three intervals), breakers included. */
import { Router } from 'express';
import type { ApiContext } from './context';

export function agentsRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/api/agents', async (_req, res) => {
    res.json({ agents: await ctx.coordinator.getAllAgents() });
  });
  return router;
}
