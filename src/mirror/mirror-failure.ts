/**
 * A job BullMQ failed because a child failed (`failParentOnFailure`) carries the reason
 * `child <bullPrefix>:<queue>:<jobId> failed`. The mirror records it as FAILED by that
 * dependency — or as CANCELLED when the child was itself cancelled, so a cancel spreads as a
 * cancel. A gate child (`_gates`, id `<sourceTaskId>~<dependentKey>`) stands for its source task.
 */
import { isCancelledReason } from '../queues/protocol';
import { GATES_QUEUE } from '../queues/names';
import type { MirrorLookups } from './mirror-lookups';
import { taskKeyOf } from './channel-payload';

export type ChildFailure =
  { cancelled: true; reason: string } | { cancelled: false; dependency: string };

const CHILD_FAILED = /^child (.+) failed$/;

/** The dependency key a `child … failed` job key names. */
export function dependencyOfChildKey(childKey: string): string {
  const idStart = childKey.lastIndexOf(':');
  const jobId = childKey.slice(idStart + 1);
  const queue = childKey.slice(childKey.lastIndexOf(':', idStart - 1) + 1, idStart);
  if (queue === GATES_QUEUE) {
    const tilde = jobId.indexOf('~');
    return taskKeyOf(tilde < 0 ? jobId : jobId.slice(0, tilde));
  }
  return taskKeyOf(jobId);
}

/** Null when the reason is not a child failure. */
export async function childFailureOf(
  reason: string,
  lookups: Pick<MirrorLookups, 'failedReasonOf'>,
): Promise<ChildFailure | null> {
  const match = CHILD_FAILED.exec(reason);
  if (!match?.[1]) return null;
  const childKey = match[1];
  const childReason = await lookups.failedReasonOf(childKey);
  if (isCancelledReason(childReason)) return { cancelled: true, reason: childReason! };
  return { cancelled: false, dependency: dependencyOfChildKey(childKey) };
}
