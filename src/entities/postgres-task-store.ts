/**
 * The PostgreSQL task store: TypeORM + pg, every table in one schema (search_path). A batch of
 * changes is one transaction of a handful of statements whatever its size, run on a pg client
 * of TypeORM's pool (see postgres-apply-changes.ts); goals are created with one
 * `INSERT … SELECT unnest(…)` of their tasks, and every event is numbered from the counter row
 * (locked until commit: gap-free across processes).
 */
import type { Pool, PoolClient } from 'pg';
import type * as DataSourceModule from './data-source';
import type { DataSource, QueryRunner } from 'typeorm';
import {
  goalBudgetEvent,
  goalStateAfter,
  newGoalRecord,
  newTaskEvent,
  newTaskRecord,
  numberEvents,
  type PendingEvent,
} from './apply-changes';
import {
  applyChangesWithClient,
  columnsOf,
  EVENT_TYPES,
  INSERT_TASKS,
  recordGoalWithClient,
  TASK_TYPES,
  unnest,
} from './postgres-apply-changes';
import {
  addTasksWithClient,
  deleteTasksWithClient,
  recordTasksWithClient,
} from './postgres-living-goals';
import type { PostgresSourceOptions } from './data-source';
import {
  EVENT_COLUMNS,
  eventValues,
  GOAL_COLUMNS,
  goalFromRow,
  goalValues,
  taskFromRow,
  taskInsertValues,
  type Row,
} from './sql-codec';
import { SqlTaskStore, type Statement } from './sql-task-store';
import type { ApplyResult, GoalState, TaskChange, TaskEventRecord } from './task-model';
import type {
  AddTasksOptions,
  AddTasksResult,
  CreateGoalOptions,
  CreateGoalResult,
  GoalBudgetUpdate,
  NewGoal,
  NewTask,
} from './task-store';

export type PostgresTaskStoreOptions = PostgresSourceOptions;

