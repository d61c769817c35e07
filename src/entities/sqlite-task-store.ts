/**
 * The SQLite task store: TypeORM's better-sqlite3 driver for the connection and migrations, and
 * the driver's own synchronous handle for the hot paths. A file whose migrations have all run is
 * opened directly with better-sqlite3, set up as TypeORM's driver would (sqlite-connection.ts):
 * no TypeORM loaded, which keeps one-shot CLI commands quick. A batch runs as one `BEGIN IMMEDIATE`
 * transaction of cached prepared statements: in-process, so per-row statements cost
 * microseconds, and nothing else in this process can interleave with it. Other processes
 * writing the same file wait for the lock (busy timeout); WAL lets readers go on meanwhile.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import type * as DataSourceModule from './data-source';
import {
  addedTaskRecords,
  goalBudgetEvent,
  goalStateAfter,
  newGoalRecord,
  newTaskEvent,
  newTaskRecord,
  numberEvents,
  planChanges,
  type PendingEvent,
  type TaskHead,
} from './apply-changes';
import type { SqliteSourceOptions } from './data-source';
import { MIGRATIONS } from './migrations';
import {
  finishSqliteConnection,
  prepareSqliteConnection,
  SQLITE_BUSY_TIMEOUT_MS,
} from './sqlite-connection';
import {
  EVENT_COLUMNS,
  GOAL_COLUMNS,
  goalFromRow,
  goalValues,
  headFieldValue,
  writeShapeOf,
  PLANNING_COLUMNS,
  planningHeadFromRow,
  TASK_INSERT_COLUMNS,
  taskFromRow,
  taskInsertValues,
  eventValues,
  type Row,
  type WriteShape,
} from './sql-codec';
import { SqlTaskStore, type Statement } from './sql-task-store';
import type { ApplyResult, GoalState, TaskChange, TaskEventRecord, TaskRecord } from './task-model';
import { ConflictError, NotFoundError } from '../errors';
import { isGoalOpen } from './task-model';
import type {
  AddTasksOptions,
  AddTasksResult,
  CreateGoalOptions,
  CreateGoalResult,
  GoalBudgetUpdate,
  NewGoal,
  NewTask,
} from './task-store';

export type SqliteTaskStoreOptions = SqliteSourceOptions;

/**
 * The file opened with better-sqlite3 as TypeORM's driver opens it, when every migration has
 * run (its `migrations` table lists them all); null otherwise (new file, pending migration):
 * then the store opens through TypeORM, which runs them.
 */
function openMigrated(options: SqliteSourceOptions): BetterSqlite3.Database | null {
  const Database = require('better-sqlite3') as typeof BetterSqlite3;
  const db = new Database(options.path, {
    timeout: options.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS,
    fileMustExist: true,
  });
  try {
    prepareSqliteConnection(db);
    finishSqliteConnection(db);
    const ran = new Set(
      (db.prepare('SELECT name FROM migrations').all() as Array<{ name: string }>).map(
        (row) => row.name,
      ),
    );
    // TypeORM records each migration's `name` (each class sets it to its own name).
    if (MIGRATIONS.every((migration) => ran.has(new migration().name))) return db;
  } catch {
    // No migrations table yet: TypeORM creates it.
  }
  db.close();
  return null;
}

