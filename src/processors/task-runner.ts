/**
 * One attempt of a task, the same in the agent's process and in a sandbox child: refuse a task
 * cancelled before it ran, report `started`, collect dependencies, run the handler with a ctx
 * whose signal fires on timeout and on whatever aborted the attempt (cancel, lock loss,
 * shutdown), and wrap the JSON result in a `TaskResultEnvelope`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { UnrecoverableError } from 'bullmq';
import { coerceError } from '../errors';
import type { Json } from '../entities/task-model';
import { attemptStartedLine, type StartedMessage } from '../queues/attempt-started';
import { collectDependencies, type ParentJobLike } from '../queues/dependencies';
import {
  cancelledReason,
  isCancelledReason,
  type TaskProgressMessage,
  type TaskResultEnvelope,
} from '../queues/protocol';
import type {
  ExecutionMetrics,
  ExecutorContext,
  SpawnTaskSpec,
  TaskHandler,
  TaskInput,
} from './handler-types';
import type { SpawnedTask } from '../queues/spawn';
import { requestSpawnFromParent } from './sandbox-spawn';
import { assertJson } from './json-value';
import { parseUsage, type UsageReport } from '../queues/goal-budget-schema';
import { sandboxUsage } from './sandbox-protocol';

/** Abort reasons of an attempt besides a cancellation (`cancelledReason(actor)`). */
export const SHUTDOWN_REASON = '[agentq] agent shutting down';
export const LOCK_LOST_REASON = '[agentq] job lock lost';

/** The part of a BullMQ job (in process, or the sandbox child's proxy) an attempt needs. */
export interface AttemptJob extends ParentJobLike {
  attemptsMade: number;
  processedOn?: number;
  updateProgress(value: TaskProgressMessage): Promise<unknown>;
  log(line: string): Promise<unknown>;
}

export interface AttemptOptions {
  agentId: string;
  handler: TaskHandler;
  /** BullMQ's processor signal: aborted by a cancel, a lost lock or a shutdown. */
  signal?: AbortSignal;
  /** The attempt's workdir; made (mode 0700) when the handler first reads `ctx.workdir`. */
  workdir: string;
  /** Told when the workdir was made, so the caller removes only workdirs that exist. */
  onWorkdirMade?: () => void;
  /** Resource use the executor measured outside the handler (sandbox child). */
  baseMetrics?: () => ExecutionMetrics;
  /**
   * Writes the `started` progress and the attempt's log line in one go (the in-process agent:
   * writeAttemptStarted). Without it they go through `job.updateProgress` and `job.log`.
   */
  reportStarted?: (message: StartedMessage) => Promise<unknown>;
  /**
   * Rolls a `ctx.usage` report up into the goal's use (the agent's process). Without it (a
   * sandbox child) the report goes to the parent as a `usage` message (sandbox-protocol.ts).
   */
  onUsage?: (usage: Required<UsageReport>) => Promise<void>;
  /**
   * Spawns tasks into the goal (the agent's process: spawn.ts). Without it (a sandbox child) the
   * request goes to the parent (sandbox-spawn.ts).
   */
  onSpawn?: (tasks: readonly SpawnTaskSpec[]) => Promise<SpawnedTask[]>;
}

/** The `started` report: one write when the executor has one, else BullMQ's two scripts. */
function reportStarted(job: AttemptJob, options: AttemptOptions, message: StartedMessage) {
  if (options.reportStarted) return options.reportStarted(message);
  return Promise.all([
    job.updateProgress(message),
    job.log(attemptStartedLine(message.attempt, message.agentId)),
  ]);
}

/** The attempt ran past its task's `timeoutMs`: retried like any other failure. */
export class AttemptTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

/** The attempt was stopped from outside for a reason that is not the task's fault. */
export class AttemptInterruptedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'AttemptInterruptedError';
  }
}

/** Makes `path` (mode 0700, must not exist yet: fails rather than reuse someone else's) once. */
function ensureWorkdir(path: string, onMade?: () => void): string {
  if (!existsSync(path)) {
    mkdirSync(path, { mode: 0o700 });
    onMade?.();
  }
  return path;
}

export function taskInput(job: AttemptJob): TaskInput {
  const d = job.data;
  return {
    id: d.taskId,
    goalId: d.goalId,
    key: d.key,
    title: d.title,
    description: d.description,
    type: d.type,
    priority: d.priority,
    data: d.data,
    dependsOn: d.dependsOn,
    attempt: job.attemptsMade + 1,
  };
}

