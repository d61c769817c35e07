/**
 * `TaskRegistry`: the seed's name for the task store. It picks a backend from its options and
 * delegates every call to it, opening the store on first use (the seed's usage never calls
 * `open()`; calling it is still fine and idempotent).
 *
 * ```ts
 * const registry = new TaskRegistry({ backend: 'sqlite', path: './agentq.db' });
 * const registry = new TaskRegistry({ backend: 'postgres', url, schema: 'agentq' });
 * const registry = new TaskRegistry({ backend: 'json', dir: './tasks' });
 * const registry = TaskRegistry.fromConfig(loadConfig().db);
 * ```
 */
import type { DbConfig } from '../config';
import { createTaskStore, DEFAULT_SQLITE_PATH } from './create-task-store';
import type {
  AgentInfo,
  ApplyResult,
  CapabilityLimitsRecord,
  GoalState,
  TaskChange,
} from './task-model';
import type {
  AddTasksOptions,
  CreateGoalOptions,
  GoalBudgetUpdate,
  NewGoal,
  NewTask,
  TaskFilter,
  TaskStore,
} from './task-store';

/** `path` defaults to `.agentq/agentq.db` for sqlite. */
export type TaskRegistryOptions =
  | { backend: 'sqlite'; path?: string }
  | { backend: 'postgres'; url: string; schema?: string }
  | { backend: 'json'; dir: string };

export class TaskRegistry implements TaskStore {
  readonly backend: TaskStore['backend'];
  private readonly store: TaskStore;
  private opening: Promise<void> | null = null;

  constructor(options: TaskRegistryOptions) {
    this.store = createTaskStore(
      options.backend === 'sqlite'
        ? { backend: 'sqlite', path: options.path ?? DEFAULT_SQLITE_PATH }
        : options,
    );
    this.backend = this.store.backend;
  }

  static fromConfig(config: DbConfig): TaskRegistry {
    return new TaskRegistry(config);
  }

  /** Connects and runs pending migrations; later calls wait for the first. */
  async open(): Promise<void> {
    this.opening ??= this.store.open();
    try {
      await this.opening;
    } catch (error) {
      this.opening = null;
      throw error;
    }
  }

  async close(): Promise<void> {
    if (!this.opening) return;
    const opening = this.opening;
    this.opening = null;
    await opening.catch(() => undefined);
    await this.store.close();
  }

  async createGoal(goal: NewGoal, tasks: NewTask[], actor?: string, options?: CreateGoalOptions) {
    await this.open();
    return this.store.createGoal(goal, tasks, actor, options);
  }
  async recordGoal(goalId: string) {
    await this.open();
    return this.store.recordGoal(goalId);
  }
  async addTasks(goalId: string, tasks: NewTask[], actor?: string, options?: AddTasksOptions) {
    await this.open();
    return this.store.addTasks(goalId, tasks, actor, options);
  }
  async recordTasks(taskIds: string[]) {
    await this.open();
    return this.store.recordTasks(taskIds);
  }
  async deleteTasks(taskIds: string[]) {
    await this.open();
    return this.store.deleteTasks(taskIds);
  }
  async deleteGoal(goalId: string) {
    await this.open();
    return this.store.deleteGoal(goalId);
  }
  async setGoalState(goalId: string, state: GoalState, at: Date) {
    await this.open();
    return this.store.setGoalState(goalId, state, at);
  }
  async updateGoalBudget(goalId: string, update: GoalBudgetUpdate) {
    await this.open();
    return this.store.updateGoalBudget(goalId, update);
  }
  async applyChanges(
    changes: TaskChange[],
    cursor?: { name: string; value: string },
  ): Promise<ApplyResult> {
    await this.open();
    return this.store.applyChanges(changes, cursor);
  }
  async getTask(id: string) {
    await this.open();
    return this.store.getTask(id);
  }
  async findTasks(filter: TaskFilter) {
    await this.open();
    return this.store.findTasks(filter);
  }
  async findTaskStates(filter: TaskFilter) {
    await this.open();
    return this.store.findTaskStates(filter);
  }
  async dependencyStates(taskIds: string[]) {
    await this.open();
    return this.store.dependencyStates(taskIds);
  }
  async getGoal(id: string) {
    await this.open();
    return this.store.getGoal(id);
  }
  async getGoalByKey(key: string) {
    await this.open();
    return this.store.getGoalByKey(key);
  }
  async listGoals(filter?: { state?: GoalState; limit?: number; offset?: number }) {
    await this.open();
    return this.store.listGoals(filter);
  }
  async countByState() {
    await this.open();
    return this.store.countByState();
  }
  async countByType() {
    await this.open();
    return this.store.countByType();
  }
  async eventsAfter(seq: number, limit?: number) {
    await this.open();
    return this.store.eventsAfter(seq, limit);
  }
  async taskEvents(goalId: string, taskId: string, limit?: number) {
    await this.open();
    return this.store.taskEvents(goalId, taskId, limit);
  }
  async lastSeq() {
    await this.open();
    return this.store.lastSeq();
  }
  async getCursor(name: string) {
    await this.open();
    return this.store.getCursor(name);
  }
  async putCapabilityLimits(record: CapabilityLimitsRecord) {
    await this.open();
    return this.store.putCapabilityLimits(record);
  }
  async deleteCapabilityLimits(capability: string) {
    await this.open();
    return this.store.deleteCapabilityLimits(capability);
  }
  async listCapabilityLimits() {
    await this.open();
    return this.store.listCapabilityLimits();
  }
  async upsertAgent(agent: AgentInfo) {
    await this.open();
    return this.store.upsertAgent(agent);
  }
  async listAgents() {
    await this.open();
    return this.store.listAgents();
  }
}
