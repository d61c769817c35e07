/**
 * Approvals on PostgreSQL: the same transitions, audit entries and results as on SQLite (see
 * approvals.test.ts), with the mirror writing to a PostgreSQL schema of its own.
 */
import request from 'supertest';
import type { Json } from '../../src/entities/task-model';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { startInternalWorkers, type InternalWorkers } from '../../src/queues/internal-workers';
import { startApiApp, type ApiFixture } from '../helpers/api-app';
import { waitFor } from '../helpers/wait-for';

const TOKEN = 'pg-approvals';

describe('approvals on PostgreSQL', () => {
  let api: ApiFixture;
  let mirror: MirrorHandle;
  let internal: InternalWorkers;
  let agent: AutonomousAgent;

  beforeAll(async () => {
    api = await startApiApp({ token: TOKEN, supervisor: true, db: 'postgres' });
    mirror = startMirror({ store: api.store, coordinator: api.coordinator, blockMs: 50 });
    internal = startInternalWorkers(api.coordinator);
    agent = new AutonomousAgent({
      agentId: 'pg-approvals-agent',
      capabilities: ['work'],
      taskRegistry: api.store,
      redisCoordinator: api.coordinator,
      handlers: { work: async (_task, ctx) => ({ deps: ctx.dependencies }) },
    });
    await agent.start();
  });

  afterAll(async () => {
    await agent?.close();
    await internal?.close();
    await mirror?.close();
    await api?.close();
  });

  const post = (path: string, body: object = {}) =>
    request(api.app).post(path).auth(TOKEN, { type: 'bearer' }).send(body);

  async function run(decide: 'approve' | 'reject'): Promise<{ goalId: string; state: string }> {
    const submitted = await post('/api/goals', {
      plan: {
        goal: `pg ${decide}`,
        tasks: [
          { key: 'build', title: 'Build', type: 'work' },
          { key: 'gate', title: 'Go?', dependsOn: ['build'], approval: { prompt: 'Go?' } },
          { key: 'after', title: 'After', type: 'work', dependsOn: ['gate', 'build'] },
        ],
      },
    }).expect(201);
    const goalId = submitted.body.goalId as string;
    const gate = `${goalId}.gate`;
    await waitFor('the approval parked', async () => {
      const parked = (await api.coordinator.queue('_approvals').getJobState(gate)) === 'delayed';
      return parked && (await api.store.getTask(gate))?.state === 'PENDING';
    });
    await post(`/api/tasks/${gate}/${decide}`, { note: 'n', reason: 'r' }).expect(200);
    await post(`/api/tasks/${gate}/${decide}`).expect(409);
    const state = await waitFor('the goal ended', async () => {
      const goal = await api.store.getGoal(goalId);
      return goal && goal.state !== 'ACTIVE' ? goal.state : null;
    });
    return { goalId, state };
  }

  it('approve: DONE, audited with the actor and note, the dependent sees the result', async () => {
    const { goalId, state } = await run('approve');
    expect(state).toBe('DONE');
    const gate = `${goalId}.gate`;
    const after = await api.store.getTask(`${goalId}.after`);
    expect((after?.result as { deps: Record<string, Json> }).deps.gate).toEqual({
      approved: true,
      by: 'api:admin',
      note: 'n',
      data: null,
    });
    const events = (await api.store.eventsAfter(0, 100_000)).filter((e) => e.taskId === gate);
    expect(events.map((e) => e.toState)).toEqual([
      'BACKLOG',
      'PENDING',
      'ASSIGNED',
      'ACTIVE',
      'DONE',
    ]);
    expect(events.at(-1)).toMatchObject({ actor: 'api:admin', detail: { reason: 'n' } });
  });

  it('reject: FAILED with the actor, the goal fails', async () => {
    const { goalId, state } = await run('reject');
    expect(state).toBe('FAILED');
    const gate = await api.store.getTask(`${goalId}.gate`);
    expect(gate?.error?.message).toBe('rejected by api:admin: r');
    const failed = (await api.store.eventsAfter(0, 100_000)).find(
      (e) => e.taskId === gate!.id && e.toState === 'FAILED',
    );
    expect(failed?.actor).toBe('api:admin');
  });
});
