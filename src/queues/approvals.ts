/**
 * Approvals: plan tasks with `approval`, run by no agent. An approval task's job lives in the
 * `_approvals` queue of its shard, in the goal's flow like any task, so BullMQ makes it ready when
 * its dependencies have ended. The approval worker (one per shard, started with the internal
 * workers) then *parks* it: it records when it began to wait (`since`) and its deadline in the
 * task's approval hash, and moves the job to delayed until the deadline (or the next re-check).
 * No worker holds a waiting approval, so thousands may wait for days; a restart loses nothing
 * (the deadline is a delayed job and a hash in Redis).
 *
 * A decision — `task approve`, `task reject`, or the timeout — is written once, atomically
 * (HSETNX of `decision` on the parked task's hash: the first decision wins, any other is a
 * ConflictError), then the job is promoted; the worker takes it again and ends it: DONE with
 * `{ approved: true, by, note, data }`, or FAILED with `rejected by <actor>: <reason>`. Before it
 * ends it reports `started` with the decider as the agent id, so SQL records PENDING → ASSIGNED →
 * ACTIVE → DONE/FAILED like any other task (the task lifecycle is unchanged): a task awaits
 * approval while it is PENDING in `_approvals` and parked (since = `since`).
 * A decision whose promote was lost (the deciding process died between the two) is found by the
 * worker's re-check at the latest `APPROVAL_RECHECK_MS` later.
 */
import { DelayedError, Job, UnrecoverableError, type Processor } from 'bullmq';
import type { Json } from '../entities/task-model';
import { ConflictError, NotFoundError } from '../errors';
import { JOB_FIELDS, jobKey } from './bullmq-internals';
import type { RedisConnection } from './connection';
import { APPROVALS_QUEUE } from './names';
import {
  cancelledReason,
  goalIdOfTaskId,
  shardOf,
  type TaskProgressMessage,
  type TaskResultEnvelope,
} from './protocol';
import type { RedisCoordinator } from './redis-coordinator';
import type { TaskJobData } from './task-job';

/** How long a parked approval waits at most before the worker looks at it again. */
export const APPROVAL_RECHECK_MS = 5 * 60_000;
/** The decider of a timeout. */
export const TIMEOUT_ACTOR = 'timeout';
/** How long an ended approval's hash is kept (a late approve still answers 409). */
const DECIDED_KEEP_MS = 24 * 3600 * 1000;

/** What was decided, as the approval hash holds it (JSON). */
export interface ApprovalDecision {
  approved: boolean;
  by: string;
  note?: string;
  data?: Json;
  reason?: string;
  at: number;
}

/** A parked approval as Redis holds it. */
export interface ApprovalWait {
  taskId: string;
  since: number;
  deadline: number | null;
  decision: ApprovalDecision | null;
}

/** The approval result a dependent gets under the approval task's key. */
export interface ApprovalResult {
  approved: true;
  by: string;
  note: string | null;
  data: Json;
  [key: string]: Json;
}

/** The hash of an approval task: `since`, `deadline`, `decision`. Same hash tag as its job. */
export function approvalKey(c: RedisCoordinator, shard: number, taskId: string): string {
  return `${c.bullPrefix(shard)}:agentq:approval:${taskId}`;
}

/**
 * KEYS[1] the approval hash. ARGV[1] now, ARGV[2] timeoutMs or '', ARGV[3] the timeout decision
 * (JSON). Records `since` and `deadline` the first time; decides by timeout when the deadline has
 * passed and nobody decided. Returns { since, deadline or '', decision or '' }.
 */
const PARK_LUA = `
local now = tonumber(ARGV[1])
redis.call('HSETNX', KEYS[1], 'since', ARGV[1])
if ARGV[2] ~= '' then
  redis.call('HSETNX', KEYS[1], 'deadline', tostring(tonumber(redis.call('HGET', KEYS[1], 'since')) + tonumber(ARGV[2])))
end
local deadline = redis.call('HGET', KEYS[1], 'deadline')
local decision = redis.call('HGET', KEYS[1], 'decision')
if (not decision) and deadline and tonumber(deadline) <= now then
  redis.call('HSET', KEYS[1], 'decision', ARGV[3])
  decision = ARGV[3]
end
return { redis.call('HGET', KEYS[1], 'since'), deadline or '', decision or '' }
`;

/**
 * KEYS[1] the approval hash, KEYS[2] the task's job hash. ARGV[1] the decision (JSON).
 * Returns 1 decided, 0 not parked (not awaiting approval), -1 the job is gone, -2 already decided.
 */
const DECIDE_LUA = `
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
if redis.call('HEXISTS', KEYS[2], '${JOB_FIELDS.finishedOn}') == 1 then return -2 end
if redis.call('HEXISTS', KEYS[1], 'since') == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'decision', ARGV[1]) == 0 then return -2 end
return 1
`;

type ApprovalClient = RedisConnection & {
  agentqParkApproval(numKeys: number, ...args: string[]): Promise<[string, string, string]>;
  agentqDecideApproval(numKeys: number, ...args: string[]): Promise<number>;
};

