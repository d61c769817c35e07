/**
 * How values travel between records and SQL rows, per dialect. SQLite keeps timestamps as
 * ISO-8601 text (sortable), JSON as text and booleans as 0/1; PostgreSQL has `timestamptz`,
 * `jsonb` (returned parsed by pg) and `boolean`, and returns `bigint` as a string.
 *
 * Nothing here names a column of a whole row: the column lists, each column's record field and
 * its conversion all come from the tables of entity-schemas.ts. Only the projections of a few
 * queries (TASK_STATE_COLUMNS, PLANNING_COLUMNS) are spelled out, checked against them.
 */
import {
  columnsOf,
  columnSpec,
  fieldOf,
  TABLES,
  type ColumnKind,
  type ColumnOf,
  type ColumnSpec,
  type SqlDialect,
  type TableName,
} from './entity-schemas';
import { NO_METRICS, PLANNING_FIELDS, type HeadField, type TaskHead } from './apply-changes';
import type {
  AgentInfo,
  CapabilityLimitsRecord,
  GoalRecord,
  TaskEventRecord,
  TaskRecord,
} from './task-model';
import type { TaskState } from './task-state';
import type { TaskStateRow } from './task-store';

export type Row = Record<string, unknown>;

export interface SqlCodec {
  time(value: Date): string | Date;
  json(value: unknown): string;
  bool(value: boolean): number | boolean;
  readTime(value: unknown): Date;
  readJson<T>(value: unknown): T;
}

const sqlite: SqlCodec = {
  time: (value) => value.toISOString(),
  json: (value) => JSON.stringify(value),
  bool: (value) => (value ? 1 : 0),
  readTime: (value) => new Date(value as string),
  readJson: <T>(value: unknown) => JSON.parse(value as string) as T,
};

const postgres: SqlCodec = {
  // ISO strings also fit `timestamptz[]` parameters of unnest().
  time: (value) => value.toISOString(),
  json: (value) => JSON.stringify(value),
  bool: (value) => value,
  readTime: (value) => (value instanceof Date ? value : new Date(value as string)),
  readJson: <T>(value: unknown) => value as T,
};

export function codecFor(dialect: SqlDialect): SqlCodec {
  return dialect === 'postgres' ? postgres : sqlite;
}

/** One column of a table with its record field and its conversions, ready for a codec. */
interface ColumnCodec {
  column: string;
  field: string;
  encode(c: SqlCodec, value: unknown): unknown;
  decode(c: SqlCodec, raw: unknown): unknown;
}

function encoderOf(kind: ColumnKind): ColumnCodec['encode'] {
  switch (kind) {
    case 'time':
      return (c, v) => c.time(v as Date);
    case 'json':
      return (c, v) => c.json(v);
    case 'boolean':
      return (c, v) => c.bool(v as boolean);
    default:
      return (_, v) => v;
  }
}

function decoderOf(kind: ColumnKind): ColumnCodec['decode'] {
  switch (kind) {
    case 'time':
      return (c, raw) => c.readTime(raw);
    case 'json':
      return (c, raw) => c.readJson(raw);
    case 'boolean':
      return (_, raw) => Boolean(raw);
    case 'integer':
    case 'bigint':
    case 'double':
      return (_, raw) => Number(raw);
    default:
      return (_, raw) => raw;
  }
}

function codecOfColumn(spec: ColumnSpec, column: string): ColumnCodec {
  const encode = encoderOf(spec.kind);
  const decode = decoderOf(spec.kind);
  return {
    column,
    field: fieldOf(column),
    // NULL both ways for a missing value (a nullable column; a NOT NULL one refuses it).
    encode: (c, v) => (v === null || v === undefined ? null : encode(c, v)),
    decode: (c, raw) => (raw === null || raw === undefined ? null : decode(c, raw)),
  };
}

function tableCodec(table: TableName): ColumnCodec[] {
  return columnsOf(table).map((column) => codecOfColumn(columnSpec(table, column), column));
}

const CODECS: { readonly [T in TableName]: ColumnCodec[] } = {
  goals: tableCodec('goals'),
  tasks: tableCodec('tasks'),
  task_events: tableCodec('task_events'),
  agents: tableCodec('agents'),
  store_meta: tableCodec('store_meta'),
  capability_limits: tableCodec('capability_limits'),
};

/** A record's values in its table's column order, ready to bind. */
function rowValues(c: SqlCodec, table: TableName, record: object): unknown[] {
  const fields = record as Record<string, unknown>;
  return CODECS[table].map((col) => col.encode(c, fields[col.field]));
}

/** A record from a row of every column of its table. */
function recordOf<T>(c: SqlCodec, table: TableName, row: Row): T {
  const out: Record<string, unknown> = {};
  for (const col of CODECS[table]) out[col.field] = col.decode(c, row[col.column]);
  return out as T;
}

/** PostgreSQL's element type of a column in unnest() arrays. */
const PG_ARRAY_TYPES: Readonly<Record<ColumnKind, string>> = {
  varchar: 'varchar',
  text: 'text',
  integer: 'int',
  bigint: 'bigint',
  boolean: 'boolean',
  double: 'float8',
  time: 'timestamptz',
  json: 'jsonb',
};

/** The unnest() element types of `columns` of `table`. */
export function pgArrayTypes<T extends TableName>(
  table: T,
  columns: ReadonlyArray<ColumnOf<T>>,
): string[] {
  return columns.map((column) => PG_ARRAY_TYPES[columnSpec(table, column).kind]);
}

