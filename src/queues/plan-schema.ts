/**
 * Plan validation: the plan-file shape (`PlanSpec`, task-model.ts) checked with zod, defaults applied, then the
 * graph rules (unique keys, known dependencies, no cycle). The first problem found is thrown as
 * an `InputError` naming the field (`tasks[3].priority`), before anything is written anywhere.
 */
import { z } from 'zod';
import type { GoalBudget, Json, PlanSpec, ResolvedTaskSpec } from '../entities/task-model';
import { InputError } from '../errors';
import { APPROVALS_QUEUE, isCapability } from './names';
import { parseBudget } from './goal-budget-schema';
import { findCycle } from './plan-cycles';
import { assertStorable, unstorableReason } from './storable-text';

export const MAX_TASKS = 100_000;
export const MAX_DATA_BYTES = 1024 * 1024;
/**
 * The one set of text limits, for plan files, planners and the REST API alike (docs/api.md).
 * A task id is `<goal id>.<key>` in a varchar(64) column and a goal id is `g-` and 16 hex digits,
 * so a key may have at most 64 − 19 = 45 characters.
 */
export const MAX_KEY_CHARS = 45;
export const MAX_TITLE_CHARS = 500;
/** A goal's text (`goal` of a plan, `{ goal }` to the API): it becomes the goal's title. */
export const MAX_GOAL_CHARS = 10_000;
/** Twice the goal text: a template's description holds the goal's text (`… for: {goal}`). */
export const MAX_DESCRIPTION_CHARS = 2 * MAX_GOAL_CHARS;
/**
 * How deep a task's JSON may nest. zod and JSON.stringify recurse, so a 1 MiB body of `[[[…`
 * would otherwise overflow the stack (a 500, or a crashed CLI) instead of a 400.
 */
export const MAX_DATA_DEPTH = 64;
export const TASK_DEFAULTS = {
  description: '',
  priority: 5,
  dependsOn: [] as string[],
  attempts: 3,
  timeoutMs: 600_000,
  optional: false,
} as const;

