/**
 * What the SQLite and PostgreSQL stores share: the queries, the small writes, and the row
 * mapping. Statements are written with `?` placeholders; the PostgreSQL store renumbers them.
 * Each subclass supplies the connection, a transaction and the batched hot paths
 * (`createGoal`, `applyChanges`).
 */
import { NotFoundError } from '../errors';
import type { SqlDialect } from './entity-schemas';
import {
  AGENT_COLUMNS,
  agentFromRow,
  agentValues,
  codecFor,
  eventFromRow,
  goalFromRow,
  LIMIT_COLUMNS,
  limitsFromRow,
  limitsValues,
  TASK_STATE_COLUMNS,
  taskFromRow,
  taskStateFromRow,
  type Row,
  type SqlCodec,
} from './sql-codec';
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
import { isGoalOpen } from './task-model';
import { TASK_STATES, type TaskState } from './task-state';
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

export type Statement = [sql: string, params: unknown[]];

export const DEFAULT_LIMIT = 100;
/** Ids per `IN (…)` list: far below either dialect's limit on parameters. */
const IN_CHUNK = 500;

export abstract class SqlTaskStore implements TaskStore {
  abstract readonly backend: 'sqlite' | 'postgres';
  protected readonly codec: SqlCodec;

  constructor(protected readonly dialect: SqlDialect) {
    this.codec = codecFor(dialect);
  }

  abstract open(): Promise<void>;
  abstract close(): Promise<void>;
  abstract createGoal(
    goal: NewGoal,
    tasks: NewTask[],
    actor?: string,
    options?: CreateGoalOptions,
  ): Promise<CreateGoalResult>;
  abstract recordGoal(goalId: string): Promise<TaskEventRecord[]>;
  abstract addTasks(
    goalId: string,
    tasks: NewTask[],
    actor?: string,
    options?: AddTasksOptions,
  ): Promise<AddTasksResult>;
  abstract recordTasks(taskIds: string[]): Promise<TaskEventRecord[]>;
  abstract deleteTasks(taskIds: string[]): Promise<void>;
  abstract updateGoalBudget(
    goalId: string,
    update: GoalBudgetUpdate,
  ): Promise<TaskEventRecord | null>;
  abstract applyChanges(
    changes: TaskChange[],
    cursor?: { name: string; value: string },
  ): Promise<ApplyResult>;

  /** Runs one read statement. */
  protected abstract all(sql: string, params: unknown[]): Promise<Row[]>;
  /** Runs statements in one transaction. */
  protected abstract exec(statements: Statement[]): Promise<void>;

  async deleteGoal(goalId: string): Promise<void> {
    await this.exec([
      ['DELETE FROM task_events WHERE goal_id = ?', [goalId]],
      ['DELETE FROM tasks WHERE goal_id = ?', [goalId]],
      ['DELETE FROM goals WHERE id = ?', [goalId]],
    ]);
  }

  async setGoalState(goalId: string, state: GoalState, at: Date): Promise<GoalRecord> {
    const finishedAt = isGoalOpen(state) ? null : this.codec.time(at);
    await this.exec([
      ['UPDATE goals SET state = ?, finished_at = ? WHERE id = ?', [state, finishedAt, goalId]],
    ]);
    const goal = await this.getGoal(goalId);
    if (!goal) throw new NotFoundError('goal', goalId);
    return goal;
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    const rows = await this.all('SELECT * FROM tasks WHERE id = ?', [id]);
    return rows[0] ? taskFromRow(this.codec, rows[0]) : null;
  }

  async findTasks(filter: TaskFilter): Promise<TaskRecord[]> {
    const rows = await this.selectTasks('*', filter);
    return rows.map((row) => taskFromRow(this.codec, row));
  }

  async findTaskStates(filter: TaskFilter): Promise<TaskStateRow[]> {
    const rows = await this.selectTasks(TASK_STATE_COLUMNS.join(', '), filter);
    return rows.map(taskStateFromRow);
  }

