/**
 * The REST API as one table: method, path, handler (one small handler per file in routes/).
 * `apiRouter` mounts it; what a route may do is the handler's, what it answers on a thrown error
 * is http-errors.ts's.
 */
import { Router } from 'express';
import { cancelGoal } from './routes/cancel-goal';
import { clearLimits } from './routes/clear-limits';
import { cancelTask } from './routes/cancel-task';
import { createGoal } from './routes/create-goal';
import { createTask } from './routes/create-task';
import { approveTask, rejectTask } from './routes/decide-approval';
import { extendGoal } from './routes/extend-goal';
import { getGoal } from './routes/get-goal';
import { getStatus } from './routes/get-status';
import { getTask } from './routes/get-task';
import { goalGraph } from './routes/goal-graph';
import { healthz } from './routes/healthz';
import { listAgents } from './routes/list-agents';
import { listDeadLetters } from './routes/list-dead-letters';
import { listEvents } from './routes/list-events';
import { listGoals } from './routes/list-goals';
import { listLimits } from './routes/list-limits';
import { listTasks } from './routes/list-tasks';
import { putLimits } from './routes/put-limits';
import { pauseGoal } from './routes/pause-goal';
import { resumeGoal } from './routes/resume-goal';
import { setGoalBudget } from './routes/set-goal-budget';
import { redriveDeadLetter } from './routes/redrive-dead-letter';
import { retryTask } from './routes/retry-task';
import { taskEvents } from './routes/task-events';
import { taskLogs } from './routes/task-logs';
import type { RouteDeps, RouteHandler } from './routes/route-handler';

export interface Route {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  handler: RouteHandler;
}

export const API_ROUTES: readonly Route[] = [
  { method: 'get', path: '/healthz', handler: healthz },
  { method: 'get', path: '/api/status', handler: getStatus },
  { method: 'get', path: '/api/tasks', handler: listTasks },
  { method: 'post', path: '/api/tasks', handler: createTask },
  { method: 'get', path: '/api/tasks/:id', handler: getTask },
  { method: 'get', path: '/api/tasks/:id/events', handler: taskEvents },
  { method: 'get', path: '/api/tasks/:id/logs', handler: taskLogs },
  { method: 'post', path: '/api/tasks/:id/cancel', handler: cancelTask },
  { method: 'post', path: '/api/tasks/:id/retry', handler: retryTask },
  { method: 'post', path: '/api/tasks/:id/approve', handler: approveTask },
  { method: 'post', path: '/api/tasks/:id/reject', handler: rejectTask },
  { method: 'get', path: '/api/goals', handler: listGoals },
  { method: 'post', path: '/api/goals', handler: createGoal },
  { method: 'get', path: '/api/goals/:id', handler: getGoal },
  { method: 'get', path: '/api/goals/:id/graph.svg', handler: goalGraph },
  { method: 'post', path: '/api/goals/:id/cancel', handler: cancelGoal },
  { method: 'post', path: '/api/goals/:id/tasks', handler: extendGoal },
  { method: 'post', path: '/api/goals/:id/pause', handler: pauseGoal },
  { method: 'post', path: '/api/goals/:id/resume', handler: resumeGoal },
  { method: 'post', path: '/api/goals/:id/budget', handler: setGoalBudget },
  { method: 'get', path: '/api/agents', handler: listAgents },
  { method: 'get', path: '/api/dlq', handler: listDeadLetters },
  { method: 'post', path: '/api/dlq/:id/retry', handler: redriveDeadLetter },
  { method: 'get', path: '/api/events', handler: listEvents },
  { method: 'get', path: '/api/limits', handler: listLimits },
  { method: 'put', path: '/api/limits/:capability', handler: putLimits },
  { method: 'delete', path: '/api/limits/:capability', handler: clearLimits },
];

export function apiRouter(deps: RouteDeps): Router {
  const router = Router();
  for (const { method, path, handler } of API_ROUTES) {
    router[method](path, (req, res) => handler(deps, req, res));
  }
  return router;
}
