/**
 * Goal ids: `g-<16 hex>`. From the plan's idempotency key when it has one (the same key always
 * names the same goal, so a resubmit finds it), random otherwise.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { GoalId } from './task-job';

export function goalIdFor(key: string | null | undefined): GoalId {
  const hex = key
    ? createHash('sha256').update(key).digest('hex').slice(0, 16)
    : randomBytes(8).toString('hex');
  return `g-${hex}`;
}
