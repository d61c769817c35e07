/**
 * Git worktree isolation: each task runs in its own `git worktree` on branch `agentq/<task-id>`.
 *
 * Ownership lives in git itself: a worktree is added locked, with the reason
 * `agentq-owner <agentId> <incarnation>` (the incarnation is random per manager, so an agent that
 * restarts under the same id still recognises the worktrees of its previous life). A worktree kept
 * after a failure is re-locked as `agentq-kept <agentId>`: it waits for a person (or for a retry of
 * the same task, which recreates it) and is never pruned automatically. `prepare()` removes the
 * worktrees still marked in use whose owner is dead: what a crashed agent left behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../errors';
import { exclusive, git, gitTest } from './worktree-git';

export interface WorktreeManagerOptions {
  /** The repository (its top-level directory or any directory inside it). */
  repo: string;
  /** The agent the worktrees belong to. */
  agentId: string;
  /** Keep a failed task's worktree and branch for inspection. @defaultValue true */
  keepOnFailure?: boolean;
  /** Where the worktrees go. @defaultValue `<os.tmpdir()>/agentq-worktrees/<repo name>-<hash of its path>` */
  root?: string;
  /** What a task's branch starts from. @defaultValue 'HEAD' */
  base?: string;
}

/** Who may be alive: a predicate, or the ids of the live agents. */
export type Liveness = ((agentId: string) => boolean | Promise<boolean>) | Iterable<string>;

export interface ReleaseOutcome {
  worktreeRemoved: boolean;
  /** False when the branch was kept: after a failure, or after a success that committed work. */
  branchDeleted: boolean;
}

const BRANCH_PREFIX = 'agentq/';
const OWNER_TAG = 'agentq-owner';
const KEPT_TAG = 'agentq-kept';

interface WorktreeEntry {
  path: string;
  branch: string | null;
  lockReason: string | null;
}

/** A task id as a ref-name component and directory name: [A-Za-z0-9._-], no `..`, no leading or trailing `.`. */
export function worktreeNameFor(taskId: string): string {
  const name = taskId
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/\.{2,}/g, (dots) => '.' + '-'.repeat(dots.length - 1))
    .replace(/^\.+/, '-')
    .replace(/\.+$/, '-')
    .replace(/\.lock$/, '-lock');
  if (!name) throw new InputError('must not be empty', 'taskId');
  return name;
}

export class WorktreeManager {
  readonly repo: string;
  readonly agentId: string;
  readonly keepOnFailure: boolean;
  readonly root: string;
  readonly base: string;
  /** Tells this manager's worktrees from those of an earlier process with the same agent id. */
  readonly incarnation = randomBytes(6).toString('hex');

  constructor(options: WorktreeManagerOptions) {
    if (!options.repo) throw new InputError('is required', 'repo');
    if (!options.agentId || /\s/.test(options.agentId)) {
      throw new InputError('is required and must not contain whitespace', 'agentId');
    }
    this.repo = resolve(options.repo);
    this.agentId = options.agentId;
    this.keepOnFailure = options.keepOnFailure ?? true;
    this.base = options.base ?? 'HEAD';
    const hash = createHash('sha1').update(this.repo).digest('hex').slice(0, 8);
    this.root = resolve(
      options.root ?? join(tmpdir(), 'agentq-worktrees', `${basename(this.repo)}-${hash}`),
    );
  }

  branchFor(taskId: string): string {
    return BRANCH_PREFIX + worktreeNameFor(taskId);
  }

  pathFor(taskId: string): string {
    return join(this.root, worktreeNameFor(taskId));
  }

  /**
   * At agent start: forgets worktrees whose directories vanished, and removes (with their
   * branches) the in-use worktrees whose owner is not alive. Returns the paths it removed.
   */
  async prepare(liveness: Liveness): Promise<string[]> {
    const isAlive = toPredicate(liveness);
    return exclusive(this.repo, async () => {
      await git(this.repo, 'worktree', 'prune');
      const pruned: string[] = [];
      for (const entry of await this.list()) {
        const owner = parseOwner(entry.lockReason);
        if (!entry.branch?.startsWith(BRANCH_PREFIX) || !owner) continue;
        const previousLife =
          owner.agentId === this.agentId && owner.incarnation !== this.incarnation;
        if (previousLife || !(await isAlive(owner.agentId))) {
          await this.removeWorktree(entry.path);
          await this.deleteBranch(entry.branch);
          pruned.push(entry.path);
        }
      }
      return pruned;
    });
  }