/** The error an aborted attempt fails with, by why it was aborted. */
export function abortError(reason: unknown, timeoutMs: number): Error {
  if (reason instanceof AttemptTimeoutError) return reason;
  const text = typeof reason === 'string' ? reason : coerceError(reason).message;
  if (isCancelledReason(text)) return new UnrecoverableError(text);
  if (text === 'timeout') return new AttemptTimeoutError(timeoutMs);
  return new AttemptInterruptedError(text);
}

function qualityOf(value: Json | undefined): number | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const score = value.qualityScore;
  return typeof score === 'number' && score >= 0 && score <= 1 ? score : undefined;
}

export async function runAttempt(
  job: AttemptJob,
  options: AttemptOptions,
): Promise<TaskResultEnvelope> {
  const data = job.data;
  if (data.cancelled) throw new UnrecoverableError(cancelledReason(data.cancelled.actor));
  const input = taskInput(job);
  const startedAt = Date.now();
  // Sent without waiting: the handler starts a round trip sooner. The job's commands share one
  // connection (or the sandbox's IPC channel), so `started` still reaches the stream before the
  // result; the attempt awaits it before it ends and fails as before when it could not be sent.
  const reported = reportStarted(job, options, {
    phase: 'started',
    agentId: options.agentId,
    attempt: input.attempt,
    claimedAt: job.processedOn ?? startedAt,
    startedAt,
  });
  reported.catch(() => undefined);

  // The attempt's abort (timeout, or whatever aborted BullMQ's signal) rejects `aborted` at once;
  // the AbortController behind `ctx.signal` is made only when a handler reads it (most no-op and
  // quick handlers never do: one object, one listener and their garbage less per attempt).
  let abortedFor = null as { reason: unknown } | null;
  let controller: AbortController | null = null;
  let rejectAborted: (error: Error) => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    rejectAborted = reject;
  });
  aborted.catch(() => undefined);
  const abort = (reason: unknown): void => {
    if (abortedFor) return;
    abortedFor = { reason };
    controller?.abort(reason);
    rejectAborted(abortError(reason, data.timeoutMs));
  };
  const timer = setTimeout(() => abort(new AttemptTimeoutError(data.timeoutMs)), data.timeoutMs);
  const forward = () => abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  options.signal?.addEventListener('abort', forward, { once: true });
  let metrics: ExecutionMetrics = {};
  let qualityScore: number | undefined;
  try {
    const ctx: ExecutorContext = {
      get signal() {
        if (!controller) {
          controller = new AbortController();
          if (abortedFor) controller.abort(abortedFor.reason);
        }
        return controller.signal;
      },
      dependencies: await collectDependencies(job),
      agentId: options.agentId,
      // Created on first read: most handlers never touch it (saves a mkdir and an rm per attempt).
      get workdir() {
        return ensureWorkdir(options.workdir, options.onWorkdirMade);
      },
      progress: async (value) => {
        qualityScore = qualityOf(value) ?? qualityScore;
        await job.updateProgress({
          phase: 'progress',
          agentId: options.agentId,
          attempt: input.attempt,
          value,
        });
      },
      log: async (line) => {
        await job.log(line);
      },
      usage: async (report) => {
        const usage = parseUsage(report, 'ctx.usage');
        if (options.onUsage) await options.onUsage(usage);
        else await job.updateProgress(sandboxUsage(usage) as unknown as TaskProgressMessage);
      },
      spawn: async (tasks) => {
        // The spawn goes over another connection: `started` first, or the audit log could
        // record the spawned tasks before the spawning task's start.
        await reported;
        if (options.onSpawn) return options.onSpawn(tasks);
        return requestSpawnFromParent(tasks);
      },
      recordMetrics: (measured) => {
        metrics = { ...metrics, ...measured };
      },
    };
    // A handler that ignores its signal still loses the race: the attempt ends when aborted.
    const returned = await Promise.race([
      Promise.resolve().then(() => options.handler(input, ctx)),
      aborted,
    ]);
    const result = returned === undefined ? null : returned;
    assertJson(result, `the result of '${data.type}' handler`);
    await reported;
    const finishedAt = Date.now();
    qualityScore = qualityOf(result) ?? qualityScore;
    return {
      v: 1,
      key: data.key,
      result,
      agentId: options.agentId,
      attempt: input.attempt,
      startedAt,
      finishedAt,
      metrics: {
        ...options.baseMetrics?.(),
        ...metrics,
        ...(qualityScore === undefined ? {} : { qualityScore }),
      },
    };
  } catch (thrown) {
    await reported.catch(() => undefined);
    // A handler that rethrows its abort (AbortError) fails for the reason it was aborted.
    if (abortedFor) throw abortError(abortedFor.reason, data.timeoutMs);
    throw coerceError(thrown);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', forward);
  }
}
