/**
 * A handler's result must be JSON: it is stored by BullMQ, mirrored to SQL and handed to
 * dependents. `JSON.stringify` would silently drop or mangle what is not, so check it first.
 */
import { UnrecoverableError } from 'bullmq';
import type { Json } from '../entities/task-model';

function describe(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : String(value);
    case 'object':
      if (value === null || Array.isArray(value)) return null;
      {
        const proto = Object.getPrototypeOf(value) as unknown;
        if (proto === Object.prototype || proto === null) return null;
        return `a ${(value as object).constructor?.name ?? 'class instance'}`;
      }
    default:
      return `a ${typeof value}`;
  }
}

/**
 * Throws an `UnrecoverableError` (a retry would return the same thing) naming the first part of
 * `value` that is not JSON: a function, `undefined` inside it, NaN, a Date, a Map, a cycle, …
 */
export function assertJson(value: unknown, what: string): asserts value is Json {
  const seen = new Set<object>();
  const visit = (v: unknown, path: string): void => {
    const bad = describe(v);
    if (bad !== null) {
      throw new UnrecoverableError(`${what} is not JSON: ${path} is ${bad}`);
    }
    if (typeof v !== 'object' || v === null) return;
    if (seen.has(v)) throw new UnrecoverableError(`${what} is not JSON: ${path} is circular`);
    seen.add(v);
    if (Array.isArray(v)) v.forEach((item, i) => visit(item, `${path}[${i}]`));
    else for (const [k, item] of Object.entries(v)) visit(item, `${path}.${k}`);
    seen.delete(v);
  };
  visit(value, 'result');
}
