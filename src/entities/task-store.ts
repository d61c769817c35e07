/**
 * The interface every task store implements (sqlite, postgres, json). `TaskRegistry` picks one
 * by backend; the contract test suite runs unchanged against all three.
 */
import type { TaskState } from './task-state';
import type {
  AgentInfo,
  ApplyResult,
  CapabilityLimitsRecord,
  GoalBudget,
  GoalBudgetDetail,
  GoalEventName,
  GoalRecord,
  GoalState,
  GoalUsage,
  PlanSpec,
  ResolvedTaskSpec,
  TaskChange,
  TaskEventRecord,
  TaskRecord,
} from './task-model';

export interface NewGoal {
  id: string;
  key: string | null;
  title: string;
  planner: string;
  plan: PlanSpec;
  /** @defaultValue null (no budget) */
  budget?: GoalBudget | null;
}

export interface NewTask extends ResolvedTaskSpec {
  id: string;
  /** BACKLOG when it has dependencies, PENDING otherwise. */
  state: Extract<TaskState, 'BACKLOG' | 'PENDING'>;
}

/** A dependency of a task, and where it stands. */
export interface DependencyState {
  id: string;
  state: TaskState;
}

/** A task's identity and where it stands. */
export type TaskStateRow = Pick<TaskRecord, 'id' | 'goalId' | 'state' | 'attempt' | 'epoch'>;

export interface TaskFilter {
  goalId?: string;
  state?: TaskState | TaskState[];
  type?: string;
  /** @defaultValue 100 */
  limit?: number;
  /** @defaultValue 0 */
  offset?: number;
  /**
   * Keyset paging: only tasks whose id sorts after this one, ordered by id instead of by
   * creation. Pages stay exact while other writers move tasks in or out of the filter, and each
   * page costs the same however deep (the mirror's reconcile walks every open task this way).
   */
  afterId?: string;
}

export interface CreateGoalResult {
  goal: GoalRecord;
  tasks: TaskRecord[];
  /** The `new` events of the tasks (empty when the goal already existed). */
  events: TaskEventRecord[];
  /** False when a goal with the same key already existed and was returned instead. */
  created: boolean;
}

export interface CreateGoalOptions {
  /**
   * Write the goal and its tasks but not their `new` events: `recordGoal` writes those once the
   * goal's flow is in Redis, so a goal Redis refuses (deleted again) never takes a seq nor
   * reaches the channels. A change of such a goal's task that the mirror meets first records
   * them in its own transaction, before the change. @defaultValue false
   */
  deferRecord?: boolean;
}

export interface AddTasksOptions {
  /**
   * Like createGoal's: the rows now, their `new` events by recordTasks (or by applyChanges when
   * a change touches such a task first, before the change). @defaultValue false
   */
  deferRecord?: boolean;
  /** The task id of the task that spawned these (ctx.spawn); null/absent for goal extensions. */
  spawnedBy?: string | null;
}

export interface AddTasksResult {
  /** Every requested task as stored now (existing ones unchanged). */
  tasks: TaskRecord[];
  /** The ids this call created (ids already present are idempotent no-ops). */
  created: string[];
  /** The `new` events written (empty with deferRecord). */
  events: TaskEventRecord[];
}

/**
 * A copy of a goal's budget record from Redis (where use rolls up), at revision `rev`. Applied
 * only when `rev` is newer than the copy SQL holds, so copies written out of order, or twice,
 * change nothing; the event (if any) is recorded in the audit log in the same transaction, and
 * only when the copy was applied.
 */
export interface GoalBudgetUpdate {
  rev: number;
  budget: GoalBudget | null;
  usage: GoalUsage;
  /** PAUSED or ACTIVE; a goal that has ended keeps its end. */
  state: 'ACTIVE' | 'PAUSED';
  event?: {
    name: GoalEventName;
    actor: string | null;
    at: Date;
    detail: GoalBudgetDetail;
  };
}

export interface TaskStore {
  readonly backend: 'sqlite' | 'postgres' | 'json';
  /** Connects and runs pending migrations. */
  open(): Promise<void>;
  close(): Promise<void>;

