/**
 * `AutonomousAgent`, the seed's agent: serves capabilities with handlers under an agent id. One BullMQ
 * Worker per capability per shard claims tasks (BullMQ's atomic move to active); per job the agent
 * observes (cancelled? declined? breaker open?), decides, acts (runs the handler in process or in a
 * sandbox child) and reports (progress, result envelope, dead letter, link release).
 *
 * Crash recovery (kill -9) is BullMQ's stalled-job check, with these defaults:
 * - `lockDurationMs` 30 s: the lock is renewed every 15 s, so a handler may block the event loop
 *   for up to ~15 s without losing its task; a dead agent's task is free after at most 30 s.
 * - `stalledIntervalMs` 15 s: how often each worker looks for expired locks; recovery of a killed
 *   agent's task takes at most lockDuration + stalledInterval = 45 s.
 * - `maxStalledCount` 2: a task may outlive two agent crashes; a third (a handler that kills its
 *   agent every time) fails it for good instead of crashing agents forever.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DelayedError,
  Job,
  UnrecoverableError,
  WaitingChildrenError,
  WaitingError,
  Worker,
  type WorkerOptions,
} from 'bullmq';
import { coerceError, InputError } from '../errors';
import { writeAttemptStarted, type ClaimingWorker } from '../queues/attempt-started';
import type { TaskRegistry } from '../entities/task-registry';
import { releaseLinksOfCompleted, releaseLinksOfFailed } from '../queues/links';
import { reapOrphanShellGroups } from './shell-groups';
import { joinInternalWorkers } from '../queues/internal-workers';
import type { ServiceLease } from '../queues/shared-services';
import { joinMirror } from '../mirror/shared-mirror';
import { assertCapability } from '../queues/names';
import { cancelledReason, isCancelledReason, type TaskResultEnvelope } from '../queues/protocol';
import type { AgentHeartbeat, RedisCoordinator } from '../queues/redis-coordinator';
import type { RedisConnection } from '../queues/connection';
import type { TaskJobData } from '../queues/task-job';
import { CircuitBreaker, type BreakerState } from './circuit-breaker';
import { listenForControl, type ControlListener } from './control-listener';
import { recordDeadLetter } from './dead-letters';
import { createFunctionExecutor, type InProcessExecutor } from './function-executor';
import type { HandlerMap, TaskInput } from './handler-types';
import { pickHandlers } from './handler-module';
import { SandboxedWorker, type JobPipeline } from './sandboxed-executor';
import { LOCK_LOST_REASON, SHUTDOWN_REASON, taskInput } from './task-runner';
import { KeySlotGate } from './key-slot-gate';
import { holdIfPaused, settleRun, type GatedRun } from './budget-gate';
import { addGoalUsage } from '../queues/goal-budget';
import { spawnTasks, type SpawnedList, type SpawnedTask, type Spawner } from '../queues/spawn';
import { collectDependencies } from '../queues/dependencies';
import { SPAWNED_FIELD } from '../queues/extension-writer';
import {
  applyCancellations,
  checkCancellations,
  claimRevision,
  releaseRevision,
  repairContext,
  templateRepair,
  type RepairNote,
  type RepairPlanner,
} from '../queues/repair';
import type { Json } from '../entities/task-model';
import {
  awaitSpawned,
  finishSpawner,
  spawnedByRecord,
  type SpawningJobData,
  type SpawnWait,
} from '../queues/spawn-wait';
import type { SpawnTaskSpec } from './handler-types';

/** Where tasks work: a git worktree per task (WorktreeManager) or anything with this shape. */
export interface WorkdirProvider {
  acquire(taskId: string): Promise<string>;
  release(taskId: string, outcome: { ok: boolean }): Promise<unknown>;
}

