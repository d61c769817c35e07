/**
 * `GET /api/status`: task counts by state and by type, recent goals, live agents, and what
 * awaits approval (how many, the oldest 20 with since when).
 */
import { listAwaitingApprovals } from '../../queues/approvals';
import { summarizeGoal } from './context';
import type { RouteHandler } from './route-handler';

export const getStatus: RouteHandler = async (deps, _req, res) => {
  const [byState, byType, goals, agents, awaitingApproval] = await Promise.all([
    deps.store.countByState(),
    deps.store.countByType(),
    deps.store.listGoals({ limit: 20 }),
    deps.coordinator.getAllAgents(),
    listAwaitingApprovals(deps.coordinator, 20),
  ]);
  res.json({
    tasks: { byState, byType },
    goals: goals.map(summarizeGoal),
    agents,
    awaitingApproval,
  });
};
