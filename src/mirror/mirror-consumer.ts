/**
 * The leader's work, one consumer per shard: read the shard's events streams from its SQL cursor, map the entries to
 * transitions, commit each batch with the new cursor in one transaction, then hand the recorded
 * events to the bridge. Streams trimmed past the cursor are reconciled from the jobs' states.
 */
import type { TaskChange, TaskEventRecord } from '../entities/task-model';
import type { TaskStore } from '../entities/task-store';
import type { RedisConnection } from '../queues/connection';
import { GOALS_QUEUE } from '../queues/names';
import { isCancelledReason } from '../queues/protocol';
import { addedTasksOf, recordAddedTasks, type AddedTasks } from './mirror-added';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import type { PubSubBridge } from './bridge';
import { taskKeyOf, type TaskIdentity } from './channel-payload';
import {
  mirrorCursorName,
  parseCursor,
  serializeCursor,
  streamIdMs,
  type StreamCursor,
} from './mirror-cursor';
import { mapTaskEntry, type MirrorLookups, type StreamEntry, type TaskMemo } from './mirror-events';
import type { LeaderLock } from './mirror-lock';
import { isRelease, orderEntries, type ReleaseFacts } from './mirror-merge';
import { mirrorEventsTotal, mirrorLagSeconds, type RecentSamples } from './mirror-metrics';
import { decideGoalEnds, type GoalEndEntry } from './mirror-goal-ends';
import { isTrimmedPast, reconcileGoals, reconcileTasks, type GoalEnd } from './mirror-reconcile';
import { listStreams, readStreams, streamInfo, type EventsStream } from './mirror-streams';

export interface MirrorStats {
  batches: number;
  entries: number;
  recorded: number;
  rejected: number;
  stale: number;
  reconciles: number;
  leaderships: number;
}

export interface ConsumerSettings {
  shard: number;
  store: TaskStore;
  coordinator: RedisCoordinator;
  lock: LeaderLock;
  bridge: PubSubBridge | null;
  batchSize: number;
  /** Changes (or goal ends) per transaction of a reconcile: bounds each synchronous commit. */
  chunkSize: number;
  blockMs: number;
  stats: MirrorStats;
  lags: RecentSamples;
  log: (line: string) => void;
  onCommit?: (commit: MirrorCommit) => void;
}

/** What one committed batch recorded; `committedAt` is high-resolution epoch ms. */
export interface MirrorCommit {
  events: TaskEventRecord[];
  entries: number;
  committedAt: number;
}

interface Batch {
  changes: TaskChange[];
  goals: GoalEnd[];
  cursor: StreamCursor;
  stamps: number[];
  known: Map<string, TaskIdentity>;
  /** Tasks spawned by handlers, to create before the changes (mirror-added.ts). */
  added: AddedTasks[];
  /** Something read waits (a goal end for its tasks, a release for its dependencies). */
  holding?: boolean;
  /** Streams are to be listed again before the next read (an `added` entry names new ones). */
  refresh?: boolean;
}

/** After a read that held a goal end back and recorded nothing, before reading again. */
const HOLD_PAUSE_MS = 20;

const REFRESH_MS = 1000;
/** How long a release waits for its dependencies' ends to show (normally one read: ms). */
const RELEASE_PATIENCE_MS = 5000;

export class MirrorConsumer {
  private readonly reader: RedisConnection;
  private readonly streams = new Map<string, EventsStream>();
  private readonly memos = new Map<string, TaskMemo>();
  private cursor: StreamCursor = {};
  private stopped = false;
  private refreshedAt = 0;
  private publishing: Promise<void> = Promise.resolve();
  /** The `added` entry streams were last listed again for (once per entry). */
  private refreshedFor = '';
  /** Releases held back (mirror-merge.ts), by task id: since when. */
  private heldSince = new Map<string, number>();

  /** Settles (with null) when stop() is called. */
  private readonly stopping: Promise<null>;
  private signalStop: () => void = () => undefined;

  constructor(private readonly s: ConsumerSettings) {
    this.reader = s.coordinator.duplicate('worker');
    this.stopping = new Promise((resolve) => (this.signalStop = () => resolve(null)));
  }

