/**
 * The PostgreSQL hot path: one batch of changes in one transaction, on a pg client taken
 * straight from the pool (TypeORM's query runner adds a few round trips and allocations per
 * statement), with named prepared statements (parsed and planned once per connection).
 *
 * Writers serialise on the `seq` counter row, locked first: every writer of task heads
 * (this and createGoal) takes it, so once it is held a plain SELECT of the heads reads the
 * latest committed state, without locking each task row (`FOR UPDATE` writes a WAL record and
 * dirties a page per row). Only the fields the batch rewrote are sent, one UPDATE per shape,
 * and the counter bump shares one statement with the event INSERT.
 */
import type { PoolClient, QueryConfig } from 'pg';
import {
  newTaskEvent,
  numberEvents,
  planChanges,
  type PendingEvent,
  type TaskHead,
} from './apply-changes';
import {
  EVENT_COLUMNS,
  eventValues,
  headFieldValue,
  pgArrayTypes,
  pgHeadFieldType,
  PLANNING_COLUMNS,
  planningHeadFromRow,
  TASK_INSERT_COLUMNS,
  writeShapeOf,
  taskFromRow,
  type Row,
  type SqlCodec,
  type WriteShape,
} from './sql-codec';
import type { Statement } from './sql-task-store';
import type { ApplyResult, TaskChange, TaskEventRecord } from './task-model';

/** The array element type of each event column in unnest(). */
export const EVENT_TYPES = pgArrayTypes('task_events', EVENT_COLUMNS);

/** `unnest($first::t1[], $first+1::t2[], …)`. */
export function unnest(types: readonly string[], first = 1): string {
  return `unnest(${types.map((type, i) => `$${first + i}::${type}[]`).join(', ')})`;
}

/** Rows of values → one array per column, as unnest() takes them. */
export function columnsOf(rows: unknown[][], width: number): unknown[][] {
  const columns: unknown[][] = Array.from({ length: width }, () => new Array<unknown>(rows.length));
  rows.forEach((row, r) => row.forEach((value, c) => (columns[c]![r] = value)));
  return columns;
}

/** The array element type of each task column in unnest(), and the INSERT of many task rows. */
export const TASK_TYPES = pgArrayTypes('tasks', TASK_INSERT_COLUMNS);
export const INSERT_TASKS = `INSERT INTO tasks (${TASK_INSERT_COLUMNS.join(', ')}) SELECT * FROM ${unnest(TASK_TYPES)}`;

const LOCK_SEQ: QueryConfig = {
  name: 'agentq_lock_seq',
  text: `SELECT counter FROM store_meta WHERE name = 'seq' FOR UPDATE`,
};

const LOAD_HEADS = {
  name: 'agentq_load_heads',
  // `deferred`: an addTasks with deferRecord still owes this task's `new` event (rare: the full
  // rows are read only then, so the hot path keeps one SELECT).
  text: `SELECT ${PLANNING_COLUMNS.join(', ')}, deferred_at IS NOT NULL AS deferred FROM tasks WHERE id = ANY($1::varchar[])`,
};

const DEFERRED_TASKS = {
  name: 'agentq_deferred_tasks',
  text: 'SELECT * FROM tasks WHERE deferred_at IS NOT NULL AND id = ANY($1::varchar[]) ORDER BY created_at, key',
};

const CLEAR_DEFERRED = {
  name: 'agentq_clear_deferred',
  text: 'UPDATE tasks SET deferred_at = NULL WHERE id = ANY($1::varchar[])',
};

/** Sets the counter (already locked, so known) and inserts the batch's events. */
const WRITE_EVENTS = {
  name: 'agentq_write_events',
  text:
    `WITH bump AS (UPDATE store_meta SET counter = $1, updated_at = $2 WHERE name = 'seq') ` +
    `INSERT INTO task_events (${EVENT_COLUMNS.join(', ')}) ` +
    `SELECT * FROM ${unnest(EVENT_TYPES, 3)}`,
};

const UNRECORDED_GOALS = {
  name: 'agentq_unrecorded_goals',
  text: `SELECT id, created_by FROM goals WHERE recorded_at IS NULL AND id = ANY($1::varchar[])`,
};

const GOAL_TASKS = {
  name: 'agentq_goal_tasks',
  text: 'SELECT * FROM tasks WHERE goal_id = $1 ORDER BY created_at, key',
};

const MARK_RECORDED = {
  name: 'agentq_mark_recorded',
  text: 'UPDATE goals SET recorded_at = $1 WHERE id = ANY($2::varchar[])',
};

const updates = new Map<number, { name: string; text: string }>();

/** The UPDATE of one write shape: the named fields of many tasks, from one array per field. */
function updateOf(shape: WriteShape): { name: string; text: string } {
  let update = updates.get(shape.key);
  if (!update) {
    const types = ['varchar', ...shape.fields.map(pgHeadFieldType)];
    const sets = shape.columns.map((column) => `${column} = v.${column}`).join(', ');
    update = {
      name: `agentq_update_heads_${shape.key}`,
      text:
        `UPDATE tasks AS t SET ${sets} ` +
        `FROM ${unnest(types)} AS v(id, ${shape.columns.join(', ')}) WHERE t.id = v.id`,
    };
    updates.set(shape.key, update);
  }
  return update;
}

