/**
 * Tasks added to a running goal through every surface (DESIGN.md "Living goals"): REST
 * `POST /api/goals/:id/tasks`, `agentq goal extend` and `InterfaceAgent.extendGoal`. Bad tasks
 * are answered 400 / exit 2 with the field named and nothing added; an unknown goal 404 / exit 1;
 * an ended goal 409 / exit 1; a read-only token 403. Real Redis and SQLite, the supervisor in
 * process; the tasks' capability is served by nobody so the goal stays open.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createApp, type AgentqApp } from '../../src/board/app';
import { InterfaceAgent } from '../../src/interface/interface-agent';
import { FaultWorld } from '../helpers/fault-world';

jest.setTimeout(120_000);

const ADMIN = { Authorization: 'Bearer admin-token' };
const LOOK = { Authorization: 'Bearer look-token' };

function task(key: string, dependsOn: string[] = []) {
  return { key, title: `task ${key}`, type: 'unserved-extend', dependsOn };
}

describe('extending a goal through REST, the CLI and InterfaceAgent', () => {
  let world: FaultWorld;
  let api: AgentqApp;

  beforeAll(async () => {
    world = await FaultWorld.start();
    api = createApp({
      store: world.registry,
      coordinator: world.coordinator,
      config: { token: 'admin-token', readonlyToken: 'look-token' },
      log: () => undefined,
      goals: world.supervisor,
    });
    await api.ready;
  });

  afterAll(async () => {
    await api?.close();
    await world?.close();
  });

  async function openGoal(name: string): Promise<string> {
    const created = await request(api.app)
      .post('/api/goals')
      .set(ADMIN)
      .send({ plan: { goal: `extend ${name}`, tasks: [task('a')] } })
      .expect(201);
    return created.body.goalId as string;
  }

  async function taskCount(goalId: string): Promise<number> {
    const goal = await request(api.app).get(`/api/goals/${goalId}`).set(ADMIN).expect(200);
    return (goal.body.tasks as unknown[]).length;
  }

  it('POST /api/goals/:id/tasks adds the tasks: 201 with goalId, tasks and created', async () => {
    const goalId = await openGoal('rest');
    const res = await request(api.app)
      .post(`/api/goals/${goalId}/tasks`)
      .set(ADMIN)
      .send({ tasks: [task('b', ['a'])] })
      .expect(201);
    expect(res.body.goalId).toBe(goalId);
    expect(res.body.created).toHaveLength(1);
    // The tasks the call named, as stored now (the goal's other tasks are in GET /api/goals/:id).
    expect((res.body.tasks as { key: string }[]).map((t) => t.key)).toEqual(['b']);
    expect(await taskCount(goalId)).toBe(2);
  });

  it('answers 400 naming the field and adds nothing', async () => {
    const goalId = await openGoal('bad');
    const res = await request(api.app)
      .post(`/api/goals/${goalId}/tasks`)
      .set(ADMIN)
      .send({ tasks: [task('b'), task('c', ['nowhere'])] })
      .expect(400);
    expect(res.body.error.field).toMatch(/^tasks\[1\]/);
    const missing = await request(api.app)
      .post(`/api/goals/${goalId}/tasks`)
      .set(ADMIN)
      .send({})
      .expect(400);
    expect(missing.body.error.field).toBe('tasks');
    expect(await taskCount(goalId)).toBe(1);
  });

  it('answers 404 for an unknown goal, 409 for an ended one, 403 for a read-only token', async () => {
    await request(api.app)
      .post('/api/goals/no-such-goal/tasks')
      .set(ADMIN)
      .send({ tasks: [task('b')] })
      .expect(404);
    const goalId = await openGoal('ended');
    await request(api.app).post(`/api/goals/${goalId}/cancel`).set(ADMIN).expect(202);
    await world.goalEnd(goalId);
    await request(api.app)
      .post(`/api/goals/${goalId}/tasks`)
      .set(ADMIN)
      .send({ tasks: [task('b')] })
      .expect(409);
    const open = await openGoal('readonly');
    await request(api.app)
      .post(`/api/goals/${open}/tasks`)
      .set(LOOK)
      .send({ tasks: [task('b')] })
      .expect(403);
    expect(await taskCount(open)).toBe(1);
  });

  it('agentq goal extend: a line per added task, --json, exit 2 for bad tasks, 1 for unknown', async () => {
    const goalId = await openGoal('cli');
    const wrapped = join(world.dir, 'wrapped.json');
    writeFileSync(wrapped, JSON.stringify({ tasks: [task('b', ['a'])] }));
    const added = await world.cli(['goal', 'extend', goalId, wrapped]);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/Added b /);

    const bare = join(world.dir, 'bare.yaml');
    writeFileSync(bare, '- key: c\n  title: task c\n  type: unserved-extend\n  dependsOn: [b]\n');
    const json = await world.cli(['--json', 'goal', 'extend', goalId, bare]);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { goalId: string; created: string[] };
    expect(body.goalId).toBe(goalId);
    expect(body.created).toHaveLength(1);

    const badFile = join(world.dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify([task('d', ['nowhere'])]));
    const bad = await world.cli(['goal', 'extend', goalId, badFile]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/tasks\[0\]/);
    expect(await taskCount(goalId)).toBe(3);

    const unknown = await world.cli(['goal', 'extend', 'no-such-goal', wrapped]);
    expect(unknown.code).toBe(1);
  });

  it('InterfaceAgent.extendGoal adds tasks; a repeat adds none', async () => {
    const goalId = await openGoal('interface');
    const agent = new InterfaceAgent(world.registry, world.coordinator, {
      supervisor: world.supervisor,
      mirror: false,
    });
    const first = await agent.extendGoal(goalId, [task('b', ['a'])]);
    expect(first.created).toHaveLength(1);
    const again = await agent.extendGoal(goalId, [task('b', ['a'])]);
    expect(again.created).toEqual([]);
    expect(await taskCount(goalId)).toBe(2);
  });
});
