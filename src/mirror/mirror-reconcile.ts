/**
 * When an events stream was trimmed past the mirror's cursor, the entries in between are gone:
 * the mirror reads the BullMQ jobs of the SQL tasks that are not final and writes the
 * transitions they missed (with the steps the transition table requires in between).
 */
import { Job, type Queue } from 'bullmq';
import type { GoalState, TaskChange } from '../entities/task-model';
import type { TaskStateRow, TaskStore } from '../entities/task-store';
import { canTransition, TRANSITIONS, type TaskState } from '../entities/task-state';
import { GOALS_QUEUE } from '../queues/names';
import { isCancelledReason, shardOf } from '../queues/protocol';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import { compareStreamIds } from './mirror-cursor';
import { mapTaskEntry, parseJson, type MirrorLookups, type TaskMemo } from './mirror-events';
import type { EventsStream, StreamInfo } from './mirror-streams';

const OPEN_STATES: TaskState[] = ['BACKLOG', 'PENDING', 'ASSIGNED', 'ACTIVE'];

/**
 * True when entries after `cursorId` may have been removed before the mirror read them: trimming
 * (MAXLEN) removed entries and the oldest one left (or, when none is left, the newest ever
 * added) is past the cursor, or an XDEL removed one past it. When trimming stopped exactly at
 * the cursor this says yes too: a reconcile is then merely redundant.
 */
export function isTrimmedPast(info: StreamInfo, cursorId: string): boolean {
  if (!info.exists) return false;
  if (compareStreamIds(info.maxDeletedId, cursorId) > 0) return true;
  if (info.entriesAdded <= info.length) return false;
  return compareStreamIds(info.firstId ?? info.lastId, cursorId) > 0;
}

/** The shortest legal path of states from `from` to `to` (without `from`); null when none. */
export function statePath(from: TaskState, to: TaskState): TaskState[] | null {
  if (from === to) return [];
  const previous = new Map<TaskState, TaskState>();
  const queue: TaskState[] = [from];
  while (queue.length > 0) {
    const state = queue.shift()!;
    for (const next of TRANSITIONS[state]) {
      if (next === from || previous.has(next)) continue;
      previous.set(next, state);
      if (next === to) {
        const path: TaskState[] = [to];
        for (let s = state; s !== from; s = previous.get(s)!) path.unshift(s);
        return path;
      }
      queue.push(next);
    }
  }
  return null;
}

/** Inserts the intermediate steps a task at `from` needs to take `changes` legally. */
export function fillPath(from: TaskState, changes: TaskChange[]): TaskChange[] {
  const out: TaskChange[] = [];
  let state = from;
  for (const change of changes) {
    if (state === change.to && change.to !== 'ACTIVE') continue;
    if (!canTransition(state, change.to)) {
      const path = statePath(state, change.to) ?? [];
      for (const step of path.slice(0, -1)) {
        out.push({ taskId: change.taskId, to: step, at: change.at, reason: 'reconciled' });
      }
    }
    out.push(change);
    state = change.to;
  }
  return out;
}

/**
 * The job's state, with the snapshot brought up to it: the snapshot was read before the state, and
 * a job that finished in between has no returnvalue, finishedOn or failedReason in it (its task
 * was recorded DONE with a null result). A finished job no longer changes: read those again.
 */
async function settledState(job: Job, lookups: MirrorLookups): Promise<string> {
  const state = await job.getState();
  if ((state === 'completed' || state === 'failed') && job.finishedOn === undefined) {
    const [returnvalue, finishedOn, failedReason, progress] = await lookups.jobFields(
      lookups.jobKey(job.id!),
      ['returnvalue', 'finishedOn', 'failedReason', 'progress'],
    );
    job.returnvalue = parseJson(returnvalue ?? undefined) ?? null;
    if (finishedOn) job.finishedOn = Number(finishedOn);
    if (failedReason) job.failedReason = failedReason;
    if (progress) job.progress = parseJson(progress) as Job['progress'];
  }
  return state;
}

/** The stream entry a job's current state stands for, as if it had just been emitted. */
function entriesOfJob(job: Job, state: string): Array<Record<string, string>> {
  const jobId = job.id!;
  const progress = { event: 'progress', jobId, data: JSON.stringify(job.progress) };
  switch (state) {
    case 'completed':
      return [
        progress,
        { event: 'completed', jobId, returnvalue: JSON.stringify(job.returnvalue) },
      ];
    case 'failed':
      return [{ event: 'failed', jobId, failedReason: job.failedReason ?? 'failed' }];
    case 'active':
      return [progress];
    case 'waiting':
    case 'prioritized':
    case 'delayed':
      return [{ event: 'waiting', jobId, prev: 'reconciled' }];
    default:
      return [];
  }
}

/**
 * Open SQL tasks read per page. Pages are keyset on id: each is one short query whatever the
 * backlog, so a catch-up of 200,000 tasks never holds the event loop (and the lock renewal).
 */
const TASK_PAGE = 200;
/** Goal roots looked up in parallel. */
const GOAL_PAGE = 100;

/**
 * The changes that bring the open SQL tasks of one stream's queue up to their jobs' states, a
 * page of tasks at a time: the caller commits each before asking for the next.
 */
