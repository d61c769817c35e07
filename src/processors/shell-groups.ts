/**
 * Shell commands that outlive their agent. Each command runs as the leader of its own process
 * group (see shell-executor.ts), so an agent killed with SIGKILL cannot stop it, and the task's
 * retry on another agent would run beside the orphan. While a command runs, a small file records
 * its group: the owning process and the leader, each as (pid, start time). An agent starting on
 * the same host stops the groups whose owner is gone — its pid dead, or reused by another process —
 * provided the leader is still the very process recorded: a pid is not reused while its process
 * lives, so the group is the one that agent started, never a stranger's.
 *
 * Linux only (it reads /proc); elsewhere nothing is recorded and nothing is reaped.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processStartTicks, terminateTree } from './process-tree';

/** Where the records live: one directory per host (per temp directory). */
export function shellGroupsDir(): string {
  return join(tmpdir(), 'agentq-shell-groups');
}

interface GroupRecord {
  ownerPid: number;
  ownerStart: number;
  leaderPid: number;
  leaderStart: number;
}

let ownStart: number | null | undefined;

/**
 * Records the group led by `leaderPid` (just spawned by this process); returns the function that
 * forgets it once the group is gone. Never throws: without a record the command still runs.
 */
export async function recordShellGroup(
  leaderPid: number,
  dir = shellGroupsDir(),
): Promise<() => Promise<void>> {
  const file = join(dir, `${process.pid}-${leaderPid}.json`);
  const forget = async (): Promise<void> => {
    await rm(file, { force: true }).catch(() => undefined);
  };
  try {
    ownStart ??= await processStartTicks(process.pid);
    const leaderStart = await processStartTicks(leaderPid);
    if (ownStart === null || leaderStart === null) return async () => undefined;
    const record: GroupRecord = {
      ownerPid: process.pid,
      ownerStart: ownStart,
      leaderPid,
      leaderStart,
    };
    await mkdir(dir, { recursive: true });
    await writeFile(file, JSON.stringify(record));
    return forget;
  } catch {
    return forget;
  }
}

async function isRunning(pid: number, start: number): Promise<boolean> {
  return (await processStartTicks(pid)) === start;
}

/**
 * Stops every recorded group whose owner is gone (SIGTERM, then SIGKILL after `graceMs`) and drops
 * the records of groups that ended. Returns the leader pids it stopped.
 */
export async function reapOrphanShellGroups(
  options: { dir?: string; graceMs?: number } = {},
): Promise<number[]> {
  const dir = options.dir ?? shellGroupsDir();
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const stopped: number[] = [];
  await Promise.all(
    names.map(async (name) => {
      const file = join(dir, name);
      let record: GroupRecord;
      try {
        record = JSON.parse(await readFile(file, 'utf8')) as GroupRecord;
      } catch {
        return; // being written, or already reaped by another agent
      }
      if (await isRunning(record.ownerPid, record.ownerStart)) return;
      if (await isRunning(record.leaderPid, record.leaderStart)) {
        await terminateTree(record.leaderPid, { graceMs: options.graceMs ?? 2000 });
        stopped.push(record.leaderPid);
      }
      await rm(file, { force: true }).catch(() => undefined);
    }),
  );
  return stopped;
}
