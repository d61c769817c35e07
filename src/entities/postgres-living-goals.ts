/**
 * Living goals on PostgreSQL (addTasks, recordTasks, deleteTasks; see TaskStore): each one
 * transaction on a pool client, with the semantics of the SQLite store.
 *
 * Locks: addTasks and deleteTasks lock the goal rows first (FOR UPDATE, so a goal ending or
 * another addTasks of the same goal waits, and the open check and idempotence read committed
 * state), then the seq counter row, in the order updateGoalBudget takes them; recordTasks, like
 * recordGoal, takes only the counter, which every writer of these tasks' events holds.
 */
import type { PoolClient } from 'pg';
import { ConflictError, NotFoundError } from '../errors';
import { addedTaskRecords, newTaskEvent } from './apply-changes';
import {
  columnsOf,
  deferredTaskEvents,
  INSERT_TASKS,
  lockSeq,
  TASK_TYPES,
  writeEvents,
} from './postgres-apply-changes';
import { taskFromRow, taskInsertValues, type Row, type SqlCodec } from './sql-codec';
import { isGoalOpen, type GoalState, type TaskEventRecord, type TaskRecord } from './task-model';
import type { AddTasksOptions, AddTasksResult, NewTask } from './task-store';

const SQL = {
  lockGoal: 'SELECT state FROM goals WHERE id = $1 FOR UPDATE',
  tasksByIds: 'SELECT * FROM tasks WHERE id = ANY($1::varchar[])',
  growGoal: 'UPDATE goals SET task_count = task_count + $1 WHERE id = $2',
  lockGoalsOf:
    'SELECT id FROM goals WHERE id IN (SELECT goal_id FROM tasks WHERE id = ANY($1::varchar[])) ORDER BY id FOR UPDATE',
  shrinkGoals:
    'UPDATE goals AS g SET task_count = g.task_count - d.n FROM ' +
    '(SELECT goal_id, COUNT(*) AS n FROM tasks WHERE id = ANY($1::varchar[]) GROUP BY goal_id) AS d ' +
    'WHERE g.id = d.goal_id',
  deleteTaskEvents: 'DELETE FROM task_events WHERE task_id = ANY($1::varchar[])',
  deleteTasks: 'DELETE FROM tasks WHERE id = ANY($1::varchar[])',
};

/** Runs `work` between BEGIN and COMMIT on `client`, rolling back when it throws. */
async function inTransaction<T>(client: PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

export async function addTasksWithClient(
  client: PoolClient,
  codec: SqlCodec,
  goalId: string,
  tasks: NewTask[],
  actor: string | null,
  options: AddTasksOptions,
): Promise<AddTasksResult> {
  return inTransaction(client, async () => {
    const goal = (await client.query<Row>(SQL.lockGoal, [goalId])).rows[0];
    if (!goal) throw new NotFoundError('goal', goalId);
    const state = goal.state as GoalState;
    if (!isGoalOpen(state)) {
      throw new ConflictError(`goal ${goalId} is ${state}: tasks cannot be added to it`);
    }
    const ids = tasks.map((task) => task.id);
    const existing = new Map<string, TaskRecord>();
    for (const row of (await client.query<Row>(SQL.tasksByIds, [ids])).rows) {
      existing.set(row.id as string, taskFromRow(codec, row));
    }
    const at = new Date();
    const fresh = addedTaskRecords(goalId, tasks, existing, actor, at, options);
    if (fresh.length > 0) {
      const rows = fresh.map((task) => taskInsertValues(codec, task));
      await client.query(INSERT_TASKS, columnsOf(rows, TASK_TYPES.length));
      await client.query(SQL.growGoal, [fresh.length, goalId]);
    }
    let events: TaskEventRecord[] = [];
    if (options.deferRecord !== true && fresh.length > 0) {
      const counter = await lockSeq(client);
      const pending = fresh.map((task) => newTaskEvent(task, actor));
      events = await writeEvents(client, codec, pending, counter, at);
    }
    const created = new Map(fresh.map((task) => [task.id, task]));
    return {
      tasks: ids.map((id) => existing.get(id) ?? created.get(id)!),
      created: fresh.map((task) => task.id),
      events,
    };
  });
}

export async function recordTasksWithClient(
  client: PoolClient,
  codec: SqlCodec,
  taskIds: string[],
): Promise<TaskEventRecord[]> {
  if (taskIds.length === 0) return [];
  return inTransaction(client, async () => {
    const counter = await lockSeq(client);
    const pending = await deferredTaskEvents(client, codec, taskIds);
    return writeEvents(client, codec, pending, counter, new Date());
  });
}

export async function deleteTasksWithClient(client: PoolClient, taskIds: string[]): Promise<void> {
  if (taskIds.length === 0) return;
  await inTransaction(client, async () => {
    await client.query(SQL.lockGoalsOf, [taskIds]);
    // The counter too: an applyChanges recording one of these tasks' deferred events finishes
    // first, and its events are deleted with the task.
    await lockSeq(client);
    await client.query(SQL.shrinkGoals, [taskIds]);
    await client.query(SQL.deleteTaskEvents, [taskIds]);
    await client.query(SQL.deleteTasks, [taskIds]);
  });
}
