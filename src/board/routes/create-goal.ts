/**
 * `POST /api/goals`: `{ goal: "text" }` or `{ plan: {…} }` (the submitGoal operation). An
 * idempotency `key` in the body or the `Idempotency-Key` header returns the existing goal with 200
 * instead of 201.
 */
import { InputError } from '../../errors';
import { idempotencyKeySchema, submitGoal } from '../../interface/operations/submit-goal';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';
import { submittingDeps } from './supervisor-of';

export const createGoal: RouteHandler = async (deps, req, res) => {
  const header = req.get('Idempotency-Key');
  if (header !== undefined && !idempotencyKeySchema.safeParse(header).success) {
    throw new InputError('must be 1 to 200 characters', 'Idempotency-Key');
  }
  const raw: unknown = req.body ?? {};
  const body =
    header !== undefined && typeof raw === 'object' && raw !== null && !('key' in raw)
      ? { ...raw, key: header }
      : raw;
  const submitted = await submitGoal(submittingDeps(deps), body, actorOf(res));
  res.status(submitted.created ? 201 : 200).json({
    goalId: submitted.goalId,
    planner: submitted.planner,
    ...(submitted.template ? { template: submitted.template } : {}),
    created: submitted.created,
    tasks: submitted.tasks,
  });
};
