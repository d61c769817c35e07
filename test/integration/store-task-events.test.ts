/**
 * `taskEvents(goalId, taskId, limit)` on every backend: one task's audit events in seq order,
 * none of its neighbours', cut at `limit`, [] for a task the log does not know.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRegistry } from '../../src/entities/task-registry';
import { createPgSchema, PG_URL } from '../helpers/servers';
import { newGoal, newTask } from './store-contract';

const dir = mkdtempSync(join(tmpdir(), 'agentq-task-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0, ms));

async function checkTaskEvents(store: TaskRegistry): Promise<void> {
  const goal = newGoal();
  const a = newTask('a');
  const b = newTask('b');
  await store.createGoal(goal, [a, b]);
  const moves = [
    { taskId: a.id, to: 'ASSIGNED' as const, at: at(1), attempt: 1, agentId: 'agent-1' },
    { taskId: b.id, to: 'ASSIGNED' as const, at: at(2), attempt: 1, agentId: 'agent-2' },
    { taskId: a.id, to: 'ACTIVE' as const, at: at(3), attempt: 1, agentId: 'agent-1' },
    { taskId: a.id, to: 'DONE' as const, at: at(4), attempt: 1, result: { ok: true } },
  ];
  const applied = await store.applyChanges(moves);
  expect(applied.rejected).toEqual([]);

  const events = await store.taskEvents(goal.id, a.id);
  expect(events.map((e) => e.event)).toEqual(['new', 'claimed', 'updated', 'complete']);
  expect(events.every((e) => e.taskId === a.id)).toBe(true);
  expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((x, y) => x - y));
  expect(events[1]?.agentId).toBe('agent-1');
  expect(events[3]?.detail?.result).toEqual({ ok: true });

  expect((await store.taskEvents(goal.id, a.id, 2)).map((e) => e.event)).toEqual([
    'new',
    'claimed',
  ]);
  expect(await store.taskEvents(goal.id, 'no-such-task')).toEqual([]);
  expect(await store.taskEvents('no-such-goal', a.id)).toEqual([]);
}

describe('taskEvents', () => {
  it('sqlite: one task, in seq order, limited', async () => {
    const store = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'sqlite', 'agentq.db') });
    try {
      await checkTaskEvents(store);
    } finally {
      await store.close();
    }
  });

  it('postgres: one task, in seq order, limited', async () => {
    const { schema, drop } = await createPgSchema();
    const store = new TaskRegistry({ backend: 'postgres', url: PG_URL, schema });
    try {
      await checkTaskEvents(store);
    } finally {
      await store.close();
      await drop();
    }
  });

  it('json: one task, in seq order, limited', async () => {
    const store = new TaskRegistry({ backend: 'json', dir: join(dir, 'json') });
    try {
      await checkTaskEvents(store);
    } finally {
      await store.close();
    }
  });
});
