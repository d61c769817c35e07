/**
 * What every router is built from: the store (SQL mirror and audit log), the coordinator (Redis),
 * and the optional actors that change things. Routers receive it from `createApp`; nothing here
 * is a module-level singleton.
 */
import type { GoalRecord } from '../../entities/task-model';
import type { TaskStore } from '../../entities/task-store';
import type { RedisCoordinator } from '../../queues/redis-coordinator';

export interface ApiContext {
  store: TaskStore;
  coordinator: RedisCoordinator;
  log: (line: string) => void;
}

/** A goal without its submitted plan: what lists show (a plan may hold 100,000 tasks). */
export type GoalSummary = Omit<GoalRecord, 'plan'>;

export function summarizeGoal(goal: GoalRecord): GoalSummary {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { plan, ...summary } = goal;
  return summary;
}
