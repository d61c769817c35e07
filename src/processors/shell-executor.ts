/**
 * The shell-command executor: a capability served by an external program. The command line is
 * split into argv once (no shell, ever); the task reaches the program only as environment
 * variables and a JSON file, so nothing in a title or in data can become code. The program runs
 * in `ctx.workdir` as the leader of its own process group, so `ctx.signal` (timeout, cancel,
 * lost lock) stops the whole tree, grandchildren included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Json } from '../entities/task-model';
import { AgentqError } from '../errors';
import type {
  ExecutionMetrics,
  ExecutorContext,
  TaskContext,
  TaskHandler,
  TaskInput,
} from './handler-types';
import { TreeSampler } from './process-metrics';
import { signalGroup, terminateTree } from './process-tree';
import { recordShellGroup } from './shell-groups';
import { toArgv } from './shell-argv';
import { TailBuffer } from './shell-tail';

export interface ShellHandlerOptions {
  /** Variables added to the command's environment (the AGENTQ_* ones win). @defaultValue {} */
  env?: { [name: string]: string };
  /** The environment the command starts from. @defaultValue the agent's own `process.env` */
  baseEnv?: NodeJS.ProcessEnv;
  /** Bytes of stdout and of stderr kept in the result and in errors. @defaultValue 4096 */
  tailBytes?: number;
  /** Time the tree gets between SIGTERM and SIGKILL. @defaultValue 2000 */
  killGraceMs?: number;
  /** How often CPU and RSS of the tree are sampled. @defaultValue 50 */
  sampleIntervalMs?: number;
  /** Where the task's JSON file is written (in a fresh directory, removed after). @defaultValue os.tmpdir() */
  tmpDir?: string;
}

/**
 * The task's result when the command exits 0; `output` is its last stdout line when that is
 * JSON, and `spawned` the tasks that line's `{ "spawn": [ … ] }` spawned (`[{ key, id }]`, as ctx.spawn returned them).
 */
export interface ShellResult {
  [key: string]: Json;
  exitCode: number;
  /** The last `tailBytes` of stdout. */
  stdout: string;
  /** The last `tailBytes` of stderr. */
  stderr: string;
}

/** A command that exited non-zero, died of a signal, or was stopped by `ctx.signal`. */
export class ShellCommandError extends AgentqError {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderrTail: string,
    readonly stdoutTail: string,
    options?: { cause?: unknown },
  ) {
    super('command_failed', message, options);
  }
}

/** The task as the command sees it in `$AGENTQ_TASK_FILE`. */
export interface ShellTaskFile {
  task: TaskInput;
  dependencies: { [key: string]: Json };
  agentId: string;
  workdir: string;
}

/** Bytes of stdout kept to find a JSON last line longer than the tail. */
const OUTPUT_SCAN_BYTES = 1 << 20;

