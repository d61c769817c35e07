/**
 * `GET /api/tasks/:id/events` and `GET /api/tasks/:id/logs` against a real agent: a task that
 * fails once and then succeeds has two attempts (RETRIED then DONE, both by the agent) and its
 * job log holds the handler's `ctx.log` lines; an unknown id is 404, a bad limit 400.
 */
import request from 'supertest';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { startInternalWorkers, type InternalWorkers } from '../../src/queues/internal-workers';
import { startApiApp, type ApiFixture } from '../helpers/api-app';
import { waitFor } from '../helpers/wait-for';

describe('task events and logs routes', () => {
  let api: ApiFixture;
  let mirror: MirrorHandle;
  let internal: InternalWorkers;
  let agent: AutonomousAgent;
  let calls = 0;

  beforeAll(async () => {
    api = await startApiApp({ supervisor: true });
    mirror = startMirror({ store: api.store, coordinator: api.coordinator, blockMs: 50 });
    internal = startInternalWorkers(api.coordinator);
    agent = new AutonomousAgent({
      agentId: 'history-agent',
      capabilities: ['flaky'],
      taskRegistry: api.store,
      redisCoordinator: api.coordinator,
      handlers: {
        flaky: async (_task, ctx) => {
          calls += 1;
          await ctx.log(`try ${calls}`);
          if (calls === 1) throw new Error('first try fails');
          return { tries: calls };
        },
      },
    });
    await agent.start();
  });

  afterAll(async () => {
    await agent?.close();
    await internal?.close();
    await mirror?.close();
    await api?.close();
  });

  it('gives the attempts with their agent and times, and the job log lines', async () => {
    const submitted = await request(api.app)
      .post('/api/goals')
      .send({
        plan: {
          goal: 'Try twice',
          tasks: [{ key: 'work', title: 'Work', type: 'flaky', attempts: 2 }],
        },
      })
      .expect(201);
    const taskId = `${submitted.body.goalId as string}.work`;
    await waitFor(
      'the task to be DONE',
      async () => (await api.store.getTask(taskId))?.state === 'DONE',
    );

    const history = await request(api.app).get(`/api/tasks/${taskId}/events`).expect(200);
    const events = history.body.events as Array<{ event: string; taskId: string }>;
    expect(events[0]?.event).toBe('new');
    expect(events.at(-1)?.event).toBe('complete');
    expect(events.every((e) => e.taskId === taskId)).toBe(true);
    const attempts = history.body.attempts as Array<Record<string, unknown>>;
    expect(attempts.map((a) => [a.attempt, a.agentId, a.outcome, a.error])).toEqual([
      [1, 'history-agent', 'RETRIED', 'first try fails'],
      [2, 'history-agent', 'DONE', null],
    ]);
    for (const a of attempts) {
      const claimed = Date.parse(a.claimedAt as string);
      const started = Date.parse(a.startedAt as string);
      const finished = Date.parse(a.finishedAt as string);
      expect(claimed).toBeLessThanOrEqual(started);
      expect(started).toBeLessThanOrEqual(finished);
    }

    const limited = await request(api.app).get(`/api/tasks/${taskId}/events?limit=1`).expect(200);
    expect(limited.body.events).toHaveLength(1);

    const logs = await request(api.app).get(`/api/tasks/${taskId}/logs`).expect(200);
    expect(logs.body.logs).toEqual(expect.arrayContaining(['try 1', 'try 2']));
    expect(logs.body.count).toBe((logs.body.logs as string[]).length);
    const last = await request(api.app).get(`/api/tasks/${taskId}/logs?limit=1`).expect(200);
    expect(last.body.logs).toEqual([(logs.body.logs as string[]).at(-1)]);
    expect(last.body.count).toBe(logs.body.count);
  });

  it('answers 404 for an unknown task and 400 for a bad limit', async () => {
    for (const route of ['events', 'logs']) {
      const missing = await request(api.app).get(`/api/tasks/no-such-task/${route}`).expect(404);
      expect(missing.body.error.code).toBe('not_found');
      const bad = await request(api.app)
        .get(`/api/tasks/no-such-task/${route}?limit=0`)
        .expect(400);
      expect(bad.body.error.field).toBe('limit');
    }
  });
});