  /** The rows (the given columns) of the tasks `filter` selects, in its order. */
  private async selectTasks(columns: string, filter: TaskFilter): Promise<Row[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.goalId !== undefined) {
      where.push('goal_id = ?');
      params.push(filter.goalId);
    }
    if (filter.state !== undefined) {
      const states = Array.isArray(filter.state) ? filter.state : [filter.state];
      if (states.length === 0) return [];
      where.push(`state IN (${states.map(() => '?').join(', ')})`);
      params.push(...states);
    }
    if (filter.type !== undefined) {
      where.push('type = ?');
      params.push(filter.type);
    }
    if (filter.afterId !== undefined) {
      where.push('id > ?');
      params.push(filter.afterId);
    }
    params.push(filter.limit ?? DEFAULT_LIMIT, filter.offset ?? 0);
    const order = filter.afterId !== undefined ? 'id' : 'created_at, goal_id, key';
    return this.all(
      `SELECT ${columns} FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ` +
        `ORDER BY ${order} LIMIT ? OFFSET ?`,
      params,
    );
  }

  async getGoal(id: string): Promise<GoalRecord | null> {
    const rows = await this.all('SELECT * FROM goals WHERE id = ?', [id]);
    return rows[0] ? goalFromRow(this.codec, rows[0]) : null;
  }

  async getGoalByKey(key: string): Promise<GoalRecord | null> {
    const rows = await this.all('SELECT * FROM goals WHERE key = ?', [key]);
    return rows[0] ? goalFromRow(this.codec, rows[0]) : null;
  }

  async listGoals(
    filter: { state?: GoalState; limit?: number; offset?: number } = {},
  ): Promise<GoalRecord[]> {
    const where = filter.state !== undefined ? 'WHERE state = ?' : '';
    const params: unknown[] = filter.state !== undefined ? [filter.state] : [];
    params.push(filter.limit ?? DEFAULT_LIMIT, filter.offset ?? 0);
    const rows = await this.all(
      `SELECT * FROM goals ${where} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
      params,
    );
    return rows.map((row) => goalFromRow(this.codec, row));
  }

  async countByState(): Promise<Record<TaskState, number>> {
    const counts = zeroCounts();
    const rows = await this.all('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state', []);
    for (const row of rows) counts[row.state as TaskState] = Number(row.n);
    return counts;
  }

  async countByType(): Promise<Record<string, Record<TaskState, number>>> {
    const byType: Record<string, Record<TaskState, number>> = {};
    const rows = await this.all(
      'SELECT type, state, COUNT(*) AS n FROM tasks GROUP BY type, state',
      [],
    );
    for (const row of rows) {
      const counts = (byType[row.type as string] ??= zeroCounts());
      counts[row.state as TaskState] = Number(row.n);
    }
    return byType;
  }

  async dependencyStates(taskIds: string[]): Promise<Map<string, DependencyState[]>> {
    const out = new Map<string, DependencyState[]>();
    const byGoal = new Map<string, Array<{ id: string; keys: string[] }>>();
    for (let i = 0; i < taskIds.length; i += IN_CHUNK) {
      const ids = taskIds.slice(i, i + IN_CHUNK);
      const rows = await this.all(
        `SELECT id, goal_id, depends_on FROM tasks WHERE id IN (${ids.map(() => '?').join(', ')})`,
        ids,
      );
      for (const row of rows) {
        const keys = this.codec.readJson<string[]>(row.depends_on);
        out.set(row.id as string, []);
        if (keys.length === 0) continue;
        const goal = byGoal.get(row.goal_id as string) ?? [];
        goal.push({ id: row.id as string, keys });
        byGoal.set(row.goal_id as string, goal);
      }
    }
    for (const [goalId, tasks] of byGoal) {
      const keys = [...new Set(tasks.flatMap((task) => task.keys))];
      const states = new Map<string, DependencyState>();
      for (let i = 0; i < keys.length; i += IN_CHUNK) {
        const chunk = keys.slice(i, i + IN_CHUNK);
        const rows = await this.all(
          `SELECT id, key, state FROM tasks WHERE goal_id = ? AND key IN (${chunk.map(() => '?').join(', ')})`,
          [goalId, ...chunk],
        );
        for (const row of rows) {
          states.set(row.key as string, { id: row.id as string, state: row.state as TaskState });
        }
      }
      for (const task of tasks) {
        out.set(
          task.id,
          task.keys.flatMap((key) => states.get(key) ?? []),
        );
      }
    }
    return out;
  }

  async eventsAfter(seq: number, limit = 1000): Promise<TaskEventRecord[]> {
    const rows = await this.all('SELECT * FROM task_events WHERE seq > ? ORDER BY seq LIMIT ?', [
      seq,
      limit,
    ]);
    return rows.map((row) => eventFromRow(this.codec, row));
  }

  async taskEvents(goalId: string, taskId: string, limit = 1000): Promise<TaskEventRecord[]> {
    const rows = await this.all(
      'SELECT * FROM task_events WHERE goal_id = ? AND task_id = ? ORDER BY seq LIMIT ?',
      [goalId, taskId, limit],
    );
    return rows.map((row) => eventFromRow(this.codec, row));
  }

  async lastSeq(): Promise<number> {
    const rows = await this.all(`SELECT counter FROM store_meta WHERE name = 'seq'`, []);
    return Number(rows[0]?.counter ?? 0);
  }

  async getCursor(name: string): Promise<string | null> {
    const rows = await this.all('SELECT value FROM store_meta WHERE name = ?', [cursorKey(name)]);
    return (rows[0]?.value as string | null | undefined) ?? null;
  }

  async upsertAgent(agent: AgentInfo): Promise<void> {
    const updates = AGENT_COLUMNS.slice(1)
      .map((col) => `${col} = excluded.${col}`)
      .join(', ');
    await this.exec([
      [
        `INSERT INTO agents (${AGENT_COLUMNS.join(', ')}) ` +
          `VALUES (${AGENT_COLUMNS.map(() => '?').join(', ')}) ` +
          `ON CONFLICT (id) DO UPDATE SET ${updates}`,
        agentValues(this.codec, agent),
      ],
    ]);
  }

  async listAgents(): Promise<AgentInfo[]> {
    const rows = await this.all('SELECT * FROM agents ORDER BY id', []);
    return rows.map((row) => agentFromRow(this.codec, row));
  }

  async putCapabilityLimits(record: CapabilityLimitsRecord): Promise<void> {
    await this.exec([
      [
        `INSERT INTO capability_limits (${LIMIT_COLUMNS.join(', ')}) ` +
          `VALUES (${LIMIT_COLUMNS.map(() => '?').join(', ')}) ` +
          'ON CONFLICT (capability) DO UPDATE SET limits = excluded.limits, ' +
          'updated_at = excluded.updated_at',
        limitsValues(this.codec, record),
      ],
    ]);
  }

  async deleteCapabilityLimits(capability: string): Promise<boolean> {
    const had = await this.all('SELECT capability FROM capability_limits WHERE capability = ?', [
      capability,
    ]);
    await this.exec([['DELETE FROM capability_limits WHERE capability = ?', [capability]]]);
    return had.length > 0;
  }

  async listCapabilityLimits(): Promise<CapabilityLimitsRecord[]> {
    const rows = await this.all('SELECT * FROM capability_limits ORDER BY capability', []);
    return rows.map((row) => limitsFromRow(this.codec, row));
  }

  /** The statement that writes a mirror cursor. */
  protected cursorStatement(cursor: { name: string; value: string }, at: Date): Statement {
    return [
      'INSERT INTO store_meta (name, value, counter, updated_at) VALUES (?, ?, 0, ?) ' +
        'ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      [cursorKey(cursor.name), cursor.value, this.codec.time(at)],
    ];
  }
}

/** Cursor rows live beside the `seq` counter row; a prefix keeps the names apart. */
export function cursorKey(name: string): string {
  return `cursor:${name}`;
}

export function zeroCounts(): Record<TaskState, number> {
  return Object.fromEntries(TASK_STATES.map((state) => [state, 0])) as Record<TaskState, number>;
}
