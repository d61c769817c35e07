/**
 * An in-process AutonomousAgent against real Redis: results and envelopes, timeouts, declined
 * tasks, a missing handler, and retries → dead-letter queue → a redrive that succeeds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../../src/errors';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { listDeadLetters, retryDeadLetter } from '../../src/processors/dead-letters';
import { loadHandlerModule } from '../../src/processors/handler-module';
import type { HandlerMap } from '../../src/processors/handler-types';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { addTask } from '../helpers/agent-tasks';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

// Retries with backoff and a decline round trip take a few seconds on a busy machine.
jest.setTimeout(30000);

const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix: uniquePrefix('agent') });
const dir = mkdtempSync(join(tmpdir(), 'agentq-agent-'));
const agents: AutonomousAgent[] = [];
let handlers: HandlerMap;

async function startAgent(
  options: Partial<ConstructorParameters<typeof AutonomousAgent>[0]> & { agentId: string },
): Promise<AutonomousAgent> {
  const agent = new AutonomousAgent({
    capabilities: ['work', 'flaky', 'hang'],
    redisCoordinator: coordinator,
    handlers,
    heartbeatMs: 200,
    onError: () => undefined,
    ...options,
  });
  agents.push(agent);
  await agent.start();
  return agent;
}

describe('AutonomousAgent', () => {
  beforeAll(async () => {
    handlers = await loadHandlerModule(resolve(__dirname, '../fixtures/handlers/behaviours.cjs'));
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close({ graceMs: 1000 })));
  });

  afterAll(async () => {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a task and returns its result in an envelope with the quality score', async () => {
    await startAgent({ agentId: 'basic-1' });
    const job = await addTask(coordinator, { type: 'work', data: { ms: 10 } });
    await waitFor('completion', () => job.isCompleted());
    const done = (await coordinator.queue('work').getJob(job.id!))!;
    expect(done.returnvalue).toMatchObject({
      v: 1,
      key: 'task',
      agentId: 'basic-1',
      attempt: 1,
      result: { ok: true, by: 'basic-1', deps: {} },
      metrics: { qualityScore: 0.75 },
    });
    const agents = await coordinator.getAllAgents();
    expect(agents.map((a) => a.id)).toContain('basic-1');
  });

  it('refuses a declared capability without a handler at construction', () => {
    expect(
      () =>
        new AutonomousAgent({
          agentId: 'x',
          capabilities: ['work', 'nothing-here'],
          redisCoordinator: coordinator,
          handlers,
        }),
    ).toThrow(InputError);
  });

  it('fails an attempt that outlives its timeout with a clear message', async () => {
    await startAgent({ agentId: 'timeout-1' });
    const abortFile = join(dir, 'timeout-abort');
    const job = await addTask(coordinator, {
      type: 'hang',
      timeoutMs: 300,
      data: { abortFile },
    });
    await waitFor('failure', () => job.isFailed());
    const failed = (await coordinator.queue('hang').getJob(job.id!))!;
    expect(failed.failedReason).toBe('timed out after 300 ms');
    expect(readFileSync(abortFile, 'utf8')).toContain('timed out after 300 ms');
  });

  it('hands a declined task to another agent without costing an attempt', async () => {
    await startAgent({ agentId: 'picky', accepts: () => false });
    const doneFile = join(dir, 'declined-done');
    const job = await addTask(coordinator, { type: 'work', data: { doneFile } });
    await waitFor('a decline', async () => {
      const { logs } = await coordinator.queue('work').getJobLogs(job.id!);
      return logs.some((l) => l.includes('declined by picky'));
    });
    await startAgent({ agentId: 'willing' });
    await waitFor('completion', () => job.isCompleted());
    const done = (await coordinator.queue('work').getJob(job.id!))!;
    expect(done.returnvalue.agentId).toBe('willing');
    expect(done.attemptsMade).toBe(1);
  });

  it('retries, dead-letters after the last attempt, and a redrive succeeds', async () => {
    await startAgent({ agentId: 'dlq-1', breaker: false });
    const failWhile = join(dir, 'fail-while');
    writeFileSync(failWhile, 'x');
    const job = await addTask(coordinator, { type: 'flaky', attempts: 3, data: { failWhile } });
    const letter = await waitFor('a dead letter', async () =>
      (await listDeadLetters(coordinator)).find((l) => l.taskId === job.id),
    );
    expect(letter).toMatchObject({
      id: `${job.id}@0`,
      attempts: 3,
      agentIds: ['dlq-1', 'dlq-1', 'dlq-1'],
      error: { message: 'flaky failure on attempt 3' },
    });
    expect(letter.error.stack).toContain('flaky failure');
    rmSync(failWhile);
    expect(existsSync(failWhile)).toBe(false);
    await expect(retryDeadLetter(coordinator, letter.id, 'test')).resolves.toMatchObject({
      epoch: 1,
    });
    await waitFor('completion after redrive', () => job.isCompleted());
    const done = (await coordinator.queue('flaky').getJob(job.id!))!;
    expect(done.returnvalue.result).toEqual({ attempt: 1 });
    expect(done.data.epoch).toBe(1);
    expect((await listDeadLetters(coordinator)).some((l) => l.taskId === job.id)).toBe(false);
  });
});
