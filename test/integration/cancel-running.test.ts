/**
 * Cancelling a running task from another process: the agent (its own process) hears the control
 * message on Redis, its handler's signal fires within a second, and the task fails as cancelled
 * for good — no retry, no dead letter.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listDeadLetters } from '../../src/processors/dead-letters';
import { CONTROL_CHANNEL, type ControlMessage } from '../../src/queues/protocol';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { spawnAgent, type AgentChild } from '../helpers/agent-spawn';
import { addTask } from '../helpers/agent-tasks';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

// The agent child starts through tsx.
jest.setTimeout(60000);

const prefix = uniquePrefix('cancel');
const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
const dir = mkdtempSync(join(tmpdir(), 'agentq-cancel-'));
let agent: AgentChild;

describe('cancelling a running task from another process', () => {
  beforeAll(async () => {
    agent = await spawnAgent({
      url: REDIS_URL,
      prefix,
      agentId: 'cancel-agent',
      capabilities: ['hang'],
      handlersFile: resolve(__dirname, '../fixtures/handlers/behaviours.cjs'),
    });
  });

  afterAll(async () => {
    agent.child.kill('SIGTERM');
    await agent.exited;
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('aborts the handler within a second and fails the task as cancelled, without retry', async () => {
    const startedFile = join(dir, 'started');
    const abortFile = join(dir, 'aborted');
    const job = await addTask(coordinator, {
      type: 'hang',
      attempts: 3,
      data: { startedFile, abortFile },
    });
    await waitFor('the handler to start', () => existsSync(startedFile));
    const message: ControlMessage = { op: 'cancel', taskIds: [job.id!], actor: 'tester' };
    const sentAt = Date.now();
    await coordinator.publish(CONTROL_CHANNEL, message);
    await waitFor('the handler to see the abort', () => existsSync(abortFile));
    const [abortedAt, ...reason] = readFileSync(abortFile, 'utf8').trim().split(' ');
    const latencyMs = Number(abortedAt) - sentAt;
    process.stdout.write(`cancel signal latency: ${latencyMs} ms\n`);
    expect(latencyMs).toBeLessThan(1000);
    expect(reason.join(' ')).toBe('[cancelled] by tester');

    await waitFor('the task to fail', () => job.isFailed());
    const failed = (await coordinator.queue('hang').getJob(job.id!))!;
    expect(failed.failedReason).toBe('[cancelled] by tester');
    expect(failed.attemptsMade).toBe(1);
    expect((await listDeadLetters(coordinator)).some((l) => l.taskId === job.id)).toBe(false);
  });
});
