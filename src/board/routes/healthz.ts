/** `GET /healthz`: Redis and the database both answer within 2 s, else 503. */
import type { RouteHandler } from './route-handler';

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

export const healthz: RouteHandler = async (deps, _req, res) => {
  const [redis, db] = await Promise.all([
    probe(() => deps.coordinator.client.ping()),
    probe(() => deps.store.lastSeq()),
  ]);
  const ok = redis === 'ok' && db === 'ok';
  res.status(ok ? 200 : 503).json({ ok, redis, db });
};
