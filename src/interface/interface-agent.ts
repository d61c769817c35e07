/**
 * InterfaceAgent, the seed's people side: status reports, task summaries, manual tasks, cancel
 * and retry, and a small command language (`routeCommand`). It reads from the task store and
 * Redis; its changes are the operations (operations/), the same ones REST and the CLI call.
 * Built with a registry and a coordinator it is a place where the two meet, so it joins the
 * process's mirror candidate (shared-mirror.ts): the seed's example reaches SQL in one process.
 */
import type { Json, TaskRecord } from '../entities/task-model';
import type { TaskRegistry } from '../entities/task-registry';
import { NotFoundError } from '../errors';
import { joinMirror } from '../mirror/shared-mirror';
import { approvalStateOf, type ApprovalState } from '../queues/approvals';
import { APPROVALS_QUEUE } from '../queues/names';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import type { ServiceLease } from '../queues/shared-services';
import { SupervisorAgent } from '../queues/supervisor-agent';
import { cancelTask } from './operations/cancel-task';
import { approveTask, rejectTask, type DecisionOutcome } from './operations/decide-approval';
import type { CreateTaskInput } from './operations/create-task';
import { retryTask, type RetryOutcome } from './operations/retry-task';
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

export interface TaskSummary {
  task: TaskRecord;
  goal: { id: string; title: string; state: string } | null;
  /** Why a waiting task is not being claimed, when it is stuck. */
  stuck: StuckReason | null;
  /** An approval task's approval: what it asks, and since when it awaits a decision. */
  approval?: ApprovalState;
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
    const approval =
      task.type === APPROVALS_QUEUE ? await approvalStateOf(this.redis, task.id) : null;
    return {
      task,
      goal: goal ? { id: goal.id, title: goal.title, state: goal.state } : null,
      stuck,
      ...(approval ? { approval } : {}),
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
    const approval = summary.approval;
    if (approval?.prompt) rows.push(['approval', approval.prompt]);
    if (approval?.awaitingSince) {
      const timeout = approval.deadline
        ? `; ${approval.onTimeout}s at ${approval.deadline.toISOString()} unless decided`
        : '';
      rows.push(['awaiting approval', `since ${approval.awaitingSince.toISOString()}${timeout}`]);
    }
    if (approval?.decision) {
      const d = approval.decision;
      rows.push([
        'decided',
        `${d.approved ? 'approved' : 'rejected'} by ${d.by} at ${new Date(d.at).toISOString()}`,
      ]);
    }
    const width = Math.max(...rows.map(([k]) => k.length));
    return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
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