  /** Writes a goal and all its tasks in one transaction; idempotent on `goal.key`. */
  createGoal(
    goal: NewGoal,
    tasks: NewTask[],
    actor?: string,
    options?: CreateGoalOptions,
  ): Promise<CreateGoalResult>;
  /**
   * Writes the `new` events of a goal created with `deferRecord`, in one transaction, once:
   * returns them, or [] when the goal was recorded already (or is gone).
   */
  recordGoal(goalId: string): Promise<TaskEventRecord[]>;
  /** Removes a goal, its tasks and their events: only to undo a submission that failed half-way. */
  deleteGoal(goalId: string): Promise<void>;
  /**
   * Adds tasks to an open goal (living goals, DESIGN.md) in one transaction; idempotent by task
   * id. The goal's taskCount grows by the number created. Unknown goal: NotFoundError; a goal
   * that has ended: ConflictError, nothing written.
   */
  addTasks(
    goalId: string,
    tasks: NewTask[],
    actor?: string,
    options?: AddTasksOptions,
  ): Promise<AddTasksResult>;
  /** Writes the deferred `new` events of these tasks once; [] for those recorded already or gone. */
  recordTasks(taskIds: string[]): Promise<TaskEventRecord[]>;
  /** Removes tasks (and their events): only to undo an addTasks whose Redis write failed. */
  deleteTasks(taskIds: string[]): Promise<void>;
  setGoalState(goalId: string, state: GoalState, at: Date): Promise<GoalRecord>;
  /**
   * Writes a goal's budget, use and PAUSED/ACTIVE state as of `update.rev` (see
   * GoalBudgetUpdate): the event recorded, or null when the copy was older than SQL's (or the goal
   * is unknown).
   */
  updateGoalBudget(goalId: string, update: GoalBudgetUpdate): Promise<TaskEventRecord | null>;

  /**
   * Applies a batch of changes in one transaction, with the cursor (when given) in the same
   * transaction so a crash never records a change twice nor loses one. The `new` events of a
   * not yet recorded goal whose task a change touches are recorded first (see `recordGoal`).
   * An empty batch just moves the cursor.
   */
  applyChanges(
    changes: TaskChange[],
    cursor?: { name: string; value: string },
  ): Promise<ApplyResult>;

  getTask(id: string): Promise<TaskRecord | null>;
  findTasks(filter: TaskFilter): Promise<TaskRecord[]>;
  /**
   * `findTasks` without the tasks' data, results and metrics: what a walk over many tasks by
   * state needs (the mirror's reconcile), at a fraction of the reading and decoding.
   */
  findTaskStates(filter: TaskFilter): Promise<TaskStateRow[]>;
  /**
   * The dependencies of each of `taskIds` with their states (the mirror orders a released task
   * after its dependencies' ends). Unknown ids are absent; a task without dependencies maps to [].
   */
  dependencyStates(taskIds: string[]): Promise<Map<string, DependencyState[]>>;
  getGoal(id: string): Promise<GoalRecord | null>;
  getGoalByKey(key: string): Promise<GoalRecord | null>;
  listGoals(filter?: { state?: GoalState; limit?: number; offset?: number }): Promise<GoalRecord[]>;
  countByState(): Promise<Record<TaskState, number>>;
  countByType(): Promise<Record<string, Record<TaskState, number>>>;
  eventsAfter(seq: number, limit?: number): Promise<TaskEventRecord[]>;
  /**
   * One task's audit events in seq order, the first `limit` (@defaultValue 1000): its history
   * (claims, starts, ends, retries) for the goal page's details. `goalId` is the task's goal,
   * which the log is indexed by. Unknown task: [].
   */
  taskEvents(goalId: string, taskId: string, limit?: number): Promise<TaskEventRecord[]>;
  lastSeq(): Promise<number>;

  getCursor(name: string): Promise<string | null>;
  upsertAgent(agent: AgentInfo): Promise<void>;
  listAgents(): Promise<AgentInfo[]>;

  /** Writes a capability's limits (replacing its row): the copy `agentq recover` restores. */
  putCapabilityLimits(record: CapabilityLimitsRecord): Promise<void>;
  /** Removes a capability's limits; false when it had none. */
  deleteCapabilityLimits(capability: string): Promise<boolean>;
  /** Every capability's limits, by capability name. */
  listCapabilityLimits(): Promise<CapabilityLimitsRecord[]>;
}
