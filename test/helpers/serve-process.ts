/**
 * `node dist/cli/bin.js <command> …` as a long-running child (serve, worker) that a test can kill
 * with SIGKILL or stop with SIGTERM, keeping what it printed for the failure message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const BIN = join(ROOT, 'dist', 'cli', 'bin.js');

export interface AgentqProcess {
  child: ChildProcess;
  /** Every line it printed so far (stdout and stderr). */
  lines: string[];
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** kill -9, then waits for the exit. */
  killHard(): Promise<void>;
  /** SIGTERM (graceful), then waits for the exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `agentq <args>` from the checkout's root with only the environment given (plus PATH). */
export function spawnAgentq(args: string[], env: Record<string, string> = {}): AgentqProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Explicit: Jest's per-file process.env copy never reaches a child by itself.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    lines,
    exited,
    killHard: async () => {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
    stop: async (graceMs = 10_000) => {
      if (alive()) child.kill('SIGTERM');
      const timer = setTimeout(() => alive() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
