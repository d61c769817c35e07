/** `GET /api/status`: task counts by state and by type, recent goals, live agents. */
import { summarizeGoal } from './context';
import type { RouteHandler } from './route-handler';

export const getStatus: RouteHandler = async (deps, _req, res) => {
  const [byState, byType, goals, agents] = await Promise.all([
    deps.store.countByState(),
    deps.store.countByType(),
    deps.store.listGoals({ limit: 20 }),
    deps.coordinator.getAllAgents(),
  ]);
  res.json({ tasks: { byState, byType }, goals: goals.map(summarizeGoal), agents });
};