  /** Runs until `stop()`; throws when leadership was lost or the store failed. */
  async run(): Promise<void> {
    this.cursor = parseCursor(await this.s.store.getCursor(mirrorCursorName(this.s.shard)));
    while (!this.stopped) {
      if (Date.now() - this.refreshedAt >= REFRESH_MS) await this.refreshStreams();
      const ids = new Map([...this.streams.keys()].map((k) => [k, this.cursor[k] ?? '0-0']));
      let read: Map<string, StreamEntry[]> | null;
      try {
        // stop() ends the wait: a command on a connection closed while it was still connecting
        // (an ioredis Cluster) never settles, and the candidate would wait for it for good.
        const reading = readStreams(this.reader, ids, this.s.batchSize, this.s.blockMs);
        reading.catch(() => undefined);
        read = await Promise.race([reading, this.stopping]);
      } catch (error) {
        if (this.stopped) return;
        throw error;
      }
      if (read === null || this.stopped) return;
      if (read.size > 0) await this.checkTrimmedWhileReading(read, ids);
      if (read.size === 0) continue;
      const batch = await this.batchOf(read);
      await this.commit(batch);
      if (batch.refresh) await this.refreshStreams();
      // The held entry is read again at once: give the tasks' streams a moment first.
      if (batch.holding && batch.changes.length === 0) await sleep(HOLD_PAUSE_MS);
    }
  }

