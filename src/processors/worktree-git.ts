/**
 * Runs git for the worktree manager: `execFile`, never a shell, and one operation at a time per
 * repository. Git takes file locks on the index, config and refs; two `worktree add` at once in
 * one repository fail, so operations on a repository queue behind each other in this process,
 * and a lock held by another process is waited out with a few retries.
 */
import { execFile } from 'node:child_process';

export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed (${exitCode ?? 'no exit code'}): ${stderr.trim()}`);
    this.name = 'GitError';
  }
}

/** Per-repository tails of the queue. Module-wide on purpose: two agents in one process share a repo. */
const queues = new Map<string, Promise<unknown>>();

const LOCK_RETRIES = 6;
const LOCK_RETRY_BASE_MS = 50;

function isLockContention(error: GitError): boolean {
  return /\.lock'?: File exists|Unable to create '.*\.lock'|cannot lock ref/i.test(error.stderr);
}

function runOnce(cwd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', cwd, ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const code = typeof error.code === 'number' ? error.code : null;
        reject(new GitError(args, code, stderr || error.message));
      },
    );
  });
}

async function runWithLockRetries(cwd: string, args: readonly string[]): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await runOnce(cwd, args);
    } catch (error) {
      if (!(error instanceof GitError) || !isLockContention(error) || attempt >= LOCK_RETRIES) {
        throw error;
      }
      const delay = LOCK_RETRY_BASE_MS * 2 ** attempt * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Runs `git -C repo …args`; resolves with stdout, rejects with a GitError. Waits out others' locks. */
export function git(repo: string, ...args: string[]): Promise<string> {
  return runWithLockRetries(repo, args);
}

/**
 * Runs `operation` (a sequence of git commands) after every operation queued before it on the
 * same repository in this process, so sequences such as "remove the old worktree, add a new one"
 * never interleave.
 */
export function exclusive<T>(repo: string, operation: () => Promise<T>): Promise<T> {
  const previous = queues.get(repo) ?? Promise.resolve();
  const run = previous.then(operation, operation);
  const tail = run.catch(() => undefined);
  queues.set(repo, tail);
  void tail.then(() => {
    if (queues.get(repo) === tail) queues.delete(repo);
  });
  return run;
}

/** Like `git`, but resolves true for exit 0 and false for exit 1 (predicates such as merge-base --is-ancestor). */
export async function gitTest(repo: string, ...args: string[]): Promise<boolean> {
  try {
    await git(repo, ...args);
    return true;
  } catch (error) {
    if (error instanceof GitError && error.exitCode === 1) return false;
    throw error;
  }
}
