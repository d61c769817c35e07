/**
 * A lock file for the json store: created with O_EXCL (`wx`), holding the owner's pid and
 * host. A lock whose owner on this host no longer runs is taken over (and the caller told, so
 * it re-reads what the dead owner may have half-written). Locks of other hosts are never
 * broken: the json store is for one machine.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';

export interface HeldLock {
  /** True when the lock was taken over from a process that died holding it. */
  readonly recovered: boolean;
  release(): Promise<void>;
}

export async function acquireFileLock(path: string, timeoutMs = 30000): Promise<HeldLock> {
  const deadline = Date.now() + timeoutMs;
  let recovered = false;
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname() }));
      } finally {
        await handle.close();
      }
      return { recovered, release: () => unlink(path).catch(() => undefined) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await ownerIsDead(path)) {
      await unlink(path).catch(() => undefined);
      recovered = true;
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`could not lock ${path} within ${timeoutMs} ms (held by another process)`);
    }
    await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * wait));
  }
}

async function ownerIsDead(path: string): Promise<boolean> {
  let owner: { pid?: number; host?: string };
  try {
    owner = JSON.parse(await readFile(path, 'utf8')) as typeof owner;
  } catch {
    // Just created and not yet written, or just released: not dead, look again shortly.
    return false;
  }
  if (owner.host !== hostname() || typeof owner.pid !== 'number') return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