  /**
   * XREAD from a cursor that trimming passed returns the oldest entries left, silently: checked
   * only once a second, a mirror lagging by more than the stream's length would move its cursor
   * over the gap and lose those transitions for good. So each stream just read is checked
   * against the cursor it was read from; when trimmed past it, its entries are dropped and the
   * stream is reconciled from the jobs' states instead.
   */
  private async checkTrimmedWhileReading(
    read: Map<string, StreamEntry[]>,
    readFrom: Map<string, string>,
  ): Promise<void> {
    for (const key of [...read.keys()]) {
      const info = await streamInfo(this.s.coordinator.client, key);
      const stream = this.streams.get(key);
      if (stream && isTrimmedPast(info, readFrom.get(key) ?? '0-0')) {
        read.delete(key);
        await this.reconcile(stream, info.lastId);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    this.reader.disconnect();
    await this.publishing;
  }

  /**
   * New queues join. Every stream, new or known, is checked for entries trimmed past the cursor
   * (a mirror that was down, or fell more than `maxLen` entries behind) and reconciled first.
   */
  private async refreshStreams(): Promise<void> {
    this.refreshedAt = Date.now();
    for (const stream of await listStreams(this.s.coordinator, this.s.shard)) {
      const info = await streamInfo(this.s.coordinator.client, stream.key);
      if (isTrimmedPast(info, this.cursor[stream.key] ?? '0-0')) {
        await this.reconcile(stream, info.lastId);
      }
      this.streams.set(stream.key, stream);
    }
  }

  /**
   * Brings SQL up to the jobs' states in chunks of at most `chunkSize` changes, each committed
   * in its own transaction with the cursor, yielding to the event loop in between (the lock
   * renewal and the bridge keep running). The stream's cursor moves to `lastId` with the last
   * chunk only: a crash mid-way reconciles again, finding the chunks already done in SQL.
   */
  private async reconcile(stream: EventsStream, lastId: string): Promise<void> {
    const { store, coordinator, chunkSize } = this.s;
    const from = this.cursor[stream.key] ?? '0-0';
    const pending: Batch = this.emptyBatch();
    let transitions = 0;
    let goals = 0;
    const past = { ...this.cursor, [stream.key]: lastId };
    let moved = false;
    const flush = async (all: boolean) => {
      while (pending.changes.length + pending.goals.length >= (all ? 1 : chunkSize)) {
        const chunk = this.emptyBatch();
        chunk.goals = pending.goals.splice(0, chunkSize);
        chunk.changes = pending.changes.splice(0, chunkSize - chunk.goals.length);
        for (const c of chunk.changes) chunk.known.set(c.taskId, pending.known.get(c.taskId)!);
        if (all && pending.changes.length + pending.goals.length === 0) {
          chunk.cursor = past;
          moved = true;
        }
        await this.commit(chunk);
        await yieldToEventLoop();
      }
    };
    if (stream.queue === GOALS_QUEUE) {
      for await (const ends of reconcileGoals(store, coordinator, stream.shard)) {
        pending.goals.push(...ends);
        goals += ends.length;
        await flush(false);
      }
    } else {
      const lookups = this.lookups(stream);
      for await (const changes of reconcileTasks(store, coordinator, stream, lookups)) {
        for (const c of changes)
          pending.known.set(c.taskId, { key: taskKeyOf(c.taskId), type: stream.queue });
        pending.changes.push(...changes);
        transitions += changes.length;
        await flush(false);
      }
    }
    this.s.log(
      `mirror: ${stream.key} was trimmed past its cursor ${from}; ` +
        `reconciled from the jobs' states: ${transitions} transitions, ${goals} goals`,
    );
    this.s.stats.reconciles++;
    // The last chunk (or an empty commit) moves the cursor past what was reconciled.
    await flush(true);
    if (!moved) await this.commit({ ...this.emptyBatch(), cursor: past });
  }

  /** True when a queue `added` names has a stream this consumer does not read yet. */
  private unknownQueue(added: AddedTasks, shard: number): boolean {
    const prefix = this.s.coordinator.bullPrefix(shard);
    return added.queues.some((queue) => !this.streams.has(`${prefix}:${queue}:events`));
  }

  private emptyBatch(): Batch {
    return {
      changes: [],
      goals: [],
      cursor: { ...this.cursor },
      stamps: [],
      known: new Map(),
      added: [],
    };
  }

  /** The committed cursors of the goal-root streams (where a crash would read them from). */
  private goalStreamCursors(): StreamCursor {
    const cursors: StreamCursor = {};
    for (const [key, stream] of this.streams) {
      if (stream.queue === GOALS_QUEUE) cursors[key] = this.cursor[key] ?? '0-0';
    }
    return cursors;
  }

  private lookups(stream: EventsStream): MirrorLookups {
    const client = this.s.coordinator.client;
    const prefix = `${this.s.coordinator.bullPrefix(stream.shard)}:${stream.queue}:`;
    return {
      failedReasonOf: (jobKey) => client.hget(jobKey, 'failedReason'),
      jobFields: (jobKey, fields) => client.hmget(jobKey, ...fields),
      jobKey: (jobId) => prefix + jobId,
    };
  }

  private async batchOf(read: Map<string, StreamEntry[]>): Promise<Batch> {
    const batch: Batch = {
      changes: [],
      goals: [],
      cursor: { ...this.cursor },
      stamps: [],
      known: new Map(),
      added: [],
    };
    const goalEnds: GoalEndEntry[] = [];
    const lookups = new Map<string, MirrorLookups>();
    // Cause before effect across the streams (mirror-merge.ts); what it leaves is read again.
    const { order, held } = orderEntries(read, this.s.batchSize, await this.releaseFacts(read));
    this.noteHeld(held);
    batch.holding = held.length > 0;
    const last = new Map<string, number>();
    for (const { key, entry, index } of order) {
      const stream = this.streams.get(key)!;
      const added = addedTasksOf(entry);
      // Spawned tasks' rows (and `new` events) come before their changes and after everything
      // read before them: the batch ends where they come unless they open it (read again next).
      if (added && (batch.changes.length > 0 || goalEnds.length > 0)) break;
      // ... and after what the spawner did: a queue whose stream is not read yet (registered
      // since the last refresh) is found first, and the read starts again with it.
      if (added && entry.id !== this.refreshedFor && this.unknownQueue(added, stream.shard)) {
        this.refreshedFor = entry.id;
        batch.refresh = true;
        break;
      }
      last.set(key, Math.max(last.get(key) ?? -1, index));
      batch.stamps.push(streamIdMs(entry.id));
      if (added) {
        batch.added.push(added);
        for (const t of added.tasks) {
          batch.known.set(t.id, { key: t.key, type: t.type, spawnedBy: added.spawnedBy });
        }
        continue;
      }
      if (stream.queue === GOALS_QUEUE) {
        const end = goalEndOf(entry);
        const before = index > 0 ? read.get(key)![index - 1]!.id : (this.cursor[key] ?? '0-0');
        if (end) goalEnds.push({ streamKey: key, before, end });
        continue;
      }
      let lookup = lookups.get(key);
      if (!lookup) lookups.set(key, (lookup = this.lookups(stream)));
      const changes = await mapTaskEntry(entry, this.memos, lookup);
      for (const c of changes)
        batch.known.set(c.taskId, { key: taskKeyOf(c.taskId), type: stream.queue });
      batch.changes.push(...changes);
    }
    // A stream's cursor moves to the last entry taken (an entry held back is read again).
    for (const [key, index] of last) batch.cursor[key] = read.get(key)![index]!.id;
    if (goalEnds.length === 0) return batch;
    // Decided once every stream of the read is mapped: a task may end in this very batch.
    const decision = await decideGoalEnds(this.s.store, goalEnds, batch.changes);
    batch.goals = decision.write;
    for (const [key, before] of decision.hold) batch.cursor[key] = before;
    batch.holding ||= decision.hold.size > 0;
    for (const end of decision.overdue) {
      this.s.log(
        `mirror: goal ${end.goalId} is DONE in Redis; some of its tasks are not in SQL yet`,
      );
    }
    return batch;
  }

  /**
   * What SQL knows of the dependencies of the tasks this read releases. A release held back for
   * longer than RELEASE_PATIENCE_MS (a dependency whose end SQL never recorded) waits no more:
   * the mirror must not stall on it.
   */
  private async releaseFacts(read: Map<string, StreamEntry[]>): Promise<ReleaseFacts> {
    const released = new Set<string>();
    for (const entries of read.values()) {
      for (const entry of entries) if (isRelease(entry)) released.add(entry.fields.jobId!);
    }
    const dependencies = new Map<string, string[]>();
    const ended = new Set<string>();
    if (released.size === 0) return { dependencies, ended };
    const now = Date.now();
    for (const [taskId, deps] of await this.s.store.dependencyStates([...released])) {
      const since = this.heldSince.get(taskId);
      if (since !== undefined && now - since > RELEASE_PATIENCE_MS) {
        this.s.log(`mirror: ${taskId} was released before SQL recorded its dependencies' ends`);
        continue;
      }
      dependencies.set(
        taskId,
        deps.map((dep) => dep.id),
      );
      for (const dep of deps) if (isEnded(dep.state)) ended.add(dep.id);
    }
    return { dependencies, ended };
  }

  /** Remembers since when each release has been held back; forgets those taken. */
  private noteHeld(held: string[]): void {
    const now = Date.now();
    const still = new Map<string, number>();
    for (const taskId of held) still.set(taskId, this.heldSince.get(taskId) ?? now);
    this.heldSince = still;
  }

  private async commit(batch: Batch): Promise<void> {
    const { store, lock, stats } = this.s;
    // The previous batch's messages go out before this one's, and a slow Redis slows the mirror.
    await this.publishing;
    // A consumer of an ended leadership writes nothing more, even when this candidate leads
    // again (same lock token) by the time its work returns.
    if (this.stopped) throw new Error('mirror stopped: not committing');
    if (!(await lock.held())) throw new Error('mirror lock lost: stepping down');
    const cursorName = mirrorCursorName(this.s.shard);
    // Tasks first, goal ends after them, so nobody reads a goal DONE beside an unfinished task.
    // Until the ends are written the goal-root streams' cursors stay where they were: a crash in
    // between replays those ends (idempotent) and never loses one.
    const first =
      batch.goals.length === 0 ? batch.cursor : { ...batch.cursor, ...this.goalStreamCursors() };
    // Spawned tasks' rows before their changes; a crash in between replays them as no-ops.
    const created =
      batch.added.length === 0 ? [] : await recordAddedTasks(store, batch.added, this.s.log);
    const applied = await store.applyChanges(batch.changes, {
      name: cursorName,
      value: serializeCursor(first),
    });
    const result =
      created.length === 0 ? applied : { ...applied, events: [...created, ...applied.events] };
    if (batch.goals.length > 0) {
      for (const goal of batch.goals) {
        await store.setGoalState(goal.goalId, goal.state, goal.at).catch((error: Error) => {
          this.s.log(`mirror: goal ${goal.goalId}: ${error.message}`);
        });
      }
      await store.applyChanges([], { name: cursorName, value: serializeCursor(batch.cursor) });
    }
    this.cursor = batch.cursor;
    const now = Date.now();
    this.s.onCommit?.({
      events: result.events,
      entries: batch.stamps.length,
      committedAt: performance.timeOrigin + performance.now(),
    });
    for (const stamp of batch.stamps) {
      mirrorLagSeconds.observe((now - stamp) / 1000);
      this.s.lags.add(now - stamp);
    }
    stats.batches++;
    stats.entries += batch.stamps.length;
    stats.recorded += result.events.length;
    stats.rejected += result.rejected.length;
    stats.stale += result.stale.length;
    mirrorEventsTotal.inc({ outcome: 'recorded' }, result.events.length);
    mirrorEventsTotal.inc({ outcome: 'rejected' }, result.rejected.length);
    mirrorEventsTotal.inc({ outcome: 'stale' }, result.stale.length);
    const bridge = this.s.bridge;
    if (!bridge) return;
    this.publishing = bridge.offer(result.events, batch.known).then(async () => {
      for (const goal of batch.goals) await bridge.publishGoal(goal.goalId, goal.state, goal.at);
    });
  }
}

function isEnded(state: string): boolean {
  return state === 'DONE' || state === 'FAILED' || state === 'CANCELLED';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function goalEndOf(entry: StreamEntry): GoalEnd | null {
  const goalId = entry.fields.jobId;
  // Only root jobs end goals; auxiliary jobs of a goal (`cleanup~<goal id>`) carry a `~`.
  if (!goalId || goalId.includes('~')) return null;
  // The entry's own time, so a replay after a crash writes the same finishedAt.
  const at = new Date(streamIdMs(entry.id));
  if (entry.fields.event === 'completed') return { goalId, state: 'DONE', at };
  if (entry.fields.event !== 'failed') return null;
  const state = isCancelledReason(entry.fields.failedReason) ? 'CANCELLED' : 'FAILED';
  return { goalId, state, at };
}
