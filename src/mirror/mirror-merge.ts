/**
 * One order for the entries of several events streams, cause before effect, so the audit log's
 * seq never puts a task's move before the end of a dependency that released it.
 *
 * Each stream is in order already. Across streams the entries are merged by their ids' time (one
 * Redis server's clock: a goal's queues share a shard) and, within one millisecond, by what an
 * entry is: a job's end before the moves it may cause before a job entering its queue. That is
 * not enough on its own: BullMQ's moveToFinished moves a parent to `wait` (its `waiting` entry)
 * before it adds the child's `completed`, so the two may be a millisecond apart the wrong way
 * round. So a release (`waiting` from waiting-children) waits, with every later entry of its job,
 * until each of the task's dependencies has ended — in SQL already, or earlier in this order.
 *
 * What cannot be ordered from this read is left for the next one (the stream's cursor stays
 * before it): a stream's entries from a release whose dependency has not ended in what was read,
 * and — when a stream's read returned `count` entries, so it may hold more in the millisecond the
 * read stopped at — the other streams' entries from that millisecond on. Only when that would
 * leave nothing at all (more than `count` entries in one millisecond) is the millisecond taken.
 * The consumer stops holding a release whose dependency never shows an end (see `overdue`).
 */
import { streamIdMs } from './mirror-cursor';
import type { StreamEntry } from './mirror-events';

export interface MergedEntry {
  key: string;
  entry: StreamEntry;
  /** Its position in its stream's read. */
  index: number;
}

/** What the order needs to know of the tasks a read releases. */
export interface ReleaseFacts {
  /** Dependencies (task ids) of each released task; a task missing here waits for nothing. */
  dependencies: ReadonlyMap<string, readonly string[]>;
  /** Those dependencies SQL already records as ended. */
  ended: ReadonlySet<string>;
}

const ENDS = new Set(['completed', 'removed', 'retries-exhausted']);
const CHILD_FAILED = /^child .+ failed$/;

/** 0: an end; 1: a move an end may cause; 2: entering a queue. */
function rankOf(entry: StreamEntry): number {
  const { event = '', failedReason = '' } = entry.fields;
  if (event === 'failed') return CHILD_FAILED.test(failedReason) ? 1 : 0;
  if (ENDS.has(event) || event === 'agentq') return 0;
  return event === 'waiting' || event === 'added' || event === 'waiting-children' ? 2 : 1;
}

/** The task (job id) an entry is about. */
function jobOf(entry: StreamEntry): string {
  return entry.fields.event === 'agentq' ? (entry.fields.taskId ?? '') : (entry.fields.jobId ?? '');
}

/** A dependent moved to its queue because its dependencies ended. */
export function isRelease(entry: StreamEntry): boolean {
  return entry.fields.event === 'waiting' && entry.fields.prev === 'waiting-children';
}

function endsTask(entry: StreamEntry): boolean {
  const { event = '', to } = entry.fields;
  if (event === 'agentq') return to === 'FAILED' || to === 'CANCELLED';
  return event === 'failed' || ENDS.has(event);
}

/** Every stream's entries before its cut (all of them where it has none). */
function lanesOf(
  read: ReadonlyMap<string, StreamEntry[]>,
  cuts: ReadonlyMap<string, number>,
): MergedEntry[][] {
  return [...read].map(([key, entries]) =>
    entries
      .slice(0, cuts.get(key) ?? entries.length)
      .map((entry, index) => ({ key, entry, index })),
  );
}

/** The time/rank merge of `lanes` (each in stream order). */
function mergeLanes(lanes: MergedEntry[][]): MergedEntry[] {
  const heads = lanes.map(() => 0);
  const merged: MergedEntry[] = [];
  for (;;) {
    let best = -1;
    let bestMs = Infinity;
    let bestRank = Infinity;
    lanes.forEach((lane, i) => {
      const next = lane[heads[i]!];
      if (!next) return;
      const ms = streamIdMs(next.entry.id);
      const rank = rankOf(next.entry);
      if (ms < bestMs || (ms === bestMs && rank < bestRank)) {
        best = i;
        bestMs = ms;
        bestRank = rank;
      }
    });
    if (best < 0) return merged;
    merged.push(lanes[best]![heads[best]!]!);
    heads[best]!++;
  }
}

/** Cuts for the millisecond a full read stopped at (see the header). */
function horizonCuts(read: ReadonlyMap<string, StreamEntry[]>, count: number): Map<string, number> {
  let horizon = Infinity;
  for (const entries of read.values()) {
    if (entries.length >= count) horizon = Math.min(horizon, streamIdMs(entries.at(-1)!.id));
  }
  const cuts = new Map<string, number>();
  if (horizon === Infinity) return cuts;
  for (const [key, entries] of read) {
    const at = entries.findIndex((e) => streamIdMs(e.id) >= horizon);
    if (at >= 0) cuts.set(key, at);
  }
  const left = [...read].some(([key, entries]) => (cuts.get(key) ?? entries.length) > 0);
  return left ? cuts : new Map();
}

/**
 * One pass: the merge with releases held until their dependencies ended. Returns the order and
 * the streams to cut where a held release never got its dependencies.
 */
function holdReleases(
  merged: MergedEntry[],
  facts: ReleaseFacts,
): { order: MergedEntry[]; cuts: Map<string, { index: number; taskId: string }> } {
  const ended = new Set(facts.ended);
  const held = new Map<string, MergedEntry[]>();
  const order: MergedEntry[] = [];
  const ready = (taskId: string) =>
    (facts.dependencies.get(taskId) ?? []).every((dep) => ended.has(dep));
  const emit = (item: MergedEntry): void => {
    order.push(item);
    if (!endsTask(item.entry)) return;
    ended.add(jobOf(item.entry));
    for (const [taskId, queue] of held) {
      if (!ready(taskId)) continue;
      held.delete(taskId);
      for (const next of queue) emit(next);
    }
  };
  for (const item of merged) {
    const taskId = jobOf(item.entry);
    const queue = held.get(taskId);
    if (queue) queue.push(item);
    else if (isRelease(item.entry) && !ready(taskId)) held.set(taskId, [item]);
    else emit(item);
  }
  const cuts = new Map<string, { index: number; taskId: string }>();
  for (const [taskId, [first]] of held) {
    const cut = cuts.get(first!.key);
    if (!cut || first!.index < cut.index) cuts.set(first!.key, { index: first!.index, taskId });
  }
  return { order, cuts };
}

export interface Ordered {
  /** The entries to record now, in causal order. */
  order: MergedEntry[];
  /** Tasks whose release is left for a later read: a dependency has not ended yet. */
  held: string[];
}

/** The entries of `read` to record now, in causal order (see the header). */
export function orderEntries(
  read: ReadonlyMap<string, StreamEntry[]>,
  count: number,
  facts: ReleaseFacts = { dependencies: new Map(), ended: new Set() },
): Ordered {
  const cuts = horizonCuts(read, count);
  const held = new Set<string>();
  for (;;) {
    const pass = holdReleases(mergeLanes(lanesOf(read, cuts)), facts);
    let tightened = false;
    for (const [key, { index, taskId }] of pass.cuts) {
      held.add(taskId);
      if (index < (cuts.get(key) ?? Infinity)) {
        cuts.set(key, index);
        tightened = true;
      }
    }
    // A cut may take away an end another release was waiting for: order again until stable.
    if (!tightened) return { order: pass.order, held: [...held] };
  }
}
