/**
 * Text every store can hold. PostgreSQL refuses a NUL byte in `text`/`varchar` and a lone UTF-16
 * surrogate in `jsonb` (and would silently turn one into U+FFFD in `text`); SQLite and the JSON
 * store take both. So one rule for all of them, checked where input enters (plan validation, the
 * REST body, path and query), turns what would be a 500 on PostgreSQL into a 400 everywhere.
 */
import { InputError } from '../errors';

/** A NUL, or a surrogate half without its other half. */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be stored, or null when it can. */
export function unstorableReason(text: string): string | null {
  const match = UNSTORABLE.exec(text);
  if (!match) return null;
  return match[0] === '\u0000'
    ? 'must not contain a NUL character (U+0000)'
    : 'must not contain a lone UTF-16 surrogate (malformed Unicode)';
}

/** Zod refinement form: true when every store can hold `text`. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

function childField(field: string, key: string | number): string {
  return typeof key === 'number' ? `${field}[${key}]` : field ? `${field}.${key}` : key;
}

/**
 * Throws an `InputError` naming the first string (or object key) in `value` that no store can
 * hold. Iterative, so a deep value cannot overflow the stack.
 */
export function assertStorable(value: unknown, field: string): void {
  const stack: Array<[unknown, string]> = [[value, field]];
  while (stack.length > 0) {
    const [node, where] = stack.pop()!;
    if (typeof node === 'string') {
      const reason = unstorableReason(node);
      if (reason) throw new InputError(reason, where || 'body');
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      node.forEach((child, i) => stack.push([child, childField(where, i)]));
      continue;
    }
    for (const [key, child] of Object.entries(node)) {
      const reason = unstorableReason(key);
      if (reason) throw new InputError(`a key ${reason}`, where || 'body');
      stack.push([child, childField(where, key)]);
    }
  }
}