/** Makes a handler that runs `command` for each task. Throws InputError for a bad command line. */
export function createShellHandler(
  command: string | readonly string[],
  options: ShellHandlerOptions = {},
): TaskHandler {
  const argv = toArgv(command);
  const settings = {
    env: {},
    baseEnv: process.env,
    tailBytes: 4096,
    killGraceMs: 2000,
    sampleIntervalMs: 50,
    tmpDir: tmpdir(),
    ...options,
  };
  return async (task, ctx) => {
    ctx.signal.throwIfAborted();
    const dir = await mkdtemp(join(settings.tmpDir, 'agentq-task-'));
    try {
      const taskFile = join(dir, 'task.json');
      const content: ShellTaskFile = {
        task,
        dependencies: ctx.dependencies,
        agentId: ctx.agentId,
        workdir: ctx.workdir,
      };
      await writeFile(taskFile, JSON.stringify(content, null, 2));
      const env = { ...settings.baseEnv, ...settings.env, ...taskEnv(task, ctx, taskFile) };
      return await runCommand(argv, env, ctx, settings);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

/** The task as environment variables. NUL cannot travel in the environment: it becomes U+FFFD. */
function taskEnv(task: TaskInput, ctx: TaskContext, taskFile: string): { [name: string]: string } {
  const vars = {
    AGENTQ_TASK_ID: task.id,
    AGENTQ_TASK_KEY: task.key,
    AGENTQ_TASK_TITLE: task.title,
    AGENTQ_TASK_TYPE: task.type,
    AGENTQ_GOAL_ID: task.goalId,
    AGENTQ_ATTEMPT: String(task.attempt),
    AGENTQ_TASK_FILE: taskFile,
    AGENTQ_WORKDIR: ctx.workdir,
    AGENTQ_AGENT_ID: ctx.agentId,
  };
  return Object.fromEntries(
    Object.entries(vars).map(([name, value]) => [name, value.replaceAll('\0', '\uFFFD')]),
  );
}

function hasRecordMetrics(ctx: TaskContext): ctx is ExecutorContext {
  return typeof (ctx as Partial<ExecutorContext>).recordMetrics === 'function';
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

async function runCommand(
  [file, ...args]: [string, ...string[]],
  env: NodeJS.ProcessEnv,
  ctx: TaskContext,
  settings: Required<ShellHandlerOptions>,
): Promise<ShellResult> {
  const child = spawn(file, args, {
    cwd: ctx.workdir,
    env,
    detached: true, // its own process group, so the whole tree can be signalled at once
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = new TailBuffer(OUTPUT_SCAN_BYTES);
  const stderr = new TailBuffer(settings.tailBytes);
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const exit = await waitForExit(child, file, ctx.workdir, ctx.signal, settings);
  // Background children left behind (`cmd &`) would hold the pipes open and run on unowned.
  await stopLeftovers(child, closed, settings.killGraceMs);
  await exit.forgetGroup();
  if (hasRecordMetrics(ctx)) ctx.recordMetrics(exit.metrics);

  const stderrTail = stderr.text();
  const stdoutTail = stdout.text(settings.tailBytes);
  if (ctx.signal.aborted) {
    throw new ShellCommandError(
      `command stopped by ${exit.signal ?? `exit ${exit.code}`} because the task was aborted (${describe(ctx.signal.reason)})${stderrSuffix(stderrTail)}`,
      exit.code,
      exit.signal,
      stderrTail,
      stdoutTail,
      { cause: ctx.signal.reason },
    );
  }
  if (exit.code !== 0) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    throw new ShellCommandError(
      `command ${file} ${how}${stderrSuffix(stderrTail)}`,
      exit.code,
      exit.signal,
      stderrTail,
      stdoutTail,
    );
  }
  const result: ShellResult = { exitCode: 0, stdout: stdoutTail, stderr: stderrTail };
  const output = lastLineJson(stdout.text());
  if (output !== undefined) result.output = output;
  // A command reports its quality on its last JSON line, as a function handler would through
  // ctx.progress: the task's qualityScore metric.
  const quality = qualityScoreOf(output);
  if (quality !== undefined) await ctx.progress({ qualityScore: quality });
  // And what it used, as a function handler would through ctx.usage: `{ "usage": { … } }`.
  const usage = usageOf(output);
  if (usage !== undefined) await ctx.usage(usage as { tokens?: number; costUsd?: number });
  // And the tasks it spawns, as a function handler would through ctx.spawn: `{ "spawn": [ … ] }`
  // (checked by ctx.spawn: a bad list fails the attempt with the field named, nothing added).
  const tasks = fieldOf(output, 'spawn');
  if (tasks !== undefined) {
    const spawned = await ctx.spawn(tasks as unknown as Parameters<TaskContext['spawn']>[0]);
    result.spawned = spawned.map(({ key, id }) => ({ key, id }));
  }
  return result;
}

/** A field of a last JSON line object (`usage`, `spawn`). */
function fieldOf(output: Json | undefined, field: string): Json | undefined {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return undefined;
  return output[field];
}

/** The `usage` of a last JSON line (checked by ctx.usage: a bad one fails the attempt). */
function usageOf(output: Json | undefined): Json | undefined {
  return fieldOf(output, 'usage');
}

/** Resolves when the child exits; on abort, terminates its tree first. Measures it meanwhile. */
async function waitForExit(
  child: ChildProcess,
  file: string,
  cwd: string,
  signal: AbortSignal,
  settings: Required<ShellHandlerOptions>,
): Promise<Exit & { metrics: ExecutionMetrics; forgetGroup: () => Promise<void> }> {
  // Listening before anything is awaited, so no exit can pass unseen.
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, sig) => resolve({ code, signal: sig })),
  );
  const spawned = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', (error) =>
      reject(
        new ShellCommandError(
          existsSync(cwd)
            ? `command ${file} could not start: ${error.message}`
            : `command ${file} could not start: its workdir ${cwd} does not exist`,
          null,
          null,
          '',
          '',
          { cause: error },
        ),
      ),
    );
  });
  const sampler = new TreeSampler(spawned, { intervalMs: settings.sampleIntervalMs }).start();
  // Should this agent die by SIGKILL, the next agent on this host stops the group (shell-groups.ts).
  const forgetGroup = await recordShellGroup(spawned);
  let terminating: Promise<void> | null = null;
  const onAbort = (): void => {
    terminating ??= terminateTree(spawned, { graceMs: settings.killGraceMs });
  };
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  try {
    const exit = await exited;
    // An aborted run ends when its whole tree is gone, not just its leader.
    if (terminating) await terminating;
    return { ...exit, metrics: await sampler.stop(), forgetGroup };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** After the leader exited: SIGTERM, then SIGKILL, to what is left of its group; then drain the pipes. */
async function stopLeftovers(
  child: ChildProcess,
  closed: Promise<void>,
  graceMs: number,
): Promise<void> {
  const leader = child.pid!;
  signalGroup(leader, 'SIGTERM');
  if (await settlesWithin(closed, graceMs)) return;
  signalGroup(leader, 'SIGKILL');
  // A descendant that left the group (setsid) may still hold a pipe: stop reading it.
  if (!(await settlesWithin(closed, graceMs))) {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last non-empty line of stdout parsed as JSON, or undefined when it is not JSON. */
function qualityScoreOf(output: Json | undefined): number | undefined {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return undefined;
  const score = output.qualityScore;
  return typeof score === 'number' && score >= 0 && score <= 1 ? score : undefined;
}

function lastLineJson(stdout: string): Json | undefined {
  const line = stdout.trimEnd().split('\n').pop()?.trim();
  if (!line) return undefined;
  try {
    return JSON.parse(line) as Json;
  } catch {
    return undefined;
  }
}

function stderrSuffix(stderrTail: string): string {
  const tail = stderrTail.trim();
  return tail ? `: ${tail}` : ' (no stderr)';
}

function describe(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
