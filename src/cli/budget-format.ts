/** A goal's budget and use as text, for the CLI. */
import { formatUsage, type GoalBudgetView } from '../interface/goal-budgets';

export { formatBudget, formatUsage } from '../interface/goal-budgets';

/** `Budget: tokens 100/100 (100 %) — paused by its budget; 20 held, 0 running`. */
export function budgetLine(view: GoalBudgetView): string {
  const parts = [`Budget: ${formatUsage(view.usage, view.budget)}`];
  if (view.state === 'PAUSED') {
    parts.push(`— paused ${view.pausedBy === 'hand' ? 'by hand' : 'by its budget'}`);
  }
  if (view.source === 'redis') parts.push(`(${view.held} held, ${view.running} running)`);
  return parts.join(' ');
}