export async function* reconcileTasks(
  store: TaskStore,
  coordinator: RedisCoordinator,
  stream: EventsStream,
  lookups: MirrorLookups,
): AsyncGenerator<TaskChange[]> {
  const queue = coordinator.queue(stream.queue, stream.shard);
  // From '' (before every id), not undefined: without afterId a page is ordered by creation, and
  // keyset paging on from its last id skipped every open task whose id sorts before that one.
  for (let afterId = ''; ;) {
    const page = await store.findTaskStates({
      type: stream.queue,
      state: OPEN_STATES,
      limit: TASK_PAGE,
      afterId,
    });
    if (page.length === 0) return;
    afterId = page.at(-1)!.id;
    const onShard = page.filter((t) => shardOf(t.goalId, coordinator.shards) === stream.shard);
    const unchanged = await unchangedTasks(coordinator, queue, onShard, lookups);
    const mine = onShard.filter((t) => !unchanged.has(t.id));
    const jobs = await Promise.all(mine.map((t) => Job.fromId(queue, t.id)));
    const changes = await Promise.all(
      jobs.map((job, j) => (job ? changesForJob(mine[j]!, job, lookups) : [])),
    );
    yield changes.flat();
    if (page.length < TASK_PAGE) return;
  }
}

/**
 * The tasks of a page whose job certainly has not moved since SQL recorded them, found with one
 * plain read each instead of loading the job and asking its state (a Lua call): a PENDING task that
 * never started whose job has neither started (`processedOn`) nor finished, and a BACKLOG task
 * whose job is still in waiting-children. A busy queue's backlog is mostly these, and an agent
 * that outruns the stream's trimming has the mirror reconcile that backlog again and again.
 */
async function unchangedTasks(
  coordinator: RedisCoordinator,
  queue: Queue,
  tasks: readonly TaskStateRow[],
  lookups: MirrorLookups,
): Promise<Set<string>> {
  const waiting = tasks.filter((t) => t.state === 'PENDING' && t.attempt === 0);
  const backlog = tasks.filter((t) => t.state === 'BACKLOG');
  const [started, held] = await Promise.all([
    Promise.all(
      waiting.map((t) => lookups.jobFields(lookups.jobKey(t.id), ['processedOn', 'finishedOn'])),
    ),
    backlog.length > 0
      ? coordinator.client.zmscore(queue.keys['waiting-children']!, ...backlog.map((t) => t.id))
      : Promise.resolve([]),
  ]);
  const unchanged = new Set<string>();
  waiting.forEach((t, i) => {
    if (started[i]!.every((field) => field === null)) unchanged.add(t.id);
  });
  backlog.forEach((t, i) => {
    if (held[i] !== null && held[i] !== undefined) unchanged.add(t.id);
  });
  return unchanged;
}

async function changesForJob(task: TaskStateRow, job: Job, lookups: MirrorLookups) {
  const memos = new Map<string, TaskMemo>([[task.id, { state: task.state }]]);
  const state = await settledState(job, lookups);
  const at = job.finishedOn ?? job.processedOn ?? Date.now();
  const mapped: TaskChange[] = [];
  for (const fields of entriesOfJob(job, state)) {
    mapped.push(...(await mapTaskEntry({ id: `${at}-0`, fields }, memos, lookups)));
  }
  return fillPath(
    task.state,
    mapped.filter((change) => !alreadyRecorded(task, change)),
  );
}

/** A start the SQL task already shows (same or newer attempt): not a step back. */
function alreadyRecorded(task: TaskStateRow, change: TaskChange): boolean {
  const running = task.state === 'ASSIGNED' || task.state === 'ACTIVE';
  if (!running || (change.attempt ?? 0) > task.attempt) return false;
  if (change.to === 'ASSIGNED') return true;
  return change.to === 'ACTIVE' && change.progress === undefined && task.state === 'ACTIVE';
}

export type GoalEnd = { goalId: string; state: Exclude<GoalState, 'ACTIVE' | 'PAUSED'>; at: Date };

/** Goals of the shard still ACTIVE in SQL whose root job has finished, a page at a time. */
export async function* reconcileGoals(
  store: TaskStore,
  coordinator: RedisCoordinator,
  shard: number,
): AsyncGenerator<GoalEnd[]> {
  const goals = [
    ...(await store.listGoals({ state: 'ACTIVE', limit: 1_000_000 })),
    ...(await store.listGoals({ state: 'PAUSED', limit: 1_000_000 })),
  ];
  const mine = goals.filter((g) => shardOf(g.id, coordinator.shards) === shard);
  const queue = coordinator.queue(GOALS_QUEUE, shard);
  for (let i = 0; i < mine.length; i += GOAL_PAGE) {
    const ends = await Promise.all(
      mine.slice(i, i + GOAL_PAGE).map(async (goal): Promise<GoalEnd | null> => {
        const job = await Job.fromId(queue, goal.id);
        const state = job ? await job.getState() : 'unknown';
        const at = new Date(job?.finishedOn ?? Date.now());
        if (state === 'completed') return { goalId: goal.id, state: 'DONE', at };
        if (state !== 'failed') return null;
        const reason = job!.failedReason ?? '';
        return { goalId: goal.id, state: isCancelledReason(reason) ? 'CANCELLED' : 'FAILED', at };
      }),
    );
    yield ends.filter((end): end is GoalEnd => end !== null);
  }
}
