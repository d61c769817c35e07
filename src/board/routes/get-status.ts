/**
 * `GET /api/status`: task counts by state and by type, recent goals, live agents, capability
 * limits, the budget and use of unfinished goals with a budget (or paused), and what awaits
 * approval (how many, the oldest 20 with since when).
 */
import { openGoalBudgets } from '../../interface/goal-budgets';
import { listAwaitingApprovals } from '../../queues/approvals';
import { viewCapabilityLimits } from '../../queues/limits-view';
import { summarizeGoal } from './context';
import type { RouteHandler } from './route-handler';

export const getStatus: RouteHandler = async (deps, _req, res) => {
  const [byState, byType, goals, agents, limits, budgets, awaitingApproval] = await Promise.all([
    deps.store.countByState(),
    deps.store.countByType(),
    deps.store.listGoals({ limit: 20 }),
    deps.coordinator.getAllAgents(),
    viewCapabilityLimits(deps.coordinator),
    openGoalBudgets(deps.store, deps.coordinator),
    listAwaitingApprovals(deps.coordinator, 20),
  ]);
  res.json({
    tasks: { byState, byType },
    goals: goals.map(summarizeGoal),
    agents,
    limits,
    budgets,
    awaitingApproval,
  });
};
