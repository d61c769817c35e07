/**
 * The pub/sub payload contract (documented in docs/events.md, schema in
 * docs/events.schema.json): one JSON message per recorded transition on `tasks:<event>`, and one
 * per finished goal on `goals:complete`.
 */
import {
  isGoalEventName,
  type GoalBudget,
  type GoalEnd,
  type GoalEventName,
  type GoalState,
  type GoalUsage,
  type Json,
  type TaskEventName,
  type TaskEventRecord,
} from '../entities/task-model';
import { isTerminal, type TaskState } from '../entities/task-state';

export const GOALS_COMPLETE_CHANNEL = 'goals:complete';
/** Budget crossings (`level` soft or hard) and pause, resume and budget changes of goals. */
export const GOALS_BUDGET_CHANNEL = 'goals:budget';

export interface TaskChannelPayload {
  v: 1;
  /** The task_events sequence: gap-free, strictly increasing across the deployment. */
  seq: number;
  event: TaskEventName;
  taskId: string;
  goalId: string;
  key: string;
  type: string;
  state: TaskState;
  attempt: number;
  agentId?: string;
  /** ISO-8601. */
  at: string;
  result?: Json;
  error?: { message: string; dependency?: string };
  /** True when the task will not move again by itself (DONE, FAILED, CANCELLED). */
  final?: true;
  progress?: Json;
  /** On `new`, for a task spawned by another (ctx.spawn): the spawning task's id. */
  spawnedBy?: string;
}

export interface GoalChannelPayload {
  v: 1;
  goalId: string;
  state: GoalEnd;
  at: string;
}

/** `goals:budget`: a goal event of the audit log (docs/budgets.md). */
export interface GoalBudgetPayload {
  v: 1;
  seq: number;
  event: GoalEventName;
  goalId: string;
  /** Set on `budget` events: `soft` at 80 % of a budget, `hard` at 100 % (the goal is PAUSED). */
  level?: 'soft' | 'hard';
  state: GoalState;
  usage: GoalUsage;
  budget: GoalBudget | null;
  /** The task whose use crossed the level. */
  taskId?: string;
  actor?: string;
  at: string;
}

/** The channel (without the deployment's channel prefix) an event is published on. */
export function taskChannel(event: TaskEventName): string {
  return `tasks:${event}`;
}

/** A task's plan key: what follows the first '.' of its id (`<goalId>.<key>`). */
export function taskKeyOf(taskId: string): string {
  const dot = taskId.indexOf('.');
  return dot < 0 ? taskId : taskId.slice(dot + 1);
}

/** What the payload needs from the task row besides the event. */
export interface TaskIdentity {
  key: string;
  type: string;
  /** The task's spawnedBy (living goals); absent or null for most tasks. */
  spawnedBy?: string | null;
}

/** The channel (without prefix) and payload of any event of the audit log. */
export function channelMessage(
  event: TaskEventRecord,
  task: TaskIdentity,
): { channel: string; payload: TaskChannelPayload | GoalBudgetPayload } {
  if (isGoalEventName(event.event)) {
    return { channel: GOALS_BUDGET_CHANNEL, payload: goalBudgetPayload(event) };
  }
  return { channel: taskChannel(event.event), payload: taskPayload(event, task) };
}

export function goalBudgetPayload(event: TaskEventRecord): GoalBudgetPayload {
  const detail = event.detail?.budget;
  const payload: GoalBudgetPayload = {
    v: 1,
    seq: event.seq,
    event: event.event as GoalEventName,
    goalId: event.goalId,
    state: event.toState as GoalState,
    usage: detail?.usage ?? { tokens: 0, costUsd: 0, wallMs: 0 },
    budget: detail?.budget ?? null,
    at: event.at.toISOString(),
  };
  if (detail?.level) payload.level = detail.level;
  if (detail?.taskId) payload.taskId = detail.taskId;
  if (event.actor) payload.actor = event.actor;
  return payload;
}

/** A task event's payload (goal events: goalBudgetPayload). */
export function taskPayload(event: TaskEventRecord, task: TaskIdentity): TaskChannelPayload {
  const state = event.toState as TaskState;
  const payload: TaskChannelPayload = {
    v: 1,
    seq: event.seq,
    event: event.event as TaskEventName,
    taskId: event.taskId,
    goalId: event.goalId,
    key: task.key,
    type: task.type,
    state,
    attempt: event.attempt,
    at: event.at.toISOString(),
  };
  if (event.agentId) payload.agentId = event.agentId;
  const detail = event.detail;
  if (detail?.result !== undefined) payload.result = detail.result;
  if (detail?.error) {
    payload.error = { message: detail.error.message };
    if (detail.error.dependency) payload.error.dependency = detail.error.dependency;
  }
  if (detail?.progress !== undefined) payload.progress = detail.progress;
  if (payload.event === 'new' && task.spawnedBy) payload.spawnedBy = task.spawnedBy;
  if (isTerminal(state)) payload.final = true;
  return payload;
}

export function goalPayload(goalId: string, state: GoalChannelPayload['state'], at: Date) {
  return { v: 1, goalId, state, at: at.toISOString() } satisfies GoalChannelPayload;
}