const defined = new WeakSet<object>();

function approvalClient(client: RedisConnection): ApprovalClient {
  if (!defined.has(client)) {
    client.defineCommand('agentqParkApproval', { lua: PARK_LUA });
    client.defineCommand('agentqDecideApproval', { lua: DECIDE_LUA });
    defined.add(client);
  }
  return client as ApprovalClient;
}

function parseDecision(raw: string | null | undefined): ApprovalDecision | null {
  return raw ? (JSON.parse(raw) as ApprovalDecision) : null;
}

/** The failure reason of a rejected approval. */
export function rejectedReason(by: string, reason: string | undefined): string {
  return `rejected by ${by}: ${reason?.trim() || 'no reason given'}`;
}

/** `rejected by cli: …` → `cli`; null for any other reason. */
export function rejectedActorOf(reason: string): string | null {
  const match = /^rejected by (.+?): /.exec(reason);
  return match?.[1] ?? null;
}

/** The processor of a shard's `_approvals` queue: parks approvals, ends decided ones. */
export function createApprovalProcessor(
  c: RedisCoordinator,
  shard: number,
): Processor<TaskJobData, TaskResultEnvelope> {
  return async (job, token) => {
    const data = job.data;
    if (data.kind !== 'task' || !data.approval) {
      throw new UnrecoverableError(`job ${job.id} is not an approval task`);
    }
    if (data.cancelled) throw new UnrecoverableError(cancelledReason(data.cancelled.actor));
    const key = approvalKey(c, shard, data.taskId);
    const now = Date.now();
    const timeout = data.approval.timeoutMs;
    const onTimeout: ApprovalDecision = {
      approved: data.approval.onTimeout === 'approve',
      by: TIMEOUT_ACTOR,
      ...(data.approval.onTimeout === 'approve'
        ? { note: `no decision within ${timeout} ms` }
        : { reason: `no decision within ${timeout} ms` }),
      at: now,
    };
    const [, deadlineRaw, decisionRaw] = await approvalClient(c.client).agentqParkApproval(
      1,
      key,
      String(now),
      timeout === undefined ? '' : String(timeout),
      JSON.stringify(onTimeout),
    );
    const decision = parseDecision(decisionRaw);
    if (decision) return end(job, decision);
    const deadline = deadlineRaw ? Number(deadlineRaw) : Infinity;
    await job.moveToDelayed(Math.min(deadline, now + APPROVAL_RECHECK_MS), token);
    // A decision written while we held the job found nothing to promote: promote it ourselves.
    if ((await c.client.hexists(key, 'decision')) === 1) await job.promote().catch(() => undefined);
    throw new DelayedError();
  };
}

async function end(
  job: Job<TaskJobData, TaskResultEnvelope>,
  decision: ApprovalDecision,
): Promise<TaskResultEnvelope> {
  const attempt = job.attemptsMade + 1;
  const started: TaskProgressMessage = {
    phase: 'started',
    agentId: decision.by,
    attempt,
    claimedAt: decision.at,
    startedAt: decision.at,
  };
  await job.updateProgress(started);
  if (!decision.approved)
    throw new UnrecoverableError(rejectedReason(decision.by, decision.reason));
  const result: ApprovalResult = {
    approved: true,
    by: decision.by,
    note: decision.note ?? null,
    data: decision.data ?? null,
  };
  return {
    v: 1,
    key: job.data.key,
    result,
    agentId: decision.by,
    attempt,
    startedAt: decision.at,
    finishedAt: Math.max(Date.now(), decision.at),
    actor: decision.by,
    ...(decision.note ? { note: decision.note } : {}),
  };
}

/** After an approval job ended: its hash is kept a day (a late decision answers 409), then goes. */
export async function forgetApproval(
  c: RedisCoordinator,
  shard: number,
  taskId: string,
): Promise<void> {
  await c.client.pexpire(approvalKey(c, shard, taskId), DECIDED_KEEP_MS);
}

/** Reads a task's parked approval; null when it is not parked (or not an approval). */
export async function readApprovalWait(
  c: RedisCoordinator,
  taskId: string,
): Promise<ApprovalWait | null> {
  const shard = shardOf(goalIdOfTaskId(taskId), c.shards);
  const [since, deadline, decision] = await c.client.hmget(
    approvalKey(c, shard, taskId),
    'since',
    'deadline',
    'decision',
  );
  if (!since) return null;
  return {
    taskId,
    since: Number(since),
    deadline: deadline ? Number(deadline) : null,
    decision: parseDecision(decision),
  };
}

/**
 * Decides a parked approval once: ConflictError when it is not awaiting approval (not parked yet,
 * already decided, or ended), NotFoundError when its job is gone. Then promotes the job so the
 * approval worker ends it.
 */
