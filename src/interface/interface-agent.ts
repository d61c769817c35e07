/**
 * InterfaceAgent, the seed's people side: status reports, task summaries, manual tasks, cancel
 * and retry, and a small command language (`routeCommand`). It reads from the task store and
 * Redis; it changes nothing itself — mutations go through the supervisor, which owns the flow.
 */
import type { Json, TaskRecord } from '../entities/task-model';
import type { TaskRegistry } from '../entities/task-registry';
import { isTerminal } from '../entities/task-state';
import { ConflictError, NotFoundError } from '../errors';
import { deadLetterId, retryDeadLetter } from '../processors/dead-letters';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import { INTERFACE_HELP, parseInterfaceCommand } from './interface-commands';
import { formatStatusReport } from './interface-report';
import { collectSystemStatus, type StatusLimits, type SystemStatus } from './interface-status';
import { renderTable } from './text-table';
import {
  dependencyStatesOf,
  describeStuckReason,
  diagnoseTask,
  jobHashStateOf,
  type StuckReason,
} from './interface-diagnosis';

export interface CreateTaskInput {
  title: string;
  description?: string;
  type: string;
  /** 1–10, 10 first. @defaultValue 5 */
  priority?: number;
  data?: { [key: string]: Json };
}

/** What the interface needs from the supervisor (SupervisorAgent has these). */
export interface TaskMutations {
  /** A goal of one task; the supervisor records its own actor as the creator. */
  createTask(input: CreateTaskInput): Promise<{ id: string; goalId: string }>;
  cancelTask(taskId: string, actor?: string | null): Promise<unknown>;
}

export interface InterfaceAgentOptions {
  /** Does creates and cancels. Without it those methods throw a ConflictError. */
  mutations?: TaskMutations;
  /** Audit actor when a call does not name one. @defaultValue 'interface' */
  actor?: string;
  /** How much the status report lists. */
  limits?: StatusLimits;
}

export interface TaskSummary {
  task: TaskRecord;
  goal: { id: string; title: string; state: string } | null;
  /** Why a waiting task is not being claimed, when it is stuck. */
  stuck: StuckReason | null;
}

export class InterfaceAgent {
  private readonly mutations: TaskMutations | null;
  private readonly actor: string;
  private readonly limits: StatusLimits;

  constructor(
    readonly registry: TaskRegistry,
    readonly redis: RedisCoordinator,
    options: InterfaceAgentOptions = {},
  ) {
    this.mutations = options.mutations ?? null;
    this.actor = options.actor ?? 'interface';
    this.limits = options.limits ?? {};
  }

  getSystemStatus(): Promise<SystemStatus> {
    return collectSystemStatus(this.registry, this.redis, this.limits);
  }

  formatStatusReport(status: SystemStatus): string {
    return formatStatusReport(status);
  }

  /** One task with its goal and, when it waits, why it is not being claimed. */
  async getTaskSummary(taskId: string): Promise<TaskSummary> {
    const task = await this.registry.getTask(taskId);
    if (!task) throw new NotFoundError('task', taskId);
    const goal = await this.registry.getGoal(task.goalId);
    let stuck: StuckReason | null = null;
    if (task.state === 'PENDING' || task.state === 'BACKLOG') {
      const [agents, status, job] = await Promise.all([
        this.redis.getAllAgents(),
        dependencyStatesOf(this.registry, task),
        jobHashStateOf(this.redis, task),
      ]);
      const queue = this.redis.queue(task.type);
      const paused = (await queue.isPaused()) ? new Set([task.type]) : new Set<string>();
      stuck = diagnoseTask(task, { agents, pausedQueues: paused, dependencyStates: status, job });
    }
    return {
      task,
      goal: goal ? { id: goal.id, title: goal.title, state: goal.state } : null,
      stuck,
    };
  }

  formatTaskSummary(summary: TaskSummary): string {
    const t = summary.task;
    const rows: Array<[string, string]> = [
      ['id', t.id],
      ['title', t.title],
      ['type', t.type],
      ['state', t.state],
      ['priority', String(t.priority)],
      ['attempt', `${t.attempt} of ${t.attempts}`],
      [
        'goal',
        summary.goal
          ? `${summary.goal.id} ${summary.goal.title} (${summary.goal.state})`
          : t.goalId,
      ],
      ['depends on', t.dependsOn.join(', ') || '-'],
      ['agent', t.agentId ?? '-'],
      ['updated', t.updatedAt.toISOString()],
    ];
    if (t.description) rows.splice(2, 0, ['description', t.description]);
    if (t.durationMs !== null) rows.push(['duration', `${t.durationMs} ms`]);
    if (t.result !== null) rows.push(['result', JSON.stringify(t.result)]);
    if (t.error) rows.push(['error', t.error.message]);
    if (summary.stuck) rows.push(['not claimed', describeStuckReason(summary.stuck)]);
    const width = Math.max(...rows.map(([k]) => k.length));
    return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
  }

  /** A one-task goal, through the supervisor. */
  async createTask(input: CreateTaskInput): Promise<{ taskId: string; goalId: string }> {
    const task = await this.requireMutations().createTask(input);
    return { taskId: task.id, goalId: task.goalId };
  }

  /** Cancels a task and its dependents; a task that already ended is a ConflictError. */
  async cancelTask(taskId: string, actor = this.actor): Promise<TaskRecord> {
    const task = await this.registry.getTask(taskId);
    if (!task) throw new NotFoundError('task', taskId);
    if (isTerminal(task.state)) {
      throw new ConflictError(
        `task ${taskId} is ${task.state}; only an unfinished task can be cancelled`,
      );
    }
    await this.requireMutations().cancelTask(taskId, actor);
    return task;
  }

  /**
   * Runs a FAILED task again through its dead letter (a CANCELLED one too when it has one);
   * any other state is a ConflictError.
   */
  async retryTask(taskId: string, actor = this.actor): Promise<TaskRecord> {
    const task = await this.registry.getTask(taskId);
    if (!task) throw new NotFoundError('task', taskId);
    if (task.state !== 'FAILED' && task.state !== 'CANCELLED') {
      throw new ConflictError(
        `task ${taskId} is ${task.state}; only a FAILED or CANCELLED task can be retried`,
      );
    }
    // The dead-letter redrive re-runs the task's own job with its attempts reset.
    await retryDeadLetter(this.redis, deadLetterId(task.id, task.epoch), actor);
    return task;
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

  /** Nothing of its own to close: the registry and coordinator belong to the caller. */
  async close(): Promise<void> {}

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

  private requireMutations(): TaskMutations {
    if (!this.mutations) {
      throw new ConflictError(
        'this InterfaceAgent was built without a supervisor; it can only read',
      );
    }
    return this.mutations;
  }
}
