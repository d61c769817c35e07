/**
 * Worktrees end to end through `agentq worker --worktree REPO --shell "…"` (a child process) on a
 * real git repository: each task runs in its own worktree on `agentq/<task-id>` (its cwd and
 * AGENTQ_WORKDIR), removed after success, kept after failure; after a kill -9 of the worker
 * mid-task, the next worker to start prunes the orphan.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WorktreeManager } from '../../src/processors/worktree';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { addTask } from '../helpers/agent-tasks';
import { createGitRepo, type GitRepo } from '../helpers/git-repo';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const BIN = resolve(__dirname, '..', '..', 'dist', 'cli', 'bin.js');
const prefix = uniquePrefix('worktree');
const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
let repo: GitRepo;
let script: string;
let root: string;
const workers: ChildProcess[] = [];
/** Pids of shell commands a killed worker left running (their own process groups). */
const orphans: number[] = [];

/**
 * The shell command: notes where it runs (cwd, AGENTQ_WORKDIR, branch) in data.log, then exits 0
 * (mode ok), 1 (mode fail), or writes data.started and waits forever (mode hang).
 */
const SCRIPT = `
const { appendFileSync, readFileSync, writeFileSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { task } = JSON.parse(readFileSync(process.env.AGENTQ_TASK_FILE, 'utf8'));
const branch = execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { encoding: 'utf8' }).trim();
writeFileSync('work.txt', task.id);
appendFileSync(task.data.log, JSON.stringify({ id: task.id, cwd: process.cwd(),
  workdir: process.env.AGENTQ_WORKDIR, branch }) + '\\n');
if (task.data.mode === 'fail') process.exit(1);
if (task.data.mode === 'hang') {
  writeFileSync(task.data.started, String(process.pid));
  setInterval(() => undefined, 1000);
}
`;

function startWorker(id: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [BIN, '--redis', REDIS_URL, '--prefix', prefix, 'worker', '--id', id].concat([
      '--capabilities',
      'wt',
      '--worktree',
      repo.dir,
      '--shell',
      `${process.execPath} ${script}`,
      '--grace-ms',
      '1000',
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  workers.push(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return waitFor(`worker ${id} to start (output: ${output})`, () => {
    if (child.exitCode !== null) throw new Error(output);
    return output.includes('serves') ? child : null;
  });
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<unknown> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((done) => child.once('exit', done));
  child.kill(signal);
  return exited;
}

async function worktreePaths(): Promise<string[]> {
  const out = await repo.git(['worktree', 'list', '--porcelain']);
  return out
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => resolve(l.slice('worktree '.length)));
}

async function branches(): Promise<string[]> {
  const out = await repo.git(['branch', '--list', 'agentq/*', '--format=%(refname:short)']);
  return out.split('\n').filter(Boolean);
}

describe('worktrees end to end through agentq worker', () => {
  beforeAll(async () => {
    repo = await createGitRepo();
    script = join(repo.scratch, 'task.cjs');
    writeFileSync(script, SCRIPT);
    root = new WorktreeManager({ repo: repo.dir, agentId: 'probe' }).root;
  });

  afterAll(async () => {
    for (const child of workers) await stop(child, 'SIGKILL');
    for (const pid of orphans) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // The killed worker's task is still active (its lock not yet expired): leave no keys behind.
    await coordinator.queue('wt').obliterate({ force: true });
    await coordinator.close();
    await repo.remove();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs each task in its own worktree, removes it after success, keeps it after failure', async () => {
    const manager = new WorktreeManager({ repo: repo.dir, agentId: 'wt-1' });
    const worker = await startWorker('wt-1');
    const log = join(repo.scratch, 'runs.log');
    const ok = await addTask(coordinator, { type: 'wt', key: 'ok', data: { log, mode: 'ok' } });
    const bad = await addTask(coordinator, { type: 'wt', key: 'bad', data: { log, mode: 'fail' } });
    await waitFor('the good task done', () => ok.isCompleted());
    await waitFor('the bad task failed', () => bad.isFailed());

    const runs = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; cwd: string; workdir: string; branch: string });
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run).toEqual({
        id: run.id,
        cwd: manager.pathFor(run.id),
        workdir: manager.pathFor(run.id),
        branch: manager.branchFor(run.id),
      });
      expect(run.branch).toBe(`agentq/${run.id}`);
    }

    // Success: worktree and branch gone. Failure: both kept, with the task's file in it.
    const paths = await worktreePaths();
    expect(paths).not.toContain(manager.pathFor(ok.id!));
    expect(existsSync(manager.pathFor(ok.id!))).toBe(false);
    expect(paths).toContain(manager.pathFor(bad.id!));
    expect(readFileSync(join(manager.pathFor(bad.id!), 'work.txt'), 'utf8')).toBe(bad.id);
    expect(await branches()).toEqual([manager.branchFor(bad.id!)]);
    await stop(worker, 'SIGTERM');
  });

  it('prunes the worktree of a worker killed mid-task when the next worker starts', async () => {
    const manager = new WorktreeManager({ repo: repo.dir, agentId: 'wt-2' });
    const worker = await startWorker('wt-2');
    const started = join(repo.scratch, 'hang.started');
    const hang = await addTask(coordinator, {
      type: 'wt',
      key: 'hang',
      data: { log: join(repo.scratch, 'hang.log'), mode: 'hang', started },
    });
    await waitFor('the task to start', () => existsSync(started));
    orphans.push(Number(readFileSync(started, 'utf8')));
    const path = manager.pathFor(hang.id!);
    expect(await worktreePaths()).toContain(path);

    await stop(worker, 'SIGKILL');
    // The shell command is the leader of its own process group: it outlives the agent's kill -9.
    process.kill(-orphans[0]!, 'SIGKILL');
    expect(await worktreePaths()).toContain(path);

    // The next worker treats wt-2 as dead once its heartbeat entry expired (3 heartbeats).
    await waitFor(
      'wt-2 to leave the agent registry',
      async () => !(await coordinator.getAllAgents()).some((a) => a.id === 'wt-2'),
    );
    const next = await startWorker('wt-3');
    expect(await worktreePaths()).not.toContain(path);
    expect(existsSync(path)).toBe(false);
    expect(await branches()).not.toContain(manager.branchFor(hang.id!));
    // The failed task's worktree of the first test is kept: pruning spares kept worktrees.
    expect((await branches()).length).toBe(1);
    await stop(next, 'SIGTERM');
  });
});
