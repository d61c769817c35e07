/**
 * A process tree seen through Linux's /proc: who descends from a pid, what each one costs, and
 * how to stop them all. The shell executor starts each command as the leader of its own process
 * group; killing the group reaches background children (`sleep 100 &`), and walking
 * `/proc/<pid>/task/<tid>/children` also reaches descendants that left the group with `setsid`.
 */
import { readdir, readFile } from 'node:fs/promises';

/**
 * USER_HZ, the unit of the times in /proc/<pid>/stat. It is part of the kernel ABI (not the
 * kernel's HZ) and is 100 on every architecture Node supports on Linux.
 */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessSample {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgrp: number;
  /** One letter: R running, S sleeping, Z zombie, … */
  state: string;
  /** user + system CPU of the process and of the children it has already waited for, in ms. */
  cpuMs: number;
  /** Resident set size in bytes (VmRSS); 0 for a zombie. */
  rssBytes: number;
}

/** Parses the text of /proc/<pid>/stat and /proc/<pid>/status into a sample. */
export function parseProcessSample(pid: number, stat: string, status: string): ProcessSample {
  // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const field = (n: number): number => Number(fields[n - 3]);
  const ticks = field(14) + field(15) + field(16) + field(17);
  const rssKb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return {
    pid,
    ppid: field(4),
    pgrp: field(5),
    state: fields[0] ?? '?',
    cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND,
    rssBytes: rssKb === undefined ? 0 : Number(rssKb) * 1024,
  };
}

/**
 * When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat); null when it
 * is gone or there is no /proc. With the pid it names one process for good: pids are reused,
 * (pid, start) pairs are not.
 */
export async function processStartTicks(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3]);
  } catch {
    return null;
  }
}

/** Reads one process's stat and status; null when it is gone (or /proc does not exist). */
export async function sampleProcess(pid: number): Promise<ProcessSample | null> {
  try {
    const [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
    return parseProcessSample(pid, stat, status);
  } catch {
    return null;
  }
}

/** The direct children of `pid`, over all its threads (each thread lists the children it forked). */
export async function childrenOf(pid: number): Promise<number[]> {
  let threads: string[];
  try {
    threads = await readdir(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const lists = await Promise.all(
    threads.map((tid) => readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '')),
  );
  return lists.flatMap((list) => list.split(' ').filter(Boolean).map(Number));
}

/** `rootPid` and every live descendant of it, root first. */
export async function descendantsOf(rootPid: number): Promise<number[]> {
  const seen = new Set<number>([rootPid]);
  let frontier = [rootPid];
  while (frontier.length > 0) {
    const next = (await Promise.all(frontier.map(childrenOf))).flat().filter((p) => !seen.has(p));
    for (const pid of next) seen.add(pid);
    frontier = next;
  }
  return [...seen];
}

/** Samples of the processes of the tree under `rootPid`, zombies (state Z) included. */
export async function sampleTree(rootPid: number): Promise<ProcessSample[]> {
  const samples = await Promise.all((await descendantsOf(rootPid)).map(sampleProcess));
  return samples.filter((s): s is ProcessSample => s !== null);
}

/** Is anything of the tree under `rootPid` still running (zombies do not run)? */
export async function treeAlive(rootPid: number): Promise<boolean> {
  return (await sampleTree(rootPid)).some((s) => s.state !== 'Z');
}

/** Is any process of group `pgid` still running (zombies waiting for a reaper do not count)? */
export async function groupAlive(pgid: number): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    // No /proc (not Linux): signal 0 says whether the group has members, zombies included.
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  const pids = entries.filter((name) => /^\d+$/.test(name)).map(Number);
  const samples = await Promise.all(pids.map(sampleProcess));
  return samples.some((s) => s !== null && s.pgrp === pgid && s.state !== 'Z');
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone; EPERM: not ours. Either way nothing more to do for this one.
  }
}

/**
 * Signals every process of the group led by `leaderPid`. Safe after the leader was reaped: a pid
 * is not reused while a process group of that id still has members.
 */
export function signalGroup(leaderPid: number, signal: NodeJS.Signals): void {
  signalQuietly(-leaderPid, signal);
}

/**
 * Sends `signal` to the process group led by `leaderPid` and to every descendant found under it
 * (collected first, so a dying parent cannot hide its children by their being re-parented).
 */
export async function signalTree(leaderPid: number, signal: NodeJS.Signals): Promise<void> {
  const descendants = await descendantsOf(leaderPid);
  signalQuietly(-leaderPid, signal);
  // The leader itself is reached through its group: signalling its pid directly could hit an
  // unrelated process if the leader was reaped meanwhile and its pid reused.
  for (const pid of descendants) if (pid !== leaderPid) signalQuietly(pid, signal);
}

export interface TerminateOptions {
  /** How long the tree gets to exit after SIGTERM before SIGKILL. @defaultValue 2000 */
  graceMs?: number;
  /** How often to look whether it has gone. @defaultValue 50 */
  pollMs?: number;
}

/**
 * Stops a whole tree: SIGTERM to the group and its descendants, then SIGKILL to whatever is still
 * there after the grace period. Resolves once nothing of the group runs any more.
 */
export async function terminateTree(
  leaderPid: number,
  options: TerminateOptions = {},
): Promise<void> {
  const { graceMs = 2000, pollMs = 50 } = options;
  await signalTree(leaderPid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!(await groupAlive(leaderPid)) && !(await treeAlive(leaderPid))) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  await signalTree(leaderPid, 'SIGKILL');
}
