import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type {
  ExecutionMetrics,
  ExecutorContext,
  TaskInput,
} from '../../src/processors/handler-types';
import { createShellHandler, type ShellResult } from '../../src/processors/shell-executor';
import { WorktreeManager } from '../../src/processors/worktree';
import { withWorktree } from '../../src/processors/worktree-handler';
import { createGitRepo, type GitRepo } from '../helpers/git-repo';

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'agentq agent',
  GIT_AUTHOR_EMAIL: 'agent@agentq.invalid',
  GIT_COMMITTER_NAME: 'agentq agent',
  GIT_COMMITTER_EMAIL: 'agent@agentq.invalid',
};

let repo: GitRepo;

beforeEach(async () => {
  repo = await createGitRepo();
});

afterEach(async () => {
  await repo.remove();
});

function manager(agentId: string): WorktreeManager {
  return new WorktreeManager({ repo: repo.dir, agentId, root: join(repo.scratch, 'worktrees') });
}

function task(id: string): TaskInput {
  const [goalId = '', key = ''] = id.split('.');
  return {
    id,
    goalId,
    key,
    title: 'work',
    description: '',
    type: 'code',
    priority: 5,
    data: {},
    dependsOn: [],
    attempt: 1,
  };
}

function context() {
  const metrics: ExecutionMetrics[] = [];
  const lines: string[] = [];
  const ctx: ExecutorContext = {
    signal: new AbortController().signal,
    dependencies: {},
    progress: async () => {},
    log: async (line) => {
      lines.push(line);
    },
    usage: async () => {},
    agentId: 'agent-1',
    workdir: '/nonexistent',
    spawn: () => Promise.reject(new Error('these tests spawn nothing')),
    recordMetrics: (m) => metrics.push(m),
  };
  return { ctx, metrics, lines };
}

describe('a shell command in a git worktree', () => {
  it('runs in the worktree; its commit lands on agentq/<task-id>; the worktree goes after success', async () => {
    const shell = createShellHandler(
      [
        'sh',
        '-c',
        'pwd; echo generated > out.txt && git add out.txt && git commit -q -m "task output"',
      ],
      { env: GIT_IDENTITY },
    );
    const handler = withWorktree(manager('agent-1'), shell);
    const { ctx, metrics } = context();
    const result = (await handler(task('g-1.gen'), ctx)) as ShellResult;
    const path = join(repo.scratch, 'worktrees', 'g-1.gen');
    expect(result.stdout.trim()).toBe(path);
    expect(metrics).toHaveLength(1); // the executor's context reached the shell handler
    expect(await repo.git(['show', 'agentq/g-1.gen:out.txt'])).toBe('generated');
    expect(existsSync(path)).toBe(false);
    expect(existsSync(join(repo.dir, 'out.txt'))).toBe(false);
  });

  it('keeps the worktree of a failed command, with what it left there', async () => {
    const shell = createShellHandler(['sh', '-c', 'echo clue > clue.txt; exit 4']);
    const handler = withWorktree(manager('agent-1'), shell);
    await expect(handler(task('g-1.fail'), context().ctx)).rejects.toThrow('exited with code 4');
    const path = join(repo.scratch, 'worktrees', 'g-1.fail');
    expect(await readFile(join(path, 'clue.txt'), 'utf8')).toBe('clue\n');
    expect(await repo.git(['branch', '--list', 'agentq/g-1.fail'])).toContain('agentq/g-1.fail');
  });
});

describe('an agent process killed with -9', () => {
  it('leaves a worktree that the next agent prunes at start', async () => {
    // A real agent process: it acquires a worktree, reports its path, and is then killed.
    const script = `
      const { WorktreeManager } = require(${JSON.stringify(resolve('src/processors/worktree.ts'))});
      const m = new WorktreeManager({ repo: process.argv[1], agentId: 'agent-crash', root: process.argv[2] });
      m.acquire('g-9.crash').then((p) => { console.log(p); setInterval(() => {}, 1000); });
    `;
    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', '-e', script, repo.dir, join(repo.scratch, 'worktrees')],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((done) => child.once('exit', done));
    const path = await new Promise<string>((done, fail) => {
      child.stdout.once('data', (chunk: Buffer) => done(chunk.toString().trim()));
      child.once('exit', (code) => fail(new Error(`agent exited early with ${code}`)));
    });
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(path)).toBe(true);

    const pruned = await manager('agent-next').prepare((id) => id === 'agent-next');
    expect(pruned).toEqual([path]);
    expect(existsSync(path)).toBe(false);
    expect(await repo.git(['branch', '--list', 'agentq/*'])).toBe('');
  });
});
