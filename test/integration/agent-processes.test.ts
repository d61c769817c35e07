/**
 * Agents in their own processes (real child processes, real Redis): a kill -9 mid-task is
 * recovered by another agent through BullMQ's stalled check, a SIGTERM lets the running task
 * finish inside the grace period, and ES-module handler files load like CommonJS ones.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import type { AgentProcessConfig } from '../helpers/agent-process';
import { spawnAgent, type AgentChild } from '../helpers/agent-spawn';
import { addTask } from '../helpers/agent-tasks';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

// Child processes start through tsx, and stalled-job recovery needs a lock to expire.
jest.setTimeout(60000);

const prefix = uniquePrefix('agentp');
const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
const dir = mkdtempSync(join(tmpdir(), 'agentq-proc-'));
const behaviours = resolve(__dirname, '../fixtures/handlers/behaviours.cjs');
const children: AgentChild[] = [];

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
}

async function agent(agentId: string, extra: Partial<AgentProcessConfig> = {}) {
  const child = await spawnAgent({
    url: REDIS_URL,
    prefix,
    agentId,
    capabilities: ['work'],
    handlersFile: behaviours,
    // Short locks so a killed agent's task is free in seconds (production: 30 s, see the agent).
    lockDurationMs: 2000,
    stalledIntervalMs: 1000,
    ...extra,
  });
  children.push(child);
  return child;
}

describe('agents in their own processes', () => {
  afterEach(async () => {
    for (const { child, exited } of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });

  afterAll(async () => {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('recovers a task from an agent killed with -9: another agent finishes it, exactly once', async () => {
    const startedFile = join(dir, 'kill-started');
    const doneFile = join(dir, 'kill-done');
    const victim = await agent('victim');
    const job = await addTask(coordinator, {
      type: 'work',
      data: { ms: 1500, startedFile, doneFile },
    });
    await waitFor('the victim to start the task', () => lines(startedFile).length === 1);
    victim.child.kill('SIGKILL');
    await victim.exited;
    await agent('rescuer');
    await waitFor('completion by the rescuer', () => job.isCompleted());
    const done = (await coordinator.queue('work').getJob(job.id!))!;
    expect(done.returnvalue.agentId).toBe('rescuer');
    expect(lines(doneFile)).toEqual([`${job.id} rescuer`]);
  });

  it('lets a running task finish inside the grace period on SIGTERM', async () => {
    const startedFile = join(dir, 'term-started');
    const doneFile = join(dir, 'term-done');
    const worker = await agent('terminated', { graceMs: 20000 });
    const job = await addTask(coordinator, {
      type: 'work',
      key: 'graceful',
      data: { ms: 1000, startedFile, doneFile },
    });
    await waitFor('the task to start', () =>
      lines(startedFile).some((l) => l.includes('terminated')),
    );
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toContain('closed');
    expect(await job.isCompleted()).toBe(true);
    expect(lines(doneFile)).toEqual([`${job.id} terminated`]);
    expect((await coordinator.getAllAgents()).map((a) => a.id)).not.toContain('terminated');
  });

  it('loads an ES module handler file (default export)', async () => {
    await agent('esm', {
      capabilities: ['echo'],
      handlersFile: resolve(__dirname, '../fixtures/handlers/esm-default.mjs'),
    });
    const job = await addTask(coordinator, { type: 'echo', title: 'hello' });
    await waitFor('completion', () => job.isCompleted());
    const done = (await coordinator.queue('echo').getJob(job.id!))!;
    expect(done.returnvalue.result).toEqual({ module: 'esm', title: 'hello', agentId: 'esm' });
  });
});
