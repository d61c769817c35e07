/**
 * The wire protocol between agentq's parts, in one place: what a task job returns, what an agent
 * reports when it starts a task, how a cancellation is marked and announced, how priorities and
 * shards are mapped. The compiler, the agents, the gates, the mirror and the bridge all speak it.
 */
import { createHash } from 'node:crypto';
import type { Json, TaskError } from '../entities/task-model';
import type { ExecutionMetrics } from '../processors/handler-types';

/**
 * A task job's BullMQ return value. The handler's own result is `result`; the rest lets the mirror
 * record who ran it and what it cost without another round trip, and lets a dependent find the key.
 */
export interface TaskResultEnvelope {
  v: 1;
  key: string;
  result: Json;
  agentId: string;
  attempt: number;
  startedAt: number;
  finishedAt: number;
  metrics?: ExecutionMetrics & { qualityScore?: number };
  /**
   * A spawning task's: the result of every task it spawned (and they spawned), by key. Its
   * dependents see them beside its own result (dependencies.ts).
   */
  spawned?: { [key: string]: Json };
  /** An approval task's: who approved it (audit actor) and their note (approvals.ts). */
  actor?: string;
  note?: string;
}

/** A gate job's return value: the shared task's result, or its error when it was optional. */
export interface GateResultEnvelope {
  v: 1;
  key: string;
  result?: Json;
  error?: TaskError;
}

/**
 * `job.updateProgress` payloads of task jobs. `started` is sent once per attempt when the handler
 * starts: the mirror turns it into ASSIGNED (with the agent id) and ACTIVE.
 */
export type TaskProgressMessage =
  | {
      phase: 'started';
      agentId: string;
      attempt: number;
      claimedAt: number;
      startedAt: number;
      /** A spawning task claimed again to finish once what it spawned has ended. */
      resumed?: boolean;
    }
  | { phase: 'progress'; agentId: string; attempt: number; value: Json };

/** A job failed with a reason starting with this was cancelled, not failed. */
export const CANCELLED_PREFIX = '[cancelled]';

export function cancelledReason(actor: string | null): string {
  return `${CANCELLED_PREFIX} by ${actor ?? 'unknown'}`;
}

export function isCancelledReason(reason: string | undefined | null): boolean {
  return typeof reason === 'string' && reason.startsWith(CANCELLED_PREFIX);
}

/** Marked on a task job's data (`job.updateData`) when it is cancelled before it runs. */
export interface CancelMark {
  actor: string | null;
  at: number;
}

/** Pub/sub channel (`coordinator.channel(CONTROL_CHANNEL)`) every agent listens on. */
export const CONTROL_CHANNEL = 'agentq:control';

export type ControlMessage = { op: 'cancel'; taskIds: string[]; actor: string | null };

/** agentq priority 1–10 (10 first) → BullMQ priority (1 first, 0 = none). */
export function bullPriority(priority: number): number {
  return 11 - priority;
}

/** The plan key of a task job from its job id (`<goalId>.<key>`) or child key (`prefix:queue:id`). */
export function taskKeyOfJobId(jobIdOrKey: string): string {
  const id = jobIdOrKey.slice(jobIdOrKey.lastIndexOf(':') + 1);
  const dot = id.indexOf('.');
  return dot < 0 ? id : id.slice(dot + 1);
}

/** The goal id of a task id (`<goalId>.<key>`). */
export function goalIdOfTaskId(taskId: string): string {
  const dot = taskId.indexOf('.');
  return dot < 0 ? taskId : taskId.slice(0, dot);
}

/** Which of `shards` hash tags a goal's flow lives under. Stable for a goal id. */
export function shardOf(goalId: string, shards: number): number {
  if (shards <= 1) return 0;
  return createHash('sha1').update(goalId).digest().readUInt32BE(0) % shards;
}

/**
 * A transition that BullMQ itself does not emit (a job removed by a goal's finalizer, a task
 * cancelled before it ran): written with XADD to the events stream of the task's queue as
 * `event=agentq`, so the mirror — the one reader of those streams — records it in order with the rest.
 */
export const AGENTQ_STREAM_EVENT = 'agentq';

export interface AgentqStreamEvent {
  taskId: string;
  to: 'FAILED' | 'CANCELLED' | 'PENDING';
  reason: string;
  actor: string | null;
  /** For FAILED by a dependency: the key of the dependency that failed. */
  dependency?: string;
}
