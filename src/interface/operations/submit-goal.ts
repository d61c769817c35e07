/**
 * Submits a goal: `{ goal: "text" }` (planned by the supervisor's planners) or `{ plan: {…} }` in
 * the plan-file shape, with an optional idempotency `key` (the existing goal is returned, with
 * `created: false`). The plan itself is validated by the supervisor, whose InputErrors name the
 * field; nothing is written on bad input.
 */
import { z } from 'zod';
import type { PlanSpec } from '../../entities/task-model';
import { MAX_GOAL_CHARS } from '../../queues/plan-schema';
import { parseInput } from './parse-input';
import type { Actor, SubmittedGoalShape, SubmittingDeps } from './deps';

export interface SubmitGoalInput {
  /** What the person wants, in words. Either this or `plan`. */
  goal?: string;
  /** A plan object (the plan-file shape). Either this or `goal`. */
  plan?: { [key: string]: unknown };
  /** Idempotency key: the same key returns the existing goal. */
  key?: string;
}

export const idempotencyKeySchema = z.string().min(1).max(200);

export const submitGoalSchema = z
  .object({
    goal: z.string().trim().min(1, 'must not be empty').max(MAX_GOAL_CHARS).optional(),
    plan: z.record(z.string(), z.unknown()).optional(),
    key: idempotencyKeySchema.optional(),
  })
  .refine((b) => (b.goal === undefined) !== (b.plan === undefined), {
    message: 'give either `goal` (text) or `plan` (an object), not both or neither',
    path: ['goal'],
  });

export async function submitGoal(
  deps: SubmittingDeps,
  input: unknown,
  actor: Actor,
): Promise<SubmittedGoalShape> {
  const body = parseInput(submitGoalSchema, input ?? {}, 'body') as SubmitGoalInput;
  const who = actor ? { actor } : {};
  if (body.plan) {
    const plan = { ...(body.plan as unknown as PlanSpec), ...(body.key ? { key: body.key } : {}) };
    return deps.goals.submitPlan(plan, who);
  }
  return deps.goals.executeGoal(body.goal!, { ...(body.key ? { key: body.key } : {}), ...who });
}
