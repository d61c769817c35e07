/**
 * `GET /healthz` (Redis and the database both answer, else 503) and `GET /api/status` (task counts
 * by state and by type, recent goals, live agents).
 */
import { Router } from 'express';
import { type ApiContext, summarizeGoal } from './context';

const HEALTH_TIMEOUT_MS = 2000;

async function probe(check: () => Promise<unknown>): Promise<'ok' | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)),
      HEALTH_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

export function statusRouter(ctx: ApiContext): Router {
  const router = Router();

  router.get('/healthz', async (_req, res) => {
    const [redis, db] = await Promise.all([
      probe(() => ctx.coordinator.client.ping()),
      probe(() => ctx.store.lastSeq()),
    ]);
    const ok = redis === 'ok' && db === 'ok';
    res.status(ok ? 200 : 503).json({ ok, redis, db });
  });

  router.get('/api/status', async (_req, res) => {
    const [byState, byType, goals, agents] = await Promise.all([
      ctx.store.countByState(),
      ctx.store.countByType(),
      ctx.store.listGoals({ limit: 20 }),
      ctx.coordinator.getAllAgents(),
    ]);
    res.json({ tasks: { byState, byType }, goals: goals.map(summarizeGoal), agents });
  });

  return router;
}
