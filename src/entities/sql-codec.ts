/**
 * How values travel between records and SQL rows, per dialect. SQLite keeps timestamps as
 * ISO-8601 text (sortable), JSON as text and booleans as 0/1; PostgreSQL has `timestamptz`,
 * `jsonb` (returned parsed by pg) and `boolean`, and returns `bigint` as a string.
 */
import type { SqlDialect } from './entity-schemas';
import { METRIC_KEYS, NO_METRICS, type HeadField, type TaskHead } from './apply-changes';
import type {
  AgentInfo,
  GoalRecord,
  Json,
  TaskEventRecord,
  TaskMetrics,
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

/** Column of each metric, in METRIC_KEYS order. */
export const METRIC_COLUMNS = [
  'queued_at',
  'claimed_at',
  'started_at',
  'finished_at',
  'wait_ms',
  'duration_ms',
  'cpu_ms',
  'peak_rss_bytes',
  'quality_score',
] as const;
const TIME_METRICS = new Set(['queuedAt', 'claimedAt', 'startedAt', 'finishedAt']);

export const HEAD_COLUMNS = [
  'id',
  'goal_id',
  'state',
  'attempt',
  'epoch',
  'agent_id',
  'progress',
  'result',
  'error',
  'updated_at',
  ...METRIC_COLUMNS,
] as const;

/** Values of HEAD_COLUMNS for one head, in order, ready to bind. */
export function headValues(c: SqlCodec, h: TaskHead): unknown[] {
  return [
    h.id,
    h.goalId,
    h.state,
    h.attempt,
    h.epoch,
    h.agentId,
    nullable(c, h.progress),
    nullable(c, h.result),
    nullable(c, h.error),
    c.time(h.updatedAt),
    ...metricValues(c, h),
  ];
}

export function metricValues(c: SqlCodec, m: TaskMetrics): unknown[] {
  return METRIC_KEYS.map((key) => {
    const value = m[key];
    if (value === null || value === undefined) return null;
    return value instanceof Date ? c.time(value) : value;
  });
}

function nullable(c: SqlCodec, value: unknown): string | null {
  return value === null || value === undefined ? null : c.json(value);
}

function readNullableJson<T>(c: SqlCodec, value: unknown): T | null {
  return value === null || value === undefined ? null : c.readJson<T>(value);
}

function readMetrics(c: SqlCodec, row: Row): TaskMetrics {
  const metrics = {} as Record<string, unknown>;
  METRIC_KEYS.forEach((key, i) => {
    const value = row[METRIC_COLUMNS[i]!];
    if (value === null || value === undefined) metrics[key] = null;
    else metrics[key] = TIME_METRICS.has(key) ? c.readTime(value) : Number(value);
  });
  return metrics as unknown as TaskMetrics;
}

/** The columns of a task's identity and state (`findTaskStates`). */
export const TASK_STATE_COLUMNS = ['id', 'goal_id', 'state', 'attempt', 'epoch'] as const;

export function taskStateFromRow(row: Row): TaskStateRow {
  return {
    id: row.id as string,
    goalId: row.goal_id as string,
    state: row.state as TaskState,
    attempt: Number(row.attempt),
    epoch: Number(row.epoch),
  };
}

export function headFromRow(c: SqlCodec, row: Row): TaskHead {
  return {
    ...taskStateFromRow(row),
    agentId: (row.agent_id as string | null) ?? null,
    progress: readNullableJson<Json>(c, row.progress),
    result: readNullableJson<Json>(c, row.result),
    error: readNullableJson<TaskRecord['error']>(c, row.error),
    updatedAt: c.readTime(row.updated_at),
    ...readMetrics(c, row),
  };
}

/** The columns `planChanges` needs of a current head (see PLANNING_FIELDS). */
export const PLANNING_COLUMNS = [...TASK_STATE_COLUMNS, 'agent_id'] as const;

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

/** The column of each head field. */
export const HEAD_FIELD_COLUMNS: Readonly<Record<HeadField, string>> = {
  state: 'state',
  attempt: 'attempt',
  epoch: 'epoch',
  agentId: 'agent_id',
  progress: 'progress',
  result: 'result',
  error: 'error',
  updatedAt: 'updated_at',
  queuedAt: 'queued_at',
  claimedAt: 'claimed_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  waitMs: 'wait_ms',
  durationMs: 'duration_ms',
  cpuMs: 'cpu_ms',
  peakRssBytes: 'peak_rss_bytes',
  qualityScore: 'quality_score',
};

const JSON_FIELDS = new Set<HeadField>(['progress', 'result', 'error']);

/** One field of a head, ready to bind. */
export function headFieldValue(c: SqlCodec, h: TaskHead, field: HeadField): unknown {
  const value = h[field];
  if (value === null || value === undefined) return null;
  if (JSON_FIELDS.has(field)) return c.json(value);
  return value instanceof Date ? c.time(value) : value;
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
  return {
    ...headFromRow(c, row),
    key: row.key as string,
    title: row.title as string,
    description: row.description as string,
    type: row.type as string,
    priority: Number(row.priority),
    data: c.readJson<TaskRecord['data']>(row.data),
    dependsOn: c.readJson<string[]>(row.depends_on),
    attempts: Number(row.attempts),
    timeoutMs: Number(row.timeout_ms),
    optional: Boolean(row.optional),
    createdAt: c.readTime(row.created_at),
  };
}

export const TASK_INSERT_COLUMNS = [
  'id',
  'goal_id',
  'key',
  'title',
  'description',
  'type',
  'priority',
  'data',
  'depends_on',
  'attempts',
  'timeout_ms',
  'optional',
  'state',
  'attempt',
  'epoch',
  'created_at',
  'updated_at',
  'queued_at',
] as const;

export function taskInsertValues(c: SqlCodec, t: TaskRecord): unknown[] {
  return [
    t.id,
    t.goalId,
    t.key,
    t.title,
    t.description,
    t.type,
    t.priority,
    c.json(t.data),
    c.json(t.dependsOn),
    t.attempts,
    t.timeoutMs,
    c.bool(t.optional),
    t.state,
    t.attempt,
    t.epoch,
    c.time(t.createdAt),
    c.time(t.updatedAt),
    t.queuedAt ? c.time(t.queuedAt) : null,
  ];
}

export const EVENT_COLUMNS = [
  'seq',
  'task_id',
  'goal_id',
  'event',
  'from_state',
  'to_state',
  'attempt',
  'agent_id',
  'actor',
  'at',
  'detail',
] as const;

export function eventValues(c: SqlCodec, e: TaskEventRecord): unknown[] {
  return [
    e.seq,
    e.taskId,
    e.goalId,
    e.event,
    e.fromState,
    e.toState,
    e.attempt,
    e.agentId,
    e.actor,
    c.time(e.at),
    nullable(c, e.detail),
  ];
}

export function eventFromRow(c: SqlCodec, row: Row): TaskEventRecord {
  return {
    seq: Number(row.seq),
    taskId: row.task_id as string,
    goalId: row.goal_id as string,
    event: row.event as TaskEventRecord['event'],
    fromState: (row.from_state as TaskState | null) ?? null,
    toState: row.to_state as TaskState,
    attempt: Number(row.attempt),
    agentId: (row.agent_id as string | null) ?? null,
    actor: (row.actor as string | null) ?? null,
    at: c.readTime(row.at),
    detail: readNullableJson<TaskEventRecord['detail']>(c, row.detail),
  };
}

export const GOAL_COLUMNS = [
  'id',
  'key',
  'title',
  'state',
  'planner',
  'task_count',
  'plan',
  'created_by',
  'created_at',
  'recorded_at',
  'finished_at',
] as const;

export function goalValues(c: SqlCodec, g: GoalRecord): unknown[] {
  return [
    g.id,
    g.key,
    g.title,
    g.state,
    g.planner,
    g.taskCount,
    c.json(g.plan),
    g.createdBy,
    c.time(g.createdAt),
    g.recordedAt ? c.time(g.recordedAt) : null,
    g.finishedAt ? c.time(g.finishedAt) : null,
  ];
}

export function goalFromRow(c: SqlCodec, row: Row): GoalRecord {
  return {
    id: row.id as string,
    key: (row.key as string | null) ?? null,
    title: row.title as string,
    state: row.state as GoalRecord['state'],
    planner: row.planner as string,
    taskCount: Number(row.task_count),
    plan: c.readJson<GoalRecord['plan']>(row.plan),
    createdBy: (row.created_by as string | null) ?? null,
    createdAt: c.readTime(row.created_at),
    recordedAt: row.recorded_at === null ? null : c.readTime(row.recorded_at),
    finishedAt: row.finished_at === null ? null : c.readTime(row.finished_at),
  };
}

export const AGENT_COLUMNS = [
  'id',
  'capabilities',
  'host',
  'pid',
  'started_at',
  'last_seen_at',
  'running',
  'concurrency',
  'breakers',
] as const;

export function agentValues(c: SqlCodec, a: AgentInfo): unknown[] {
  return [
    a.id,
    c.json(a.capabilities),
    a.host,
    a.pid,
    c.time(a.startedAt),
    c.time(a.lastSeenAt),
    c.json(a.running),
    a.concurrency,
    c.json(a.breakers),
  ];
}

export function agentFromRow(c: SqlCodec, row: Row): AgentInfo {
  return {
    id: row.id as string,
    capabilities: c.readJson<string[]>(row.capabilities),
    host: row.host as string,
    pid: Number(row.pid),
    startedAt: c.readTime(row.started_at),
    lastSeenAt: c.readTime(row.last_seen_at),
    running: c.readJson<string[]>(row.running),
    concurrency: Number(row.concurrency),
    breakers: c.readJson<AgentInfo['breakers']>(row.breakers),
  };
}