/**
 * The `new` events of those of `goalIds` not recorded yet (from their task rows, which no change
 * has touched: a change records its goal first), and those goals marked recorded. Inside the
 * caller's transaction, with the seq counter locked.
 */
async function creationEvents(
  client: PoolClient,
  codec: SqlCodec,
  goalIds: string[],
  at: Date,
): Promise<PendingEvent[]> {
  if (goalIds.length === 0) return [];
  const goals = await client.query<Row>({ ...UNRECORDED_GOALS, values: [goalIds] });
  if (goals.rows.length === 0) return [];
  const pending: PendingEvent[] = [];
  for (const goal of goals.rows) {
    const tasks = await client.query<Row>({ ...GOAL_TASKS, values: [goal.id] });
    const actor = (goal.created_by as string | null) ?? null;
    for (const row of tasks.rows) pending.push(newTaskEvent(taskFromRow(codec, row), actor));
  }
  await client.query({
    ...MARK_RECORDED,
    values: [codec.time(at), goals.rows.map((goal) => goal.id as string)],
  });
  return pending;
}

/**
 * The `new` events an addTasks with deferRecord left to write for those of `taskIds` still
 * deferred, attributed to the actor that added them, and their marks cleared. Inside the
 * caller's transaction, with the seq counter locked (so no other writer records them too).
 */
export async function deferredTaskEvents(
  client: PoolClient,
  codec: SqlCodec,
  taskIds: string[],
): Promise<PendingEvent[]> {
  if (taskIds.length === 0) return [];
  const rows = await client.query<Row>({ ...DEFERRED_TASKS, values: [taskIds] });
  if (rows.rows.length === 0) return [];
  const tasks = rows.rows.map((row) => taskFromRow(codec, row));
  await client.query({ ...CLEAR_DEFERRED, values: [tasks.map((task) => task.id)] });
  return tasks.map((task) => newTaskEvent(task, task.addedBy));
}

/** Locks the seq counter row until commit and returns its value. */
export async function lockSeq(client: PoolClient): Promise<number> {
  const locked = await client.query<{ counter: string }>(LOCK_SEQ);
  return Number(locked.rows[0]!.counter);
}

/** Numbers `pending` after `counter` and writes them with the counter (already locked). */
export async function writeEvents(
  client: PoolClient,
  codec: SqlCodec,
  pending: PendingEvent[],
  counter: number,
  at: Date,
): Promise<TaskEventRecord[]> {
  const events = numberEvents(pending, counter + 1);
  if (events.length > 0) {
    const rows = events.map((event) => eventValues(codec, event));
    const values = [counter + events.length, codec.time(at), ...columnsOf(rows, 11)];
    await client.query({ ...WRITE_EVENTS, values });
  }
  return events;
}

/** Records the `new` events of a goal created with `deferRecord`, once (see TaskStore). */
export async function recordGoalWithClient(
  client: PoolClient,
  codec: SqlCodec,
  goalId: string,
): Promise<TaskEventRecord[]> {
  await client.query('BEGIN');
  try {
    const counter = await lockSeq(client);
    const now = new Date();
    const pending = await creationEvents(client, codec, [goalId], now);
    const events = await writeEvents(client, codec, pending, counter, now);
    await client.query('COMMIT');
    return events;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

/**
 * Applies a batch on `client` (taken from the pool by the caller) in one transaction; the
 * cursor statement, when given, runs in it too.
 */
export async function applyChangesWithClient(
  client: PoolClient,
  codec: SqlCodec,
  changes: TaskChange[],
  cursor: Statement | null,
): Promise<ApplyResult> {
  await client.query('BEGIN');
  try {
    const counter = await lockSeq(client);
    const ids = [...new Set(changes.map((change) => change.taskId))];
    const loaded = await client.query<Row>({ ...LOAD_HEADS, values: [ids] });
    const current = new Map<string, TaskHead>();
    for (const row of loaded.rows) current.set(row.id as string, planningHeadFromRow(row));
    const now = new Date();
    const goalIds = [...new Set(loaded.rows.map((row) => row.goal_id as string))];
    const deferred = loaded.rows
      .filter((row) => row.deferred === true)
      .map((row) => row.id as string);
    const creations = [
      ...(await creationEvents(client, codec, goalIds, now)),
      ...(await deferredTaskEvents(client, codec, deferred)),
    ];
    const plan = planChanges(current, changes);

    const byShape = new Map<WriteShape, TaskHead[]>();
    for (const head of plan.heads.values()) {
      const shape = writeShapeOf(plan.written.get(head.id)!);
      const heads = byShape.get(shape);
      if (heads) heads.push(head);
      else byShape.set(shape, [head]);
    }
    for (const [shape, heads] of byShape) {
      const values = [heads.map((head) => head.id)];
      for (const field of shape.fields) {
        values.push(heads.map((head) => headFieldValue(codec, head, field)) as string[]);
      }
      await client.query({ ...updateOf(shape), values });
    }

    const events = await writeEvents(client, codec, [...creations, ...plan.events], counter, now);
    if (cursor) await client.query(cursor[0], cursor[1]);
    await client.query('COMMIT');
    return { events, rejected: plan.rejected, stale: plan.stale };
  } catch (error) {
    // A failed ROLLBACK means a broken connection: the caller discards the client.
    await client.query('ROLLBACK');
    throw error;
  }
}
