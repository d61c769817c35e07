/** A goal's budget and use as one line of text: `tokens 850/1000 (85 %), costUsd 0.12/–`. */
import type { GoalBudget, GoalUsage } from '../entities/task-model';

const DIMENSIONS = ['tokens', 'costUsd', 'wallMs'] as const;

export function formatBudget(budget: GoalBudget | null): string {
  if (!budget) return 'none';
  return DIMENSIONS.filter((d) => budget[d] !== undefined)
    .map((d) => `${d} ${budget[d]}`)
    .join(', ');
}

/** Use against budget, per dimension that has either. */
export function formatUsage(usage: GoalUsage | null, budget: GoalBudget | null): string {
  const parts: string[] = [];
  for (const d of DIMENSIONS) {
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
