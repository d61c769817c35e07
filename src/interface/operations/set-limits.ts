/**
 * Capability limits (`agentq limits set|clear`, `PUT /api/limits/:capability`): validated once,
 * written to SQL (the copy `agentq recover` restores) and then to Redis, where BullMQ and the
 * agents enforce them from their next claim on. Bad input: an InputError naming the field, and
 * nothing written anywhere.
 */
import { assertShardable, parseCapabilityLimits } from '../../queues/capability-limits';
import type { CapabilityLimits } from '../../entities/task-model';
import { assertCapability } from '../../queues/names';
import type { Actor, OperationDeps } from './deps';

export interface SetLimitsInput {
  capability: string;
  /** Replaces every limit the capability had: name each one you want. */
  limits: unknown;
}

export interface LimitsOutcome {
  capability: string;
  /** What holds now; `null` after a clear. */
  limits: CapabilityLimits | null;
}

export async function setLimits(
  deps: OperationDeps,
  input: SetLimitsInput,
  _actor: Actor,
): Promise<LimitsOutcome> {
  assertCapability(input.capability, 'capability');
  const limits = parseCapabilityLimits(input.limits);
  assertShardable(limits, deps.coordinator.shards);
  await deps.store.putCapabilityLimits({
    capability: input.capability,
    limits,
    updatedAt: new Date(),
  });
  await deps.coordinator.setCapabilityLimits(input.capability, limits);
  return { capability: input.capability, limits };
}

export async function clearLimits(
  deps: OperationDeps,
  input: { capability: string },
  _actor: Actor,
): Promise<LimitsOutcome & { cleared: boolean }> {
  assertCapability(input.capability, 'capability');
  const inSql = await deps.store.deleteCapabilityLimits(input.capability);
  const inRedis = await deps.coordinator.clearCapabilityLimits(input.capability);
  return { capability: input.capability, limits: null, cleared: inSql || inRedis };
}
