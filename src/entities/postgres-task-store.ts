/**
 * The PostgreSQL task store: TypeORM + pg, every table in one schema (search_path). A batch is
 * one transaction of a handful of statements whatever its size: the touched rows are read and
 * locked with one `SELECT … FOR UPDATE` (in id order, so two writers never deadlock), rewritten
 * with one `UPDATE … FROM unnest(…)`, and the events numbered from the counter row (locked
 * until commit: gap-free across processes) and inserted with one `INSERT … SELECT unnest(…)`.
 */
import type { DataSource, QueryRunner } from 'typeorm';
import {
  newTaskEvent,
  newTaskRecord,
  numberEvents,
  planChanges,
  type PendingEvent,
  type TaskHead,
} from './apply-changes';
import { postgresDataSource, runStoreMigrations, type PostgresSourceOptions } from './data-source';
import {
  EVENT_COLUMNS,
  eventValues,
  GOAL_COLUMNS,
  goalFromRow,
  goalValues,
  HEAD_COLUMNS,
  headFromRow,
  headValues,
  TASK_INSERT_COLUMNS,
  taskFromRow,
  taskInsertValues,
  type Row,
} from './sql-codec';
import { SqlTaskStore, type Statement } from './sql-task-store';
import type { ApplyResult, GoalRecord, TaskChange, TaskEventRecord } from './task-model';
import type { CreateGoalResult, NewGoal, NewTask } from './task-store';

export type PostgresTaskStoreOptions = PostgresSourceOptions;

const TS = 'timestamptz';
/** Array element types of HEAD_COLUMNS without goal_id (never rewritten). */
const HEAD_TYPES = [
  'varchar', // id
  'varchar', // state
  'int',
  'int',
  'varchar', // agent_id
  'jsonb',
  'jsonb',
  'jsonb',
  TS, // updated_at
  TS,
  TS,
  TS,
  TS,
  'bigint',
  'bigint',
  'bigint',
  'bigint',
  'float8',
];
const HEAD_UPDATE_COLUMNS = HEAD_COLUMNS.filter((col) => col !== 'goal_id');
const EVENT_TYPES = [
  'bigint',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'int',
  'varchar',
  'varchar',
  TS,
  'jsonb',
];
const TASK_TYPES = [
  'varchar', // id
  'varchar', // goal_id
  'varchar', // key
  'text',
  'text',
  'varchar', // type
  'int',
  'jsonb',
  'jsonb',
  'int',
  'bigint',
  'boolean',
  'varchar', // state
  'int',
  'int',
  TS,
  TS,
  TS,
];

function unnest(types: string[]): string {
  return `unnest(${types.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})`;
}

/** Rows of values → one array per column, as unnest() takes them. */
function columnsOf(rows: unknown[][], width: number): unknown[][] {
  const columns: unknown[][] = Array.from({ length: width }, () => new Array<unknown>(rows.length));
  rows.forEach((row, r) => row.forEach((value, c) => (columns[c]![r] = value)));
  return columns;
}

const SQL = {
  lockHeads: `SELECT ${HEAD_COLUMNS.join(', ')} FROM tasks WHERE id = ANY($1::varchar[]) ORDER BY id FOR UPDATE`,
  updateHeads:
    `UPDATE tasks AS t SET ${HEAD_UPDATE_COLUMNS.slice(1)
      .map((col) => `${col} = v.${col}`)
      .join(', ')} ` +
    `FROM ${unnest(HEAD_TYPES)} AS v(${HEAD_UPDATE_COLUMNS.join(', ')}) WHERE t.id = v.id`,
  bumpSeq: `UPDATE store_meta SET counter = counter + $1, updated_at = $2 WHERE name = 'seq' RETURNING counter`,
  insertEvents: `INSERT INTO task_events (${EVENT_COLUMNS.join(', ')}) SELECT * FROM ${unnest(EVENT_TYPES)}`,
  insertTasks: `INSERT INTO tasks (${TASK_INSERT_COLUMNS.join(', ')}) SELECT * FROM ${unnest(TASK_TYPES)}`,
  insertGoal: `INSERT INTO goals (${GOAL_COLUMNS.join(', ')}) VALUES (${GOAL_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
  goalByKey: 'SELECT * FROM goals WHERE key = $1',
  goalTasks: 'SELECT * FROM tasks WHERE goal_id = $1 ORDER BY created_at, key',
};

const UNIQUE_VIOLATION = '23505';

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

  async createGoal(goal: NewGoal, tasks: NewTask[], actor?: string): Promise<CreateGoalResult> {
    if (goal.key !== null) {
      const existing = await this.existingGoal(goal.key);
      if (existing) return existing;
    }
    try {
      return await this.transaction(async (runner) => {
        const at = new Date();
        const record: GoalRecord = {
          ...goal,
          state: 'ACTIVE',
          taskCount: tasks.length,
          createdAt: at,
          finishedAt: null,
        };
        await runner.query(SQL.insertGoal, goalValues(this.codec, record));
        const records = tasks.map((spec) => newTaskRecord(spec, goal.id, at));
        if (records.length > 0) {
          const rows = records.map((task) => taskInsertValues(this.codec, task));
          await runner.query(SQL.insertTasks, columnsOf(rows, TASK_TYPES.length));
        }
        const pending = records.map((task) => newTaskEvent(task, actor ?? null));
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

  async applyChanges(
    changes: TaskChange[],
    cursor?: { name: string; value: string },
  ): Promise<ApplyResult> {
    return this.transaction(async (runner) => {
      const ids = [...new Set(changes.map((change) => change.taskId))];
      const rows = (await runner.query(SQL.lockHeads, [ids])) as Row[];
      const current = new Map<string, TaskHead>();
      for (const row of rows) current.set(row.id as string, headFromRow(this.codec, row));
      const plan = planChanges(current, changes);
      if (plan.heads.size > 0) {
        const values = [...plan.heads.values()].map((head) => {
          const [id, , ...rest] = headValues(this.codec, head);
          return [id, ...rest];
        });
        await runner.query(SQL.updateHeads, columnsOf(values, HEAD_TYPES.length));
      }
      const now = new Date();
      const events = await this.recordEvents(runner, plan.events, now);
      if (cursor) await this.run(runner, this.cursorStatement(cursor, now));
      return { events, rejected: plan.rejected, stale: plan.stale };
    });
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

  private ready(): DataSource {
    if (!this.source) throw new Error('the postgres task store is not open (call open() first)');
    return this.source;
  }
}