export async function decideApproval(
  c: RedisCoordinator,
  taskId: string,
  decision: ApprovalDecision,
): Promise<void> {
  const shard = shardOf(goalIdOfTaskId(taskId), c.shards);
  const queue = c.queue(APPROVALS_QUEUE, shard);
  const outcome = await approvalClient(c.client).agentqDecideApproval(
    2,
    approvalKey(c, shard, taskId),
    jobKey(c.bullPrefix(shard), APPROVALS_QUEUE, taskId),
    JSON.stringify(decision),
  );
  if (outcome === -1) throw new NotFoundError('task', taskId);
  if (outcome === 0) throw new ConflictError(`task ${taskId} is not awaiting approval`);
  if (outcome === -2) {
    const wait = await readApprovalWait(c, taskId);
    const by = wait?.decision
      ? ` (${wait.decision.approved ? 'approved' : 'rejected'} by ${wait.decision.by})`
      : '';
    throw new ConflictError(`task ${taskId} is not awaiting approval: already decided${by}`);
  }
  const job = await Job.fromId(queue, taskId);
  // Not delayed: the worker holds it right now and promotes it itself when it parks it again.
  await job?.promote().catch(() => undefined);
}

/** How many approvals are parked (awaiting a decision) over every shard: `/metrics`. */
export async function countAwaitingApprovals(c: RedisCoordinator): Promise<number> {
  let count = 0;
  for (let shard = 0; shard < c.shards; shard++) {
    count += await c.queue(APPROVALS_QUEUE, shard).getDelayedCount();
  }
  return count;
}

/** A task awaiting approval, for `status`, `task show`, the API and the goal page. */
export interface AwaitingApproval {
  taskId: string;
  goalId: string;
  key: string;
  title: string;
  prompt: string | null;
  /** When it began to wait for a person (its dependencies had ended). */
  since: Date;
  /** When its timeout decides; null when it has none. */
  deadline: Date | null;
  onTimeout: 'approve' | 'reject';
}

function awaitingOf(data: TaskJobData, wait: ApprovalWait): AwaitingApproval {
  return {
    taskId: data.taskId,
    goalId: data.goalId,
    key: data.key,
    title: data.title,
    prompt: data.approval?.prompt ?? null,
    since: new Date(wait.since),
    deadline: wait.deadline === null ? null : new Date(wait.deadline),
    onTimeout: data.approval?.onTimeout ?? 'reject',
  };
}

/**
 * The tasks awaiting approval (parked, undecided) on every shard, oldest first: `count` in all,
 * `tasks` the first `limit` of each shard.
 */
export async function listAwaitingApprovals(
  c: RedisCoordinator,
  limit = 50,
): Promise<{ count: number; tasks: AwaitingApproval[] }> {
  let count = 0;
  const tasks: AwaitingApproval[] = [];
  for (let shard = 0; shard < c.shards; shard++) {
    const queue = c.queue(APPROVALS_QUEUE, shard);
    count += await queue.getDelayedCount();
    if (limit <= 0) continue;
    const jobs = (await queue.getDelayed(0, limit - 1)) as Array<Job<TaskJobData>>;
    for (const job of jobs) {
      if (!job?.data?.approval) continue;
      const wait = await readApprovalWait(c, job.data.taskId);
      if (wait && !wait.decision) tasks.push(awaitingOf(job.data, wait));
    }
  }
  tasks.sort((a, b) => a.since.getTime() - b.since.getTime());
  return { count, tasks: tasks.slice(0, Math.max(0, limit)) };
}

/** One task's approval as `task show` reports it; null when the task is no approval. */
export interface ApprovalState {
  prompt: string | null;
  timeoutMs: number | null;
  onTimeout: 'approve' | 'reject';
  /** Set while it awaits a decision. */
  awaitingSince: Date | null;
  deadline: Date | null;
  decision: ApprovalDecision | null;
}

export async function approvalStateOf(
  c: RedisCoordinator,
  taskId: string,
): Promise<ApprovalState | null> {
  const shard = shardOf(goalIdOfTaskId(taskId), c.shards);
  const [job, wait] = await Promise.all([
    Job.fromId<TaskJobData>(c.queue(APPROVALS_QUEUE, shard), taskId),
    readApprovalWait(c, taskId),
  ]);
  const approval = job?.data?.approval;
  if (!approval && !wait) return null;
  const finished = typeof job?.finishedOn === 'number';
  return {
    prompt: approval?.prompt ?? null,
    timeoutMs: approval?.timeoutMs ?? null,
    onTimeout: approval?.onTimeout ?? 'reject',
    awaitingSince: wait && !wait.decision && !finished ? new Date(wait.since) : null,
    deadline: wait?.deadline ? new Date(wait.deadline) : null,
    decision: wait?.decision ?? null,
  };
}

/**
 * Before a goal's flow is rebuilt (`agentq recover`, a re-opened goal): each approval task starts
 * afresh — no old decision — and one that was awaiting approval keeps its `since` (so its
 * deadline too) when `since` is given.
 */
export async function resetApprovals(
  c: RedisCoordinator,
  shard: number,
  approvals: ReadonlyArray<{ taskId: string; since: number | null }>,
): Promise<void> {
  for (const { taskId, since } of approvals) {
    const key = approvalKey(c, shard, taskId);
    await c.client.del(key);
    if (since !== null) await c.client.hset(key, 'since', String(since));
  }
}
