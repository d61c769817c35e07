/**
 * Sandboxed execution: a BullMQ Worker whose processor is a FILE (sandbox-entry), run by BullMQ
 * in a child process. A handler that calls `process.exit` or crashes only takes its child down
 * (BullMQ fails the attempt with the exit code); one that loops forever cannot answer a cancel,
 * so the agent kills its child once the timeout (or an abort) is `killGraceMs` overdue.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Job, Worker, type WorkerOptions } from 'bullmq';
import type { TaskResultEnvelope } from '../queues/protocol';
import type { TaskJobData } from '../queues/task-job';
import {
  isSandboxHello,
  isSandboxUsage,
  SANDBOX_ENV,
  type SandboxJobData,
} from './sandbox-protocol';
import { abortError, AttemptTimeoutError } from './task-runner';
import type { SpawnTaskSpec } from './handler-types';
import type { SpawnedTask } from '../queues/spawn';
import { answerSpawn, isSpawnRequest } from './sandbox-spawn';

/** How long a child may take to wind down after its signal fired before it is killed. */
export const KILL_GRACE_MS = 2000;

/** Runs one job: `execute(workdir, signal)` is the executor, the rest is the agent's pipeline. */
export type JobPipeline = (
  job: Job<TaskJobData, TaskResultEnvelope>,
  token: string,
  signal: AbortSignal,
  execute: (workdir: string, signal: AbortSignal) => Promise<TaskResultEnvelope>,
) => Promise<TaskResultEnvelope>;

export interface SandboxOptions {
  /** The user's handler module, loaded in each child. */
  handlersFile: string;
  agentId: string;
  /** @defaultValue KILL_GRACE_MS */
  killGraceMs?: number;
  /** Rolls a child's `ctx.usage` report up (the agent's budget path). */
  onUsage?: (job: Job<TaskJobData>, usage: { tokens: number; costUsd: number }) => Promise<void>;
  /** A child's `ctx.spawn` (sandbox-spawn.ts): the agent spawns for it. */
  onSpawn?: (job: Job<TaskJobData>, tasks: readonly SpawnTaskSpec[]) => Promise<SpawnedTask[]>;
}

/** The entry beside this file: `.ts` when a checkout runs its sources (tsx, ts-jest); else `.js`. */
function sandboxEntry(): string {
  const ts = resolve(__dirname, 'sandbox-entry.ts');
  return __filename.endsWith('.ts') && existsSync(ts) ? ts : resolve(__dirname, 'sandbox-entry.js');
}

function childExecArgv(entry: string): string[] {
  const argv = [...process.execArgv];
  // A TypeScript entry needs tsx's loader in the child (BullMQ loads it with `import()`).
  // (`-r tsx/cjs` alone only hooks `require`, not `import()`.)
  const hasEsmHook = argv.some((a, i) => a === 'tsx' && argv[i - 1] === '--import');
  if (entry.endsWith('.ts') && !hasEsmHook) argv.push('--import', 'tsx');
  return argv;
}

export class SandboxedWorker extends Worker<TaskJobData, TaskResultEnvelope> {
  private readonly killGraceMs: number;
  private readonly onUsage: SandboxOptions['onUsage'];
  private readonly onSpawn: SandboxOptions['onSpawn'];

  constructor(
    name: string,
    options: WorkerOptions,
    sandbox: SandboxOptions,
    private readonly pipeline: JobPipeline,
  ) {
    const entry = sandboxEntry();
    super(name, entry, {
      ...options,
      useWorkerThreads: false,
      workerForkOptions: {
        execArgv: childExecArgv(entry),
        env: {
          ...process.env,
          [SANDBOX_ENV.handlers]: resolve(sandbox.handlersFile),
          [SANDBOX_ENV.agentId]: sandbox.agentId,
        },
      },
    });
    this.killGraceMs = sandbox.killGraceMs ?? KILL_GRACE_MS;
    this.onUsage = sandbox.onUsage;
    this.onSpawn = sandbox.onSpawn;
  }

  protected override callProcessJob(
    job: Job<TaskJobData, TaskResultEnvelope>,
    token: string,
    signal?: AbortSignal,
  ): Promise<TaskResultEnvelope> {
    const own = signal ?? new AbortController().signal;
    return this.pipeline(job, token, own, (workdir, attemptSignal) =>
      this.watchChild(job, workdir, attemptSignal, () =>
        super.callProcessJob(job, token, attemptSignal),
      ),
    );
  }

  /** Runs the job in a child and kills the child when it outlives its timeout or its abort. */
  private async watchChild(
    job: Job<TaskJobData, TaskResultEnvelope>,
    workdir: string,
    signal: AbortSignal,
    run: () => Promise<TaskResultEnvelope>,
  ): Promise<TaskResultEnvelope> {
    let pid: number | null = null;
    let killedFor: unknown = null;
    const kill = (reason: unknown) => {
      if (pid === null || killedFor !== null) return;
      killedFor = reason;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    // Local only (never written to Redis): the child reads its workdir from the job it is sent.
    (job as Job<SandboxJobData, TaskResultEnvelope>).data = {
      ...job.data,
      sandboxWorkdir: workdir,
    };
    const forward = job.updateProgress.bind(job);
    job.updateProgress = async (value) => {
      if (isSandboxHello(value)) pid = value.pid;
      else if (isSandboxUsage(value)) await this.onUsage?.(job, value.usage);
      else await forward(value);
    };
    const dependencies = job.getDependencies.bind(job);
    job.getDependencies = (async (opts?: unknown) => {
      if (!isSpawnRequest(opts)) return dependencies(opts as Parameters<typeof dependencies>[0]);
      const spawn = this.onSpawn;
      return answerSpawn(opts, (tasks) =>
        spawn ? spawn(job, tasks) : Promise.reject(new Error('this agent cannot spawn')),
      );
    }) as typeof job.getDependencies;
    const timeoutMs = job.data.timeoutMs;
    const overdue = setTimeout(
      () => kill(new AttemptTimeoutError(timeoutMs)),
      timeoutMs + this.killGraceMs,
    );
    let abortTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      abortTimer = setTimeout(() => kill(signal.reason), this.killGraceMs);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await run();
    } catch (error) {
      if (killedFor !== null) throw abortError(killedFor, timeoutMs);
      throw error;
    } finally {
      clearTimeout(overdue);
      clearTimeout(abortTimer);
      signal.removeEventListener('abort', onAbort);
      job.updateProgress = forward;
      job.getDependencies = dependencies;
      delete (job.data as Partial<SandboxJobData>).sandboxWorkdir;
    }
  }
}
