/**
 * The read side of the REST API against a real SQLite store and real Redis: health, status,
 * task and goal reads with their validation, the goal picture, the audit log, metrics, and the
 * error documents (400 naming the field, 404, 413, malformed JSON).
 */
import request from 'supertest';
import { STATE_COLOURS } from '../../src/board/graph-svg';
import { startApiApp, type ApiFixture } from '../helpers/api-app';

// Hooks live inside a describe so they run before the leak guard's root-level afterAll.
describe('REST API reads', () => {
  let api: ApiFixture;
  let goalId: string;

  beforeAll(async () => {
    api = await startApiApp();
    const seeded = await api.seedGoal({
      design: [],
      build: ['design'],
      test: ['build'],
      docs: ['design'],
    });
    goalId = seeded.goalId;
    await api.moveTo(`${goalId}.design`, 'DONE');
    await api.moveTo(`${goalId}.build`, 'ACTIVE');
  });

  afterAll(async () => {
    await api?.close();
  });

  describe('health and status', () => {
    it('answers /healthz with 200 when Redis and the database answer', async () => {
      const res = await request(api.app).get('/healthz').expect(200);
      expect(res.body).toEqual({ ok: true, redis: 'ok', db: 'ok' });
    });

    it('counts tasks by state and by type, and lists goals and agents', async () => {
      const res = await request(api.app).get('/api/status').expect(200);
      expect(res.body.tasks.byState).toMatchObject({ DONE: 1, ACTIVE: 1, BACKLOG: 2, PENDING: 0 });
      expect(res.body.tasks.byType.development).toMatchObject({ DONE: 1 });
      expect(res.body.goals.map((g: { id: string }) => g.id)).toContain(goalId);
      expect(res.body.goals[0].plan).toBeUndefined();
      expect(res.body.agents).toEqual([]);
    });
  });

  describe('tasks', () => {
    it('filters by goal, state list and type, with limit and offset', async () => {
      const all = await request(api.app).get(`/api/tasks?goalId=${goalId}`).expect(200);
      expect(all.body.tasks).toHaveLength(4);
      const some = await request(api.app)
        .get(`/api/tasks?goalId=${goalId}&state=done,active&type=development`)
        .expect(200);
      expect(some.body.tasks.map((t: { key: string }) => t.key).sort()).toEqual([
        'build',
        'design',
      ]);
      const page = await request(api.app)
        .get(`/api/tasks?goalId=${goalId}&limit=1&offset=1`)
        .expect(200);
      expect(page.body.tasks).toHaveLength(1);
    });

    it('answers 400 naming the field for a bad filter', async () => {
      const state = await request(api.app).get('/api/tasks?state=SLEEPING').expect(400);
      expect(state.body.error).toMatchObject({ code: 'invalid_input', field: 'state.0' });
      const limit = await request(api.app).get('/api/tasks?limit=0').expect(400);
      expect(limit.body.error.field).toBe('limit');
      const offset = await request(api.app).get('/api/tasks?offset=x').expect(400);
      expect(offset.body.error.field).toBe('offset');
    });

    it('shows one task, and 404 for an unknown id', async () => {
      const res = await request(api.app).get(`/api/tasks/${goalId}.build`).expect(200);
      expect(res.body.task).toMatchObject({ key: 'build', state: 'ACTIVE', agentId: 'agent-1' });
      const missing = await request(api.app).get('/api/tasks/nope').expect(404);
      expect(missing.body.error).toMatchObject({
        code: 'not_found',
        message: 'task nope not found',
      });
    });
  });

  describe('goals', () => {
    it('shows a goal with its tasks, and 404 for an unknown goal', async () => {
      const res = await request(api.app).get(`/api/goals/${goalId}`).expect(200);
      expect(res.body.goal).toMatchObject({ id: goalId, state: 'ACTIVE', taskCount: 4 });
      expect(res.body.tasks).toHaveLength(4);
      await request(api.app).get('/api/goals/g-missing').expect(404);
      await request(api.app).get('/api/goals/g-missing/graph.svg').expect(404);
    });

    it('draws the goal as an SVG: one node per task, coloured by its state, an edge per dependency', async () => {
      const res = await request(api.app).get(`/api/goals/${goalId}/graph.svg`).expect(200);
      expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
      const svg = String(res.body instanceof Buffer ? res.body.toString('utf8') : res.text);
      const nodes = [
        ...svg.matchAll(
          /<g class="task" data-task-id="([^"]+)" data-state="(\w+)"[^>]*>.*?<rect [^>]*fill="([^"]+)"/g,
        ),
      ];
      expect(nodes.map((n) => [n[1], n[2], n[3]]).sort()).toEqual(
        [
          [`${goalId}.build`, 'ACTIVE', STATE_COLOURS.ACTIVE],
          [`${goalId}.design`, 'DONE', STATE_COLOURS.DONE],
          [`${goalId}.docs`, 'BACKLOG', STATE_COLOURS.BACKLOG],
          [`${goalId}.test`, 'BACKLOG', STATE_COLOURS.BACKLOG],
        ].sort(),
      );
      expect(svg.match(/<path class="edge"/g)).toHaveLength(3);
    });

    it('lists recent goals', async () => {
      const res = await request(api.app).get('/api/goals?state=ACTIVE').expect(200);
      expect(res.body.goals.map((g: { id: string }) => g.id)).toContain(goalId);
      await request(api.app).get('/api/goals?state=SLEEPING').expect(400);
    });
  });

  describe('events, agents, metrics', () => {
    it('pages the audit log after a seq', async () => {
      const first = await request(api.app).get('/api/events?after=0&limit=2').expect(200);
      expect(first.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
      const rest = await request(api.app).get(`/api/events?after=${first.body.next}`).expect(200);
      expect(rest.body.events[0].seq).toBe(3);
      const bad = await request(api.app).get('/api/events?after=-1').expect(400);
      expect(bad.body.error.field).toBe('after');
    });

    it('lists live agents', async () => {
      const res = await request(api.app).get('/api/agents').expect(200);
      expect(res.body).toEqual({ agents: [] });
    });

    it('exposes tasks by state and capability, queue depth and live agents on /metrics', async () => {
      const res = await request(api.app).get('/metrics').expect(200);
      expect(res.text).toContain('agentq_tasks{state="DONE",type="development"} 1');
      expect(res.text).toContain('agentq_agents_live 0');
      expect(res.text).toContain('agentq_queue_jobs{queue="_dlq",shard="0",state="failed"} 0');
      expect(res.text).toContain('# TYPE agentq_task_run_seconds histogram');
    });
  });

  describe('error documents', () => {
    it('answers 413 for a body over 1 MiB and 400 for malformed JSON, never 500', async () => {
      const big = JSON.stringify({ goal: 'x'.repeat(1024 * 1024 + 10) });
      const large = await request(api.app)
        .post('/api/goals')
        .set('Content-Type', 'application/json')
        .send(big)
        .expect(413);
      expect(large.body.error.code).toBe('payload_too_large');
      const malformed = await request(api.app)
        .post('/api/goals')
        .set('Content-Type', 'application/json')
        .send('{"goal": ')
        .expect(400);
      expect(malformed.body.error).toMatchObject({ code: 'malformed_json', field: 'body' });
    });

    it('answers 404 in the error shape for an unknown route', async () => {
      const res = await request(api.app).get('/api/nothing').expect(404);
      expect(res.body.error.code).toBe('not_found');
    });
  });
});
