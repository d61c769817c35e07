/** `GET /api/events?after=SEQ&limit=N`: the audit log in seq order, for gap filling and replay. */
import { z } from 'zod';
import type { RouteHandler } from './route-handler';
import { parseInput } from './validate';

const eventsQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(10000).default(1000),
});

export const listEvents: RouteHandler = async (deps, req, res) => {
  const query = parseInput(eventsQuery, req.query, 'query');
  const events = await deps.store.eventsAfter(query.after, query.limit);
  res.json({ events, next: events.at(-1)?.seq ?? query.after });
};
