/**
 * Creation: `POST /api/goals` (`{ goal: "text" }` planned by the supervisor, or `{ plan: {…} }`
 * in the plan-file shape; an idempotency `key` in the body or the `Idempotency-Key` header returns
 * the existing goal with 200 instead of 201) and `POST /api/tasks` (a one-task goal). The plan
 * itself is validated by the supervisor, whose InputErrors name the field.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { PlanSpec, TaskRecord } from '../../entities/task-model';
import { InputError } from '../../errors';
import {
  assertJsonDepth,
  MAX_DATA_DEPTH,
  MAX_DESCRIPTION_CHARS,
  MAX_GOAL_CHARS,
  MAX_TITLE_CHARS,
} from '../../queues/plan-schema';
import type { CreateTaskInput, SubmittedGoal } from '../../queues/supervisor-agent';
import { actorOf } from '../auth';
import type { ApiContext } from './context';
import { parseInput } from './validate';

/** The supervisor calls the API makes, bound to the actor recorded for them. */
export interface GoalSubmitter {
  executeGoal(text: string, options?: { key?: string }): Promise<SubmittedGoal>;
  submitPlan(plan: PlanSpec): Promise<SubmittedGoal>;
  createTask(input: CreateTaskInput): Promise<TaskRecord>;
}

export type SubmitterFor = (actor: string) => GoalSubmitter;

const idempotencyKey = z.string().min(1).max(200);

const goalBody = z
  .object({
    goal: z.string().trim().min(1, 'must not be empty').max(MAX_GOAL_CHARS).optional(),
    plan: z.record(z.string(), z.unknown()).optional(),
    key: idempotencyKey.optional(),
  })
  .refine((b) => (b.goal === undefined) !== (b.plan === undefined), {
    message: 'give either `goal` (text) or `plan` (an object), not both or neither',
    path: ['goal'],
  });

const taskBody = z.object({
  title: z.string().trim().min(1, 'must not be empty').max(MAX_TITLE_CHARS),
  description: z.string().max(MAX_DESCRIPTION_CHARS).optional(),
  type: z.string().min(1),
  priority: z.number().int().min(1).max(10).optional(),
  data: z.record(z.string(), z.json()).optional(),
  attempts: z.number().int().min(1).max(100).optional(),
  timeoutMs: z.number().int().min(1).optional(),
});

function answer(submitted: SubmittedGoal) {
  return {
    goalId: submitted.goalId,
    planner: submitted.planner,
    ...(submitted.template ? { template: submitted.template } : {}),
    created: submitted.created,
    tasks: submitted.tasks,
  };
}

export function submitRouter(_ctx: ApiContext, submitterFor: SubmitterFor): Router {
  const router = Router();

  router.post('/api/goals', async (req, res) => {
    const body = parseInput(goalBody, req.body ?? {}, 'body');
    const header = req.get('Idempotency-Key');
    if (header !== undefined && !idempotencyKey.safeParse(header).success) {
      throw new InputError('must be 1 to 200 characters', 'Idempotency-Key');
    }
    const key = body.key ?? header;
    const supervisor = submitterFor(actorOf(res));
    const submitted = body.plan
      ? await supervisor.submitPlan({
          ...(body.plan as unknown as PlanSpec),
          ...(key ? { key } : {}),
        })
      : await supervisor.executeGoal(body.goal!, key ? { key } : {});
    res.status(submitted.created ? 201 : 200).json(answer(submitted));
  });

  router.post('/api/tasks', async (req, res) => {
    // zod's z.json() recurses: refuse deep nesting before it overflows the stack.
    const raw: unknown = req.body;
    if (typeof raw === 'object' && raw !== null && 'data' in raw) {
      assertJsonDepth(raw.data, MAX_DATA_DEPTH, 'data');
    }
    const body = parseInput(taskBody, req.body ?? {}, 'body');
    const task = await submitterFor(actorOf(res)).createTask(body as CreateTaskInput);
    res.status(201).json({ task });
  });

  return router;
}
