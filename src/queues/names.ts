/**
 * Queue and key names. One BullMQ queue per capability; agentq's own queues start with `_`,
 * which no capability may. Every key of a deployment (or of one shard) lives under one Redis
 * Cluster hash tag, so a goal's whole flow is in one slot.
 */
import { InputError } from '../errors';

/** Root jobs, one per goal: completes when every sink task of the goal is done. */
export const GOALS_QUEUE = '_goals';
/**
 * Gate jobs, made only when a shared task fails for good, to fail its second, third, … dependent
 * (see links.ts); also the one-off job that wakes a cancelled goal's root.
 */
export const GATES_QUEUE = '_gates';
/** Dead letters: one job per task whose attempts are exhausted. */
export const DLQ_QUEUE = '_dlq';

/**
 * Approval tasks (a plan task with `approval`): run by no agent. The approval worker parks each
 * one, delayed, once its dependencies have ended, until a person decides (see approvals.ts).
 */
export const APPROVALS_QUEUE = '_approvals';

export const INTERNAL_QUEUES = [GOALS_QUEUE, GATES_QUEUE, DLQ_QUEUE, APPROVALS_QUEUE] as const;

const CAPABILITY = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export function isCapability(name: string): boolean {
  return CAPABILITY.test(name);
}

export function assertCapability(name: string, field = 'type'): void {
  if (!isCapability(name)) {
    throw new InputError(
      `'${name}' is not a capability name: a letter, then letters, digits, '_' or '-', at most 64`,
      field,
    );
  }
}

/** The BullMQ `prefix` of a deployment's shard: `{agentq}` for shard 0, `{agentq.s2}` for 2. */
export function bullPrefix(prefix: string, shard = 0): string {
  return shard === 0 ? `{${prefix}}` : `{${prefix}.s${shard}}`;
}

/** Keys agentq keeps beside BullMQ's, under the same hash tag. */
export function agentqKey(prefix: string, ...parts: string[]): string {
  return [bullPrefix(prefix), 'agentq', ...parts].join(':');
}