  /**
   * Creates the task's worktree on a fresh branch `agentq/<task-id>` from `base` and returns its
   * path. A worktree or branch left by an earlier attempt of the task is removed first, so every
   * attempt starts clean.
   */
  async acquire(taskId: string): Promise<string> {
    const branch = this.branchFor(taskId);
    const path = this.pathFor(taskId);
    return exclusive(this.repo, async () => {
      const earlier = (await this.list()).find((e) => e.path === path || e.branch === branch);
      if (earlier) await this.removeWorktree(earlier.path);
      if (existsSync(path)) await rm(path, { recursive: true, force: true });
      if (await this.branchExists(branch)) await this.deleteBranch(branch);
      await mkdir(this.root, { recursive: true });
      const reason = `${OWNER_TAG} ${this.agentId} ${this.incarnation}`;
      await git(
        this.repo,
        'worktree',
        'add',
        '--lock',
        '--reason',
        reason,
        '-b',
        branch,
        path,
        this.base,
      );
      return path;
    });
  }

  /**
   * Ends a task's use of its worktree. After success (or after a failure with keepOnFailure
   * false) the worktree is removed; its branch too, unless it holds commits the repository's HEAD
   * lacks: that is the task's work, and deleting it would lose it. After a failure with
   * keepOnFailure, worktree and branch stay, marked kept.
   */
  async release(taskId: string, { ok }: { ok: boolean }): Promise<ReleaseOutcome> {
    const branch = this.branchFor(taskId);
    const path = this.pathFor(taskId);
    return exclusive(this.repo, async () => {
      if (!ok && this.keepOnFailure) {
        await git(this.repo, 'worktree', 'unlock', path).catch(() => undefined);
        await git(this.repo, 'worktree', 'lock', '--reason', `${KEPT_TAG} ${this.agentId}`, path);
        return { worktreeRemoved: false, branchDeleted: false };
      }
      await this.removeWorktree(path);
      if (!(await this.branchExists(branch)))
        return { worktreeRemoved: true, branchDeleted: false };
      const holdsWork =
        ok && !(await gitTest(this.repo, 'merge-base', '--is-ancestor', branch, 'HEAD'));
      if (holdsWork) return { worktreeRemoved: true, branchDeleted: false };
      await this.deleteBranch(branch);
      return { worktreeRemoved: true, branchDeleted: true };
    });
  }

  private async list(): Promise<WorktreeEntry[]> {
    const out = await git(this.repo, 'worktree', 'list', '--porcelain');
    return out
      .split('\n\n')
      .filter((block) => block.trim())
      .map((block) => {
        const lines = block.split('\n');
        const value = (key: string): string | null => {
          const line = lines.find((l) => l === key || l.startsWith(`${key} `));
          return line === undefined ? null : line.slice(key.length + 1);
        };
        const ref = value('branch');
        return {
          path: resolve(value('worktree') ?? ''),
          branch: ref?.replace(/^refs\/heads\//, '') ?? null,
          lockReason: value('locked'),
        };
      });
  }

  private async removeWorktree(path: string): Promise<void> {
    await git(this.repo, 'worktree', 'unlock', path).catch(() => undefined);
    if (existsSync(path)) await git(this.repo, 'worktree', 'remove', '--force', path);
    await git(this.repo, 'worktree', 'prune');
  }

  private branchExists(branch: string): Promise<boolean> {
    return gitTest(this.repo, 'show-ref', '--verify', '--quiet', `refs/heads/${branch}`);
  }

  private async deleteBranch(branch: string): Promise<void> {
    await git(this.repo, 'branch', '-D', branch);
  }
}

function parseOwner(reason: string | null): { agentId: string; incarnation: string } | null {
  const [tag, agentId, incarnation] = (reason ?? '').split(' ');
  return tag === OWNER_TAG && agentId && incarnation ? { agentId, incarnation } : null;
}

function toPredicate(liveness: Liveness): (agentId: string) => boolean | Promise<boolean> {
  if (typeof liveness === 'function') return liveness;
  const live = new Set(liveness);
  return (agentId) => live.has(agentId);
}
