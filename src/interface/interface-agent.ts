/**
 * InterfaceAgent, the seed's people side: status reports, task summaries, manual tasks, cancel
 * and retry, and a small command language (`routeCommand`). It reads from the task store and
 * Redis; its changes are the operations (operations/), the same ones REST and the CLI call.
 * Built with a registry and a coordinator it is a place where the two meet, so it joins the
 * process's mirror candidate (shared-mirror.ts): the seed's example reaches SQL in one process.
 */
import type { GoalBudget, Json } from '../entities/task-model';
import type { TaskRegistry } from '../entities/task-registry';
import { joinMirror } from '../mirror/shared-mirror';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import type { ServiceLease } from '../queues/shared-services';
import { SupervisorAgent } from '../queues/supervisor-agent';
import { cancelTask } from './operations/cancel-task';
import { extendGoal } from './operations/extend-goal';
import type { ExtendedGoalShape } from './operations/deps';
import { pauseGoal } from './operations/pause-goal';
import { raiseGoalBudget } from './operations/raise-goal-budget';
import { resumeGoal } from './operations/resume-goal';
import { approveTask, rejectTask, type DecisionOutcome } from './operations/decide-approval';
import type { CreateTaskInput } from './operations/create-task';
import { retryTask, type RetryOutcome } from './operations/retry-task';
import { INTERFACE_HELP, parseInterfaceCommand } from './interface-commands';
import { formatStatusReport } from './interface-report';
import { collectSystemStatus, type StatusLimits, type SystemStatus } from './interface-status';
import { renderTable } from './text-table';
import { formatTaskSummary, getTaskSummary, type TaskSummary } from './task-summary';

export type { TaskSummary } from './task-summary';

export interface InterfaceAgentOptions {
  /** Submits the goals of `createTask`. @defaultValue a SupervisorAgent of its own */
  supervisor?: SupervisorAgent;
  /** Audit actor when a call does not name one. @defaultValue 'interface' */
  actor?: string;
  /** How much the status report lists. */
  limits?: StatusLimits;
  /**
   * Join the process's mirror candidate for this registry and coordinator. Off for one-shot
   * readers (CLI commands), which would take the lock only to drop it. @defaultValue true
   */
  mirror?: boolean;
}

export class InterfaceAgent {
  private readonly supervisor: SupervisorAgent;
  private readonly actor: string;
  private readonly limits: StatusLimits;
  private readonly mirror: ServiceLease | null;

  constructor(
    readonly registry: TaskRegistry,
    readonly redis: RedisCoordinator,
    options: InterfaceAgentOptions = {},
  ) {
    this.actor = options.actor ?? 'interface';
    this.supervisor =
      options.supervisor ?? new SupervisorAgent(registry, redis, { actor: this.actor });
    this.limits = options.limits ?? {};
    this.mirror = options.mirror === false ? null : joinMirror(registry, redis);
  }

  getSystemStatus(): Promise<SystemStatus> {
    return collectSystemStatus(this.registry, this.redis, this.limits);
  }

  formatStatusReport(status: SystemStatus): string {
    return formatStatusReport(status);
  }

  /** One task with its goal and, when it waits, why it is not being claimed. */
  getTaskSummary(taskId: string): Promise<TaskSummary> {
    return getTaskSummary(this.registry, this.redis, taskId);
  }

  formatTaskSummary(summary: TaskSummary): string {
    return formatTaskSummary(summary);
  }

  /** A one-task goal (the `createTask` operation; bad input is an InputError naming the field). */
  async createTask(
    input: CreateTaskInput,
    actor = this.actor,
  ): Promise<{ taskId: string; goalId: string }> {
    const task = await this.supervisor.createTask(input, actor);
    return { taskId: task.id, goalId: task.goalId };
  }

  /** Cancels a task and its dependents (the `cancelTask` operation: an ended task is a 409). */
  async cancelTask(taskId: string, actor = this.actor): Promise<{ cancelled: number }> {
    return cancelTask(this.deps(), { taskId }, actor);
  }

  /** Runs a FAILED task again (the `retryTask` operation, whose comment states the rule). */
  retryTask(taskId: string, actor = this.actor): Promise<RetryOutcome> {
    return retryTask(this.deps(), { taskId }, actor);
  }

