/** A real git repository in a temp dir, with one commit on `main`, for worktree tests. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GitRepo {
  /** The repository's top-level directory. */
  dir: string;
  /** A scratch directory next to it (for worktree roots); removed with the repo. */
  scratch: string;
  /** Runs git in `cwd` (the repo by default) and returns trimmed stdout. */
  git(args: string[], cwd?: string): Promise<string>;
  remove(): Promise<void>;
}

export async function createGitRepo(): Promise<GitRepo> {
  const scratch = await mkdtemp(join(tmpdir(), 'agentq-git-'));
  const dir = join(scratch, 'repo');
  const git = async (args: string[], cwd = dir): Promise<string> => {
    const { stdout } = await run('git', ['-C', cwd, ...args], {
      // Commits must not depend on the machine's git identity.
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'agentq test',
        GIT_AUTHOR_EMAIL: 'test@agentq.invalid',
        GIT_COMMITTER_NAME: 'agentq test',
        GIT_COMMITTER_EMAIL: 'test@agentq.invalid',
      },
    });
    return stdout.trim();
  };
  await run('git', ['init', '--quiet', '--initial-branch=main', dir]);
  await writeFile(join(dir, 'README.md'), '# test repo\n');
  await git(['add', 'README.md']);
  await git(['commit', '--quiet', '-m', 'initial commit']);
  return {
    dir,
    scratch,
    git,
    remove: () => rm(scratch, { recursive: true, force: true }),
  };
}
