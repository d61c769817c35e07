/**
 * The json task store, for development: a directory a person can read and diff.
 *
 * ```
 * DIR/goals/<id>.json    one file per goal   } written atomically (write-file-atomic:
 * DIR/tasks/<id>.json    one file per task   } temp file + rename), keys sorted
 * DIR/agents/<id>.json   one file per agent  }
 * DIR/events.jsonl       the audit log, one event per line, appended
 * DIR/meta.json          the last seq, the mirror cursors, a version stamp
 * DIR/limits.json        capability limits (capability → limits), written under the lock
 * DIR/.lock              held while a process writes
 * ```
 *
 * What it guarantees: every write (createGoal, a batch of applyChanges, …) holds the lock file,
 * so writers in several processes take turns; each one re-reads the directory when another
 * process wrote since (meta.json's version changed), so seq stays gap-free and no change is
 * lost. Each file is replaced whole, never seen half-written. What it does not: a batch spans
 * many files, so a reader in another process may see part of a batch, and a crash in the
 * middle of a batch can leave part of it written (the events are appended first, then the
 * tasks, then meta.json with the cursor). Files are not fsynced. Use sqlite or postgres when
 * that matters.
 */
import { appendFile, mkdir, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { ConflictError, NotFoundError } from '../errors';
import {
  addedTaskRecords,
  goalBudgetEvent,
  goalStateAfter,
  headOf,
  newGoalRecord,
  newTaskEvent,
  newTaskRecord,
  numberEvents,
  planChanges,
  type TaskHead,
} from './apply-changes';
import { acquireFileLock } from './json-file-lock';
import { DEFAULT_LIMIT, zeroCounts } from './sql-task-store';
import { reviveDates, stableStringify } from './stable-json';
import { isGoalOpen } from './task-model';
import type {
  AgentInfo,
  ApplyResult,
  CapabilityLimitsRecord,
  GoalRecord,
  GoalState,
  TaskChange,
  TaskEventRecord,
  TaskRecord,
} from './task-model';
import type { TaskState } from './task-state';
import type {
  AddTasksOptions,
  AddTasksResult,
  CreateGoalOptions,
  CreateGoalResult,
  DependencyState,
  GoalBudgetUpdate,
  NewGoal,
  NewTask,
  TaskFilter,
  TaskStateRow,
  TaskStore,
} from './task-store';

export interface JsonTaskStoreOptions {
  dir: string;
  /** How long a writer waits for another process's lock, in ms. @defaultValue 30000 */
  lockTimeoutMs?: number;
}

interface Meta {
  version: string;
  seq: number;
  cursors: Record<string, string>;
}

interface Snapshot {
  meta: Meta;
  goals: Map<string, GoalRecord>;
  tasks: Map<string, TaskRecord>;
  agents: Map<string, AgentInfo>;
  events: TaskEventRecord[];
}

const TASK_DATES = [
  'createdAt',
  'updatedAt',
  'queuedAt',
  'claimedAt',
  'startedAt',
  'finishedAt',
  'deferredAt',
] as const;
const WRITE_CONCURRENCY = 32;

export class JsonTaskStore implements TaskStore {
  readonly backend = 'json' as const;
  private state: Snapshot | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private opened = false;

  constructor(private readonly options: JsonTaskStoreOptions) {}

  async open(): Promise<void> {
    if (this.opened) return;
    for (const sub of ['goals', 'tasks', 'agents']) {
      await mkdir(join(this.options.dir, sub), { recursive: true });
    }
    this.opened = true;
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.state = null;
    this.opened = false;
  }

  async createGoal(
    goal: NewGoal,
    tasks: NewTask[],
    actor?: string,
    options: CreateGoalOptions = {},
  ): Promise<CreateGoalResult> {
    return this.write<CreateGoalResult>(async (s) => {
      const existing = goal.key === null ? undefined : findGoalByKey(s, goal.key);
      if (existing) {
        const own = [...s.tasks.values()].filter((task) => task.goalId === existing.id);
        return { result: { goal: existing, tasks: own, events: [], created: false } };
      }
      const at = new Date();
      const deferred = options.deferRecord === true;
      const record = newGoalRecord(goal, tasks.length, actor ?? null, at, !deferred);
      const records = tasks.map((spec) => newTaskRecord(spec, goal.id, at));
      const events = deferred
        ? []
        : numberEvents(
            records.map((task) => newTaskEvent(task, actor ?? null)),
            s.meta.seq + 1,
          );
      await this.appendEvents(events);
      await this.writeAll('tasks', records);
      await this.writeAll('goals', [record]);
      s.goals.set(record.id, record);
      for (const task of records) s.tasks.set(task.id, task);
      s.events.push(...events);
      s.meta.seq += events.length;
      return { result: { goal: record, tasks: records, events, created: true }, changed: true };
    });
  }

  async addTasks(
    goalId: string,
    tasks: NewTask[],
    actor?: string,
    options: AddTasksOptions = {},
  ): Promise<AddTasksResult> {
    return this.write<AddTasksResult>(async (s) => {
      const goal = s.goals.get(goalId);
      if (!goal) throw new NotFoundError('goal', goalId);
      if (!isGoalOpen(goal.state)) {
        throw new ConflictError(`goal ${goalId} is ${goal.state}: tasks cannot be added to it`);
      }
      const ids = tasks.map((task) => task.id);
      const existing = new Map<string, TaskRecord>();
      for (const id of ids) {
        const task = s.tasks.get(id);
        if (task) existing.set(id, task);
      }
      const at = new Date();
      const fresh = addedTaskRecords(goalId, tasks, existing, actor ?? null, at, options);
      const created = new Map(fresh.map((task) => [task.id, task]));
      const result = (events: TaskEventRecord[]): AddTasksResult => ({
        tasks: ids.map((id) => existing.get(id) ?? created.get(id)!),
        created: fresh.map((task) => task.id),
        events,
      });
      if (fresh.length === 0) return { result: result([]) };
      const events =
        options.deferRecord === true
          ? []
          : numberEvents(
              fresh.map((task) => newTaskEvent(task, actor ?? null)),
              s.meta.seq + 1,
            );
      const grown: GoalRecord = { ...goal, taskCount: goal.taskCount + fresh.length };
      // Same order as createGoal: events, then tasks, then the goal (then meta.json).
      await this.appendEvents(events);
      await this.writeAll('tasks', fresh);
      await this.writeAll('goals', [grown]);
      for (const task of fresh) s.tasks.set(task.id, task);
      s.goals.set(goalId, grown);
      s.events.push(...events);
      s.meta.seq += events.length;
      return { result: result(events), changed: true };
    });
  }

  async recordTasks(taskIds: string[]): Promise<TaskEventRecord[]> {
    return this.write(async (s) => {
      const events = await this.recordDeferredTasks(s, taskIds);
      return { result: events, changed: events.length > 0 };
    });
  }

  async deleteTasks(taskIds: string[]): Promise<void> {
    await this.write(async (s) => {
      const doomed = [...new Set(taskIds)].flatMap((id) => s.tasks.get(id) ?? []);
      if (doomed.length === 0) return { result: undefined };
      const ids = new Set(doomed.map((task) => task.id));
      const kept = s.events.filter((event) => !ids.has(event.taskId));
      // Deferred tasks have no events: the log (and so seq) is untouched then.
      if (kept.length < s.events.length) {
        s.events = kept;
        await writeFileAtomic(this.path('events.jsonl'), kept.map(eventLine).join(''));
      }
      const shrunk: GoalRecord[] = [];
      for (const goalId of new Set(doomed.map((task) => task.goalId))) {
        const goal = s.goals.get(goalId);
        if (!goal) continue;
        const gone = doomed.filter((task) => task.goalId === goalId).length;
        shrunk.push({ ...goal, taskCount: goal.taskCount - gone });
      }
      for (const task of doomed) {
        await rm(this.path('tasks', fileName(task.id)), { force: true });
        s.tasks.delete(task.id);
      }
      await this.writeAll('goals', shrunk);
      for (const goal of shrunk) s.goals.set(goal.id, goal);
      return { result: undefined, changed: true };
    });
  }

  /**
   * The deferred `new` events of those of `taskIds` still deferred (in creation order, each
   * naming the actor that added its task), appended, and their marks cleared. Inside the
   * caller's write.
   */
  private async recordDeferredTasks(s: Snapshot, taskIds: string[]): Promise<TaskEventRecord[]> {
    const deferred = [...new Set(taskIds)]
      .flatMap((id) => s.tasks.get(id) ?? [])
      .filter((task) => task.deferredAt !== null)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compare(a.key, b.key));
    if (deferred.length === 0) return [];
    const events = numberEvents(
      deferred.map((task) => newTaskEvent(task, task.addedBy)),
      s.meta.seq + 1,
    );
    const cleared = deferred.map((task) => ({ ...task, deferredAt: null }));
    await this.appendEvents(events);
    await this.writeAll('tasks', cleared);
    for (const task of cleared) s.tasks.set(task.id, task);
    s.events.push(...events);
    s.meta.seq += events.length;
    return events;
  }

  async recordGoal(goalId: string): Promise<TaskEventRecord[]> {
    return this.write(async (s) => {
      const events = await this.recordUnrecorded(s, [goalId]);
      return { result: events, changed: events.length > 0 };
    });
  }

  /**
   * The `new` events of those of `goalIds` not recorded yet (their tasks untouched: a change
   * records its goal first), appended, and the goals marked recorded. Inside the caller's write.
   */
  private async recordUnrecorded(
    s: Snapshot,
    goalIds: Iterable<string>,
  ): Promise<TaskEventRecord[]> {
    const events: TaskEventRecord[] = [];
    const marked: GoalRecord[] = [];
    const at = new Date();
    for (const goalId of new Set(goalIds)) {
      const goal = s.goals.get(goalId);
      if (!goal || goal.recordedAt) continue;
      const own = [...s.tasks.values()]
        .filter((task) => task.goalId === goalId)
        .sort((a, b) => compare(a.key, b.key));
      const pending = own.map((task) => newTaskEvent(task, goal.createdBy));
      events.push(...numberEvents(pending, s.meta.seq + events.length + 1));
      marked.push({ ...goal, recordedAt: at });
    }
    if (events.length === 0 && marked.length === 0) return [];
    await this.appendEvents(events);
    await this.writeAll('goals', marked);
    for (const goal of marked) s.goals.set(goal.id, goal);
    s.events.push(...events);
    s.meta.seq += events.length;
    return events;
  }

  async deleteGoal(goalId: string): Promise<void> {
    await this.write(async (s) => {
      const doomed = [...s.tasks.values()].filter((task) => task.goalId === goalId);
      s.events = s.events.filter((event) => event.goalId !== goalId);
      await writeFileAtomic(this.path('events.jsonl'), s.events.map(eventLine).join(''));
      for (const task of doomed) {
        await rm(this.path('tasks', fileName(task.id)), { force: true });
        s.tasks.delete(task.id);
      }
      await rm(this.path('goals', fileName(goalId)), { force: true });
      s.goals.delete(goalId);
      return { result: undefined, changed: true };
    });
  }

  async setGoalState(goalId: string, state: GoalState, at: Date): Promise<GoalRecord> {
    return this.write(async (s) => {
      const goal = s.goals.get(goalId);
      if (!goal) throw new NotFoundError('goal', goalId);
      const updated = { ...goal, state, finishedAt: isGoalOpen(state) ? null : at };
      await this.writeAll('goals', [updated]);
      s.goals.set(goalId, updated);
      return { result: updated, changed: true };
    });
  }

  async updateGoalBudget(
    goalId: string,
    update: GoalBudgetUpdate,
  ): Promise<TaskEventRecord | null> {
    return this.write(async (s) => {
      const goal = s.goals.get(goalId);
      if (!goal || (goal.usageRev ?? 0) >= update.rev) return { result: null };
      const pending = goalBudgetEvent(goalId, goal.state, update);
      const events = pending ? numberEvents([pending], s.meta.seq + 1) : [];
      const updated: GoalRecord = {
        ...goal,
        budget: update.budget,
        usage: update.usage,
        usageRev: update.rev,
        state: goalStateAfter(goal.state, update),
      };
      await this.appendEvents(events);
      await this.writeAll('goals', [updated]);
      s.goals.set(goalId, updated);
      s.events.push(...events);
      s.meta.seq += events.length;
      return { result: events[0] ?? null, changed: true };
    });
  }

  async applyChanges(
    changes: TaskChange[],
    cursor?: { name: string; value: string },
  ): Promise<ApplyResult> {
    return this.write(async (s) => {
      const current = new Map<string, TaskHead>();
      for (const change of changes) {
        const task = s.tasks.get(change.taskId);
        if (task && !current.has(task.id)) current.set(task.id, headOf(task));
      }
      const creations = [
        ...(await this.recordUnrecorded(
          s,
          [...current.values()].map((head) => head.goalId),
        )),
        // Tasks an addTasks deferred: their `new` events come before the change's.
        ...(await this.recordDeferredTasks(s, [...current.keys()])),
      ];
      const plan = planChanges(current, changes);
      const events = numberEvents(plan.events, s.meta.seq + 1);
      const updated = [...plan.heads.values()].map((head) => ({
        ...s.tasks.get(head.id)!,
        ...head,
      }));
      await this.appendEvents(events);
      await this.writeAll('tasks', updated);
      for (const task of updated) s.tasks.set(task.id, task);
      s.events.push(...events);
      s.meta.seq += events.length;
      if (cursor) s.meta.cursors[cursor.name] = cursor.value;
      const result = {
        events: [...creations, ...events],
        rejected: plan.rejected,
        stale: plan.stale,
      };
      return {
        result,
        changed: events.length > 0 || creations.length > 0 || cursor !== undefined,
      };
    });
  }

  async dependencyStates(taskIds: string[]): Promise<Map<string, DependencyState[]>> {
    return this.read((s) => {
      const wanted = taskIds.flatMap((id) => s.tasks.get(id) ?? []);
      const goals = new Set(wanted.map((task) => task.goalId));
      const byKey = new Map<string, TaskRecord>();
      for (const task of s.tasks.values()) {
        if (goals.has(task.goalId)) byKey.set(`${task.goalId}\n${task.key}`, task);
      }
      const out = new Map<string, DependencyState[]>();
      for (const task of wanted) {
        const deps = task.dependsOn.flatMap((key) => byKey.get(`${task.goalId}\n${key}`) ?? []);
        out.set(
          task.id,
          deps.map((dep) => ({ id: dep.id, state: dep.state })),
        );
      }
      return out;
    });
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    return this.read((s) => s.tasks.get(id) ?? null);
  }

  async findTaskStates(filter: TaskFilter): Promise<TaskStateRow[]> {
    return (await this.findTasks(filter)).map(({ id, goalId, state, attempt, epoch }) => ({
      id,
      goalId,
      state,
      attempt,
      epoch,
    }));
  }

  async findTasks(filter: TaskFilter): Promise<TaskRecord[]> {
    return this.read((s) => {
      const states = filter.state === undefined ? null : [filter.state].flat();
      const offset = filter.offset ?? 0;
      return [...s.tasks.values()]
        .filter(
          (task) =>
            (filter.goalId === undefined || task.goalId === filter.goalId) &&
            (states === null || states.includes(task.state)) &&
            (filter.type === undefined || task.type === filter.type) &&
            (filter.afterId === undefined || task.id > filter.afterId),
        )
        .sort((a, b) =>
          filter.afterId !== undefined
            ? compare(a.id, b.id)
            : a.createdAt.getTime() - b.createdAt.getTime() ||
              compare(a.goalId, b.goalId) ||
              compare(a.key, b.key),
        )
        .slice(offset, offset + (filter.limit ?? DEFAULT_LIMIT));
    });
  }

  async getGoal(id: string): Promise<GoalRecord | null> {
    return this.read((s) => s.goals.get(id) ?? null);
  }

  async getGoalByKey(key: string): Promise<GoalRecord | null> {
    return this.read((s) => findGoalByKey(s, key) ?? null);
  }

  async listGoals(
    filter: { state?: GoalState; limit?: number; offset?: number } = {},
  ): Promise<GoalRecord[]> {
    return this.read((s) => {
      const offset = filter.offset ?? 0;
      return [...s.goals.values()]
        .filter((goal) => filter.state === undefined || goal.state === filter.state)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || compare(a.id, b.id))
        .slice(offset, offset + (filter.limit ?? DEFAULT_LIMIT));
    });
  }

  async countByState(): Promise<Record<TaskState, number>> {
    return this.read((s) => {
      const counts = zeroCounts();
      for (const task of s.tasks.values()) counts[task.state] += 1;
      return counts;
    });
  }

  async countByType(): Promise<Record<string, Record<TaskState, number>>> {
    return this.read((s) => {
      const byType: Record<string, Record<TaskState, number>> = {};
      for (const task of s.tasks.values()) (byType[task.type] ??= zeroCounts())[task.state] += 1;
      return byType;
    });
  }

  async eventsAfter(seq: number, limit = 1000): Promise<TaskEventRecord[]> {
    return this.read((s) => s.events.filter((event) => event.seq > seq).slice(0, limit));
  }

  async taskEvents(goalId: string, taskId: string, limit = 1000): Promise<TaskEventRecord[]> {
    return this.read((s) =>
      s.events.filter((e) => e.goalId === goalId && e.taskId === taskId).slice(0, limit),
    );
  }

  async lastSeq(): Promise<number> {
    return this.read((s) => s.meta.seq);
  }

  async getCursor(name: string): Promise<string | null> {
    return this.read((s) => s.meta.cursors[name] ?? null);
  }

  async upsertAgent(agent: AgentInfo): Promise<void> {
    await this.write(async (s) => {
      await this.writeAll('agents', [agent]);
      s.agents.set(agent.id, agent);
      return { result: undefined, changed: true };
    });
  }

  async listAgents(): Promise<AgentInfo[]> {
    return this.read((s) => [...s.agents.values()].sort((a, b) => compare(a.id, b.id)));
  }

  async putCapabilityLimits(record: CapabilityLimitsRecord): Promise<void> {
    await this.write(async () => {
      const all = await this.readLimits();
      all[record.capability] = record;
      await writeFileAtomic(this.path('limits.json'), stableStringify(all) + '\n');
      return { result: undefined };
    });
  }

  async deleteCapabilityLimits(capability: string): Promise<boolean> {
    return this.write(async () => {
      const all = await this.readLimits();
      const had = capability in all;
      delete all[capability];
      if (had) await writeFileAtomic(this.path('limits.json'), stableStringify(all) + '\n');
      return { result: had };
    });
  }

  async listCapabilityLimits(): Promise<CapabilityLimitsRecord[]> {
    return this.serial(async () => {
      const all = await this.readLimits();
      return Object.keys(all)
        .sort(compare)
        .map((name) => ({ ...all[name]!, updatedAt: new Date(all[name]!.updatedAt) }));
    });
  }

  /** DIR/limits.json: capability → its limits record (written under the lock, read whole). */
  private async readLimits(): Promise<Record<string, CapabilityLimitsRecord>> {
    try {
      return JSON.parse(await readFile(this.path('limits.json'), 'utf8')) as Record<
        string,
        CapabilityLimitsRecord
      >;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  }

  /** One operation at a time in this process; `work` sees an up-to-date snapshot. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private read<T>(pick: (s: Snapshot) => T): Promise<T> {
    return this.serial(async () => pick(await this.refresh(false)));
  }

  /**
   * Runs a mutation under the lock file. `mutate` writes its files and updates the snapshot;
   * meta.json (version, seq, cursors) is written last. Any failure drops the snapshot, so the
   * next operation re-reads the directory.
   */
  private write<T>(mutate: (s: Snapshot) => Promise<{ result: T; changed?: boolean }>) {
    return this.serial(async () => {
      await this.open();
      const lock = await acquireFileLock(this.path('.lock'), this.options.lockTimeoutMs);
      try {
        const snapshot = await this.refresh(lock.recovered, true);
        const { result, changed } = await mutate(snapshot);
        if (changed) {
          snapshot.meta.version = `${process.pid}-${Date.now()}-${Math.random()}`;
          await writeFileAtomic(this.path('meta.json'), stableStringify(snapshot.meta) + '\n');
        }
        return result;
      } catch (error) {
        this.state = null;
        throw error;
      } finally {
        await lock.release();
      }
    });
  }

  /** The snapshot, re-read from disk when another process wrote since (or when forced). */
  private async refresh(force: boolean, locked = false): Promise<Snapshot> {
    await this.open();
    const meta = await this.readMeta();
    if (!force && this.state && this.state.meta.version === meta.version) return this.state;
    const events = await this.readEvents(locked);
    const last = events.at(-1)?.seq ?? 0;
    // Events are appended before meta.json is written: a crash between leaves the log ahead.
    meta.seq = Math.max(meta.seq, last);
    this.state = {
      meta,
      events,
      goals: await this.readDir<GoalRecord>('goals', ['createdAt', 'recordedAt', 'finishedAt']),
      tasks: withLivingFields(await this.readDir<TaskRecord>('tasks', TASK_DATES)),
      agents: await this.readDir<AgentInfo>('agents', ['startedAt', 'lastSeenAt']),
    };
    return this.state;
  }

  private async readMeta(): Promise<Meta> {
    try {
      return JSON.parse(await readFile(this.path('meta.json'), 'utf8')) as Meta;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return { version: 'empty', seq: 0, cursors: {} };
    }
  }

  private async readEvents(locked: boolean): Promise<TaskEventRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path('events.jsonl'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return [];
    }
    const end = text.lastIndexOf('\n') + 1;
    // A line without its newline is the remains of an append cut short by a crash.
    if (locked && end < text.length) {
      await truncate(this.path('events.jsonl'), Buffer.byteLength(text.slice(0, end)));
    }
    return text
      .slice(0, end)
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) =>
        reviveDates<TaskEventRecord>(JSON.parse(line) as Record<string, unknown>, ['at']),
      );
  }

  private async readDir<T extends { id: string }>(
    sub: string,
    dates: readonly string[],
  ): Promise<Map<string, T>> {
    const records = new Map<string, T>();
    const names = (await readdir(this.path(sub))).filter((name) => name.endsWith('.json'));
    for (const name of names) {
      let text: string;
      try {
        text = await readFile(this.path(sub, name), 'utf8');
      } catch (error) {
        // Deleted by another process since readdir (deleteGoal).
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const record = reviveDates<T>(JSON.parse(text) as Record<string, unknown>, dates);
      records.set(record.id, record);
    }
    return records;
  }

  private async appendEvents(events: TaskEventRecord[]): Promise<void> {
    if (events.length > 0)
      await appendFile(this.path('events.jsonl'), events.map(eventLine).join(''));
  }

  private async writeAll(sub: string, records: Array<{ id: string }>): Promise<void> {
    for (let i = 0; i < records.length; i += WRITE_CONCURRENCY) {
      await Promise.all(
        records.slice(i, i + WRITE_CONCURRENCY).map((record) =>
          writeFileAtomic(this.path(sub, fileName(record.id)), stableStringify(record) + '\n', {
            fsync: false,
          }),
        ),
      );
    }
  }

  private path(...parts: string[]): string {
    return join(this.options.dir, ...parts);
  }
}

function findGoalByKey(s: Snapshot, key: string): GoalRecord | undefined {
  for (const goal of s.goals.values()) if (goal.key === key) return goal;
  return undefined;
}

/**
 * Task files written before living goals lack spawnedBy, addedBy and deferredAt: null, as the
 * SQL migration gives every existing row.
 */
function withLivingFields(tasks: Map<string, TaskRecord>): Map<string, TaskRecord> {
  for (const task of tasks.values()) {
    task.spawnedBy ??= null;
    task.addedBy ??= null;
    task.deferredAt ??= null;
  }
  return tasks;
}

function eventLine(event: TaskEventRecord): string {
  return stableStringify(event, 0) + '\n';
}

/** Ids are usually safe already; anything else is escaped so it stays one file name. */
function fileName(id: string): string {
  return `${encodeURIComponent(id).replace(/\./g, '%2E')}.json`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
