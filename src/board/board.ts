/**
 * Bull Board at `/board`: every capability queue and agentq's own queues (goal roots, gates,
 * dead letters) on every shard. Two board instances share the mount: a full one for the admin
 * token and one in `readOnlyMode` for the read-only token (its UI hides the buttons; the server
 * refuses the mutation routes anyway in auth.ts). Board mutations are audited with the actor
 * `board:<role>` on the audit stream (see `recordBoardAction`).
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router, type RequestHandler } from 'express';
import { INTERNAL_QUEUES } from '../queues/names';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import { actorOf, callerOf } from './auth';

export const BOARD_PATH = '/board';
/** The capability set is re-read at most this often, so new queues appear on their own. */
const REFRESH_MS = 2000;
/** Board actions kept on the audit stream. */
const AUDIT_MAX_LEN = 10000;

export interface BoardMount {
  router: Router;
  /** Re-reads the capability set now (tests, and after a submit). */
  refresh(): Promise<void>;
}

function adaptersFor(
  coordinator: RedisCoordinator,
  names: readonly string[],
  readOnlyMode: boolean,
): BullMQAdapter[] {
  const adapters: BullMQAdapter[] = [];
  for (let shard = 0; shard < coordinator.shards; shard++) {
    for (const name of names) {
      adapters.push(
        new BullMQAdapter(coordinator.queue(name, shard), {
          readOnlyMode,
          // Queue names repeat across shards; the board keys queues by name.
          ...(shard > 0 ? { prefix: `s${shard}:` } : {}),
        }),
      );
    }
  }
  return adapters;
}

function boardInstance(readOnlyMode: boolean) {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: { uiConfig: { boardTitle: readOnlyMode ? 'agentq (read-only)' : 'agentq' } },
  });
  return { board, router: serverAdapter.getRouter() as RequestHandler };
}

/**
 * Writes a board mutation to the audit stream `<prefix>:agentq:audit` (the SQL audit log holds
 * task transitions; a board action that moves a task shows up there through the mirror too).
 */
function recordBoardAction(
  coordinator: RedisCoordinator,
  log: (line: string) => void,
): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const actor = actorOf(res, 'board');
      log(`audit: ${actor} ${req.method} ${BOARD_PATH}${req.path}`);
      coordinator.client
        .xadd(
          coordinator.key('audit'),
          'MAXLEN',
          '~',
          String(AUDIT_MAX_LEN),
          '*',
          'actor',
          actor,
          'action',
          `${req.method} ${BOARD_PATH}${req.path}`,
        )
        .catch((error: unknown) => log(`audit: could not record a board action: ${String(error)}`));
    }
    next();
  };
}

export function mountBoard(coordinator: RedisCoordinator, log: (line: string) => void): BoardMount {
  const full = boardInstance(false);
  const readonly = boardInstance(true);
  let lastRefresh = 0;
  let known = '';

  async function refresh(): Promise<void> {
    lastRefresh = Date.now();
    const names = [...(await coordinator.capabilities()), ...INTERNAL_QUEUES];
    const signature = names.join(',');
    if (signature === known) return;
    known = signature;
    full.board.replaceQueues(adaptersFor(coordinator, names, false));
    readonly.board.replaceQueues(adaptersFor(coordinator, names, true));
  }

  const router = Router();
  router.use(BOARD_PATH, async (_req, _res, next) => {
    if (Date.now() - lastRefresh > REFRESH_MS) await refresh();
    next();
  });
  router.use(BOARD_PATH, recordBoardAction(coordinator, log));
  router.use(BOARD_PATH, (req, res, next) =>
    callerOf(res).canMutate ? full.router(req, res, next) : readonly.router(req, res, next),
  );
  return { router, refresh };
}
