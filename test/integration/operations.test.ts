/**
 * The operations (src/interface/operations): one test per rule of each mutation, on a real SQLite
 * store and the test Redis, and the same answer from REST and the CLI for retrying a CANCELLED
 * task (they call the same operation).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp, type AgentqApp } from '../../src/board/app';
import type { NewTask } from '../../src/entities/task-store';
import { TaskRegistry } from '../../src/entities/task-registry';
import { ConflictError, InputError, NotFoundError } from '../../src/errors';
import {
  cancelGoal,
  cancelTask,
  createTask,
  redriveDeadLetter,
  retryTask,
  submitGoal,
} from '../../src/interface/operations';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'bin.js');

function agentq(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('the operations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-ops-'));
  const dbPath = join(dir, 'agentq.db');
  const prefix = uniquePrefix('ops');
  const store = new TaskRegistry({ backend: 'sqlite', path: dbPath });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const goals = new SupervisorAgent(store, coordinator, { templatesDir: null, llm: null });
  const deps = { store, coordinator, goals };
  let app: AgentqApp;
  let counter = 0;

  /** A goal written to SQL only: the rules read SQL, so no flow is needed to test them. */
  async function seed(states: Record<string, 'PENDING' | 'DONE' | 'FAILED' | 'CANCELLED'>) {
    const goalId = `g-ops${(++counter).toString().padStart(13, '0')}`;
    const tasks: NewTask[] = Object.keys(states).map((key) => ({
      id: `${goalId}.${key}`,
      key,
      title: key,
      description: '',
      type: 'work',
      priority: 5,
      dependsOn: [],
      data: {},
      attempts: 1,
      timeoutMs: 60000,
      optional: false,
      state: 'PENDING',
    }));
    const plan = { goal: goalId, tasks: tasks.map(({ id: _i, state: _s, ...t }) => t) };
    await store.createGoal({ id: goalId, key: null, title: goalId, planner: 'test', plan }, tasks);
    for (const [key, to] of Object.entries(states)) {
      const taskId = `${goalId}.${key}`;
      const at = new Date();
      const steps =
        to === 'DONE'
          ? [
              { taskId, to: 'ASSIGNED' as const, at, attempt: 1, agentId: 'a' },
              { taskId, to: 'DONE' as const, at, attempt: 1, agentId: 'a' },
            ]
          : to === 'FAILED'
            ? [{ taskId, to, at, error: { message: 'dependency up failed', dependency: 'up' } }]
            : to === 'CANCELLED'
              ? [{ taskId, to, at }]
              : [];
      if (steps.length > 0) await store.applyChanges(steps);
    }
    return goalId;
  }

  beforeAll(async () => {
    await store.open();
    app = createApp({ store, coordinator, config: { token: null, readonlyToken: null }, goals });
    await app.ready;
  });

  afterAll(async () => {
    await app?.close();
    await coordinator.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('createTask refuses bad input naming the field, and writes nothing', async () => {
    const before = (await store.listGoals({ limit: 1000 })).length;
    await expect(createTask(deps, { type: 'work' }, 'test')).rejects.toThrow(
      new InputError('Invalid input: expected string, received undefined', 'title'),
    );
    await expect(
      createTask(deps, { title: 'T', type: 'work', priority: 0 }, 'test'),
    ).rejects.toMatchObject({ field: 'priority' });
    expect((await store.listGoals({ limit: 1000 })).length).toBe(before);
  });

  it('createTask submits a goal of one task, with the actor recorded', async () => {
    const task = await createTask(deps, { title: 'Fix it', type: 'work' }, 'ops:test');
    expect(task).toMatchObject({ title: 'Fix it', state: 'PENDING' });
    const events = await store.eventsAfter(0, 10_000);
    expect(events.find((e) => e.taskId === task.id)).toMatchObject({ actor: 'ops:test' });
  });

  it('submitGoal wants either a goal text or a plan', async () => {
    await expect(submitGoal(deps, {}, 'test')).rejects.toMatchObject({ field: 'goal' });
  });

  it('cancelTask: an unknown id is not found, an ended task is a conflict', async () => {
    await expect(cancelTask(deps, { taskId: 'g-nope.x' }, 'test')).rejects.toThrow(NotFoundError);
    const goalId = await seed({ done: 'DONE' });
    await expect(cancelTask(deps, { taskId: `${goalId}.done` }, 'test')).rejects.toThrow(
      /is DONE: only an unfinished task can be cancelled/,
    );
  });

  it('cancelTask cancels an unfinished task', async () => {
    const task = await createTask(deps, { title: 'Never run', type: 'nobody' }, 'test');
    expect(await cancelTask(deps, { taskId: task.id }, 'test')).toEqual({
      taskId: task.id,
      cancelled: 1,
    });
  });

  it('retryTask: only a FAILED task, never one that has not ended', async () => {
    const goalId = await seed({ open: 'PENDING' });
    await expect(retryTask(deps, { taskId: `${goalId}.open` }, 'test')).rejects.toThrow(
      /is PENDING: only a FAILED task can be retried/,
    );
  });

  it('retryTask: a CANCELLED task is a conflict (it was never dead-lettered)', async () => {
    const goalId = await seed({ gone: 'CANCELLED' });
    await expect(retryTask(deps, { taskId: `${goalId}.gone` }, 'test')).rejects.toThrow(
      ConflictError,
    );
  });

  it('retryTask: a task failed by its dependency names the dependency to retry', async () => {
    const goalId = await seed({ down: 'FAILED' });
    await expect(retryTask(deps, { taskId: `${goalId}.down` }, 'test')).rejects.toThrow(
      /has no dead letter to redrive \(dependency up failed: retry it\)/,
    );
  });

  it('cancelGoal: an unknown goal is not found, an ended one a conflict', async () => {
    await expect(cancelGoal(deps, { goalId: 'g-nope' }, 'test')).rejects.toThrow(NotFoundError);
    const goalId = await seed({ done: 'DONE' });
    await store.setGoalState(goalId, 'DONE', new Date());
    await expect(cancelGoal(deps, { goalId }, 'test')).rejects.toThrow(/has already ended/);
  });

  it('redriveDeadLetter: an unknown dead letter is not found', async () => {
    await expect(redriveDeadLetter(deps, { id: 'g-nope.x@0' }, 'test')).rejects.toThrow(
      NotFoundError,
    );
  });

  it('REST and the CLI give the same answer for retrying a CANCELLED task', async () => {
    const goalId = await seed({ gone: 'CANCELLED' });
    const taskId = `${goalId}.gone`;
    const rest = await request(app.app).post(`/api/tasks/${taskId}/retry`).expect(409);
    const cli = await agentq([
      '--redis',
      REDIS_URL,
      '--db',
      `sqlite:${dbPath}`,
      '--prefix',
      prefix,
      'task',
      'retry',
      taskId,
    ]);
    expect(cli.code).toBe(1);
    expect(rest.body.error.message).toMatch(/is CANCELLED: only a FAILED task can be retried/);
    expect(cli.stderr).toContain(rest.body.error.message);
  });
});
