/**
 * The channel contract, seen by a plain Redis subscriber: every recorded transition of a small
 * goal (run by real BullMQ workers that follow the protocol) arrives on `tasks:<event>` with every
 * field of DESIGN.md, in seq order with no gap, and the goal's end on `goals:complete`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Job, UnrecoverableError, type Worker } from 'bullmq';
import Ajv2020 from 'ajv/dist/2020';
import { cancelledReason } from '../../src/queues/protocol';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { TaskRegistry } from '../../src/entities/task-registry';
import { TASK_STATES } from '../../src/entities/task-state';
import { TASK_EVENT_NAMES } from '../../src/entities/task-model';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import type { GoalChannelPayload, TaskChannelPayload } from '../../src/mirror/channel-payload';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';
import { goalWorker, newGoalId, submitGoal, taskWorker } from './mirror-protocol';

// Real workers, a real mirror and a retry with backoff: room beyond Jest's default.
jest.setTimeout(60000);

const schema = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'docs', 'events.schema.json'), 'utf8'),
) as object;
// Formats are documentation here; the test checks `at` round-trips as ISO-8601 itself.
const validate = new Ajv2020({ validateFormats: false }).compile(schema);

describe('pub/sub bridge', () => {
  const prefix = uniquePrefix();
  const channelPrefix = `${prefix}/`;
  const dir = mkdtempSync(join(tmpdir(), 'agentq-bridge-'));
  const store = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix, channelPrefix });
  const subscriber = new Redis(REDIS_URL);
  const messages: Array<{ channel: string; payload: unknown }> = [];
  const workers: Worker[] = [];
  let mirror: MirrorHandle;

  beforeAll(async () => {
    await store.open();
    subscriber.on('error', () => undefined);
    // Subscribing before ioredis' ready check ends breaks the check: wait for it (once).
    if (subscriber.status !== 'ready')
      await new Promise((resolve) => subscriber.once('ready', resolve));
    await subscriber.psubscribe(`${channelPrefix}tasks:*`);
    await subscriber.subscribe(`${channelPrefix}goals:complete`);
    const collect = (channel: string, raw: string) =>
      messages.push({ channel: channel.slice(channelPrefix.length), payload: JSON.parse(raw) });
    subscriber.on('pmessage', (_pattern, channel, raw) => collect(channel, raw));
    subscriber.on('message', (channel, raw) => collect(channel, raw));
    await coordinator.registerCapabilities(['dev', 'ops']);
    mirror = startMirror({ store, coordinator, bridgePollMs: 20 });
    await waitFor('the mirror to lead', () => mirror.isLeader);
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await mirror?.close();
    const keys = await coordinator.client.keys(`{${prefix}}*`);
    if (keys.length > 0) await coordinator.client.del(...keys);
    await coordinator.close();
    await subscriber.quit();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes every transition of a goal with the payload contract, in seq order', async () => {
    const goalId = newGoalId();
    const firstSeq = (await store.lastSeq()) + 1;
    await submitGoal(store, coordinator, goalId, [
      { key: 'design', type: 'dev' },
      { key: 'build', type: 'dev', dependsOn: 'design' },
      { key: 'deploy', type: 'ops' },
      { key: 'flaky', type: 'ops', attempts: 2, mayFail: true },
    ]);
    workers.push(
      taskWorker(coordinator, 'dev', (data) => ({ built: data.key })),
      taskWorker(coordinator, 'ops', (data) => {
        if (data.key === 'flaky') throw new Error('flaky broke');
        return { deployed: true };
      }),
      goalWorker(coordinator),
    );

    const goalEnd = await waitFor('goals:complete', () =>
      messages.find((m) => m.channel === 'goals:complete'),
    );
    expect(goalEnd.payload).toEqual({
      v: 1,
      goalId,
      state: 'FAILED',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    } satisfies GoalChannelPayload);

    const recorded = await store.eventsAfter(firstSeq - 1, 10000);
    await waitFor(
      'every recorded event published',
      () => messages.filter((m) => m.channel.startsWith('tasks:')).length >= recorded.length,
    );
    const tasks = messages.filter((m) => m.channel.startsWith('tasks:'));
    const payloads = tasks.map((m) => m.payload as TaskChannelPayload);

    // seq strictly increasing, no gap, exactly the audit log.
    expect(payloads.map((p) => p.seq)).toEqual(recorded.map((e) => e.seq));
    expect(payloads[0]!.seq).toBe(firstSeq);
    for (const [i, m] of tasks.entries()) {
      const p = m.payload as TaskChannelPayload;
      expect({ valid: validate(p), errors: validate.errors }).toEqual({
        valid: true,
        errors: null,
      });
      expect(m.channel).toBe(`tasks:${p.event}`);
      expect(p.v).toBe(1);
      expect(TASK_EVENT_NAMES).toContain(p.event);
      expect(TASK_STATES).toContain(p.state);
      expect(p.taskId).toBe(`${goalId}.${p.key}`);
      expect(p.goalId).toBe(goalId);
      expect(['dev', 'ops']).toContain(p.type);
      expect(typeof p.attempt).toBe('number');
      expect(new Date(p.at).toISOString()).toBe(p.at);
      expect(p.state).toBe(recorded[i]!.toState);
      if (p.event === 'claimed') expect(p.agentId).toBe('test-agent');
      if (p.event === 'complete') expect(p.final).toBe(true);
    }

    const of = (key: string) =>
      payloads.filter((p) => p.key === key).map((p) => `${p.event}:${p.state}`);
    expect(of('design')).toEqual([
      'new:PENDING',
      'claimed:ASSIGNED',
      'updated:ACTIVE',
      'complete:DONE',
    ]);
    expect(of('build')).toEqual([
      'new:BACKLOG',
      'updated:PENDING',
      'claimed:ASSIGNED',
      'updated:ACTIVE',
      'complete:DONE',
    ]);
    expect(of('flaky')).toEqual([
      'new:PENDING',
      'claimed:ASSIGNED',
      'updated:ACTIVE',
      'updated:PENDING',
      'claimed:ASSIGNED',
      'updated:ACTIVE',
      'failed:FAILED',
    ]);
    const done = payloads.find((p) => p.key === 'build' && p.event === 'complete')!;
    expect(done).toMatchObject({ result: { built: 'build' }, agentId: 'test-agent', attempt: 1 });
    const retry = payloads.find(
      (p) => p.key === 'flaky' && p.state === 'PENDING' && p.event === 'updated',
    )!;
    expect(retry.error).toEqual({ message: 'flaky broke' });
    expect(retry.final).toBeUndefined();
    const failed = payloads.find((p) => p.key === 'flaky' && p.event === 'failed')!;
    expect(failed).toMatchObject({ attempt: 2, final: true, error: { message: 'flaky broke' } });

    expect((await store.getGoal(goalId))?.state).toBe('FAILED');
    expect(validate(goalEnd.payload)).toBe(true);
  });

  it('publishes progress, a failure by a dependency and a cancel on their channels', async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    const goalId = newGoalId();
    await submitGoal(store, coordinator, goalId, [
      { key: 'base', type: 'dev' },
      { key: 'top', type: 'dev', dependsOn: 'base', mayFail: true },
      { key: 'report', type: 'ops' },
      { key: 'stop', type: 'ops', mayFail: true },
    ]);
    workers.push(
      taskWorker(coordinator, 'dev', (data) => {
        if (data.key === 'base') throw new Error('base broke');
        return 'unreachable';
      }),
      taskWorker(coordinator, 'ops', async (data, _attempt, progress) => {
        if (data.key === 'stop') throw new UnrecoverableError(cancelledReason('api:ops'));
        await progress({ qualityScore: 0.75, step: 1 });
        return 'reported';
      }),
      goalWorker(coordinator),
    );
    const ofGoal = () =>
      messages
        .map((m) => ({ channel: m.channel, p: m.payload as TaskChannelPayload }))
        .filter((m) => m.p.goalId === goalId);
    await waitFor('the goal to end', () => ofGoal().some((m) => m.channel === 'goals:complete'));
    await waitFor('the last task events', () =>
      ['top', 'report', 'stop'].every((key) => ofGoal().some((m) => m.p.key === key && m.p.final)),
    );
    for (const m of ofGoal()) expect(validate(m.p)).toBe(true);

    const top = ofGoal().find((m) => m.p.key === 'top' && m.p.final)!;
    expect(top.channel).toBe('tasks:failed');
    expect(top.p).toMatchObject({
      state: 'FAILED',
      error: { message: 'dependency base failed', dependency: 'base' },
    });
    const stop = ofGoal().find((m) => m.p.key === 'stop' && m.p.final)!;
    expect(stop.channel).toBe('tasks:cancelled');
    expect(stop.p.state).toBe('CANCELLED');
    const progress = ofGoal().find((m) => m.p.key === 'report' && m.p.progress !== undefined)!;
    expect(progress).toMatchObject({
      channel: 'tasks:updated',
      p: { state: 'ACTIVE', progress: { qualityScore: 0.75, step: 1 } },
    });
    expect((await store.getTask(`${goalId}.report`))?.qualityScore).toBe(0.75);
  });

  it('holds the contract for a diamond planned by the supervisor and run by an autonomous agent', async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    const supervisor = new SupervisorAgent(store, coordinator, { templatesDir: null, llm: null });
    const agent = new AutonomousAgent({
      agentId: 'dev-1',
      capabilities: ['dev', 'ops'],
      redisCoordinator: coordinator,
      handlers: {
        dev: (task, ctx) => ({ key: task.key, saw: Object.keys(ctx.dependencies).sort() }),
        ops: (task) => ({ shipped: task.key }),
      },
      concurrency: 2,
      onError: () => undefined,
    });
    await agent.start();
    try {
      const from = (await store.lastSeq()) + 1;
      const { goalId } = await supervisor.submitPlan({
        goal: 'diamond',
        tasks: [
          { key: 'schema', title: 'schema', type: 'dev' },
          { key: 'api', title: 'api', type: 'dev', dependsOn: ['schema'] },
          { key: 'ui', title: 'ui', type: 'dev', dependsOn: ['schema'] },
          { key: 'ship', title: 'ship', type: 'ops', dependsOn: ['api', 'ui'] },
        ],
      });
      await waitFor('goals:complete of the diamond', () =>
        messages.some(
          (m) =>
            m.channel === 'goals:complete' && (m.payload as GoalChannelPayload).goalId === goalId,
        ),
      );
      const recorded = await store.eventsAfter(from - 1, 1000);
      await waitFor('every event of the diamond', () =>
        messages.some((m) => (m.payload as TaskChannelPayload).seq === recorded.at(-1)!.seq),
      );
      const mine = messages
        .map((m) => m.payload as TaskChannelPayload)
        .filter((p) => p.seq >= from && p.seq <= recorded.at(-1)!.seq);
      expect(mine.map((p) => p.seq)).toEqual(recorded.map((e) => e.seq));
      for (const p of mine) expect(validate(p)).toBe(true);
      const done = mine.filter((p) => p.event === 'complete');
      expect(done.map((p) => p.key).sort()).toEqual(['api', 'schema', 'ship', 'ui']);
      expect(done.every((p) => p.agentId === 'dev-1' && p.goalId === goalId)).toBe(true);
      expect(done.find((p) => p.key === 'ship')).toMatchObject({
        type: 'ops',
        result: { shipped: 'ship' },
      });
      expect((await store.getGoal(goalId))?.state).toBe('DONE');
    } finally {
      await agent.close();
      await supervisor.close();
    }
  });

  it('records a dead-letter redrive as a new epoch whose attempts count from 1 again', async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    const goalId = newGoalId();
    const taskId = `${goalId}.once`;
    await submitGoal(store, coordinator, goalId, [{ key: 'once', type: 'dev', mayFail: true }]);
    workers.push(
      taskWorker(coordinator, 'dev', (data) => {
        if (data.epoch === 0) throw new Error('first run breaks');
        return 'second run works';
      }),
    );
    await waitFor('FAILED in SQL', async () => (await store.getTask(taskId))?.state === 'FAILED');
    // What retryDeadLetter does: bump the job's epoch, re-run it with its attempts reset.
    const job = (await Job.fromId(coordinator.queue('dev'), taskId))!;
    await job.updateData({ ...job.data, epoch: 1 });
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    await waitFor('DONE in SQL', async () => (await store.getTask(taskId))?.state === 'DONE');
    expect(await store.getTask(taskId)).toMatchObject({
      epoch: 1,
      attempt: 1,
      result: 'second run works',
      error: null,
    });
    await waitFor('the complete message', () =>
      messages.some(
        (m) =>
          (m.payload as TaskChannelPayload).taskId === taskId && m.channel === 'tasks:complete',
      ),
    );
    const seen = messages
      .map((m) => m.payload as TaskChannelPayload)
      .filter((p) => p.taskId === taskId)
      .map((p) => `${p.event}:${p.state}:${p.attempt}`);
    expect(seen).toEqual([
      'new:PENDING:0',
      'claimed:ASSIGNED:1',
      'updated:ACTIVE:1',
      'failed:FAILED:1',
      'updated:PENDING:0',
      'claimed:ASSIGNED:1',
      'updated:ACTIVE:1',
      'complete:DONE:1',
    ]);
  });
});
