/**
 * JSON with object keys sorted at every level and dates as ISO strings, so files written by
 * the json store diff well under git.
 */
export function stableStringify(value: unknown, indent = 2): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(source).sort()) {
      if (source[key] !== undefined) sorted[key] = sortKeys(source[key]);
    }
    return sorted;
  }
  return value;
}

/** Turns the ISO strings of the named fields back into dates (null stays null). */
export function reviveDates<T>(record: Record<string, unknown>, fields: readonly string[]): T {
  for (const field of fields) {
    const value = record[field];
    if (typeof value === 'string') record[field] = new Date(value);
  }
  return record as T;
}
