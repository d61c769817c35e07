/**
 * Approvals (DESIGN.md, "Living goals"): plan tasks with `approval`, run by no agent, decided by
 * a person through REST, the CLI, the library and `routeCommand`, or by their timeout. A real
 * agent in its own process runs the other tasks (and, like every agent, the internal workers,
 * the approval worker among them); the mirror in this process writes SQL; the CLI runs as the
 * real `agentq` binary against the same SQLite file and Redis prefix.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { createApp, type AgentqApp } from '../../src/board/app';
import type { Json, PlanSpec } from '../../src/entities/task-model';
import { TaskRegistry } from '../../src/entities/task-registry';
import { InterfaceAgent } from '../../src/interface/interface-agent';
import { approveTask, cancelGoal, cancelTask } from '../../src/interface/operations';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { readApprovalWait } from '../../src/queues/approvals';
import { recoverGoals } from '../../src/queues/recover';
import { resolvePlan } from '../../src/queues/plan-schema';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { spawnAgent, type AgentChild } from '../helpers/agent-spawn';
import { deleteKeysMatching } from '../helpers/redis-cluster';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'bin.js');
const HANDLERS = resolve(__dirname, '..', 'fixtures', 'handlers', 'behaviours.cjs');
const TOKEN = 'approvals-admin';
const READONLY = 'approvals-viewer';

describe('approvals', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-approvals-'));
  const dbPath = join(dir, 'agentq.db');
  const prefix = uniquePrefix('appr');
  const store = new TaskRegistry({ backend: 'sqlite', path: dbPath });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const goals = new SupervisorAgent(store, coordinator, { templatesDir: null, llm: null });
  const iface = new InterfaceAgent(store, coordinator, { mirror: false, supervisor: goals });
  let app: AgentqApp;
  let mirror: MirrorHandle;
  let agent: AgentChild;

  function agentq(
    args: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((done, fail) => {
      const child = spawn(
        process.execPath,
        [BIN, '--redis', REDIS_URL, '--db', `sqlite:${dbPath}`, '--prefix', prefix, ...args],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', fail);
      child.on('close', (code) => done({ code, stdout, stderr }));
    });
  }

  const post = (path: string, body: object = {}, token = TOKEN) =>
    request(app.app).post(path).auth(token, { type: 'bearer' }).send(body);

  async function submit(tasks: PlanSpec['tasks']): Promise<string> {
    const { goalId } = await goals.submitPlan({ goal: 'approvals test', tasks });
    return goalId;
  }

  /** Waits until the approval task is parked: awaiting a decision. */
  async function awaiting(taskId: string): Promise<void> {
    await waitFor(`${taskId} awaiting approval`, async () => {
      const wait = await readApprovalWait(coordinator, taskId);
      const task = await store.getTask(taskId);
      const parked = (await coordinator.queue('_approvals').getJobState(taskId)) === 'delayed';
      return parked && wait !== null && wait.decision === null && task?.state === 'PENDING';
    });
  }

  async function goalEnd(goalId: string): Promise<string> {
    return waitFor(`goal ${goalId} ended`, async () => {
      const goal = await store.getGoal(goalId);
      return goal && goal.state !== 'ACTIVE' ? goal.state : null;
    });
  }

  beforeAll(async () => {
    await store.open();
    app = createApp({
      store,
      coordinator,
      config: { token: TOKEN, readonlyToken: READONLY },
      goals,
    });
    await app.ready;
    mirror = startMirror({ store, coordinator, blockMs: 50 });
    agent = await spawnAgent({
      url: REDIS_URL,
      prefix,
      agentId: 'appr-agent',
      capabilities: ['work'],
      handlersFile: HANDLERS,
    });
  });

  afterAll(async () => {
    agent?.child.kill('SIGTERM');
    await agent?.exited;
    await mirror?.close();
    await iface.close();
    await goals.close();
    await app?.close();
    await coordinator.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('approve over REST: DONE with the approval result, the dependents run and see it', async () => {
    // The approval is shared by two dependents: one its BullMQ parent, one through a link.
    const goalId = await submit([
      { key: 'build', title: 'Build', type: 'work' },
      {
        key: 'gate',
        title: 'Deploy?',
        dependsOn: ['build'],
        approval: { prompt: 'Ship it?' },
      } as PlanSpec['tasks'][number],
      { key: 'deploy', title: 'Deploy', type: 'work', dependsOn: ['gate'] },
      { key: 'announce', title: 'Announce', type: 'work', dependsOn: ['gate', 'build'] },
    ]);
    const gate = `${goalId}.gate`;
    expect((await store.getTask(gate))?.type).toBe('_approvals');
    await awaiting(gate);

    // The read-only token may look, not decide.
    await post(`/api/tasks/${gate}/approve`, {}, READONLY).expect(403);

    const approved = await post(`/api/tasks/${gate}/approve`, {
      note: 'looks good',
      data: { ticket: 42 },
    }).expect(200);
    expect(approved.body).toEqual({ taskId: gate, approved: true, by: 'api:admin' });
    // Twice: the second is a conflict, whichever way it comes.
    const again = await post(`/api/tasks/${gate}/approve`).expect(409);
    expect(again.body.error.message).toMatch(/not awaiting approval/);
    await post(`/api/tasks/${gate}/reject`).expect(409);

    expect(await goalEnd(goalId)).toBe('DONE');
    const result = { approved: true, by: 'api:admin', note: 'looks good', data: { ticket: 42 } };
    expect((await store.getTask(gate))?.result).toEqual(result);
    for (const key of ['deploy', 'announce']) {
      const task = await store.getTask(`${goalId}.${key}`);
      expect((task?.result as { deps: Record<string, Json> }).deps.gate).toEqual(result);
    }
    // Audited: the decision's actor and note.
    const events = (await store.eventsAfter(0, 100_000)).filter((e) => e.taskId === gate);
    expect(events.map((e) => e.toState)).toEqual([
      'BACKLOG',
      'PENDING',
      'ASSIGNED',
      'ACTIVE',
      'DONE',
    ]);
    expect(events.at(-1)).toMatchObject({
      actor: 'api:admin',
      agentId: 'api:admin',
      detail: { result, reason: 'looks good' },
    });
    // In causal order: the dependents wait until the approval is DONE.
    const all = await store.eventsAfter(0, 100_000);
    const doneSeq = events.at(-1)!.seq;
    for (const key of ['deploy', 'announce']) {
      const pending = all.find((e) => e.taskId === `${goalId}.${key}` && e.toState === 'PENDING');
      expect(pending!.seq).toBeGreaterThan(doneSeq);
    }
    // Ended: a late decision is still a conflict.
    await post(`/api/tasks/${gate}/approve`).expect(409);
  });

  it('reject from the CLI: FAILED with the actor and reason, the goal fails', async () => {
    const goalId = await submit([
      { key: 'gate', title: 'Go?', approval: {} } as PlanSpec['tasks'][number],
      { key: 'after', title: 'After', type: 'work', dependsOn: ['gate'] },
    ]);
    const gate = `${goalId}.gate`;
    await awaiting(gate);
    const rejected = await agentq(['task', 'reject', gate, '--reason', 'not today']);
    expect(rejected).toMatchObject({ code: 0 });
    expect(rejected.stdout).toMatch(new RegExp(`Rejected task ${gate} \\(by cli:.+\\)\\.`));
    // Twice: exit 1 with the reason.
    const twice = await agentq(['task', 'reject', gate]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/not awaiting approval/);

    expect(await goalEnd(goalId)).toBe('FAILED');
    const task = await store.getTask(gate);
    expect(task?.state).toBe('FAILED');
    expect(task?.error?.message).toMatch(/^rejected by cli:.+: not today$/);
    const failed = (await store.eventsAfter(0, 100_000)).find(
      (e) => e.taskId === gate && e.toState === 'FAILED',
    );
    expect(failed?.actor).toMatch(/^cli:/);
    expect((await store.getTask(`${goalId}.after`))?.state).not.toBe('DONE');
  });

  it('task retry of a rejected approval re-opens the goal, which asks again', async () => {
    const goalId = await submit([
      { key: 'gate', title: 'Again?', approval: {} } as PlanSpec['tasks'][number],
      { key: 'after', title: 'After', type: 'work', dependsOn: ['gate'] },
    ]);
    const gate = `${goalId}.gate`;
    await awaiting(gate);
    await post(`/api/tasks/${gate}/reject`, { reason: 'first no' }).expect(200);
    expect(await goalEnd(goalId)).toBe('FAILED');
    await post(`/api/tasks/${gate}/retry`).expect(202);
    await awaiting(gate);
    expect((await readApprovalWait(coordinator, gate))?.decision).toBeNull();
    await post(`/api/tasks/${gate}/approve`, { note: 'second yes' }).expect(200);
    expect(await goalEnd(goalId)).toBe('DONE');
    expect((await store.getTask(gate))?.result).toMatchObject({ note: 'second yes' });
  });

  it('an optional approval rejected through the library: the goal goes on', async () => {
    const goalId = await submit([
      { key: 'gate', title: 'Extra?', approval: {}, optional: true } as PlanSpec['tasks'][number],
      { key: 'after', title: 'After', type: 'work', dependsOn: ['gate'] },
    ]);
    const gate = `${goalId}.gate`;
    await awaiting(gate);
    expect(await iface.rejectTask(gate, { reason: 'skip it' }, 'lib:test')).toEqual({
      taskId: gate,
      approved: false,
      by: 'lib:test',
    });
    expect(await goalEnd(goalId)).toBe('DONE');
    const after = await store.getTask(`${goalId}.after`);
    expect((after?.result as { deps: Record<string, Json> }).deps.gate).toEqual({
      error: { message: 'rejected by lib:test: skip it' },
    });
  });

  it('routeCommand approves and rejects; the CLI approves with --data', async () => {
    const goalId = await submit([
      { key: 'one', title: 'One?', approval: {} } as PlanSpec['tasks'][number],
      { key: 'two', title: 'Two?', approval: {} } as PlanSpec['tasks'][number],
      { key: 'three', title: 'Three?', approval: {} } as PlanSpec['tasks'][number],
      { key: 'end', title: 'End', type: 'work', dependsOn: ['one', 'two', 'three'] },
    ]);
    for (const key of ['one', 'two', 'three']) await awaiting(`${goalId}.${key}`);
    expect(await iface.routeCommand(`approve ${goalId}.one note="fine by me"`, 'chat:bob')).toBe(
      `Approved task ${goalId}.one (by chat:bob).`,
    );
    await expect(iface.routeCommand(`approve ${goalId}.one`, 'chat:bob')).rejects.toThrow(
      /not awaiting approval: already decided \(approved by chat:bob\)/,
    );
    const notJson = await agentq(['task', 'approve', `${goalId}.two`, '--data', '{nope']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/data/);
    const two = await agentq(['task', 'approve', `${goalId}.two`, '--data', '[1,2]', '--json']);
    expect(two.code).toBe(0);
    expect(JSON.parse(two.stdout)).toMatchObject({ taskId: `${goalId}.two`, approved: true });
    await approveTask({ store, coordinator }, { taskId: `${goalId}.three` }, null);
    expect(await goalEnd(goalId)).toBe('DONE');
    const end = await store.getTask(`${goalId}.end`);
    const deps = (end?.result as { deps: Record<string, { by: string; note: Json; data: Json }> })
      .deps;
    expect(deps.one).toMatchObject({ by: 'chat:bob', note: 'fine by me', data: null });
    expect(deps.two).toMatchObject({ by: expect.stringMatching(/^cli:/), data: [1, 2] });
    expect(deps.three).toMatchObject({ by: 'unknown' });
  });

  it('what is not an approval, or not awaiting one, is a conflict: 409 and exit 1', async () => {
    const goalId = await submit([
      { key: 'first', title: 'First', type: 'work', data: { ms: 60_000 } },
      {
        key: 'gate',
        title: 'Later?',
        dependsOn: ['first'],
        approval: {},
      } as PlanSpec['tasks'][number],
    ]);
    // Its dependency has not ended: not awaiting approval yet.
    const early = await post(`/api/tasks/${goalId}.gate/approve`).expect(409);
    expect(early.body.error.message).toMatch(/not awaiting approval/);
    const work = await agentq(['task', 'approve', `${goalId}.first`]);
    expect(work.code).toBe(1);
    expect(work.stderr).toMatch(/is not an approval task/);
    await post(`/api/tasks/g-0000000000000000.x/approve`).expect(404);
    await post(`/api/tasks/${goalId}.gate/approve`, { data: 'x'.repeat(10), note: 5 }).expect(400);
    await cancelGoal({ store, coordinator }, { goalId }, 'test');
    expect(await goalEnd(goalId)).toBe('CANCELLED');
  });

  it('cancelling a task awaiting approval ends it CANCELLED; deciding it then is a conflict', async () => {
    const goalId = await submit([
      { key: 'gate', title: 'Maybe?', approval: {} } as PlanSpec['tasks'][number],
      { key: 'after', title: 'After', type: 'work', dependsOn: ['gate'] },
    ]);
    const gate = `${goalId}.gate`;
    await awaiting(gate);
    expect(await cancelTask({ store, coordinator }, { taskId: gate }, 'test')).toEqual({
      taskId: gate,
      cancelled: 2,
    });
    expect(await goalEnd(goalId)).toBe('CANCELLED');
    // A CANCELLED goal end is written at once; the gate's own end may come a batch later.
    await waitFor('the gate CANCELLED in SQL', async () =>
      (await store.getTask(gate))?.state === 'CANCELLED' ? true : null,
    );
    const late = await post(`/api/tasks/${gate}/approve`).expect(409);
    expect(late.body.error.message).toMatch(/is CANCELLED: not awaiting approval/);
  });

  it('timeouts decide both ways, by the approval worker', async () => {
    const goalId = await submit([
      {
        key: 'yes',
        title: 'Auto yes',
        approval: { timeoutMs: 300, onTimeout: 'approve' },
      } as PlanSpec['tasks'][number],
      { key: 'after', title: 'After', type: 'work', dependsOn: ['yes'] },
    ]);
    expect(await goalEnd(goalId)).toBe('DONE');
    expect((await store.getTask(`${goalId}.yes`))?.result).toMatchObject({
      approved: true,
      by: 'timeout',
      note: 'no decision within 300 ms',
    });
    const failing = await submit([
      { key: 'no', title: 'Auto no', approval: { timeoutMs: 300 } } as PlanSpec['tasks'][number],
    ]);
    expect(await goalEnd(failing)).toBe('FAILED');
    expect((await store.getTask(`${failing}.no`))?.error?.message).toBe(
      'rejected by timeout: no decision within 300 ms',
    );
  });

  it('a bad approval field is an InputError naming it, and nothing is written', async () => {
    const plan = (approval: unknown, extra: object = {}) => ({
      goal: 'bad',
      tasks: [
        { key: 'a', title: 'A', type: 'work' },
        { key: 'g', title: 'G', approval, ...extra },
      ],
    });
    expect(() => resolvePlan(plan({ onTimeout: 'maybe' }))).toThrow(
      expect.objectContaining({ field: 'tasks[1].approval.onTimeout' }),
    );
    expect(() => resolvePlan(plan({ timeoutMs: -5 }))).toThrow(
      expect.objectContaining({
        field: 'tasks[1].approval.timeoutMs',
        message: 'tasks[1].approval.timeoutMs: must be at least 1 ms',
      }),
    );
    expect(() => resolvePlan(plan('yes'))).toThrow(
      expect.objectContaining({ field: 'tasks[1].approval' }),
    );
    expect(() => resolvePlan(plan({}, { type: 'work' }))).toThrow(
      expect.objectContaining({ field: 'tasks[1].type' }),
    );
    const before = (await store.listGoals({ limit: 10_000 })).length;
    const rest = await post('/api/goals', { plan: plan({ onTimeout: 'maybe' }) }).expect(400);
    expect(rest.body.error.field).toBe('tasks[1].approval.onTimeout');
    expect((await store.listGoals({ limit: 10_000 })).length).toBe(before);
  });

  it('status, task show, /api/status and /metrics show what awaits approval and since when', async () => {
    const goalId = await submit([
      {
        key: 'gate',
        title: 'Release?',
        approval: { prompt: 'Release 1.2?', timeoutMs: 3_600_000 },
      } as PlanSpec['tasks'][number],
    ]);
    const gate = `${goalId}.gate`;
    await awaiting(gate);
    const wait = (await readApprovalWait(coordinator, gate))!;
    const since = new Date(wait.since).toISOString();

    const status = await agentq(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Awaiting approval: 1');
    expect(status.stdout).toContain(`${gate} Release?: since ${since}`);
    expect(status.stdout).toContain('— Release 1.2?');
    expect(status.stdout).not.toMatch(new RegExp(`Not being claimed:[^]*${gate}`));
    const json = JSON.parse((await agentq(['status', '--json'])).stdout);
    expect(json.awaitingApproval).toMatchObject({ count: 1, tasks: [{ taskId: gate, since }] });

    const show = await agentq(['task', 'show', gate]);
    expect(show.stdout).toMatch(/approval\s+Release 1\.2\?/);
    expect(show.stdout).toMatch(new RegExp(`awaiting approval\\s+since ${since}; rejects at `));
    const showJson = JSON.parse((await agentq(['task', 'show', gate, '--json'])).stdout);
    expect(showJson.approval).toMatchObject({ awaitingSince: since, timeoutMs: 3_600_000 });

    const api = await request(app.app).get('/api/status').auth(READONLY, { type: 'bearer' });
    expect(api.body.awaitingApproval).toMatchObject({
      count: 1,
      tasks: [{ taskId: gate, prompt: 'Release 1.2?', since, onTimeout: 'reject' }],
    });
    const metrics = await request(app.app).get('/metrics').auth(TOKEN, { type: 'bearer' });
    expect(metrics.text).toMatch(/^agentq_tasks_awaiting_approval 1$/m);

    await post(`/api/tasks/${gate}/reject`, { reason: 'not now' }).expect(200);
    expect(await goalEnd(goalId)).toBe('FAILED');
    const after = await request(app.app).get('/metrics').auth(TOKEN, { type: 'bearer' });
    expect(after.text).toMatch(/^agentq_tasks_awaiting_approval 0$/m);
  });

  it('recover after Redis lost the goal rebuilds the pending approval, since kept', async () => {
    const goalId = await submit([
      { key: 'build', title: 'Build', type: 'work' },
      {
        key: 'gate',
        title: 'Ship?',
        dependsOn: ['build'],
        approval: { timeoutMs: 3_600_000 },
      } as PlanSpec['tasks'][number],
      { key: 'ship', title: 'Ship', type: 'work', dependsOn: ['gate', 'build'] },
    ]);
    const gate = `${goalId}.gate`;
    await awaiting(gate);
    const before = (await readApprovalWait(coordinator, gate))!;
    // Redis loses every key of the goals' execution record (the agents and the mirror stay).
    for (const pattern of [
      '_approvals',
      '_goals',
      '_gates',
      'work',
      'agentq:goal',
      'agentq:approval',
    ]) {
      await deleteKeysMatching(coordinator.client, `{${prefix}}:${pattern}:*`);
    }
    await deleteKeysMatching(coordinator.client, `{${prefix}}:agentq:links`);
    expect(await readApprovalWait(coordinator, gate)).toBeNull();

    const recovered = await recoverGoals(store, coordinator);
    expect(recovered.goals).toEqual([
      expect.objectContaining({ goalId, outcome: 'rebuilt', requeued: ['gate', 'ship'] }),
    ]);
    await awaiting(gate);
    const after = (await readApprovalWait(coordinator, gate))!;
    // It waits since it first did (SQL's queuedAt), so its deadline is the one it had.
    expect(after.deadline).toBe(after.since + 3_600_000);
    expect(after.since).toBeLessThanOrEqual(before.since);
    expect(after.since).toBeGreaterThanOrEqual(before.since - 1000);

    await post(`/api/tasks/${gate}/approve`, { note: 'after the wipe' }).expect(200);
    expect(await goalEnd(goalId)).toBe('DONE');
    const ship = await store.getTask(`${goalId}.ship`);
    const deps = (ship?.result as { deps: Record<string, Json> }).deps;
    expect(deps.gate).toMatchObject({ approved: true, note: 'after the wipe' });
    expect(deps.build).toMatchObject({ ok: true });
  });

  it('a timeout survives kill -9 of the only process running the approval worker', async () => {
    const goalId = await submit([
      {
        key: 'gate',
        title: 'Auto?',
        approval: { timeoutMs: 1500, onTimeout: 'approve' },
      } as PlanSpec['tasks'][number],
      { key: 'after', title: 'After', type: 'work', dependsOn: ['gate'] },
    ]);
    const gate = `${goalId}.gate`;
    await awaiting(gate);
    const { deadline } = (await readApprovalWait(coordinator, gate))!;
    agent.child.kill('SIGKILL');
    await agent.exited;
    // Past its deadline with no worker anywhere: nothing decided it.
    await new Promise((done) => setTimeout(done, Math.max(0, deadline! - Date.now()) + 300));
    expect((await store.getTask(gate))?.state).toBe('PENDING');
    expect((await readApprovalWait(coordinator, gate))?.decision).toBeNull();

    agent = await spawnAgent({
      url: REDIS_URL,
      prefix,
      agentId: 'appr-agent-2',
      capabilities: ['work'],
      handlersFile: HANDLERS,
    });
    expect(await goalEnd(goalId)).toBe('DONE');
    expect((await store.getTask(gate))?.result).toMatchObject({ approved: true, by: 'timeout' });
  });
});
