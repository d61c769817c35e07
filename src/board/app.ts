/**
 * The Express app of `agentq serve`: REST API, SSE, metrics, Bull Board, goal pages, login.
 * Everything it needs is passed in (`createApp(deps)`); it owns only the SSE subscription, which
 * `close()` ends. Listening is server.ts's job, so tests drive the app with supertest.
 */
import express, { type Express } from 'express';
import type { Metric } from 'prom-client';
import type { AgentqConfig } from '../config';
import type { TaskStore } from '../entities/task-store';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import { authenticate, refuseReadonlyMutations } from './auth';
import { mountBoard } from './board';
import { refuseUndecodableBodies } from './body-errors';
import { refuseForeignHosts } from './host-guard';
import { createMetrics } from './metrics';
import { goalPageRouter } from './pages/goal';
import { homeRouter } from './pages/home';
import { loginRouter } from './pages/login';
import type { GoalSubmitter } from '../interface/operations/deps';
import { apiRouter } from './routes';
import type { ApiContext } from './routes/context';
import { errorMiddleware, sendError } from './routes/http-errors';
import { refuseCrossSiteMutations } from './same-origin';
import { redisSessions } from './sessions';
import { createEventStream } from './sse';
import { refuseUnstorableInput } from './storable-input';

export interface AppDeps {
  store: TaskStore;
  coordinator: RedisCoordinator;
  config: Pick<AgentqConfig, 'token' | 'readonlyToken'>;
  /**
   * The supervisor: creates goals and tasks, each with the audit actor of its request
   * (`api:admin`, …). Without it `POST /api/goals` and `POST /api/tasks` answer 503.
   */
  goals?: GoalSubmitter;
  /** Other parts' prom-client metrics to expose on /metrics (the mirror's). @defaultValue [] */
  metrics?: readonly Metric[];
  /** Where server faults and audit lines go. @defaultValue console.error */
  log?: (line: string) => void;
}

export interface AgentqApp {
  app: Express;
  /** Resolves once the SSE relay's Redis subscription is live. */
  ready: Promise<void>;
  /** Open SSE streams (health and tests). */
  sseClients(): number;
  /** Ends open SSE streams and the subscription; the store and coordinator stay the caller's. */
  close(): Promise<void>;
}

/** Request bodies above this get 413. */
export const BODY_LIMIT = '1mb';

export function createApp(deps: AppDeps): AgentqApp {
  const log = deps.log ?? ((line: string) => console.error(line));
  const ctx: ApiContext = { store: deps.store, coordinator: deps.coordinator, log };
  const secrets = { token: deps.config.token, readonlyToken: deps.config.readonlyToken };
  const auth = { ...secrets, sessions: redisSessions(deps.coordinator, secrets) };
  const metrics = createMetrics({ ...ctx, extra: deps.metrics ?? [] });
  const stream = createEventStream({
    ...ctx,
    onTaskEvent: (event) => {
      if (event.event !== 'complete' && event.event !== 'failed') return;
      void deps.store
        .getTask(event.taskId)
        .then((task) => {
          if (task?.durationMs != null) {
            metrics.observeFinished(
              task.type,
              event.event === 'complete' ? 'DONE' : 'FAILED',
              task.durationMs,
            );
          }
        })
        .catch(() => undefined);
    },
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(refuseForeignHosts(auth));
  app.use(refuseCrossSiteMutations());
  app.use(authenticate(auth));
  app.use(refuseReadonlyMutations());
  app.use(loginRouter(auth));
  app.use('/api', express.json({ limit: BODY_LIMIT }));
  app.use(refuseUnstorableInput());
  app.use(apiRouter({ ...ctx, goals: deps.goals ?? null }));
  app.use(stream.router);
  app.use(metrics.router);
  app.use(mountBoard(deps.coordinator, log).router);
  app.use(homeRouter(ctx));
  app.use(goalPageRouter(ctx));
  app.use((req, res) => sendError(res, 404, 'not_found', `no route ${req.method} ${req.path}`));
  app.use(refuseUndecodableBodies());
  app.use(errorMiddleware(log));

  return { app, ready: stream.ready, sseClients: stream.clientCount, close: () => stream.close() };
}
