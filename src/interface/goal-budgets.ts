/**
 * A goal's budget and use as `goal show`, `status`, the REST API, the goal page and `/metrics`
 * show them: live from Redis (where use rolls up) when it has the goal's record, else SQL's copy.
 */
import {
  isGoalOpen,
  type GoalBudget,
  type GoalRecord,
  type GoalState,
  type GoalUsage,
} from '../entities/task-model';
import type { TaskStore } from '../entities/task-store';
import { BUDGET_DIMENSIONS, readGoalBudget } from '../queues/goal-budget';
import type { RedisCoordinator } from '../queues/redis-coordinator';

export interface GoalBudgetView {
  goalId: string;
  title: string;
  state: GoalState;
  budget: GoalBudget | null;
  usage: GoalUsage;
  /** The largest share of a budget used (1 = 100 %); null without a budget. */
  used: number | null;
  /** Who paused it while PAUSED: its budget or a person. */
  pausedBy: 'budget' | 'hand' | null;
  /** Tasks of the goal running now, and held back while it is PAUSED (live from Redis only). */
  running: number;
  held: number;
  /** `redis` (live) or `sql` (the copy, when Redis has no record). */
  source: 'redis' | 'sql';
}

/** The largest share of a budget used; null without a budget. */
export function usedShare(budget: GoalBudget | null, usage: GoalUsage): number | null {
  if (!budget) return null;
  let share = 0;
  for (const d of BUDGET_DIMENSIONS) {
    const limit = budget[d];
    if (limit !== undefined) share = Math.max(share, usage[d] / limit);
  }
  return share;
}

/** The goal's budget view; null when it has no budget, no use and was never paused. */
export async function goalBudgetView(
  coordinator: RedisCoordinator,
  goal: GoalRecord,
): Promise<GoalBudgetView | null> {
  const record = await readGoalBudget(coordinator, goal.id).catch(() => null);
  if (record) {
    return {
      goalId: goal.id,
      title: goal.title,
      state: isGoalOpen(goal.state) ? record.state : goal.state,
      budget: record.budget,
      usage: record.usage,
      used: usedShare(record.budget, record.usage),
      pausedBy: record.state === 'PAUSED' ? record.pausedBy : null,
      running: record.running,
      held: record.held,
      source: 'redis',
    };
  }
  if (!goal.budget && !goal.usage && goal.state !== 'PAUSED') return null;
  const usage = goal.usage ?? { tokens: 0, costUsd: 0, wallMs: 0 };
  return {
    goalId: goal.id,
    title: goal.title,
    state: goal.state,
    budget: goal.budget,
    usage,
    used: usedShare(goal.budget, usage),
    pausedBy: null,
    running: 0,
    held: 0,
    source: 'sql',
  };
}

/**
 * The budget views of unfinished (ACTIVE or PAUSED) goals that have a budget or are paused, at
 * most `limit` (paused ones first): what `status` and `/metrics` show, bounded however many
 * goals there are.
 */
export async function openGoalBudgets(
  store: Pick<TaskStore, 'listGoals'>,
  coordinator: RedisCoordinator,
  limit = 100,
): Promise<GoalBudgetView[]> {
  const paused = await store.listGoals({ state: 'PAUSED', limit });
  const active = await store.listGoals({ state: 'ACTIVE', limit: 10_000 });
  const goals = [...paused, ...active.filter((g) => g.budget !== null)].slice(0, limit);
  const views = await Promise.all(goals.map((goal) => goalBudgetView(coordinator, goal)));
  return views.filter((view): view is GoalBudgetView => view !== null);
}

/** `tokens 100`, or `none`. */
export function formatBudget(budget: GoalBudget | null): string {
  if (!budget) return 'none';
  return BUDGET_DIMENSIONS.filter((d) => budget[d] !== undefined)
    .map((d) => `${d} ${budget[d]}`)
    .join(', ');
}

/** Use against budget, per dimension that has either. */
export function formatUsage(usage: GoalUsage | null, budget: GoalBudget | null): string {
  const parts: string[] = [];
  for (const d of BUDGET_DIMENSIONS) {
    const used = usage?.[d] ?? 0;
    const limit = budget?.[d];
    if (limit === undefined && used === 0) continue;
    const shown = d === 'costUsd' ? used.toFixed(4).replace(/\.?0+$/, '') || '0' : String(used);
    parts.push(
      limit === undefined
        ? `${d} ${shown}`
        : `${d} ${shown}/${limit} (${Math.round((used / limit) * 100)} %)`,
    );
  }
  return parts.length > 0 ? parts.join(', ') : 'none';
}
