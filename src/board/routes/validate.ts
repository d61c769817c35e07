/**
 * zod schemas → typed input or an `InputError` naming the first bad field, so every route
 * validates the same way and answers 400 with `field`.
 */
import type { z } from 'zod';
import { InputError } from '../../errors';

/** Parses `value` with `schema`; `where` prefixes the field (`query`, `body`, `params`). */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = path ? path : where;
  throw new InputError(issue?.message ?? 'invalid', field);
}
