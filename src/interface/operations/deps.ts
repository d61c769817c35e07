/**
 * What every operation works with. The operations are the one place the rules of a mutation are
 * written (which states may be cancelled, retried, …); REST routes, CLI commands, InterfaceAgent
 * and SupervisorAgent all call them, so they answer the same way everywhere.
 */
import type { PlanSpec, TaskRecord } from '../../entities/task-model';
import type { TaskStore } from '../../entities/task-store';
import type { RedisCoordinator } from '../../queues/redis-coordinator';

/** A goal as submitted (SupervisorAgent's `SubmittedGoal` has this shape). */
export interface SubmittedGoalShape {
  goalId: string;
  tasks: TaskRecord[];
  planner: string;
  template?: string;
  created: boolean;
}

/** Tasks added to a running goal (SupervisorAgent's `ExtendedGoal` has this shape). */
export interface ExtendedGoalShape {
  goalId: string;
  tasks: TaskRecord[];
  /** Ids this call added: a repeat of the same tasks adds none. */
  created: string[];
}

/** Turns a plan into a running goal: what operations need of the supervisor (SupervisorAgent). */
export interface GoalSubmitter {
  submitPlan(
    plan: PlanSpec,
    options?: { actor?: string; plannerName?: string },
  ): Promise<SubmittedGoalShape>;
  executeGoal(
    text: string,
    options?: { key?: string; actor?: string },
  ): Promise<SubmittedGoalShape>;
  /** Adds plan-shaped tasks to a goal still running (DESIGN.md "Living goals"). */
  extendGoal(
    goalId: string,
    tasks: unknown,
    options?: { actor?: string },
  ): Promise<ExtendedGoalShape>;
}

export interface OperationDeps {
  /** The SQL mirror: what the rules read the state from. */
  store: TaskStore;
  coordinator: RedisCoordinator;
}

/** Operations that create goals also need the supervisor. */
export interface SubmittingDeps extends OperationDeps {
  goals: GoalSubmitter;
}

/** The audit actor of a mutation (`cli:alice`, `api:admin`, `interface`); null when unknown. */
export type Actor = string | null;
