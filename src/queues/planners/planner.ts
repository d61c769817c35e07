/**
 * Planners turn a goal given as text into a plan. Every plan they return is validated like any
 * plan file (`resolvePlan`) by the supervisor before anything is written.
 */
import type { PlanSpec } from '../../entities/task-model';

export interface PlannedGoal {
  plan: PlanSpec;
  /** Which planner made it, as recorded on the goal: `template:feature`, `llm`, … */
  planner: string;
}

export interface Planner {
  plan(goal: string, options?: { key?: string }): Promise<PlannedGoal>;
}
