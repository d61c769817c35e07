/**
 * The SQL tables as TypeORM `EntitySchema`s (no decorators: the code also runs under tsx and
 * esbuild, which cannot emit decorator metadata). Column types differ only where the dialects
 * do: timestamps (`datetime` text in SQLite, `timestamptz` in PostgreSQL) and JSON (`text` in
 * SQLite, `jsonb` in PostgreSQL). The migrations in `migrations/` create exactly these tables.
 */
import { EntitySchema, type EntitySchemaColumnOptions } from 'typeorm';

export type SqlDialect = 'sqlite' | 'postgres';

type Columns = Record<string, EntitySchemaColumnOptions>;

function kinds(dialect: SqlDialect) {
  const pg = dialect === 'postgres';
  const time = (nullable = false): EntitySchemaColumnOptions => ({
    type: pg ? 'timestamptz' : 'datetime',
    nullable,
  });
  const json = (nullable = false): EntitySchemaColumnOptions => ({
    type: pg ? 'jsonb' : 'text',
    nullable,
  });
  return { time, json };
}

/** Builds the five entity schemas for one dialect. */
export function entitySchemas(dialect: SqlDialect): EntitySchema[] {
  const { time, json } = kinds(dialect);
  const str = (length: number, nullable = false): EntitySchemaColumnOptions => ({
    type: 'varchar',
    length,
    nullable,
  });
  const int = (nullable = false): EntitySchemaColumnOptions => ({ type: 'integer', nullable });
  const big = (nullable = true): EntitySchemaColumnOptions => ({ type: 'bigint', nullable });

  const goalColumns: Columns = {
    id: { ...str(64), primary: true },
    key: str(200, true),
    title: { type: 'text' },
    state: str(16),
    planner: str(100),
    task_count: int(),
    plan: json(),
    created_by: str(200, true),
    created_at: time(),
    recorded_at: time(true),
    finished_at: time(true),
  };
  const taskColumns: Columns = {
    id: { ...str(64), primary: true },
    goal_id: str(64),
    key: str(100),
    title: { type: 'text' },
    description: { type: 'text' },
    type: str(100),
    priority: int(),
    data: json(),
    depends_on: json(),
    attempts: int(),
    timeout_ms: big(false),
    optional: { type: 'boolean' },
    state: str(16),
    attempt: int(),
    epoch: int(),
    agent_id: str(200, true),
    progress: json(true),
    result: json(true),
    error: json(true),
    created_at: time(),
    updated_at: time(),
    queued_at: time(true),
    claimed_at: time(true),
    started_at: time(true),
    finished_at: time(true),
    wait_ms: big(),
    duration_ms: big(),
    cpu_ms: big(),
    peak_rss_bytes: big(),
    quality_score: { type: 'double precision', nullable: true },
  };
  const eventColumns: Columns = {
    seq: { type: 'bigint', primary: true },
    task_id: str(64),
    goal_id: str(64),
    event: str(16),
    from_state: str(16, true),
    to_state: str(16),
    attempt: int(),
    agent_id: str(200, true),
    actor: str(200, true),
    at: time(),
    detail: json(true),
  };
  const agentColumns: Columns = {
    id: { ...str(200), primary: true },
    capabilities: json(),
    host: str(255),
    pid: int(),
    started_at: time(),
    last_seen_at: time(),
    running: json(),
    concurrency: int(),
    breakers: json(),
  };
  const metaColumns: Columns = {
    name: { ...str(200), primary: true },
    value: { type: 'text', nullable: true },
    counter: { type: 'bigint', default: 0 },
    updated_at: time(),
  };

  return [
    new EntitySchema({
      name: 'goals',
      columns: goalColumns,
      indices: [
        { name: 'IDX_goals_key', columns: ['key'], unique: true },
        { name: 'IDX_goals_state', columns: ['state'] },
      ],
    }),
    new EntitySchema({
      name: 'tasks',
      columns: taskColumns,
      indices: [
        { name: 'IDX_tasks_goal_key', columns: ['goal_id', 'key'], unique: true },
        { name: 'IDX_tasks_state_type', columns: ['state', 'type'] },
        // Keyset pages of one capability's tasks (the mirror's reconcile) walk it in id order.
        { name: 'IDX_tasks_type_id', columns: ['type', 'id'] },
      ],
    }),
    new EntitySchema({
      name: 'task_events',
      columns: eventColumns,
      indices: [{ name: 'IDX_task_events_goal_seq', columns: ['goal_id', 'seq'] }],
    }),
    new EntitySchema({ name: 'agents', columns: agentColumns }),
    // Mirror cursors (`value`) and the event sequence counter (`counter` of the row `seq`).
    new EntitySchema({ name: 'store_meta', columns: metaColumns }),
  ];
}
