/**
 * Cancel from another process, end to end: a goal A → B → C runs through an `agentq worker` child
 * process; `agentq task cancel A` (a third process) while A runs. A's signal fires within a second
 * of the cancel reaching Redis, A ends CANCELLED after one attempt (no retry, no dead letter),
 * B and C end CANCELLED without running, the goal ends CANCELLED, and nothing is left waiting.
 * A timeout through the same path ends FAILED after its attempts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAgentSystem, type AgentSystem } from '../../src/agent-system';
import { listDeadLetters } from '../../src/processors/dead-letters';
import { GATES_QUEUE, GOALS_QUEUE } from '../../src/queues/names';
import { CONTROL_CHANNEL } from '../../src/queues/protocol';
import type { RedisConnection } from '../../src/queues/connection';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers', 'behaviours.cjs');

const prefix = uniquePrefix('canceldeps');
const dir = mkdtempSync(join(tmpdir(), 'agentq-canceldeps-'));
const env = {
  ...process.env,
  REDIS_URL,
  AGENTQ_PREFIX: prefix,
  AGENTQ_DB: `sqlite:${join(dir, 'agentq.db')}`,
};
let system: AgentSystem;
let worker: ChildProcess;
let subscriber: RedisConnection;
/** When each control message reached Redis (seen by a subscriber in this process). */
const controlSeenAt: number[] = [];

function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((done) => child.once('close', (code) => done({ code, output })));
}

describe('cancel from another process, with dependents', () => {
  beforeAll(async () => {
    system = await createAgentSystem({ config: env });
    subscriber = system.redis.duplicate();
    subscriber.on('message', () => controlSeenAt.push(Date.now()));
    await subscriber.subscribe(system.redis.channel(CONTROL_CHANNEL));
    let output = '';
    worker = spawn(
      process.execPath,
      [BIN, 'worker', '--id', 'cancel-worker', '--capabilities', 'hang,work'].concat([
        '--handlers',
        HANDLERS,
        '--grace-ms',
        '2000',
      ]),
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    worker.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    worker.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(`the worker to start (output: ${output})`, () => {
      if (worker.exitCode !== null) throw new Error(output);
      return output.includes('serves');
    });
  });

  afterAll(async () => {
    if (worker.exitCode === null) {
      const exited = new Promise((done) => worker.once('exit', done));
      worker.kill('SIGTERM');
      await exited;
    }
    subscriber.disconnect();
    await system.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cancels a running task and its dependents: signal within 1 s, no retry, no dead letter', async () => {
    const startedFile = join(dir, 'a-started');
    const abortFile = join(dir, 'a-aborted');
    const laterFile = join(dir, 'later-started');
    const { goalId, tasks } = await system.supervisor.submitPlan({
      goal: 'Cancel a chain',
      tasks: [
        { key: 'a', title: 'A', type: 'hang', attempts: 3, data: { startedFile, abortFile } },
        { key: 'b', title: 'B', type: 'work', dependsOn: ['a'], data: { startedFile: laterFile } },
        { key: 'c', title: 'C', type: 'work', dependsOn: ['b'], data: { startedFile: laterFile } },
      ],
    });
    const [a, b, c] = tasks.map((t) => t.id) as [string, string, string];
    await waitFor('A to start', () => existsSync(startedFile));

    const commandStartedAt = Date.now();
    const cancelled = await runCli(['task', 'cancel', a]);
    expect(cancelled).toEqual({ code: 0, output: expect.any(String) as unknown });
    await waitFor('the handler to see the abort', () => existsSync(abortFile));
    const [abortedAtText, ...reason] = readFileSync(abortFile, 'utf8').trim().split(' ');
    const abortedAt = Number(abortedAtText);
    expect(reason.join(' ')).toMatch(/^\[cancelled\] by cli:/);
    expect(controlSeenAt).toHaveLength(1);
    const signalMs = abortedAt - controlSeenAt[0]!;
    process.stdout.write(
      `cancel: signal ${signalMs} ms after the control message; ` +
        `${abortedAt - commandStartedAt} ms after the cancel command started (its start-up included)\n`,
    );
    expect(signalMs).toBeLessThan(1000);

    await waitFor('the goal CANCELLED', async () => {
      return (await system.registry.getGoal(goalId))?.state === 'CANCELLED';
    });
    // The goal's end may be mirrored a moment before A's (the cancel request marks the goal).
    const records = await waitFor(
      'A, B and C ended',
      async () => {
        const found = await Promise.all([a, b, c].map((id) => system.registry.getTask(id)));
        return found.every((r) => r && ['CANCELLED', 'DONE', 'FAILED'].includes(r.state))
          ? found
          : null;
      },
      { timeoutMs: 10000 },
    );
    expect(records.map((r) => [r?.key, r?.state])).toEqual([
      ['a', 'CANCELLED'],
      ['b', 'CANCELLED'],
      ['c', 'CANCELLED'],
    ]);
    expect(records[0]!.attempt).toBe(1);
    expect(records[1]!.attempt).toBe(0);
    expect(records[2]!.attempt).toBe(0);
    expect(existsSync(laterFile)).toBe(false);

    const job = await system.redis.queue('hang').getJob(a);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/^\[cancelled\] by cli:/);
    expect((await listDeadLetters(system.redis)).map((l) => l.taskId)).not.toContain(a);
    for (const queue of ['hang', 'work', GOALS_QUEUE, GATES_QUEUE]) {
      const counts = await system.redis
        .queue(queue)
        .getJobCounts('waiting', 'waiting-children', 'delayed', 'prioritized', 'active');
      expect({ queue, ...counts }).toEqual({
        queue,
        waiting: 0,
        'waiting-children': 0,
        delayed: 0,
        prioritized: 0,
        active: 0,
      });
    }
    // A's abort is the only line: it never ran a second time.
    expect(readFileSync(startedFile, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('a timeout through the same path fails the task after its attempts', async () => {
    const startedFile = join(dir, 't-started');
    const abortFile = join(dir, 't-aborted');
    const { goalId, tasks } = await system.supervisor.submitPlan({
      goal: 'Time out',
      tasks: [
        {
          key: 't',
          title: 'T',
          type: 'hang',
          attempts: 2,
          timeoutMs: 300,
          data: { startedFile, abortFile },
        },
        { key: 'u', title: 'U', type: 'work', dependsOn: ['t'] },
      ],
    });
    const t = tasks[0]!.id;
    await waitFor('the goal FAILED', async () => {
      return (await system.registry.getGoal(goalId))?.state === 'FAILED';
    });
    const record = await system.registry.getTask(t);
    expect(record?.state).toBe('FAILED');
    expect(record?.attempt).toBe(2);
    expect(record?.error?.message).toMatch(/timed out after 300 ms/);
    expect(readFileSync(abortFile, 'utf8').trim().split('\n')).toHaveLength(2);
    expect((await system.registry.getTask(tasks[1]!.id))?.state).toBe('FAILED');
    const letter = (await listDeadLetters(system.redis)).find((l) => l.taskId === t);
    expect(letter).toBeDefined();
  });
});
