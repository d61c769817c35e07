/**
 * The handler contract: a capability maps to `async (task, ctx) => result`.
 * Executors (function, sandboxed module, shell command, git worktree) all have this shape.
 */
import type { Json, TaskSpec } from '../entities/task-model';

/** A task to spawn: a plan task (key, title, type, dependsOn, data, …). */
export type SpawnTaskSpec = TaskSpec;

/** What a handler is told about its task. */
export interface TaskInput {
  id: string;
  goalId: string;
  key: string;
  title: string;
  description: string;
  type: string;
  priority: number;
  data: { [key: string]: Json };
  dependsOn: string[];
  /** 1-based number of this attempt. */
  attempt: number;
}

export interface TaskContext {
  /** Fires on timeout, on cancellation from any process, on shutdown past the grace period and when the job lock is lost. */
  signal: AbortSignal;
  /** Every dependency's result by key; an optional dependency that failed gives `{ error }`. */
  dependencies: { [key: string]: Json };
  /** Reports progress (any JSON); `{ qualityScore: 0..1 }` sets the task's quality score. */
  progress(value: Json): Promise<void>;
  /** Adds a line to the job's log (visible in Bull Board). */
  log(line: string): Promise<void>;
  /**
   * Reports what this attempt used (added to what it reported before): rolls up into the goal's
   * use at once, against its budget (docs/budgets.md). Numbers of 0 or more.
   */
  usage(report: { tokens?: number; costUsd?: number }): Promise<void>;
  /**
   * Adds tasks (plan-task shape) to the running goal (DESIGN.md "Living goals"): this task ends
   * only after they have ended, and its dependents see their results under their keys. Spawning
   * the same keys again (a retried attempt) returns the tasks already there. Bad tasks throw an
   * InputError naming the field, and nothing is added.
   */
  spawn(tasks: readonly SpawnTaskSpec[]): Promise<Array<{ key: string; id: string }>>;
  agentId: string;
  /** The directory the task works in: its git worktree when the agent uses one, else a temp dir or cwd. */
  workdir: string;
}

/** The JSON-serialisable return value is the task's result. Throw to fail the attempt. */
export type TaskHandler = (task: TaskInput, ctx: TaskContext) => Promise<Json | void> | Json | void;

export type HandlerMap = { [capability: string]: TaskHandler };

/** Resource use an executor measured for an attempt (sandboxed and shell executors). */
export interface ExecutionMetrics {
  cpuMs?: number;
  peakRssBytes?: number;
}

/**
 * The context agents hand to executors: a `TaskContext` plus a way to report what the attempt
 * cost. Handlers written by users see only `TaskContext`.
 */
export interface ExecutorContext extends TaskContext {
  recordMetrics(metrics: ExecutionMetrics): void;
}
