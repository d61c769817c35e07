/** Creates a goal of one task. Bad input is an InputError naming the field; nothing is written. */
import { z } from 'zod';
import type { Json, TaskRecord } from '../../entities/task-model';
import {
  assertJsonDepth,
  MAX_DATA_DEPTH,
  MAX_DESCRIPTION_CHARS,
  MAX_TITLE_CHARS,
} from '../../queues/plan-schema';
import { parseInput } from './parse-input';
import type { Actor, SubmittingDeps } from './deps';

export interface CreateTaskInput {
  title: string;
  description?: string;
  /** The capability it needs. */
  type: string;
  /** 1–10, 10 first. @defaultValue 5 */
  priority?: number;
  /** Handler input, a JSON object. @defaultValue {} */
  data?: { [key: string]: Json };
  /** @defaultValue 3 */
  attempts?: number;
  timeoutMs?: number;
}

export const createTaskSchema = z.object({
  title: z.string().trim().min(1, 'must not be empty').max(MAX_TITLE_CHARS),
  description: z.string().max(MAX_DESCRIPTION_CHARS).optional(),
  type: z.string().min(1),
  priority: z.number().int().min(1).max(10).optional(),
  data: z.record(z.string(), z.json()).optional(),
  attempts: z.number().int().min(1).max(100).optional(),
  timeoutMs: z.number().int().min(1).optional(),
});

/** Validates `input` (any shape: it may come from JSON) and submits it as a one-task goal. */
export async function createTask(
  deps: SubmittingDeps,
  input: unknown,
  actor: Actor,
): Promise<TaskRecord> {
  // zod's z.json() recurses: refuse deep nesting before it overflows the stack.
  if (typeof input === 'object' && input !== null && 'data' in input) {
    assertJsonDepth(input.data, MAX_DATA_DEPTH, 'data');
  }
  const task = parseInput(createTaskSchema, input ?? {}, 'body') as CreateTaskInput;
  const { tasks } = await deps.goals.submitPlan(
    { goal: task.title, tasks: [{ key: 'task', ...task }] },
    { plannerName: 'task', ...(actor ? { actor } : {}) },
  );
  return tasks[0]!;
}