export interface AutonomousAgentOptions {
  agentId: string;
  capabilities: string[];
  /**
   * The SQL store. The agent itself reports through Redis; given a registry it joins the
   * process's mirror candidate for it (`mirror`), so transitions reach SQL with no other process.
   * @defaultValue none (no mirror candidate in this process on the agent's account)
   */
  taskRegistry?: TaskRegistry;
  redisCoordinator: RedisCoordinator;
  /** capability → handler (in process). Needed for every capability unless `sandboxed`. */
  handlers?: HandlerMap;
  /** Tasks run at once per capability queue. @defaultValue 1 */
  concurrency?: number;
  /** Decline a task: it goes back for another agent without costing an attempt. */
  accepts?: (task: TaskInput) => boolean | Promise<boolean>;
  /** Per capability; `false` turns breakers off. @defaultValue { threshold: 5, cooldownMs: 30000 } */
  breaker?: { threshold?: number; cooldownMs?: number } | false;
  /** A workdir per task (git worktree); without it each attempt gets a fresh temp dir. */
  worktree?: WorkdirProvider;
  /** Run handlers from this module in BullMQ sandbox child processes instead of in process. */
  sandboxed?: { handlersFile: string; killGraceMs?: number };
  /** How long `close()` lets running tasks finish before handing them back. @defaultValue 30000 */
  graceMs?: number;
  /** @defaultValue 2000 */
  heartbeatMs?: number;
  /** Shards served. @defaultValue every shard of the coordinator */
  shards?: number[];
  /** @defaultValue 30000 (see the module comment) */
  lockDurationMs?: number;
  /** @defaultValue 15000 */
  stalledIntervalMs?: number;
  /** @defaultValue 2 */
  maxStalledCount?: number;
  /**
   * Join the process's internal workers (gates, goal roots, reconciler; their settings are the
   * coordinator's `internalWorkers`). @defaultValue true
   */
  internalWorkers?: boolean;
  /** With `taskRegistry`, join the process's mirror candidate for it. @defaultValue true */
  mirror?: boolean;
  /** Worker, heartbeat and reporting errors. @defaultValue a warning on stderr */
  onError?: (error: Error) => void;
  /**
   * Writes the patch when a task of a replanning goal (`"onFailure": "replan"`) fails for good.
   * @defaultValue the template repair (retry, then an approval; src/queues/repair.ts)
   */
  repairPlanner?: RepairPlanner;
}

