/**
 * The budget gate of the agent's job path: before a task's handler starts, a task of a PAUSED
 * goal is held — moved to delayed (no attempt charged) and put in the goal's held set, which a
 * resume promotes — and any other run of a goal with a budget record is counted as running until
 * it settles (its run time then adds to the goal's `wallMs`). A killed agent's task that BullMQ
 * hands to another agent passes the gate again, so a PAUSED goal's tasks stay held however they
 * come back. Goals without a budget record cost one round trip per attempt.
 */
import { DelayedError, type Job } from 'bullmq';
import {
  addGoalUsage,
  passGate,
  readGoalBudget,
  runRef,
  type GateAnswer,
} from '../queues/goal-budget';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import type { TaskJobData } from '../queues/task-job';

/**
 * How long a held task waits when no resume promotes it (a resume that came between the gate
 * and the move is caught by the hold itself): it then meets the gate again.
 */
export const HOLD_MS = 10 * 60_000;

/** A run that passed the gate: settle it when it ends. */
export interface GatedRun {
  ref: string;
  /** The goal had a budget record when the run started, or the run reported use. */
  tracked: boolean;
  startedAt: number;
}

/** Holds the job (throws DelayedError) when its goal is PAUSED; otherwise the run to settle. */
export async function holdIfPaused(
  coordinator: RedisCoordinator,
  job: Job<TaskJobData>,
  token: string,
): Promise<GatedRun> {
  const data = job.data;
  const ref = runRef(data.shard, job.queueName, job.id!);
  const answer: GateAnswer = await passGate(coordinator, data.goalId, ref);
  if (answer === 'held') {
    await job.log('[agentq] held: its goal is paused');
    await job.moveToDelayed(Date.now() + HOLD_MS, token);
    // A resume between the gate and the move found nothing to promote: promote it here.
    const record = await readGoalBudget(coordinator, data.goalId);
    if (record?.state !== 'PAUSED') await job.promote().catch(() => undefined);
    throw new DelayedError();
  }
  return { ref, tracked: answer === 'run', startedAt: Date.now() };
}

/** Ends a run: its run time adds to the goal's `wallMs`, and it no longer counts as running. */
export async function settleRun(
  coordinator: RedisCoordinator,
  data: TaskJobData,
  run: GatedRun,
): Promise<void> {
  if (!run.tracked) return;
  await addGoalUsage(
    coordinator,
    data.goalId,
    data.taskId,
    { wallMs: Date.now() - run.startedAt },
    run.ref,
  );
}
