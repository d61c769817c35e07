/**
 * The SQL tables, written once: `TABLES` names every column with what it holds, and everything
 * else follows from it — the TypeORM `EntitySchema`s (no decorators: the code also runs under
 * tsx and esbuild, which cannot emit decorator metadata), the codec's column lists and value
 * conversions (sql-codec.ts), and PostgreSQL's array types for unnest(). Column types differ only
 * where the dialects do: timestamps (`datetime` text in SQLite, `timestamptz` in PostgreSQL) and
 * JSON (`text` in SQLite, `jsonb` in PostgreSQL). The migrations in `migrations/` must create
 * exactly these tables: test/integration/store-schema-drift.test.ts runs them on fresh SQLite and
 * PostgreSQL and fails on any difference.
 *
 * A column's record field is its name in camelCase (`goal_id` → `goalId`); the type checks at
 * the end keep each table's columns and its record's fields the same set.
 */
// TypeORM only when the schemas are built (opening a store through TypeORM): the column tables
// below are read without it (sql-codec.ts, and the CLI's one-shot commands).
import type { EntitySchema, EntitySchemaColumnOptions } from 'typeorm';
import type { TaskHead } from './apply-changes';
import type {
  AgentInfo,
  CapabilityLimitsRecord,
  GoalRecord,
  TaskEventRecord,
  TaskRecord,
} from './task-model';

export type SqlDialect = 'sqlite' | 'postgres';

/** What a column holds; its SQL type per dialect and its codec follow from it. */
export type ColumnKind =
  'varchar' | 'text' | 'integer' | 'bigint' | 'boolean' | 'double' | 'time' | 'json';

export interface ColumnSpec {
  kind: ColumnKind;
  /** varchar only. */
  length?: number;
  /** @defaultValue false */
  nullable?: boolean;
  /** @defaultValue false */
  primary?: boolean;
  default?: number;
  /** A task column a change may rewrite (a field of the task's head). @defaultValue false */
  head?: boolean;
}

const str = (length: number, nullable = false) => ({ kind: 'varchar', length, nullable }) as const;
const int = { kind: 'integer' } as const;
const text = { kind: 'text' } as const;
const time = { kind: 'time' } as const;
const json = { kind: 'json' } as const;
const big = { kind: 'bigint', nullable: true } as const;
const orNull = <C extends ColumnSpec>(spec: C) => ({ ...spec, nullable: true }) as const;
/** A column of the task's head. */
const head = <C extends ColumnSpec>(spec: C) => ({ ...spec, head: true }) as const;

export const TABLES = {
  goals: {
    id: { ...str(64), primary: true },
    key: str(200, true),
    title: text,
    state: str(16),
    planner: str(100),
    task_count: int,
    plan: json,
    created_by: str(200, true),
    created_at: time,
    recorded_at: orNull(time),
    finished_at: orNull(time),
    budget: orNull(json),
    usage: orNull(json),
    usage_rev: { kind: 'bigint', default: 0 },
  },
  tasks: {
    id: { ...str(64), primary: true },
    goal_id: str(64),
    key: str(100),
    title: text,
    description: text,
    type: str(100),
    priority: int,
    data: json,
    depends_on: json,
    attempts: int,
    timeout_ms: { kind: 'bigint' },
    optional: { kind: 'boolean' },
    state: head(str(16)),
    attempt: head(int),
    epoch: head(int),
    agent_id: head(str(200, true)),
    progress: head(orNull(json)),
    result: head(orNull(json)),
    error: head(orNull(json)),
    created_at: time,
    updated_at: head(time),
    queued_at: head(orNull(time)),
    claimed_at: head(orNull(time)),
    started_at: head(orNull(time)),
    finished_at: head(orNull(time)),
    wait_ms: head(big),
    duration_ms: head(big),
    cpu_ms: head(big),
    peak_rss_bytes: head(big),
    quality_score: head({ kind: 'double', nullable: true }),
    spawned_by: str(64, true),
    added_by: str(200, true),
    deferred_at: orNull(time),
  },
  task_events: {
    seq: { kind: 'bigint', primary: true },
    task_id: str(64),
    goal_id: str(64),
    event: str(16),
    from_state: str(16, true),
    to_state: str(16),
    attempt: int,
    agent_id: str(200, true),
    actor: str(200, true),
    at: time,
    detail: orNull(json),
  },
  agents: {
    id: { ...str(200), primary: true },
    capabilities: json,
    host: str(255),
    pid: int,
    started_at: time,
    last_seen_at: time,
    running: json,
    concurrency: int,
    breakers: json,
  },
  // Mirror cursors (`value`) and the event sequence counter (`counter` of the row `seq`).
  store_meta: {
    name: { ...str(200), primary: true },
    value: orNull(text),
    counter: { kind: 'bigint', default: 0 },
    updated_at: time,
  },
  // Capability limits (`agentq limits set`), kept so `agentq recover` can restore them to Redis.
  capability_limits: {
    capability: { ...str(64), primary: true },
    limits: json,
    updated_at: time,
  },
} as const satisfies Record<string, Record<string, ColumnSpec>>;