/** The attempt's failure is its task's last: unrecoverable, or no attempt left. */
function isFinalFailure(job: Job<TaskJobData>, error: Error): boolean {
  return error.name === 'UnrecoverableError' || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/** A declined task comes back to the same agent after a short, growing delay, not at once. */
const DECLINE_BACKOFF_MS = [0, 100, 500, 2000] as const;

export class AutonomousAgent {
  readonly agentId: string;
  readonly capabilities: readonly string[];
  private readonly options: AutonomousAgentOptions;
  private readonly coordinator: RedisCoordinator;
  private readonly executor: InProcessExecutor | null;
  private readonly workers: Array<{ capability: string; worker: Worker }> = [];
  private readonly connections: RedisConnection[] = [];
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly running = new Set<string>();
  private readonly declined = new Map<string, number>();
  /** Runs past the budget gate, by job id (a `ctx.usage` report finds its run here). */
  private readonly gated = new Map<string, GatedRun>();
  /** What each running attempt spawned so far, by job id: key → type. */
  private readonly spawned = new Map<string, Map<string, string>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private control: ControlListener | null = null;
  private readonly services: ServiceLease[] = [];
  private reaping: Promise<void> = Promise.resolve();
  private heartbeat: NodeJS.Timeout | null = null;
  private startedAt = new Date();
  /** This start's claim on the agent id in the directory (see agent-directory.ts). */
  private readonly instance = randomBytes(8).toString('hex');
  /** Another process took the id over (this one missed its heartbeats): said once. */
  private replaced = false;
  /** Workdir names: unguessable per agent (random), unique per attempt (a counter). */
  private readonly workdirBase = join(tmpdir(), `agentq-${randomBytes(6).toString('hex')}`);
  private workdirCount = 0;
  /** Workdirs an in-process attempt made (a sandboxed one makes its own in the child). */
  private readonly madeWorkdirs = new Set<string>();
  private closing: Promise<void> | null = null;
  /** Per-key concurrency: tasks with a `concurrencyKey` enter their key's slots (key-slot-gate.ts). */
  private readonly keySlots: KeySlotGate;
  private readonly repairPlanner: RepairPlanner;

  constructor(options: AutonomousAgentOptions) {
    if (!options.agentId) throw new InputError('must not be empty', 'agentId');
    if (options.capabilities.length === 0) {
      throw new InputError('name at least one capability', 'capabilities');
    }
    for (const c of options.capabilities) assertCapability(c, 'capabilities');
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new InputError('must be a whole number of at least 1', 'concurrency');
    }
    this.executor = options.sandboxed
      ? null
      : createFunctionExecutor(
          pickHandlers(options.handlers ?? {}, options.capabilities),
          options.agentId,
        );
    this.options = { ...options, concurrency };
    this.agentId = options.agentId;
    this.capabilities = [...options.capabilities];
    this.coordinator = options.redisCoordinator;
    if (options.breaker !== false) {
      for (const c of this.capabilities) this.breakers.set(c, this.createBreaker(c));
    }
    this.repairPlanner = options.repairPlanner ?? templateRepair;
    this.keySlots = new KeySlotGate({
      coordinator: this.coordinator,
      capabilities: this.capabilities,
      leaseMs: options.lockDurationMs ?? 30000,
      onError: (e) => this.report(e),
    });
  }

  /**
   * Claims the agent id, registers the capabilities, starts the workers, the control listener
   * and the heartbeat. Waits for Redis first (saying so when it does not answer); a live agent
   * with the same id elsewhere refuses the start with `DuplicateAgentError` before anything runs.
   */
  async start(): Promise<void> {
    this.startedAt = new Date();
    await this.coordinator.untilReachable();
    await this.coordinator.claimAgent(this.entry());
    // Shell commands a SIGKILLed agent on this host left running would race their tasks' retries.
    this.reaping = reapOrphanShellGroups()
      .then((stopped) => {
        if (stopped.length === 0) return;
        process.stderr.write(
          `agentq agent ${this.agentId}: stopped ${stopped.length} shell command(s) left running ` +
            `by a dead agent (process groups ${stopped.join(', ')})\n`,
        );
      })
      .catch((e: unknown) => this.report(e));
    await this.coordinator.registerCapabilities(this.capabilities);
    this.control = await listenForControl(this.coordinator, (message) => {
      const reason = cancelledReason(message.actor);
      for (const id of message.taskIds)
        for (const { worker } of this.workers) worker.cancelJob(id, reason);
    });
    const shards =
      this.options.shards ?? Array.from({ length: this.coordinator.shards }, (_, i) => i);
    for (const capability of this.capabilities) {
      for (const shard of shards)
        this.workers.push({ capability, worker: this.createWorker(capability, shard) });
    }
    // Gates, goal roots and the reconciler run wherever agents run (shared per coordinator).
    if (this.options.internalWorkers !== false) {
      this.services.push(joinInternalWorkers(this.coordinator));
    }
    if (this.options.taskRegistry && this.options.mirror !== false) {
      this.services.push(joinMirror(this.options.taskRegistry, this.coordinator));
    }
    for (const { worker } of this.workers) void worker.run().catch((e: unknown) => this.report(e));
    this.keySlots.start();
    await this.beat();
    const heartbeatMs = this.options.heartbeatMs ?? 2000;
    this.heartbeat = setInterval(
      () => void this.beat().catch((e: unknown) => this.report(e)),
      heartbeatMs,
    );
  }

  /** Task ids running now. */
  get runningTasks(): string[] {
    return [...this.running];
  }

  breakerStates(): { [capability: string]: BreakerState } {
    return Object.fromEntries([...this.breakers].map(([c, b]) => [c, b.state]));
  }

  /**
   * Stops claiming, lets running tasks finish within `graceMs`, then aborts them and hands them
   * back to their queues (another agent runs them; no attempt is charged), and leaves the registry.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.graceMs ?? this.options.graceMs ?? 30000);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.keySlots.close();
    for (const timer of this.timers) clearTimeout(timer);
    const closed = Promise.all(this.workers.map(({ worker }) => worker.close()));
    let grace: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      grace = setTimeout(() => resolve(true), graceMs);
    });
    if (await Promise.race([closed.then(() => false), expired])) {
      for (const { worker } of this.workers) worker.cancelAllJobs(SHUTDOWN_REASON);
    }
    clearTimeout(grace);
    await closed;
    await this.control?.close();
    for (const lease of this.services.reverse()) await lease.close();
    await this.reaping;
    await this.coordinator
      .removeAgent(this.agentId, this.instance)
      .catch((e: unknown) => this.report(e));
    // The workers are closed; a QUIT would wait behind a blocking fetch for up to drainDelay.
    for (const connection of this.connections) connection.disconnect();
  }

  private createBreaker(capability: string): CircuitBreaker {
    const breaker = new CircuitBreaker(this.options.breaker || {});
    breaker.onChange((change) => {
      for (const { capability: c, worker } of this.workers) {
        if (c !== capability) continue;
        if (change.to === 'open') worker.pause(true).catch((e: unknown) => this.report(e));
        else void worker.resume();
      }
      if (change.to === 'open' && change.retryAt !== null) {
        // Nobody reads the state while the workers are paused: look again when the cool-down ends.
        this.later(change.retryAt - Date.now() + 1, () => void breaker.state);
      }
      void this.beat().catch((e: unknown) => this.report(e));
    });
    return breaker;
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  private workerOptions(shard: number): WorkerOptions & { connection: RedisConnection } {
    const connection = this.coordinator.duplicate('worker');
    this.connections.push(connection);
    return {
      connection,
      prefix: this.coordinator.bullPrefix(shard),
      concurrency: this.options.concurrency,
      autorun: false,
      lockDuration: this.options.lockDurationMs ?? 30000,
      stalledInterval: this.options.stalledIntervalMs ?? 15000,
      maxStalledCount: this.options.maxStalledCount ?? 2,
      name: this.agentId,
      // Tracing on: each attempt's `process` span continues its task's trace (and goal span).
      ...(this.coordinator.telemetry ? { telemetry: this.coordinator.telemetry } : {}),
    };
  }

  private createWorker(capability: string, shard: number): Worker {
    const options = this.workerOptions(shard);
    const pipeline: JobPipeline = (job, token, signal, execute) =>
      this.runJob(capability, job, token, signal, execute);
    let worker: Worker<TaskJobData, TaskResultEnvelope>;
    if (this.options.sandboxed) {
      worker = new SandboxedWorker(
        capability,
        options,
        {
          ...this.options.sandboxed,
          agentId: this.agentId,
          onUsage: (job, usage) => this.reportUsage(job, usage),
          onSpawn: (job, tasks) => this.spawn(job, tasks),
        },
        pipeline,
      );
    } else {
      const executor = this.executor!;
      const claimedBy = (): ClaimingWorker => ({
        connection: options.connection,
        keys: worker.keys,
        toKey: worker.toKey,
      });
      worker = new Worker<TaskJobData, TaskResultEnvelope>(
        capability,
        (job, token, signal) =>
          pipeline(job, token ?? '', signal ?? new AbortController().signal, (workdir, s) =>
            executor(job, workdir, s, {
              reportStarted: (message) => writeAttemptStarted(claimedBy(), job, message),
              onWorkdirMade: () => this.madeWorkdirs.add(workdir),
              onUsage: (usage) => this.reportUsage(job, usage),
              onSpawn: (tasks) => this.spawn(job, tasks),
            }),
          ),
        options,
      );
    }
    worker.on('error', (e) => this.report(e));
    // A lock we could not renew means another agent may take the task over: stop this attempt.
    worker.on('lockRenewalFailed', (ids) =>
      ids.forEach((id) => worker.cancelJob(id, LOCK_LOST_REASON)),
    );
    worker.on('completed', (job) => {
      releaseLinksOfCompleted(this.coordinator, job.data).catch((e: unknown) => this.report(e));
    });
    worker.on('failed', (job, error) => {
      if (job) this.afterFailure(job, error).catch((e: unknown) => this.report(e));
    });
    return worker;
  }

  /** Dead-letters a task that failed for good (not a cancelled one), then releases its links. */
  private async afterFailure(job: Job<TaskJobData>, error: Error): Promise<void> {
    const final =
      error.name === 'UnrecoverableError' ||
      job.attemptsMade >= (job.opts.attempts ?? 1) ||
      typeof job.finishedOn === 'number';
    if (!final) return;
    if (!isCancelledReason(error.message)) await recordDeadLetter(this.coordinator, job, error);
    await releaseLinksOfFailed(this.coordinator, job.data, error.message);
  }

  /** Observe, decide, act, report: one claimed job. */
  private async runJob(
    capability: string,
    job: Job<TaskJobData, TaskResultEnvelope>,
    token: string,
    signal: AbortSignal,
    execute: (workdir: string, signal: AbortSignal) => Promise<TaskResultEnvelope>,
  ): Promise<TaskResultEnvelope> {
    const data = job.data;
    if (data.kind !== 'task') throw new UnrecoverableError(`job ${job.id} is not a task job`);
    if (data.cancelled) throw new UnrecoverableError(cancelledReason(data.cancelled.actor));
    const waiting = (data as SpawningJobData).spawnWait;
    if (waiting) return this.resumeSpawner(job, token, waiting);
    const breaker = this.breakers.get(capability);
    if (breaker && !breaker.canRun()) {
      return this.giveBack(job, token, breaker.retryAt ?? Date.now() + 1000);
    }
    let accepted = true;
    try {
      accepted = !this.options.accepts || (await this.options.accepts(taskInput(job)));
    } catch (error) {
      breaker?.cancelProbe();
      throw error;
    }
    if (!accepted) {
      breaker?.cancelProbe();
      return this.decline(job, token);
    }
    this.declined.delete(job.id!);
    // The budget gate first: a task of a paused goal is held without taking a slot of its key.
    let run: GatedRun;
    try {
      run = await holdIfPaused(this.coordinator, job, token);
    } catch (error) {
      breaker?.cancelProbe();
      throw error;
    }
    this.gated.set(job.id!, run);
    let keyed = false;
    try {
      keyed = await this.keySlots.enter(capability, job, token);
    } catch (thrown) {
      breaker?.cancelProbe(); // parked for a slot of its key (or Redis failed): no run
      await this.settle(job, run);
      throw thrown;
    }
    this.running.add(data.taskId);
    let workdir: string;
    try {
      workdir = await this.acquireWorkdir(data.taskId);
    } catch (error) {
      this.running.delete(data.taskId);
      if (keyed) await this.keySlots.leave(capability, job).catch((e: unknown) => this.report(e));
      await this.settle(job, run);
      throw error;
    }
    let ok = false;
    let handlerFailed = false;
    try {
      const envelope = await execute(workdir, signal).catch((thrown: unknown) => {
        handlerFailed = true;
        throw thrown;
      });
      ok = true;
      breaker?.recordSuccess();
      const spawned = await this.spawnedInAttempt(job);
      if (spawned.length === 0) return envelope;
      return await awaitSpawned(this.coordinator, job, token, { envelope, spawned });
    } catch (thrown) {
      // Waiting for what it spawned is not a failure (ok already counted the run).
      if (thrown instanceof WaitingChildrenError) throw thrown;
      const error = coerceError(thrown);
      const reason = signal.aborted ? String(signal.reason) : '';
      if (reason === SHUTDOWN_REASON) {
        breaker?.cancelProbe();
        // Handed back, not failed: another agent (or this one after a restart) runs it again.
        return this.giveBack(job, token, 0);
      }
      if (
        reason === LOCK_LOST_REASON ||
        isCancelledReason(reason) ||
        isCancelledReason(error.message)
      ) {
        breaker?.cancelProbe();
      } else {
        breaker?.recordFailure();
        if (handlerFailed && isFinalFailure(job, error)) {
          const repaired = await this.repair(job, token, error);
          if (repaired) return repaired;
        }
      }
      throw error;
    } finally {
      this.spawned.delete(job.id!);
      this.running.delete(data.taskId);
      if (keyed) await this.keySlots.leave(capability, job).catch((e: unknown) => this.report(e));
      await this.settle(job, run);
      await this.releaseWorkdir(data.taskId, workdir, ok);
    }
  }

  /** A handler's `ctx.spawn`: the tasks written into its goal under its job (spawn.ts). */
  private async spawn(
    job: Job<TaskJobData>,
    tasks: readonly SpawnTaskSpec[],
  ): Promise<SpawnedTask[]> {
    const outcome = await spawnTasks(
      this.coordinator,
      this.spawnerOf(job),
      tasks,
      `agent:${this.agentId}`,
    );
    const mine = this.spawned.get(job.id!) ?? new Map<string, string>();
    for (const [key, type] of outcome.spawned) mine.set(key, type);
    this.spawned.set(job.id!, mine);
    return outcome.tasks;
  }

  private spawnerOf(job: Job<TaskJobData>): Spawner {
    const d = job.data;
    const queue = this.coordinator.queue(d.type, d.shard);
    return {
      taskId: d.taskId,
      goalId: d.goalId,
      key: d.key,
      type: d.type,
      shard: d.shard,
      jobKey: queue.toKey(job.id!),
      queueKey: queue.qualifiedName,
    };
  }

  /**
   * What the attempt that just returned spawned. A retried attempt that spawned nothing anew may
   * still have tasks from an earlier attempt under it: the goal's record says.
   */
  private async spawnedInAttempt(job: Job<TaskJobData>): Promise<SpawnedList> {
    const mine = this.spawned.get(job.id!);
    if (mine) return [...mine];
    if (job.attemptsMade === 0) return [];
    const d = job.data;
    const jobKey = this.coordinator.queue(d.type, d.shard).toKey(job.id!);
    if (!(await this.coordinator.client.hexists(jobKey, SPAWNED_FIELD))) return [];
    return spawnedByRecord(this.coordinator, d);
  }

  /**
   * A task of a replanning goal failed for good: a patch from the repair planner replaces it
   * (repair.ts). Throws WaitingChildrenError while the replacement runs; null when there is no
   * repair (the task fails as usual).
   */
  private async repair(
    job: Job<TaskJobData, TaskResultEnvelope>,
    token: string,
    error: Error,
  ): Promise<TaskResultEnvelope | null> {
    const d = job.data;
    if (d.optional || d.approval) return null;
    let revision = 0;
    try {
      revision = await claimRevision(this.coordinator, d.goalId);
      if (revision === 0) return null;
      const patch = await this.repairPlanner.repair({
        goalId: d.goalId,
        failed: { ...d, attempts: job.opts.attempts ?? 1 },
        error: error.message,
        revision,
        goal: await repairContext(this.coordinator, d),
        results: await collectDependencies(job),
        validate: async (tasks, cancel = []) => {
          await spawnTasks(this.coordinator, this.spawnerOf(job), tasks, 'repair', {
            dryRun: true,
          });
          await checkCancellations(this.coordinator, d, tasks, cancel);
        },
      });
      const replacement = patch?.tasks.find((t) => t.replaces === d.key)?.key;
      if (!patch || !replacement) {
        await releaseRevision(this.coordinator, d.goalId);
        return null;
      }
      const by = `repair:${patch.planner}`;
      const cancel = patch.cancel ?? [];
      await checkCancellations(this.coordinator, d, patch.tasks, cancel);
      const tasks = patch.tasks.map(({ replaces, ...t }) => {
        const note: RepairNote = { revision, of: d.key, error: error.message, by };
        if (replaces) note.replaces = replaces;
        if (replaces && cancel.length > 0) note.cancelled = cancel;
        return { ...t, data: { ...t.data, repair: note as unknown as Json } };
      });
      const outcome = await spawnTasks(this.coordinator, this.spawnerOf(job), tasks, by);
      await applyCancellations(this.coordinator, d.goalId, cancel, by);
      const attempt = job.attemptsMade + 1;
      await job.updateProgress({
        phase: 'progress',
        agentId: this.agentId,
        attempt,
        value: { repair: { revision, error: error.message, replacedBy: replacement } },
      });
      await job.log(`[agentq] revision ${revision}: ${error.message}; replaced by ${replacement}`);
      const now = Date.now();
      const envelope: TaskResultEnvelope = {
        v: 1,
        key: d.key,
        result: null,
        agentId: this.agentId,
        attempt,
        startedAt: now,
        finishedAt: now,
      };
      return await awaitSpawned(this.coordinator, job, token, {
        envelope,
        spawned: outcome.spawned,
        replacedBy: replacement,
      });
    } catch (thrown) {
      if (thrown instanceof WaitingChildrenError) throw thrown;
      if (revision > 0) await releaseRevision(this.coordinator, d.goalId).catch(() => undefined);
      this.report(
        new Error(`task ${d.taskId} could not be repaired: ${coerceError(thrown).message}`),
      );
      return null;
    }
  }

  /**
   * A spawning task back from waiting-children (or handed back after its agent died past its
   * handler): finished without running the handler again (spawn-wait.ts).
   */
  private async resumeSpawner(
    job: Job<TaskJobData, TaskResultEnvelope>,
    token: string,
    wait: SpawnWait,
  ): Promise<TaskResultEnvelope> {
    const now = Date.now();
    await job.updateProgress({
      phase: 'started',
      resumed: true,
      agentId: this.agentId,
      attempt: job.attemptsMade + 1,
      claimedAt: job.processedOn ?? now,
      startedAt: now,
    });
    return finishSpawner(this.coordinator, job, token, wait);
  }

  /** Rolls a handler's `ctx.usage` report up into its goal's use (and budget). */
  private async reportUsage(
    job: Job<TaskJobData>,
    usage: { tokens: number; costUsd: number },
  ): Promise<void> {
    const run = this.gated.get(job.id!);
    if (run) run.tracked = true;
    await addGoalUsage(this.coordinator, job.data.goalId, job.data.taskId, usage);
  }

  /** The run's end for its goal's budget: its run time counts, it no longer runs. */
  private async settle(job: Job<TaskJobData>, run: GatedRun): Promise<void> {
    this.gated.delete(job.id!);
    await settleRun(this.coordinator, job.data, run).catch((e: unknown) => this.report(e));
  }

  /** Declines a task: back to its queue at once, later each time this agent sees it again. */
  private async decline(job: Job<TaskJobData>, token: string): Promise<never> {
    const times = this.declined.get(job.id!) ?? 0;
    this.declined.set(job.id!, times + 1);
    if (this.declined.size > 10000) this.declined.clear();
    const delay = DECLINE_BACKOFF_MS[Math.min(times, DECLINE_BACKOFF_MS.length - 1)]!;
    await job.log(`[agentq] declined by ${this.agentId}`);
    // Back to waiting at once, then hold this slot for the backoff: another agent's blocked fetch
    // takes the task meanwhile. (A delayed job would come due to whichever worker holds BullMQ's
    // delay marker — often this one again, every time — and starve the agents that want it.)
    await job.moveToWait(token);
    // At most the last backoff (2 s); a closing agent waits for it like for any running task.
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    throw new WaitingError();
  }

  /** Puts a claimed job back without charging an attempt: waiting now, or delayed until `at`. */
  private async giveBack(job: Job<TaskJobData>, token: string, at: number): Promise<never> {
    if (at > Date.now()) {
      await job.moveToDelayed(at, token);
      throw new DelayedError();
    }
    await job.moveToWait(token);
    throw new WaitingError();
  }

  private async acquireWorkdir(taskId: string): Promise<string> {
    if (this.options.worktree) return this.options.worktree.acquire(taskId);
    // Only named here: the attempt makes it when the handler first reads `ctx.workdir`.
    this.workdirCount += 1;
    return `${this.workdirBase}-${this.workdirCount.toString(36)}-${taskId.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
  }

  private async releaseWorkdir(taskId: string, workdir: string, ok: boolean): Promise<void> {
    try {
      if (this.options.worktree) await this.options.worktree.release(taskId, { ok });
      // Most handlers never make theirs: no rm (an ENOENT error) and no stat per attempt.
      else if (this.madeWorkdirs.delete(workdir) || (this.options.sandboxed && existsSync(workdir)))
        await rm(workdir, { recursive: true, force: true });
    } catch (error) {
      this.report(error);
    }
  }

  private entry(): AgentHeartbeat & { instance: string } {
    return {
      id: this.agentId,
      capabilities: [...this.capabilities],
      host: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      lastSeenAt: new Date(),
      running: this.runningTasks,
      concurrency: this.options.concurrency ?? 1,
      breakers: this.breakerStates(),
      heartbeatMs: this.options.heartbeatMs ?? 2000,
      instance: this.instance,
    };
  }

  private async beat(): Promise<void> {
    if ((await this.coordinator.heartbeatAgent(this.entry())) || this.replaced) return;
    this.replaced = true;
    this.report(
      new Error(
        `another process took over agent id '${this.agentId}' while this one missed its ` +
          'heartbeats; this one no longer shows in `agentq agents` (stop one of them)',
      ),
    );
  }

  private report(thrown: unknown): void {
    // Connection errors (one per reconnect attempt of every connection) become the
    // coordinator's one line when Redis is lost and one when it is back.
    if (this.coordinator.absorbConnectionError(thrown)) return;
    const error = coerceError(thrown);
    if (this.options.onError) this.options.onError(error);
    else process.stderr.write(`agentq agent ${this.agentId}: ${error.message}\n`);
  }
}
