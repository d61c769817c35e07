/**
 * Mutations through the REST API with the real supervisor: goals from a plan or text, with
 * idempotency keys (body or header), one-task goals, 400 naming the field, 404 and 409 for
 * cancel and retry, and the audit actor recorded with the created tasks.
 */
import request from 'supertest';
import { startApiApp, type ApiFixture } from '../helpers/api-app';

const plan = {
  goal: 'Ship the login page',
  tasks: [
    { key: 'design', title: 'Design it', type: 'design' },
    { key: 'build', title: 'Build it', type: 'development', dependsOn: ['design'] },
  ],
};

describe('REST API mutations', () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await startApiApp({ supervisor: true });
  });

  afterAll(async () => {
    await api?.close();
  });

  it('submits a plan (201), and the same idempotency key again returns the goal (200)', async () => {
    const first = await request(api.app)
      .post('/api/goals')
      .send({ plan, key: 'login-v1' })
      .expect(201);
    expect(first.body).toMatchObject({ created: true, planner: 'object' });
    expect(first.body.tasks.map((t: { key: string }) => t.key).sort()).toEqual(['build', 'design']);
    const again = await request(api.app)
      .post('/api/goals')
      .set('Idempotency-Key', 'login-v1')
      .send({ plan })
      .expect(200);
    expect(again.body).toMatchObject({ created: false, goalId: first.body.goalId });
    const events = await request(api.app).get('/api/events?after=0').expect(200);
    expect(events.body.events[0]).toMatchObject({ event: 'new', actor: 'api:anonymous' });
  });

  it('plans a goal from text', async () => {
    const res = await request(api.app)
      .post('/api/goals')
      .send({ goal: 'Build user authentication system' })
      .expect(201);
    expect(res.body.tasks.length).toBeGreaterThan(1);
    expect(res.body.planner).toMatch(/^template/);
  });

  it('answers 400 naming the field for a bad goal or task body', async () => {
    const neither = await request(api.app).post('/api/goals').send({}).expect(400);
    expect(neither.body.error.field).toBe('goal');
    const both = await request(api.app).post('/api/goals').send({ goal: 'x', plan }).expect(400);
    expect(both.body.error.field).toBe('goal');
    const cyclic = await request(api.app)
      .post('/api/goals')
      .send({ plan: { goal: 'g', tasks: [{ key: 'a', title: 'A', type: 't', dependsOn: ['a'] }] } })
      .expect(400);
    expect(cyclic.body.error.code).toBe('plan_cycle');
    const header = await request(api.app)
      .post('/api/goals')
      .set('Idempotency-Key', 'k'.repeat(300))
      .send({ plan })
      .expect(400);
    expect(header.body.error.field).toBe('Idempotency-Key');
    const priority = await request(api.app)
      .post('/api/tasks')
      .send({ title: 'T', type: 'development', priority: 11 })
      .expect(400);
    expect(priority.body.error.field).toBe('priority');
    const title = await request(api.app)
      .post('/api/tasks')
      .send({ type: 'development' })
      .expect(400);
    expect(title.body.error.field).toBe('title');
  });

  it('creates a one-task goal', async () => {
    const res = await request(api.app)
      .post('/api/tasks')
      .send({ title: 'Fix the typo', type: 'development', priority: 9 })
      .expect(201);
    expect(res.body.task).toMatchObject({ title: 'Fix the typo', priority: 9, state: 'PENDING' });
  });

  it('answers 404 for unknown ids and 409 for illegal states', async () => {
    await request(api.app).post('/api/tasks/nope/cancel').expect(404);
    await request(api.app).post('/api/goals/g-nope/cancel').expect(404);
    await request(api.app).post('/api/tasks/nope/retry').expect(404);
    const { goalId } = await api.seedGoal({ done: [] });
    await api.moveTo(`${goalId}.done`, 'DONE');
    const cancel = await request(api.app).post(`/api/tasks/${goalId}.done/cancel`).expect(409);
    expect(cancel.body.error.code).toBe('conflict');
    const retry = await request(api.app).post(`/api/tasks/${goalId}.done/retry`).expect(409);
    expect(retry.body.error.message).toMatch(/only a FAILED task/);
  });

  it('cancels a running goal through the supervisor (202)', async () => {
    const submitted = await request(api.app).post('/api/goals').send({ plan }).expect(201);
    const res = await request(api.app)
      .post(`/api/goals/${submitted.body.goalId}/cancel`)
      .expect(202);
    expect(res.body).toEqual({ goalId: submitted.body.goalId, cancelling: true });
  });

  it('lists the dead-letter queue', async () => {
    const res = await request(api.app).get('/api/dlq').expect(200);
    expect(res.body).toEqual({ deadLetters: [] });
    await request(api.app).post('/api/dlq/nope@0/retry').expect(404);
  });
});
