import { existsSync } from 'node:fs';
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorktreeManager, worktreeNameFor } from '../../src/processors/worktree';
import { createGitRepo, type GitRepo } from '../helpers/git-repo';

let repo: GitRepo;

beforeEach(async () => {
  repo = await createGitRepo();
});

afterEach(async () => {
  await repo.remove();
});

function manager(agentId = 'agent-1', keepOnFailure = true): WorktreeManager {
  return new WorktreeManager({
    repo: repo.dir,
    agentId,
    keepOnFailure,
    root: join(repo.scratch, 'worktrees'),
  });
}

async function linkTo(dir: string): Promise<string> {
  const link = join(repo.scratch, 'repo-link');
  await symlink(dir, link);
  return link;
}

async function branches(): Promise<string[]> {
  const out = await repo.git(['branch', '--format=%(refname:short)']);
  return out.split('\n').filter(Boolean).sort();
}

async function worktreePaths(): Promise<string[]> {
  const out = await repo.git(['worktree', 'list', '--porcelain']);
  return out
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length));
}

describe('WorktreeManager', () => {
  it('creates a worktree on agentq/<task-id> whose commits show up on that branch', async () => {
    const worktrees = manager();
    const path = await worktrees.acquire('g-1.build');
    expect(path).toBe(join(repo.scratch, 'worktrees', 'g-1.build'));
    expect(await repo.git(['rev-parse', '--abbrev-ref', 'HEAD'], path)).toBe('agentq/g-1.build');
    expect(await readFile(join(path, 'README.md'), 'utf8')).toBe('# test repo\n');

    // What a handler does there: write a file and commit it.
    await writeFile(join(path, 'result.txt'), 'built\n');
    await repo.git(['add', 'result.txt'], path);
    await repo.git(['commit', '--quiet', '-m', 'task output'], path);

    const outcome = await worktrees.release('g-1.build', { ok: true });
    expect(outcome).toEqual({ worktreeRemoved: true, branchDeleted: false });
    expect(existsSync(path)).toBe(false);
    expect(await repo.git(['show', 'agentq/g-1.build:result.txt'])).toBe('built');
    expect(existsSync(join(repo.dir, 'result.txt'))).toBe(false); // the main checkout is untouched
  });

  it('removes the worktree and its branch after a success that committed nothing', async () => {
    const worktrees = manager();
    const path = await worktrees.acquire('g-1.lint');
    const outcome = await worktrees.release('g-1.lint', { ok: true });
    expect(outcome).toEqual({ worktreeRemoved: true, branchDeleted: true });
    expect(existsSync(path)).toBe(false);
    expect(await branches()).toEqual(['main']);
    expect(await worktreePaths()).toEqual([repo.dir]);
  });

  it('keeps worktree and branch after a failure, marked kept', async () => {
    const worktrees = manager();
    const path = await worktrees.acquire('g-1.test');
    await writeFile(join(path, 'debug.log'), 'what went wrong\n');
    expect(await worktrees.release('g-1.test', { ok: false })).toEqual({
      worktreeRemoved: false,
      branchDeleted: false,
    });
    expect(await readFile(join(path, 'debug.log'), 'utf8')).toBe('what went wrong\n');
    expect(await branches()).toEqual(['agentq/g-1.test', 'main']);
    // A kept worktree is for a person to look at: even a later agent's prepare leaves it.
    expect(await manager('agent-2').prepare([])).toEqual([]);
    expect(existsSync(path)).toBe(true);
  });

  it('removes a failed worktree and discards its commits when keepOnFailure is false', async () => {
    const worktrees = manager('agent-1', false);
    const path = await worktrees.acquire('g-1.deploy');
    await writeFile(join(path, 'half.txt'), 'half done\n');
    await repo.git(['add', 'half.txt'], path);
    await repo.git(['commit', '--quiet', '-m', 'half'], path);
    expect(await worktrees.release('g-1.deploy', { ok: false })).toEqual({
      worktreeRemoved: true,
      branchDeleted: true,
    });
    expect(existsSync(path)).toBe(false);
    expect(await branches()).toEqual(['main']);
  });

  it('recreates the worktree cleanly for a retried attempt of the same task', async () => {
    const worktrees = manager();
    const first = await worktrees.acquire('g-1.retry');
    await writeFile(join(first, 'attempt-1.txt'), 'x');
    await repo.git(['add', '.'], first);
    await repo.git(['commit', '--quiet', '-m', 'attempt 1'], first);
    await worktrees.release('g-1.retry', { ok: false });

    const second = await manager('agent-2').acquire('g-1.retry');
    expect(second).toBe(first);
    expect(existsSync(join(second, 'attempt-1.txt'))).toBe(false);
    expect(await repo.git(['rev-parse', 'agentq/g-1.retry'])).toBe(
      await repo.git(['rev-parse', 'main']),
    );
  });

  it('prunes at start the worktrees a dead agent left in use, and only those', async () => {
    const crashed = manager('agent-dead');
    const orphan = await crashed.acquire('g-2.a');
    const alive = manager('agent-alive');
    const busy = await alive.acquire('g-2.b');
    // agent-dead crashed: it never released. A new agent starts and prepares.
    const starting = manager('agent-new');
    const pruned = await starting.prepare(['agent-alive', 'agent-new']);
    expect(pruned).toEqual([orphan]);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(busy)).toBe(true);
    expect(await branches()).toEqual(['agentq/g-2.b', 'main']);
    await alive.release('g-2.b', { ok: true });
  });

  it('prunes the worktrees of its own previous life when restarted under the same id', async () => {
    const before = manager('agent-1');
    const orphan = await before.acquire('g-3.a');
    const after = manager('agent-1');
    expect(await after.prepare((id) => id === 'agent-1')).toEqual([orphan]);
    expect(await worktreePaths()).toEqual([repo.dir]);
  });

  it("prunes a dead agent's worktree whose directory vanished, with its branch", async () => {
    const crashed = manager('agent-dead');
    const orphan = await crashed.acquire('g-4.a');
    await rm(orphan, { recursive: true, force: true }); // say, a temp dir cleaned at reboot
    expect(await manager('agent-new').prepare([])).toEqual([orphan]);
    expect(await worktreePaths()).toEqual([repo.dir]);
    expect(await branches()).toEqual(['main']);
  });

  it('serves many concurrent acquires on one repository', async () => {
    const worktrees = manager();
    const ids = Array.from({ length: 12 }, (_, i) => `g-5.t${i}`);
    const paths = await Promise.all(ids.map((id) => worktrees.acquire(id)));
    expect(new Set(paths).size).toBe(ids.length);
    expect((await worktreePaths()).length).toBe(ids.length + 1);
    await Promise.all(ids.map((id) => worktrees.release(id, { ok: true })));
    expect(await branches()).toEqual(['main']);
  });

  it('serves concurrent acquires of two agents on one repository', async () => {
    const a = manager('agent-a');
    const b = new WorktreeManager({
      // The same repository under another path: its git commands are not queued behind a's.
      repo: await linkTo(repo.dir),
      agentId: 'agent-b',
      root: join(repo.scratch, 'worktrees-b'),
    });
    const paths = await Promise.all([
      ...[0, 1, 2, 3].map((i) => a.acquire(`g-6.a${i}`)),
      ...[0, 1, 2, 3].map((i) => b.acquire(`g-6.b${i}`)),
    ]);
    expect(new Set(paths).size).toBe(8);
    for (const path of paths) expect(existsSync(join(path, 'README.md'))).toBe(true);
  });
});

describe('worktreeNameFor', () => {
  it('keeps ordinary task ids as they are', () => {
    expect(worktreeNameFor('g-0123456789abcdef.build_api-2')).toBe(
      'g-0123456789abcdef.build_api-2',
    );
  });

  it('makes any task id a valid branch component', () => {
    expect(worktreeNameFor('g-1.a..b')).toBe('g-1.a.-b');
    expect(worktreeNameFor('g-1.x.lock')).toBe('g-1.x-lock');
    expect(worktreeNameFor('g-1.end.')).toBe('g-1.end-');
    expect(worktreeNameFor('g 1/$(x)')).toBe('g-1---x-');
  });
});
