/**
 * A shell command whose agent was killed with SIGKILL keeps running in its own process group (no
 * one is left to stop it) until an agent starts on the same host: that agent stops the groups whose
 * owner is dead (shell-groups.ts) — but never a group whose owner lives, nor a process that merely
 * has a recorded pid.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { processStartTicks } from '../../src/processors/process-tree';
import { reapOrphanShellGroups } from '../../src/processors/shell-groups';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { spawnAgent, type AgentChild } from '../helpers/agent-spawn';
import { addTask } from '../helpers/agent-tasks';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

jest.setTimeout(60000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('shell commands left by a killed agent', () => {
  const prefix = uniquePrefix('orphan');
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const dir = mkdtempSync(join(tmpdir(), 'agentq-orphans-'));
  const handlersFile = resolve(__dirname, '../fixtures/handlers/shell-orphan.cjs');
  const children: AgentChild[] = [];
  const strays: number[] = [];

  afterAll(async () => {
    for (const { child, exited } of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    for (const pid of strays) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('are stopped by the next agent that starts on the host', async () => {
    const config = { url: REDIS_URL, prefix, handlersFile, lockDurationMs: 60000 };
    // A temp directory of their own: agents of other test files (running alongside) would reap
    // these orphans too, which is right, but not what this test watches.
    const hostTmp = join(dir, 'tmp');
    mkdirSync(hostTmp);
    const env = { ...process.env, TMPDIR: hostTmp };
    const groups = join(hostTmp, 'agentq-shell-groups');
    const first = await spawnAgent(
      { ...config, agentId: 'orphan-1', capabilities: ['orphan'] },
      env,
    );
    children.push(first);
    const pidFile = join(dir, 'pids');
    await addTask(coordinator, { type: 'orphan', data: { pidFile } });
    await waitFor('the command to run', () => existsSync(pidFile));
    const [leader, child] = readFileSync(pidFile, 'utf8').split(' ').map(Number) as [
      number,
      number,
    ];
    strays.push(leader, child);
    expect(existsSync(join(groups, `${first.child.pid}-${leader}.json`))).toBe(true);

    first.child.kill('SIGKILL');
    await first.exited;
    await new Promise((r) => setTimeout(r, 300));
    expect([alive(leader), alive(child)]).toEqual([true, true]); // orphans, nobody stops them

    // Another capability: it must not take the task over, only clean up after the dead agent.
    const second = await spawnAgent(
      { ...config, agentId: 'orphan-2', capabilities: ['idle'] },
      env,
    );
    children.push(second);
    await waitFor('the orphaned group to be stopped', () => !alive(leader) && !alive(child));
    await waitFor(
      'its record to go',
      () => !existsSync(join(groups, `${first.child.pid}-${leader}.json`)),
    );
    expect(second.output()).toContain('stopped 1 shell command(s) left running by a dead agent');
  });

  it('leaves groups of live owners and processes that are not the recorded leader alone', async () => {
    const records = join(dir, 'records');
    mkdirSync(records);
    const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
    });
    const exited = new Promise((done) => sleeper.once('exit', done));
    await new Promise((done) => sleeper.once('spawn', done));
    const pid = sleeper.pid!;
    const start = (await processStartTicks(pid))!;
    const ownStart = (await processStartTicks(process.pid))!;
    const write = (name: string, record: object) =>
      writeFileSync(join(records, name), JSON.stringify(record));
    // Owner alive (this process): not touched, record kept.
    write('live.json', {
      ownerPid: process.pid,
      ownerStart: ownStart,
      leaderPid: pid,
      leaderStart: start,
    });
    // Owner dead, but the pid now names another process (a different start time): not touched.
    write('reused.json', {
      ownerPid: 999999,
      ownerStart: 1,
      leaderPid: pid,
      leaderStart: start - 1,
    });
    expect(await reapOrphanShellGroups({ dir: records })).toEqual([]);
    expect(alive(pid)).toBe(true);
    expect(existsSync(join(records, 'live.json'))).toBe(true);
    expect(existsSync(join(records, 'reused.json'))).toBe(false);
    sleeper.kill('SIGKILL');
    await exited;
  });
});
