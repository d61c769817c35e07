/**
 * Adds tasks to a goal still running (DESIGN.md "Living goals"). The supervisor validates them
 * against the goal and writes them in one step, so the rules live there; this is the one entry
 * REST, the CLI and InterfaceAgent share, and it carries the audit actor.
 */
import type { Actor, ExtendedGoalShape, SubmittingDeps } from './deps';

export interface ExtendGoalInput {
  goalId: string;
  /** Plan-shaped tasks (plan-schema.ts), checked by the supervisor. */
  tasks: unknown;
}

/**
 * Bad tasks: InputError naming the field (`tasks[1].dependsOn`), nothing added. Unknown goal:
 * NotFoundError. A goal that has ended: ConflictError.
 */
export function extendGoal(
  deps: SubmittingDeps,
  input: ExtendGoalInput,
  actor: Actor,
): Promise<ExtendedGoalShape> {
  return deps.goals.extendGoal(input.goalId, input.tasks, actor ? { actor } : {});
}
