/**
 * A goal's budget as written in a plan (`"budget": { "tokens"?, "costUsd"?, "wallMs"? }`), in
 * `agentq goal budget` and in `POST /api/goals/:id/budget`: checked in one place, so each says
 * the same thing about the same mistake (an InputError naming the field: `budget.tokens`).
 */
import { z } from 'zod';
import type { GoalBudget } from '../entities/task-model';
import { InputError } from '../errors';

/** Large enough for any real budget, small enough that sums stay exact in a double. */
export const MAX_BUDGET = 1e15;

const whole = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .positive('must be more than 0')
  .max(MAX_BUDGET, `must be at most ${MAX_BUDGET}`);

export const budgetSchema = z
  .strictObject(
    {
      tokens: whole.optional(),
      costUsd: z
        .number({ error: 'must be a number' })
        .positive('must be more than 0')
        .max(MAX_BUDGET, `must be at most ${MAX_BUDGET}`)
        .optional(),
      wallMs: whole.optional(),
    },
    { error: 'must be an object with tokens, costUsd and/or wallMs' },
  )
  .refine((b) => b.tokens !== undefined || b.costUsd !== undefined || b.wallMs !== undefined, {
    message: 'name at least one of tokens, costUsd, wallMs',
  });

/** The budget in `value`, or an InputError naming the field under `field`. */
export function parseBudget(value: unknown, field = 'budget'): GoalBudget {
  const parsed = budgetSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String);
    // An unknown key is named as the field it is (`budget.tokenz`).
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const where = [field, ...path, ...keys.slice(0, 1)].filter(Boolean).join('.');
    const message =
      keys.length > 0 ? 'is not a budget field (tokens, costUsd, wallMs)' : issue.message;
    throw new InputError(message, where || 'budget');
  }
  const out: GoalBudget = {};
  if (parsed.data.tokens !== undefined) out.tokens = parsed.data.tokens;
  if (parsed.data.costUsd !== undefined) out.costUsd = parsed.data.costUsd;
  if (parsed.data.wallMs !== undefined) out.wallMs = parsed.data.wallMs;
  return out;
}

const amount = z
  .number({ error: 'must be a number' })
  .min(0, 'must be 0 or more')
  .max(MAX_BUDGET, `must be at most ${MAX_BUDGET}`)
  .optional();

const usageSchema = z.strictObject(
  { tokens: amount, costUsd: amount },
  { error: 'must be an object with tokens and/or costUsd' },
);

/** What a handler reports through `ctx.usage({ tokens?, costUsd? })`. */
export interface UsageReport {
  tokens?: number;
  costUsd?: number;
}

/** A use report from a handler, or an InputError naming the field (`usage.tokens`). */
export function parseUsage(value: unknown, field = 'usage'): Required<UsageReport> {
  const parsed = usageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const where = [field, ...issue.path.map(String), ...keys.slice(0, 1)].join('.');
    throw new InputError(
      keys.length > 0 ? 'is not a usage field (tokens, costUsd)' : issue.message,
      where,
    );
  }
  return { tokens: parsed.data.tokens ?? 0, costUsd: parsed.data.costUsd ?? 0 };
}
