/**
 * Gates hold a shared task's second, third, … dependent back until it ends (BullMQ flows are
 * trees: a job has one parent). The compiler adds each gate as a long-delayed child of its
 * dependent. Whoever sees the source task end for good (the agent that ran it, or the reconciler
 * after a crash) releases its gates:
 * - source COMPLETED and compiled with `gateRelease: 'remove'`: each gate is removed (one Lua call,
 *   BullMQ's removeJob, which also takes it off the dependent's pending children and moves the
 *   dependent to wait when it was the last one). No gate job runs; the dependent's agent reads the
 *   result from the source job (`fetchGatedResults`).
 * - otherwise (a failure, an older job, the reconciler): the gate is promoted and the gate worker
 *   hands the result on or fails the dependent.
 */
import { Job } from 'bullmq';
import { GATES_QUEUE } from './names';
import type { RedisCoordinator } from './redis-coordinator';
import type { TaskJobData } from './task-job';

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

/**
 * Releases the gates of a task that COMPLETED. Removable gates are removed; one that is running
 * already (locked: removeJob leaves it) finishes through the gate worker as before.
 */
export async function releaseGatesOfCompleted(
  coordinator: RedisCoordinator,
  data: Pick<TaskJobData, 'shard' | 'gates' | 'gateRelease'>,
): Promise<void> {
  if (data.gates.length === 0) return;
  if (data.gateRelease !== 'remove') return releaseGates(coordinator, data.shard, data.gates);
  const queue = coordinator.queue(GATES_QUEUE, data.shard);
  await Promise.all(data.gates.map((id) => queue.remove(id, { removeChildren: false })));
}