/** A `concurrencyKey`: a tenant, a repository (`org/repo`), … — safe inside a Redis key. */
export const CONCURRENCY_KEY = /^[A-Za-z0-9_.:/@+-]{1,200}$/;
const KEY = new RegExp(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,${MAX_KEY_CHARS - 1}}$`);

/** A string every store can hold, at most `max` characters. */
export function storableString(max: number) {
  return z
    .string({ error: 'is required' })
    .max(max, `must be at most ${max} characters`)
    .superRefine((text, ctx) => {
      const reason = unstorableReason(text);
      if (reason) ctx.addIssue({ code: 'custom', message: reason });
    });
}

const taskSchema = z.object({
  key: z
    .string({ error: 'is required' })
    .regex(KEY, `must be 1–${MAX_KEY_CHARS} letters, digits, '_', '-' or '.'`),
  title: storableString(MAX_TITLE_CHARS).trim().min(1, 'is required'),
  description: storableString(MAX_DESCRIPTION_CHARS).default(TASK_DEFAULTS.description),
  type: z.string({ error: 'is required' }).min(1, 'is required').refine(isCapability, {
    message: "must be a capability name: a letter, then letters, digits, '_' or '-'",
  }),
  priority: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be from 1 to 10')
    .max(10, 'must be from 1 to 10')
    .default(TASK_DEFAULTS.priority),
  dependsOn: z.array(z.string()).default([]),
  data: z.record(z.string(), z.json()).default({}),
  attempts: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be from 1 to 100')
    .max(100, 'must be from 1 to 100')
    .default(TASK_DEFAULTS.attempts),
  timeoutMs: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1 ms')
    .max(7 * 24 * 3600 * 1000, 'must be at most 7 days')
    .default(TASK_DEFAULTS.timeoutMs),
  optional: z.boolean().default(false),
  concurrencyKey: z
    .string({ error: 'must be a string' })
    .regex(
      CONCURRENCY_KEY,
      "must be 1–200 letters, digits or any of '_', '-', '.', ':', '/', '@', '+'",
    )
    .optional(),
});

/** Approvals wait at most this long for a decision (a timeout is a delayed job in Redis). */
export const MAX_APPROVAL_TIMEOUT_MS = 365 * 24 * 3600 * 1000;

const approvalSchema = z.object(
  {
    prompt: storableString(MAX_DESCRIPTION_CHARS).optional(),
    timeoutMs: z
      .number({ error: 'must be a number of milliseconds' })
      .int('must be a whole number')
      .min(1, 'must be at least 1 ms')
      .max(MAX_APPROVAL_TIMEOUT_MS, 'must be at most 365 days')
      .optional(),
    onTimeout: z
      .enum(['approve', 'reject'], { error: "must be 'approve' or 'reject'" })
      .default('reject'),
  },
  { error: 'must be an object: { prompt?, timeoutMs?, onTimeout? }' },
);

/** An approval task is run by no agent: its type is the approvals queue. */
const approvalTaskSchema = taskSchema.extend({
  type: z
    .literal(APPROVALS_QUEUE, {
      error: `an approval task is run by no agent: leave type out (it is '${APPROVALS_QUEUE}')`,
    })
    .default(APPROVALS_QUEUE),
  approval: approvalSchema,
});

function isApprovalTask(raw: unknown): boolean {
  return (
    typeof raw === 'object' &&
    raw !== null &&
    (raw as { approval?: unknown }).approval !== undefined
  );
}

/** How many revisions a replanning goal may have at most; the default. */
export const MAX_REPLANS = 100;
export const DEFAULT_MAX_REPLANS = 3;

const planSchema = z.object({
  goal: storableString(MAX_GOAL_CHARS).trim().min(1, 'is required'),
  key: storableString(200).min(1, 'must not be empty').optional(),
  budget: z.unknown().optional(),
  onFailure: z.enum(['fail', 'replan'], { error: "must be 'fail' or 'replan'" }).default('fail'),
  maxReplans: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(MAX_REPLANS, `must be at most ${MAX_REPLANS}`)
    .default(DEFAULT_MAX_REPLANS),
  tasks: z.array(z.unknown(), { error: 'must be a list of tasks' }),
});

/** A validated plan: every default applied. */
export interface ResolvedPlan {
  goal: string;
  key: string | null;
  /** Null when the plan sets none. */
  budget: GoalBudget | null;
  /** What a task that fails for good does: fail the goal, or make the supervisor repair it. */
  onFailure: 'fail' | 'replan';
  maxReplans: number;
  tasks: ResolvedTaskSpec[];
}

function fieldOf(path: readonly PropertyKey[], base = ''): string {
  let out = base;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || 'plan';
}

function firstIssue(error: z.ZodError, base = ''): InputError {
  const issue = error.issues[0]!;
  return new InputError(issue.message, fieldOf(issue.path, base));
}

/** Throws when `value` nests deeper than `max`; iterative, so it cannot overflow itself. */
export function assertJsonDepth(value: unknown, max: number, field: string): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= max) throw new InputError(`nests deeper than ${max} levels`, field);
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
}

function resolveTask(raw: unknown, index: number): ResolvedTaskSpec {
  if (typeof raw === 'object' && raw !== null && 'data' in raw) {
    assertJsonDepth(raw.data, MAX_DATA_DEPTH, `tasks[${index}].data`);
    assertStorable(raw.data, `tasks[${index}].data`);
  }
  const parsed = (isApprovalTask(raw) ? approvalTaskSchema : taskSchema).safeParse(raw);
  if (!parsed.success) throw firstIssue(parsed.error, `tasks[${index}]`);
  const task = parsed.data;
  const size = Buffer.byteLength(JSON.stringify(task.data));
  if (size > MAX_DATA_BYTES) {
    throw new InputError(
      `is ${size} bytes; at most 1 MiB (${MAX_DATA_BYTES})`,
      `tasks[${index}].data`,
    );
  }
  return { ...task, data: task.data as { [key: string]: Json } };
}

function checkGraph(tasks: readonly ResolvedTaskSpec[]): void {
  const seen = new Map<string, number>();
  tasks.forEach((t, i) => {
    const first = seen.get(t.key);
    if (first !== undefined) {
      throw new InputError(`duplicate key '${t.key}' (also tasks[${first}])`, `tasks[${i}].key`);
    }
    seen.set(t.key, i);
  });
  tasks.forEach((t, i) => {
    t.dependsOn.forEach((dep, j) => {
      if (!seen.has(dep)) {
        throw new InputError(`unknown task key '${dep}'`, `tasks[${i}].dependsOn[${j}]`);
      }
      if (t.dependsOn.indexOf(dep) !== j) {
        throw new InputError(`'${dep}' is listed twice`, `tasks[${i}].dependsOn[${j}]`);
      }
    });
  });
  const cycle = findCycle(tasks);
  if (cycle) throw new InputError(`cycle: ${cycle.join(' → ')}`, 'tasks', 'plan_cycle');
}

/** Validates a plan object (from a file, a planner or a caller) and applies every default. */
export function resolvePlan(input: unknown): ResolvedPlan {
  const parsed = planSchema.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const { goal, key, budget: rawBudget, onFailure, maxReplans, tasks: rawTasks } = parsed.data;
  const budget = rawBudget === undefined ? null : parseBudget(rawBudget);
  if (rawTasks.length === 0) throw new InputError('the plan has no tasks', 'tasks');
  if (rawTasks.length > MAX_TASKS) {
    throw new InputError(`${rawTasks.length} tasks; at most ${MAX_TASKS}`, 'tasks');
  }
  const tasks = rawTasks.map(resolveTask);
  checkGraph(tasks);
  return { goal, key: key ?? null, budget, onFailure, maxReplans, tasks };
}

/**
 * Tasks to add to a running goal (an extension, a spawn, a repair patch): the list and each task
 * checked like a plan's, defaults applied; the graph rules are the caller's (the goal's tasks
 * count as known keys there).
 */
export function resolveTaskList(input: unknown, field = 'tasks'): ResolvedTaskSpec[] {
  if (!Array.isArray(input)) throw new InputError('must be a list of tasks', field);
  if (input.length === 0) throw new InputError('names no task', field);
  if (input.length > MAX_TASKS) {
    throw new InputError(`${input.length} tasks; at most ${MAX_TASKS}`, field);
  }
  return input.map(resolveTask);
}

/** The plan as stored with its goal: the resolved tasks in the plan-file shape. */
export function toPlanSpec(plan: ResolvedPlan): PlanSpec {
  return {
    goal: plan.goal,
    ...(plan.key ? { key: plan.key } : {}),
    ...(plan.budget ? { budget: plan.budget } : {}),
    ...(plan.onFailure === 'replan'
      ? { onFailure: plan.onFailure, maxReplans: plan.maxReplans }
      : {}),
    tasks: plan.tasks,
  };
}
