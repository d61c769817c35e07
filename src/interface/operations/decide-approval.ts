/**
 * Approving and rejecting an approval task (a plan task with `approval`, see
 * queues/approvals.ts). The rule, the same for REST, CLI and library: only a task that awaits
 * approval — an approval task whose dependencies have ended, parked by the approval worker, not
 * decided yet — may be decided, once; anything else is a ConflictError (409 / exit 1). Approved:
 * DONE with `{ approved: true, by, note, data }`; rejected: FAILED with
 * `rejected by <actor>: <reason>`. The actor lands in the audit log with the note or reason.
 */
import { z } from 'zod';
import type { Json } from '../../entities/task-model';
import { isTerminal } from '../../entities/task-state';
import { ConflictError, InputError, NotFoundError } from '../../errors';
import { decideApproval } from '../../queues/approvals';
import { APPROVALS_QUEUE } from '../../queues/names';
import {
  assertJsonDepth,
  MAX_DATA_BYTES,
  MAX_DATA_DEPTH,
  MAX_DESCRIPTION_CHARS,
  storableString,
} from '../../queues/plan-schema';
import { assertStorable } from '../../queues/storable-text';
import type { Actor, OperationDeps } from './deps';
import { parseInput } from './parse-input';

export interface ApproveTaskInput {
  taskId: string;
  /** Why, for the audit log and the dependents. */
  note?: string;
  /** Any JSON the dependents get as `data` of the approval's result. */
  data?: Json;
}

export interface RejectTaskInput {
  taskId: string;
  reason?: string;
}

export interface DecisionOutcome {
  taskId: string;
  approved: boolean;
  by: string;
}

/** At most this many characters in a note or reason. */
export const MAX_NOTE_CHARS = MAX_DESCRIPTION_CHARS;

export const approveTaskSchema = z.object({
  note: storableString(MAX_NOTE_CHARS).optional(),
  data: z.json().optional(),
});

export const rejectTaskSchema = z.object({
  reason: storableString(MAX_NOTE_CHARS).optional(),
});

function checkData(data: unknown): void {
  if (data === undefined) return;
  assertJsonDepth(data, MAX_DATA_DEPTH, 'data');
  assertStorable(data, 'data');
  const size = Buffer.byteLength(JSON.stringify(data));
  if (size > MAX_DATA_BYTES) throw new InputError(`is ${size} bytes; at most 1 MiB`, 'data');
}

async function requireApprovalTask(deps: OperationDeps, taskId: string): Promise<void> {
  const task = await deps.store.getTask(taskId);
  if (!task) throw new NotFoundError('task', taskId);
  if (task.type !== APPROVALS_QUEUE) {
    throw new ConflictError(`task ${task.id} is not an approval task (type ${task.type})`);
  }
  if (isTerminal(task.state)) {
    throw new ConflictError(`task ${task.id} is ${task.state}: not awaiting approval`);
  }
}

/** Approves a task awaiting approval: it ends DONE and its dependents run. */
export async function approveTask(
  deps: OperationDeps,
  input: ApproveTaskInput,
  actor: Actor,
): Promise<DecisionOutcome> {
  checkData(input.data);
  const { note, data } = parseInput(
    approveTaskSchema,
    { note: input.note, data: input.data },
    'input',
  );
  await requireApprovalTask(deps, input.taskId);
  const by = actor ?? 'unknown';
  await decideApproval(deps.coordinator, input.taskId, {
    approved: true,
    by,
    ...(note !== undefined ? { note } : {}),
    ...(data !== undefined ? { data: data as Json } : {}),
    at: Date.now(),
  });
  return { taskId: input.taskId, approved: true, by };
}

/** Rejects a task awaiting approval: it ends FAILED, and the goal's failure policy applies. */
export async function rejectTask(
  deps: OperationDeps,
  input: RejectTaskInput,
  actor: Actor,
): Promise<DecisionOutcome> {
  const { reason } = parseInput(rejectTaskSchema, { reason: input.reason }, 'input');
  await requireApprovalTask(deps, input.taskId);
  const by = actor ?? 'unknown';
  await decideApproval(deps.coordinator, input.taskId, {
    approved: false,
    by,
    ...(reason !== undefined ? { reason } : {}),
    at: Date.now(),
  });
  return { taskId: input.taskId, approved: false, by };
}
