/**
 * Sandboxed handlers (BullMQ sandbox child processes): a handler that calls process.exit or loops
 * forever fails its attempt and the agent carries on; CPU time and peak RSS reach the envelope.
 */
import { resolve } from 'node:path';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { spawnAgent, type AgentChild } from '../helpers/agent-spawn';
import { addTask } from '../helpers/agent-tasks';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

// Agent and sandbox children start through tsx: a few seconds each on a busy machine.
jest.setTimeout(60000);

const prefix = uniquePrefix('sandbox');
const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
let agent: AgentChild;

describe('a sandboxed agent', () => {
  beforeAll(async () => {
    agent = await spawnAgent({
      url: REDIS_URL,
      prefix,
      agentId: 'sandboxed',
      capabilities: ['exit', 'spin', 'burn'],
      handlersFile: resolve(__dirname, '../fixtures/handlers/behaviours.cjs'),
      sandboxed: true,
    });
  });

  afterAll(async () => {
    agent.child.kill('SIGTERM');
    await agent.exited;
    await coordinator.close();
  });

  it('survives a handler that calls process.exit', async () => {
    const job = await addTask(coordinator, { type: 'exit' });
    await waitFor('the attempt to fail', () => job.isFailed(), { timeoutMs: 40000 });
    const failed = (await coordinator.queue('exit').getJob(job.id!))!;
    expect(failed.failedReason).toMatch(/exit code: 3/);
    expect(agent.child.exitCode).toBeNull();
  });

  it('kills a handler that loops forever once its timeout is overdue', async () => {
    const job = await addTask(coordinator, { type: 'spin', timeoutMs: 500 });
    await waitFor('the attempt to fail', () => job.isFailed(), { timeoutMs: 40000 });
    const failed = (await coordinator.queue('spin').getJob(job.id!))!;
    expect(failed.failedReason).toBe('timed out after 500 ms');
    expect(agent.child.exitCode).toBeNull();
  });

  it('still runs tasks afterwards, with CPU time and peak RSS in the envelope', async () => {
    const job = await addTask(coordinator, { type: 'burn', data: { ms: 200 } });
    await waitFor('completion', () => job.isCompleted(), { timeoutMs: 40000 });
    const done = (await coordinator.queue('burn').getJob(job.id!))!;
    expect(done.returnvalue.result).toEqual({ x: true });
    expect(done.returnvalue.metrics?.cpuMs).toBeGreaterThan(0);
    expect(done.returnvalue.metrics?.peakRssBytes).toBeGreaterThan(0);
  });
});
