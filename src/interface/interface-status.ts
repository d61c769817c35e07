/**
 * What `InterfaceAgent.getSystemStatus()` gathers: counts from the store (the audit record),
 * live agents, waiting tasks and queue depths from Redis (the execution record), recent
 * failures, and the answer to "why is this task not being claimed?" for tasks that are stuck.
 */
import { TASK_STATES, type TaskState } from '../entities/task-state';
import type { AgentInfo, GoalRecord, TaskError } from '../entities/task-model';
import type { TaskRegistry } from '../entities/task-registry';
import { listAwaitingApprovals, type AwaitingApproval } from '../queues/approvals';
import type { PendingTaskSummary, RedisCoordinator } from '../queues/redis-coordinator';
import { viewCapabilityLimits, type CapabilityLimitsView } from '../queues/limits-view';
import { openGoalBudgets, type GoalBudgetView } from './goal-budgets';
import { findStuckTasks, type StuckTask } from './interface-diagnosis';

export interface QueueDepth {
  /** Capability (or internal queue) name. */
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  paused: boolean;
}

export interface FailureSummary {
  taskId: string;
  title: string;
  type: string;
  error: TaskError | null;
  at: Date;
}

export interface SystemStatus {
  generatedAt: Date;
  /** Tasks per state, plus `all`. */
  totals: Record<TaskState, number> & { all: number };
  /** capability → tasks per state. */
  byType: Record<string, Record<TaskState, number>>;
  goals: { active: number; paused: number; recent: GoalRecord[] };
  /** Budget and use of unfinished goals with a budget, or paused (paused first, at most 100). */
  budgets: GoalBudgetView[];
  agents: AgentInfo[];
  /** The first waiting tasks, highest priority first. */
  pending: PendingTaskSummary[];
  queues: QueueDepth[];
  recentFailures: FailureSummary[];
  /** Waiting tasks nothing will claim as things stand, with the reason. */
  stuck: StuckTask[];
  /** Capability limits, with what runs under each now. */
  limits: CapabilityLimitsView[];
  /** Tasks awaiting a person's approval: how many in all, the oldest first. */
  awaitingApproval: { count: number; tasks: AwaitingApproval[] };
}

export interface StatusLimits {
  /** @defaultValue 20 */
  pending?: number;
  /** @defaultValue 5 */
  failures?: number;
  /** @defaultValue 5 */
  goals?: number;
  /** @defaultValue 20 */
  stuck?: number;
  /** @defaultValue 20 */
  approvals?: number;
}

export async function collectSystemStatus(
  registry: TaskRegistry,
  redis: RedisCoordinator,
  limits: StatusLimits = {},
): Promise<SystemStatus> {
  const [
    counts,
    byType,
    activeGoals,
    pausedGoals,
    recentGoals,
    agents,
    pending,
    queues,
    limitViews,
    approvals,
  ] = await Promise.all([
    registry.countByState(),
    registry.countByType(),
    registry.listGoals({ state: 'ACTIVE', limit: 10_000 }),
    registry.listGoals({ state: 'PAUSED', limit: 10_000 }),
    registry.listGoals({ limit: limits.goals ?? 5 }),
    redis.getAllAgents(),
    redis.getPendingTasks(limits.pending ?? 20),
    queueDepths(redis),
    viewCapabilityLimits(redis),
    listAwaitingApprovals(redis, limits.approvals ?? 20),
  ]);
  const all = TASK_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
  const [recentFailures, stuck, budgets] = await Promise.all([
    recentFailuresOf(registry, counts.FAILED ?? 0, limits.failures ?? 5),
    findStuckTasks(registry, agents, queues, limits.stuck ?? 20),
    openGoalBudgets(registry, redis),
  ]);
  return {
    generatedAt: new Date(),
    totals: { ...counts, all },
    byType,
    goals: { active: activeGoals.length, paused: pausedGoals.length, recent: recentGoals },
    budgets,
    agents,
    pending,
    queues,
    recentFailures,
    stuck,
    limits: limitViews,
    awaitingApproval: approvals,
  };
}

/** Depths of every known capability queue, summed over shards. */
async function queueDepths(redis: RedisCoordinator): Promise<QueueDepth[]> {
  const names = await redis.capabilities();
  return Promise.all(
    names.map(async (name) => {
      const depth: QueueDepth = {
        name,
        waiting: 0,
        active: 0,
        delayed: 0,
        failed: 0,
        completed: 0,
        paused: false,
      };
      for (let shard = 0; shard < redis.shards; shard++) {
        const queue = redis.queue(name, shard);
        const [c, paused] = await Promise.all([
          queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
          queue.isPaused(),
        ]);
        depth.waiting += (c.waiting ?? 0) + (c.prioritized ?? 0);
        depth.active += c.active ?? 0;
        depth.delayed += c.delayed ?? 0;
        depth.failed += c.failed ?? 0;
        depth.completed += c.completed ?? 0;
        depth.paused ||= paused;
      }
      return depth;
    }),
  );
}

/** The store lists tasks oldest first: read the tail of the FAILED ones. */
async function recentFailuresOf(
  registry: TaskRegistry,
  failed: number,
  limit: number,
): Promise<FailureSummary[]> {
  if (failed === 0 || limit === 0) return [];
  const tasks = await registry.findTasks({
    state: 'FAILED',
    limit,
    offset: Math.max(0, failed - limit),
  });
  return tasks
    .map((t) => ({ taskId: t.id, title: t.title, type: t.type, error: t.error, at: t.updatedAt }))
    .sort((a, b) => b.at.getTime() - a.at.getTime());
}