/** The columns of a task's identity and state (`findTaskStates`). */
export const TASK_STATE_COLUMNS = [
  'id',
  'goal_id',
  'state',
  'attempt',
  'epoch',
] as const satisfies ReadonlyArray<ColumnOf<'tasks'>>;

export function taskStateFromRow(row: Row): TaskStateRow {
  return {
    id: row.id as string,
    goalId: row.goal_id as string,
    state: row.state as TaskState,
    attempt: Number(row.attempt),
    epoch: Number(row.epoch),
  };
}

/** The column of each head field: the task columns entity-schemas.ts marks `head`. */
export const HEAD_FIELD_COLUMNS: Readonly<Record<HeadField, ColumnOf<'tasks'>>> =
  Object.fromEntries(
    columnsOf('tasks')
      .filter((column) => (TABLES.tasks[column] as ColumnSpec).head === true)
      .map((column) => [fieldOf(column), column]),
  ) as Record<HeadField, ColumnOf<'tasks'>>;

/** The columns `planChanges` needs of a current head (see PLANNING_FIELDS). */
export const PLANNING_COLUMNS = [
  'id',
  'goal_id',
  ...PLANNING_FIELDS.map((field) => HEAD_FIELD_COLUMNS[field]),
] as const;

/** Stands for a field the store did not load; never written (updatedAt is always rewritten). */
const NOT_LOADED = new Date(0);

/**
 * A head from a row of PLANNING_COLUMNS: enough to plan a batch whose heads are written back
 * field by field (`ChangePlan.written`); the fields not loaded are null.
 */
export function planningHeadFromRow(row: Row): TaskHead {
  return {
    ...taskStateFromRow(row),
    agentId: (row.agent_id as string | null) ?? null,
    progress: null,
    result: null,
    error: null,
    updatedAt: NOT_LOADED,
    ...NO_METRICS,
  };
}

const HEAD_CODECS = new Map(
  CODECS.tasks.filter((col) => col.field in HEAD_FIELD_COLUMNS).map((col) => [col.field, col]),
);

/** One field of a head, ready to bind. */
export function headFieldValue(c: SqlCodec, h: TaskHead, field: HeadField): unknown {
  return HEAD_CODECS.get(field)!.encode(c, h[field]);
}

/** The unnest() element type of a head field's column. */
export function pgHeadFieldType(field: HeadField): string {
  return PG_ARRAY_TYPES[columnSpec('tasks', HEAD_FIELD_COLUMNS[field]).kind];
}

const ALL_HEAD_FIELDS = Object.keys(HEAD_FIELD_COLUMNS) as HeadField[];

/** Which fields of a head a write rewrites: heads with the same shape share one statement. */
export interface WriteShape {
  /** One bit per field of ALL_HEAD_FIELDS: the same fields, the same key. */
  key: number;
  /** The fields in a fixed order. */
  fields: HeadField[];
  columns: string[];
}

const shapes = new Map<number, WriteShape>();

/** The shape of a written set (`ChangePlan.written`), memoised: a batch has but a few. */
export function writeShapeOf(written: ReadonlySet<HeadField>): WriteShape {
  let key = 0;
  for (let i = 0; i < ALL_HEAD_FIELDS.length; i++) {
    if (written.has(ALL_HEAD_FIELDS[i]!)) key |= 1 << i;
  }
  let shape = shapes.get(key);
  if (!shape) {
    const fields = ALL_HEAD_FIELDS.filter((field) => written.has(field));
    shape = { key, fields, columns: fields.map((field) => HEAD_FIELD_COLUMNS[field]) };
    shapes.set(key, shape);
  }
  return shape;
}

export function taskFromRow(c: SqlCodec, row: Row): TaskRecord {
  return recordOf<TaskRecord>(c, 'tasks', row);
}

/** Every column of `tasks`: a new task's record fills them all (nulls included). */
export const TASK_INSERT_COLUMNS = columnsOf('tasks');

export function taskInsertValues(c: SqlCodec, t: TaskRecord): unknown[] {
  return rowValues(c, 'tasks', t);
}

export const EVENT_COLUMNS = columnsOf('task_events');

export function eventValues(c: SqlCodec, e: TaskEventRecord): unknown[] {
  return rowValues(c, 'task_events', e);
}

export function eventFromRow(c: SqlCodec, row: Row): TaskEventRecord {
  return recordOf<TaskEventRecord>(c, 'task_events', row);
}

export const GOAL_COLUMNS = columnsOf('goals');

export function goalValues(c: SqlCodec, g: GoalRecord): unknown[] {
  return rowValues(c, 'goals', g);
}

export function goalFromRow(c: SqlCodec, row: Row): GoalRecord {
  return recordOf<GoalRecord>(c, 'goals', row);
}

export const AGENT_COLUMNS = columnsOf('agents');

export function agentValues(c: SqlCodec, a: AgentInfo): unknown[] {
  return rowValues(c, 'agents', a);
}

export function agentFromRow(c: SqlCodec, row: Row): AgentInfo {
  return recordOf<AgentInfo>(c, 'agents', row);
}

export const LIMIT_COLUMNS = columnsOf('capability_limits');

export function limitsValues(c: SqlCodec, record: CapabilityLimitsRecord): unknown[] {
  return rowValues(c, 'capability_limits', record);
}

export function limitsFromRow(c: SqlCodec, row: Row): CapabilityLimitsRecord {
  return recordOf<CapabilityLimitsRecord>(c, 'capability_limits', row);
}