  /**
   * Adds plan-shaped tasks to a goal still running (the `extendGoal` operation: bad tasks are an
   * InputError naming the field, an ended goal a ConflictError).
   */
  extendGoal(goalId: string, tasks: unknown, actor = this.actor): Promise<ExtendedGoalShape> {
    return extendGoal({ ...this.deps(), goals: this.supervisor }, { goalId, tasks }, actor);
  }

  /** No task of the goal starts until it is resumed (the `pauseGoal` operation). */
  pauseGoal(goalId: string, actor = this.actor): Promise<{ goalId: string; state: 'PAUSED' }> {
    return pauseGoal(this.deps(), { goalId }, actor);
  }

  /** A paused goal's held tasks go back to their queues (the `resumeGoal` operation). */
  resumeGoal(goalId: string, actor = this.actor) {
    return resumeGoal(this.deps(), { goalId }, actor);
  }

  /**
   * Sets the goal's budget fields given (`{ tokens?, costUsd?, wallMs? }`); a goal its budget
   * paused resumes under the new one (the `raiseGoalBudget` operation: below use is an InputError).
   */
  setGoalBudget(goalId: string, budget: GoalBudget, actor = this.actor) {
    return raiseGoalBudget(this.deps(), { goalId, budget }, actor);
  }

  /** Approves a task awaiting approval (the `approveTask` operation: anything else is a 409). */
  approveTask(
    taskId: string,
    input: { note?: string; data?: Json } = {},
    actor = this.actor,
  ): Promise<DecisionOutcome> {
    return approveTask(this.deps(), { taskId, ...input }, actor);
  }

  /** Rejects a task awaiting approval (the `rejectTask` operation: anything else is a 409). */
  rejectTask(
    taskId: string,
    input: { reason?: string } = {},
    actor = this.actor,
  ): Promise<DecisionOutcome> {
    return rejectTask(this.deps(), { taskId, ...input }, actor);
  }

  private deps() {
    return { store: this.registry, coordinator: this.redis };
  }

  /**
   * Runs one line of the command language and returns the answer as text. An unknown command
   * gets the help text; bad arguments throw an InputError naming the field.
   */
  async routeCommand(line: string, actor = this.actor): Promise<string> {
    const command = parseInterfaceCommand(line);
    switch (command.name) {
      case 'status':
        return this.formatStatusReport(await this.getSystemStatus());
      case 'show':
        return this.formatTaskSummary(await this.getTaskSummary(command.id));
      case 'cancel':
        await this.cancelTask(command.id, actor);
        return `Cancelled task ${command.id}.`;
      case 'retry':
        await this.retryTask(command.id, actor);
        return `Retrying task ${command.id}.`;
      case 'approve': {
        const done = await this.approveTask(
          command.id,
          command.note !== undefined ? { note: command.note } : {},
          actor,
        );
        return `Approved task ${command.id} (by ${done.by}).`;
      }
      case 'reject': {
        const done = await this.rejectTask(
          command.id,
          command.reason !== undefined ? { reason: command.reason } : {},
          actor,
        );
        return `Rejected task ${command.id} (by ${done.by}).`;
      }
      case 'create': {
        const { title, type, priority, description } = command;
        const created = await this.createTask({ title, type, priority, description });
        return `Created task ${created.taskId} (goal ${created.goalId}).`;
      }
      case 'agents':
        return this.formatAgents();
      case 'pending':
        return this.formatPending();
      case 'help':
        return INTERFACE_HELP;
      case 'unknown':
        return `Unknown command '${command.word}'.\n${INTERFACE_HELP}`;
    }
  }

  /** Leaves the mirror candidate; the registry and coordinator belong to the caller. */
  async close(): Promise<void> {
    await this.mirror?.close();
  }

  private async formatAgents(): Promise<string> {
    const agents = await this.redis.getAllAgents();
    if (agents.length === 0) return 'No live agents. Start one with `agentq worker`.';
    return renderTable(
      ['agent', 'capabilities', 'running', 'host', 'pid', 'last seen'],
      agents.map((a) => [
        a.id,
        a.capabilities.join(', '),
        `${a.running.length}/${a.concurrency}`,
        a.host,
        a.pid,
        a.lastSeenAt.toISOString(),
      ]),
    );
  }

  private async formatPending(): Promise<string> {
    const pending = await this.redis.getPendingTasks(50);
    if (pending.length === 0) return 'No tasks waiting in any queue.';
    return renderTable(
      ['task', 'type', 'priority', 'title', 'queued'],
      pending.map((p) => [p.taskId, p.type, p.priority, p.title, p.queuedAt.toISOString()]),
    );
  }
}