export type TableName = keyof typeof TABLES;
export type ColumnOf<T extends TableName> = keyof (typeof TABLES)[T] & string;

/** Indexes by table (unique ones enforce idempotency keys and task keys per goal). */
const INDICES: Partial<
  Record<TableName, Array<{ name: string; columns: string[]; unique?: boolean }>>
> = {
  goals: [
    { name: 'IDX_goals_key', columns: ['key'], unique: true },
    { name: 'IDX_goals_state', columns: ['state'] },
  ],
  tasks: [
    { name: 'IDX_tasks_goal_key', columns: ['goal_id', 'key'], unique: true },
    { name: 'IDX_tasks_state_type', columns: ['state', 'type'] },
    // Keyset pages of one capability's tasks (the mirror's reconcile) walk it in id order.
    { name: 'IDX_tasks_type_id', columns: ['type', 'id'] },
  ],
  task_events: [{ name: 'IDX_task_events_goal_seq', columns: ['goal_id', 'seq'] }],
};

/** The columns of a table, in declaration order. */
export function columnsOf<T extends TableName>(table: T): Array<ColumnOf<T>> {
  return Object.keys(TABLES[table]) as Array<ColumnOf<T>>;
}

/** The spec of one column. */
export function columnSpec<T extends TableName>(table: T, column: ColumnOf<T>): ColumnSpec {
  return (TABLES[table] as Record<string, ColumnSpec>)[column]!;
}

/** `goal_id` → `goalId`: the record field of a column. */
export function fieldOf(column: string): string {
  return column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function sqlType(kind: ColumnKind, pg: boolean): EntitySchemaColumnOptions['type'] {
  switch (kind) {
    case 'double':
      return 'double precision';
    case 'time':
      return pg ? 'timestamptz' : 'datetime';
    case 'json':
      return pg ? 'jsonb' : 'text';
    default:
      return kind;
  }
}

function columnOptions(spec: ColumnSpec, pg: boolean): EntitySchemaColumnOptions {
  return {
    type: sqlType(spec.kind, pg),
    nullable: spec.nullable ?? false,
    ...(spec.length !== undefined ? { length: spec.length } : {}),
    ...(spec.primary ? { primary: true } : {}),
    ...(spec.default !== undefined ? { default: spec.default } : {}),
  };
}

/** Builds the entity schemas (one per table) for one dialect. */
export function entitySchemas(dialect: SqlDialect): EntitySchema[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { EntitySchema } = require('typeorm') as typeof import('typeorm');
  const pg = dialect === 'postgres';
  return (Object.keys(TABLES) as TableName[]).map(
    (table) =>
      new EntitySchema({
        name: table,
        columns: Object.fromEntries(
          columnsOf(table).map((column) => [column, columnOptions(columnSpec(table, column), pg)]),
        ),
        ...(INDICES[table] ? { indices: INDICES[table] } : {}),
      }),
  );
}

// Each table's columns are its record's fields, in snake_case: a column added without its field
// (or a field without its column) fails to compile here.
type Camel<S extends string> = S extends `${infer H}_${infer T}`
  ? `${H}${Capitalize<Camel<T>>}`
  : S;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type FieldsOf<T extends TableName> = Camel<ColumnOf<T>>;
type HeadColumns = {
  [C in ColumnOf<'tasks'>]: (typeof TABLES)['tasks'][C] extends { head: true } ? C : never;
}[ColumnOf<'tasks'>];
const schemaMatchesRecords: [
  Same<FieldsOf<'goals'>, keyof GoalRecord>,
  Same<FieldsOf<'tasks'>, keyof TaskRecord>,
  Same<FieldsOf<'task_events'>, keyof TaskEventRecord>,
  Same<FieldsOf<'agents'>, keyof AgentInfo>,
  Same<Camel<HeadColumns>, Exclude<keyof TaskHead, 'id' | 'goalId'>>,
  Same<FieldsOf<'capability_limits'>, keyof CapabilityLimitsRecord>,
] = [true, true, true, true, true, true];
void schemaMatchesRecords;
