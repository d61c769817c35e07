/**
 * zod schemas → typed input or an `InputError` naming the first bad field, so every operation and
 * every route validates the same way (HTTP 400 with `field`, CLI exit 2).
 */
import type { z } from 'zod';
import { InputError } from '../../errors';

/** Parses `value` with `schema`; `where` is the field named when the value itself is wrong. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  throw new InputError(issue?.message ?? 'invalid', path ? path : where);
}
