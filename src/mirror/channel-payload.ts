/**
 * The pub/sub payload contract (documented in docs/events.md, schema in
 * docs/events.schema.json): one JSON message per recorded transition on `tasks:<event>`, and one
 * per finished goal on `goals:complete`.
 */
import type { GoalState, Json, TaskEventName, TaskEventRecord } from '../entities/task-model';
import { isTerminal, type TaskState } from '../entities/task-state';

export const GOALS_COMPLETE_CHANNEL = 'goals:complete';

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
}

export interface GoalChannelPayload {
  v: 1;
  goalId: string;
  state: Exclude<GoalState, 'ACTIVE'>;
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
}

export function taskPayload(event: TaskEventRecord, task: TaskIdentity): TaskChannelPayload {
  const payload: TaskChannelPayload = {
    v: 1,
    seq: event.seq,
    event: event.event,
    taskId: event.taskId,
    goalId: event.goalId,
    key: task.key,
    type: task.type,
    state: event.toState,
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
  if (isTerminal(event.toState)) payload.final = true;
  return payload;
}

export function goalPayload(goalId: string, state: GoalChannelPayload['state'], at: Date) {
  return { v: 1, goalId, state, at: at.toISOString() } satisfies GoalChannelPayload;
}