const SQL = {
  bumpSeq: `UPDATE store_meta SET counter = counter + $1, updated_at = $2 WHERE name = 'seq' RETURNING counter`,
  insertEvents: `INSERT INTO task_events (${EVENT_COLUMNS.join(', ')}) SELECT * FROM ${unnest(EVENT_TYPES)}`,
  insertTasks: INSERT_TASKS,
  insertGoal: `INSERT INTO goals (${GOAL_COLUMNS.join(', ')}) VALUES (${GOAL_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
  goalByKey: 'SELECT * FROM goals WHERE key = $1',
  goalTasks: 'SELECT * FROM tasks WHERE goal_id = $1 ORDER BY created_at, key',
  goalRev: 'SELECT state, usage_rev FROM goals WHERE id = $1 FOR UPDATE',
  writeBudget:
    'UPDATE goals SET budget = $1, usage = $2, usage_rev = $3, state = $4 WHERE id = $5 AND usage_rev < $6',
};

const UNIQUE_VIOLATION = '23505';

/** An error from the server carries an SQLSTATE; anything else may have broken the connection. */
function isConnectionError(error: unknown): boolean {
  return typeof (error as { code?: unknown }).code !== 'string';
}

export class PostgresTaskStore extends SqlTaskStore {
  readonly backend = 'postgres' as const;
  private source: DataSource | null = null;
  private opening: Promise<void> | null = null;
  private readonly numbered = new Map<string, string>();

  constructor(private readonly options: PostgresTaskStoreOptions) {
    super('postgres');
  }

  async open(): Promise<void> {
    this.opening ??= this.connect();
    try {
      await this.opening;
    } catch (error) {
      this.opening = null;
      throw error;
    }
  }

  async close(): Promise<void> {
    const source = this.source;
    this.source = null;
    this.opening = null;
    if (source?.isInitialized) await source.destroy();
  }

  async createGoal(
    goal: NewGoal,
    tasks: NewTask[],
    actor?: string,
    options: CreateGoalOptions = {},
  ): Promise<CreateGoalResult> {
    if (goal.key !== null) {
      const existing = await this.existingGoal(goal.key);
      if (existing) return existing;
    }
    try {
      return await this.transaction(async (runner) => {
        const at = new Date();
        const deferred = options.deferRecord === true;
        const record = newGoalRecord(goal, tasks.length, actor ?? null, at, !deferred);
        await runner.query(SQL.insertGoal, goalValues(this.codec, record));
        const records = tasks.map((spec) => newTaskRecord(spec, goal.id, at));
        if (records.length > 0) {
          const rows = records.map((task) => taskInsertValues(this.codec, task));
          await runner.query(SQL.insertTasks, columnsOf(rows, TASK_TYPES.length));
        }
        const pending = deferred ? [] : records.map((task) => newTaskEvent(task, actor ?? null));
        const events = await this.recordEvents(runner, pending, at);
        return { goal: record, tasks: records, events, created: true };
      });
    } catch (error) {
      // Another writer created the same key between our check and our insert.
      if (goal.key !== null && (error as { code?: string }).code === UNIQUE_VIOLATION) {
        const existing = await this.existingGoal(goal.key);
        if (existing) return existing;
      }
      throw error;
    }
  }

  async addTasks(
    goalId: string,
    tasks: NewTask[],
    actor?: string,
    options: AddTasksOptions = {},
  ): Promise<AddTasksResult> {
    return this.withClient((client) =>
      addTasksWithClient(client, this.codec, goalId, tasks, actor ?? null, options),
    );
  }

  async recordTasks(taskIds: string[]): Promise<TaskEventRecord[]> {
    return this.withClient((client) => recordTasksWithClient(client, this.codec, taskIds));
  }

  async deleteTasks(taskIds: string[]): Promise<void> {
    return this.withClient((client) => deleteTasksWithClient(client, taskIds));
  }

  async recordGoal(goalId: string): Promise<TaskEventRecord[]> {
    return this.withClient((client) => recordGoalWithClient(client, this.codec, goalId));
  }

  async applyChanges(
    changes: TaskChange[],
    cursor?: { name: string; value: string },
  ): Promise<ApplyResult> {
    const cursorStatement = cursor ? this.cursorStatement(cursor, new Date()) : null;
    return this.withClient((client) =>
      applyChangesWithClient(
        client,
        this.codec,
        changes,
        cursorStatement && [this.number(cursorStatement[0]), cursorStatement[1]],
      ),
    );
  }

  async updateGoalBudget(
    goalId: string,
    update: GoalBudgetUpdate,
  ): Promise<TaskEventRecord | null> {
    return this.transaction(async (runner) => {
      // FOR UPDATE: a concurrent copy waits, then sees the newer revision and writes nothing.
      const rows = (await runner.query(SQL.goalRev, [goalId])) as Row[];
      const row = rows[0];
      if (!row || Number(row.usage_rev) >= update.rev) return null;
      const from = row.state as GoalState;
      const c = this.codec;
      await runner.query(SQL.writeBudget, [
        update.budget === null ? null : c.json(update.budget),
        c.json(update.usage),
        update.rev,
        goalStateAfter(from, update),
        goalId,
        update.rev,
      ]);
      const pending = goalBudgetEvent(goalId, from, update);
      if (!pending) return null;
      return (await this.recordEvents(runner, [pending], update.event!.at))[0]!;
    });
  }

  /** Runs `work` on a pool client, discarding the client when the connection broke. */
  private async withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool().connect();
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      broken = isConnectionError(error) ? (error as Error) : undefined;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  protected async all(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.ready().query(this.number(sql), params)) as Row[];
  }

  protected async exec(statements: Statement[]): Promise<void> {
    await this.transaction(async (runner) => {
      for (const statement of statements) await this.run(runner, statement);
    });
  }

  private async connect(): Promise<void> {
    // TypeORM (data-source.ts) is loaded when a store opens, not when its module is.
    const { postgresDataSource, runStoreMigrations } =
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('./data-source') as typeof DataSourceModule;
    const source = postgresDataSource(this.options);
    await source.initialize();
    try {
      if (this.options.schema) {
        await source.query(`CREATE SCHEMA IF NOT EXISTS "${this.options.schema}"`);
      }
      await runStoreMigrations(source);
    } catch (error) {
      await source.destroy();
      throw error;
    }
    this.source = source;
  }

  private async existingGoal(key: string): Promise<CreateGoalResult | null> {
    const source = this.ready();
    const goals = (await source.query(SQL.goalByKey, [key])) as Row[];
    if (!goals[0]) return null;
    const rows = (await source.query(SQL.goalTasks, [goals[0].id])) as Row[];
    return {
      goal: goalFromRow(this.codec, goals[0]),
      tasks: rows.map((row) => taskFromRow(this.codec, row)),
      events: [],
      created: false,
    };
  }

  /** Numbers events from the counter row (locked until commit: gap-free) and inserts them. */
  private async recordEvents(
    runner: QueryRunner,
    pending: PendingEvent[],
    at: Date,
  ): Promise<TaskEventRecord[]> {
    if (pending.length === 0) return [];
    // Structured: TypeORM hands UPDATE … RETURNING back as [rows, count] otherwise.
    const bumped = await runner.query(SQL.bumpSeq, [pending.length, this.codec.time(at)], true);
    const counter = Number((bumped.records as Row[])[0]!.counter);
    const events = numberEvents(pending, counter - pending.length + 1);
    const values = events.map((event) => eventValues(this.codec, event));
    await runner.query(SQL.insertEvents, columnsOf(values, EVENT_TYPES.length));
    return events;
  }

  private async transaction<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.ready().createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      try {
        const result = await work(runner);
        await runner.commitTransaction();
        return result;
      } catch (error) {
        await runner.rollbackTransaction();
        throw error;
      }
    } finally {
      await runner.release();
    }
  }

  private async run(runner: QueryRunner, [sql, params]: Statement): Promise<void> {
    await runner.query(this.number(sql), params);
  }

  /** `?` placeholders → `$1, $2, …` (the shared SQL has no `?` inside literals). */
  private number(sql: string): string {
    let numbered = this.numbered.get(sql);
    if (numbered === undefined) {
      let i = 0;
      numbered = sql.replace(/\?/g, () => `$${++i}`);
      this.numbered.set(sql, numbered);
    }
    return numbered;
  }

  /** The pg pool under TypeORM: the hot path talks to it directly. */
  private pool(): Pool {
    return (this.ready().driver as unknown as { master: Pool }).master;
  }

  private ready(): DataSource {
    if (!this.source) throw new Error('the postgres task store is not open (call open() first)');
    return this.source;
  }
}
