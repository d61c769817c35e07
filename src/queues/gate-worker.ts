/**
 * The `_gates` processor. A gate is added under a further dependent when a shared task that is not
 * optional fails for good (see links.ts): the gate fails for good and fails its dependent
 * (failParentOnFailure). The other branches — a completed source hands its result on, an optional
 * one `{ error }`, an unfinished one is looked at again after `GATE_RECHECK_MS` — serve the gates
 * of goals written before links (a delayed gate per further dependent), so a goal in flight across
 * an upgrade still ends. It also runs the one-off job that wakes a cancelled goal's root.
 */
import { DelayedError, Job, UnrecoverableError, type Processor } from 'bullmq';
import type { GoalCancelJobData } from './cancellation';
import { cancelledReason, type GateResultEnvelope, type TaskResultEnvelope } from './protocol';
import type { RedisCoordinator } from './redis-coordinator';
import type { GateJobData } from './task-job';

/** How long a gate whose source has not ended waits before it looks again. */
export const GATE_RECHECK_MS = 60_000;

export function createGateProcessor(
  coordinator: RedisCoordinator,
  shard: number,
): Processor<GateJobData | GoalCancelJobData, GateResultEnvelope> {
  return async (job, token) => {
    const data = job.data;
    if (data.kind === 'cancel') throw new UnrecoverableError(cancelledReason(data.actor));
    const queue = coordinator.queue(data.sourceType, shard);
    const source = await Job.fromId<unknown, TaskResultEnvelope>(queue, data.sourceTaskId);
    const state = source ? await source.getState() : 'unknown';
    if (state === 'completed') {
      return { v: 1, key: data.sourceKey, result: source!.returnvalue?.result ?? null };
    }
    if (state === 'failed' || state === 'unknown') {
      if (data.sourceOptional) {
        const message = source?.failedReason || 'removed';
        return { v: 1, key: data.sourceKey, error: { message } };
      }
      throw new UnrecoverableError(`dependency ${data.sourceKey} failed`);
    }
    await job.moveToDelayed(Date.now() + GATE_RECHECK_MS, token);
    throw new DelayedError();
  };
}