const insertSql = (table: string, columns: readonly string[], rows = 1) =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES ` +
  Array.from({ length: rows }, () => `(${columns.map(() => '?').join(', ')})`).join(', ');

/**
 * Events per multi-row INSERT: one statement call binds many rows, which costs less than a
 * call per row (64 × 11 parameters stays far below SQLite's limit of 32,766).
 */
const EVENT_ROWS_PER_INSERT = 64;

const SQL = {
  // One call for the whole batch: half the cost of a call per id (measured).
  heads: `SELECT ${PLANNING_COLUMNS.join(', ')} FROM tasks WHERE id IN (SELECT value FROM json_each(?))`,
  bumpSeq: `UPDATE store_meta SET counter = counter + ?, updated_at = ? WHERE name = 'seq' RETURNING counter`,
  insertEvent: insertSql('task_events', EVENT_COLUMNS),
  insertEvents: insertSql('task_events', EVENT_COLUMNS, EVENT_ROWS_PER_INSERT),
  insertTask: insertSql('tasks', TASK_INSERT_COLUMNS),
  insertGoal: insertSql('goals', GOAL_COLUMNS),
  goalByKey: 'SELECT * FROM goals WHERE key = ?',
  goalTasks: 'SELECT * FROM tasks WHERE goal_id = ? ORDER BY created_at, key',
  unrecordedGoals: `SELECT id, created_by FROM goals WHERE recorded_at IS NULL AND id IN (SELECT value FROM json_each(?))`,
  markRecorded: 'UPDATE goals SET recorded_at = ? WHERE id = ?',
  goalRev: 'SELECT state, usage_rev FROM goals WHERE id = ?',
  tasksByIds: 'SELECT * FROM tasks WHERE id IN (SELECT value FROM json_each(?))',
  deferredTasks: `SELECT * FROM tasks WHERE deferred_at IS NOT NULL AND id IN (SELECT value FROM json_each(?)) ORDER BY created_at, key`,
  clearDeferred: 'UPDATE tasks SET deferred_at = NULL WHERE id IN (SELECT value FROM json_each(?))',
  growGoal: 'UPDATE goals SET task_count = task_count + ? WHERE id = ?',
  shrinkGoals: `UPDATE goals SET task_count = task_count - (SELECT COUNT(*) FROM tasks WHERE tasks.goal_id = goals.id AND tasks.id IN (SELECT value FROM json_each(?))) WHERE id IN (SELECT goal_id FROM tasks WHERE id IN (SELECT value FROM json_each(?)))`,
  deleteTaskEvents: 'DELETE FROM task_events WHERE task_id IN (SELECT value FROM json_each(?))',
  deleteTasks: 'DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?))',
  writeBudget:
    'UPDATE goals SET budget = ?, usage = ?, usage_rev = ?, state = ? WHERE id = ? AND usage_rev < ?',
};

export class SqliteTaskStore extends SqlTaskStore {
  readonly backend = 'sqlite' as const;
  private source: DataSource | null = null;
  private db: BetterSqlite3.Database | null = null;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly updates = new Map<number, BetterSqlite3.Statement>();

  constructor(private readonly options: SqliteTaskStoreOptions) {
    super('sqlite');
  }

  async open(): Promise<void> {
    if (this.db) return;
    if (this.options.path !== ':memory:') {
      if (existsSync(this.options.path)) {
        this.db = openMigrated(this.options);
        if (this.db) return;
      }
      mkdirSync(dirname(this.options.path), { recursive: true });
    }
    const { runStoreMigrations, sqliteDataSource } =
      require('./data-source') as typeof DataSourceModule;
    const source = sqliteDataSource(this.options);
    await source.initialize();
    try {
      await runStoreMigrations(source);
    } catch (error) {
      await source.destroy();
      throw error;
    }
    this.source = source;
    this.db = (
      source.driver as unknown as { databaseConnection: BetterSqlite3.Database }
    ).databaseConnection;
  }

  async close(): Promise<void> {
    const source = this.source;
    const db = this.db;
    this.source = null;
    this.db = null;
    this.statements.clear();
    this.updates.clear();
    if (source?.isInitialized) await source.destroy();
    else if (db?.open) db.close();
  }

  async createGoal(
    goal: NewGoal,
    tasks: NewTask[],
    actor?: string,
    options: CreateGoalOptions = {},
  ): Promise<CreateGoalResult> {
    const db = this.handle();
    return db
      .transaction((): CreateGoalResult => {
        if (goal.key !== null) {
          const existing = this.stmt(SQL.goalByKey).get(goal.key) as Row | undefined;
          if (existing) {
            const rows = this.stmt(SQL.goalTasks).all(existing.id) as Row[];
            return {
              goal: goalFromRow(this.codec, existing),
              tasks: rows.map((row) => taskFromRow(this.codec, row)),
              events: [],
              created: false,
            };
          }
        }
        const at = new Date();
        const deferred = options.deferRecord === true;
        const record = newGoalRecord(goal, tasks.length, actor ?? null, at, !deferred);
        this.stmt(SQL.insertGoal).run(...goalValues(this.codec, record));
        const insertTask = this.stmt(SQL.insertTask);
        const records = tasks.map((spec) => newTaskRecord(spec, goal.id, at));
        for (const task of records) insertTask.run(...taskInsertValues(this.codec, task));
        const events = deferred
          ? []
          : this.recordEvents(
              records.map((task) => newTaskEvent(task, actor ?? null)),
              at,
            );
        return { goal: record, tasks: records, events, created: true };
      })
      .immediate();
  }

  async recordGoal(goalId: string): Promise<TaskEventRecord[]> {
    return this.handle()
      .transaction(() => this.recordUnrecorded([goalId], new Date()))
      .immediate();
  }

  async addTasks(
    goalId: string,
    tasks: NewTask[],
    actor?: string,
    options: AddTasksOptions = {},
  ): Promise<AddTasksResult> {
    return this.handle()
      .transaction((): AddTasksResult => {
        const goal = this.stmt(SQL.goalRev).get(goalId) as Row | undefined;
        if (!goal) throw new NotFoundError('goal', goalId);
        const state = goal.state as GoalState;
        if (!isGoalOpen(state)) {
          throw new ConflictError(`goal ${goalId} is ${state}: tasks cannot be added to it`);
        }
        const ids = tasks.map((task) => task.id);
        const existing = new Map<string, TaskRecord>();
        for (const row of this.stmt(SQL.tasksByIds).all(JSON.stringify(ids)) as Row[]) {
          existing.set(row.id as string, taskFromRow(this.codec, row));
        }
        const at = new Date();
        const fresh = addedTaskRecords(goalId, tasks, existing, actor ?? null, at, options);
        const insertTask = this.stmt(SQL.insertTask);
        for (const task of fresh) insertTask.run(...taskInsertValues(this.codec, task));
        if (fresh.length > 0) this.stmt(SQL.growGoal).run(fresh.length, goalId);
        const events =
          options.deferRecord === true
            ? []
            : this.recordEvents(
                fresh.map((task) => newTaskEvent(task, actor ?? null)),
                at,
              );
        const created = new Map(fresh.map((task) => [task.id, task]));
        return {
          tasks: ids.map((id) => existing.get(id) ?? created.get(id)!),
          created: fresh.map((task) => task.id),
          events,
        };
      })
      .immediate();
  }

  async recordTasks(taskIds: string[]): Promise<TaskEventRecord[]> {
    return this.handle()
      .transaction(() => this.recordDeferredTasks(taskIds, new Date()))
      .immediate();
  }

  async deleteTasks(taskIds: string[]): Promise<void> {
    if (taskIds.length === 0) return;
    const ids = JSON.stringify(taskIds);
    this.handle()
      .transaction(() => {
        this.stmt(SQL.shrinkGoals).run(ids, ids);
        this.stmt(SQL.deleteTaskEvents).run(ids);
        this.stmt(SQL.deleteTasks).run(ids);
      })
      .immediate();
  }

  async applyChanges(
    changes: TaskChange[],
    cursor?: { name: string; value: string },
  ): Promise<ApplyResult> {
    const db = this.handle();
    return db
      .transaction((): ApplyResult => {
        const ids = [...new Set(changes.map((change) => change.taskId))];
        const rows = this.stmt(SQL.heads).all(JSON.stringify(ids)) as Row[];
        const current = new Map<string, TaskHead>();
        for (const row of rows) current.set(row.id as string, planningHeadFromRow(row));
        const now = new Date();
        const creations = [
          ...this.recordUnrecorded([...new Set(rows.map((r) => r.goal_id as string))], now),
          // Tasks an addTasks deferred (their rows say so; the heads query does not load it).
          ...this.recordDeferredTasks(
            rows.map((r) => r.id as string),
            now,
          ),
        ];
        const plan = planChanges(current, changes);
        for (const head of plan.heads.values()) {
          const shape = writeShapeOf(plan.written.get(head.id)!);
          const values = shape.fields.map((field) => headFieldValue(this.codec, head, field));
          this.updateStatement(shape).run(...values, head.id);
        }
        const events = [...creations, ...this.recordEvents(plan.events, now)];
        if (cursor) this.run(this.cursorStatement(cursor, now));
        return { events, rejected: plan.rejected, stale: plan.stale };
      })
      .immediate();
  }

  async updateGoalBudget(
    goalId: string,
    update: GoalBudgetUpdate,
  ): Promise<TaskEventRecord | null> {
    return this.handle()
      .transaction((): TaskEventRecord | null => {
        const row = this.stmt(SQL.goalRev).get(goalId) as Row | undefined;
        if (!row || Number(row.usage_rev) >= update.rev) return null;
        const from = row.state as GoalState;
        const c = this.codec;
        this.stmt(SQL.writeBudget).run(
          update.budget === null ? null : c.json(update.budget),
          c.json(update.usage),
          update.rev,
          goalStateAfter(from, update),
          goalId,
          update.rev,
        );
        const pending = goalBudgetEvent(goalId, from, update);
        return pending ? this.recordEvents([pending], update.event!.at)[0]! : null;
      })
      .immediate();
  }

  protected async all(sql: string, params: unknown[]): Promise<Row[]> {
    return this.stmt(sql).all(...params) as Row[];
  }

  protected async exec(statements: Statement[]): Promise<void> {
    this.handle()
      .transaction(() => {
        for (const statement of statements) this.run(statement);
      })
      .immediate();
  }

  /**
   * The `new` events of those of `goalIds` not recorded yet, from their task rows (no change has
   * touched those: a change records its goal first), and the goals marked recorded. Inside the
   * caller's transaction.
   */
  private recordUnrecorded(goalIds: string[], at: Date): TaskEventRecord[] {
    if (goalIds.length === 0) return [];
    const goals = this.stmt(SQL.unrecordedGoals).all(JSON.stringify(goalIds)) as Row[];
    const events: TaskEventRecord[] = [];
    for (const goal of goals) {
      const actor = (goal.created_by as string | null) ?? null;
      const tasks = (this.stmt(SQL.goalTasks).all(goal.id) as Row[]).map((row) =>
        taskFromRow(this.codec, row),
      );
      events.push(
        ...this.recordEvents(
          tasks.map((task) => newTaskEvent(task, actor)),
          at,
        ),
      );
      this.stmt(SQL.markRecorded).run(this.codec.time(at), goal.id);
    }
    return events;
  }

  /** The deferred `new` events of those of `taskIds` still deferred, and their marks cleared. */
  private recordDeferredTasks(taskIds: string[], at: Date): TaskEventRecord[] {
    if (taskIds.length === 0) return [];
    const ids = JSON.stringify(taskIds);
    const tasks = (this.stmt(SQL.deferredTasks).all(ids) as Row[]).map((row) =>
      taskFromRow(this.codec, row),
    );
    if (tasks.length === 0) return [];
    this.stmt(SQL.clearDeferred).run(JSON.stringify(tasks.map((task) => task.id)));
    return this.recordEvents(
      tasks.map((task) => newTaskEvent(task, task.addedBy)),
      at,
    );
  }

  /** Numbers events from the counter row (same transaction: gap-free) and inserts them. */
  private recordEvents(pending: PendingEvent[], at: Date): TaskEventRecord[] {
    if (pending.length === 0) return [];
    const { counter } = this.stmt(SQL.bumpSeq).get(pending.length, this.codec.time(at)) as {
      counter: number;
    };
    const events = numberEvents(pending, Number(counter) - pending.length + 1);
    const many = this.stmt(SQL.insertEvents);
    const one = this.stmt(SQL.insertEvent);
    let i = 0;
    for (; i + EVENT_ROWS_PER_INSERT <= events.length; i += EVENT_ROWS_PER_INSERT) {
      const values: unknown[] = [];
      for (let j = i; j < i + EVENT_ROWS_PER_INSERT; j++) {
        values.push(...eventValues(this.codec, events[j]!));
      }
      many.run(...values);
    }
    for (; i < events.length; i++) one.run(...eventValues(this.codec, events[i]!));
    return events;
  }

  /** The UPDATE that writes just the fields of one shape of one task. */
  private updateStatement(shape: WriteShape): BetterSqlite3.Statement {
    let statement = this.updates.get(shape.key);
    if (!statement) {
      const sets = shape.columns.map((column) => `${column} = ?`).join(', ');
      statement = this.handle().prepare(`UPDATE tasks SET ${sets} WHERE id = ?`);
      this.updates.set(shape.key, statement);
    }
    return statement;
  }

  private run([sql, params]: Statement): void {
    this.stmt(sql).run(...params);
  }

  private stmt(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      // findTasks builds a few shapes of SQL; the cap only guards against unbounded growth.
      if (this.statements.size > 256) this.statements.clear();
      statement = this.handle().prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private handle(): BetterSqlite3.Database {
    if (!this.db) throw new Error('the sqlite task store is not open (call open() first)');
    return this.db;
  }
}
