/** `GET /api/events?after=SEQ&limit=N`: the audit log in seq order, for gap filling and replay. */
import { Router } from 'express';
import { z } from 'zod';
import type { ApiContext } from './context';
import { parseInput } from './validate';

const eventsQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(10000).default(1000),
});

export function eventsRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/api/events', async (req, res) => {
    const query = parseInput(eventsQuery, req.query, 'query');
    const events = await ctx.store.eventsAfter(query.after, query.limit);
    const last = events.at(-1)?.seq ?? query.after;
    res.json({ events, next: last });
  });
  return router;
}
