/**
 * Gates carry a shared task's result to its second, third, … dependent (BullMQ flows are trees:
 * a job has one parent). The compiler adds each gate as a long-delayed child of its dependent;
 * whoever sees the source task end for good (the agent that ran it, or the reconciler after a
 * crash) promotes the gate, and the gate worker hands the result on or fails the dependent.
 */
import { Job } from 'bullmq';
import { GATES_QUEUE } from './names';
import type { RedisCoordinator } from './redis-coordinator';

/** How long a gate waits before its own re-check when nobody released it: the reconciler's net. */
export const GATE_RECHECK_MS = 60_000;

/** Promotes the delayed gate jobs of a task that ended; a gate already promoted is left alone. */
export async function releaseGates(
  coordinator: RedisCoordinator,
  shard: number,
  gateIds: readonly string[],
): Promise<void> {
  if (gateIds.length === 0) return;
  const queue = coordinator.queue(GATES_QUEUE, shard);
  await Promise.all(
    gateIds.map(async (id) => {
      const job = await Job.fromId(queue, id);
      if (!job) return;
      try {
        await job.promote();
      } catch {
        // Not delayed any more: promoted by someone else, or already processed.
      }
    }),
  );
}
