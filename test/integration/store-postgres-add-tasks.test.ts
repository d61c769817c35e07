import { TaskRegistry } from '../../src/entities/task-registry';
import { createPgSchema, PG_URL } from '../helpers/servers';
import { addTasksContract } from './store-add-tasks';
import { newGoal, newTask } from './store-contract';

describe('postgres task store: living goals', () => {
  // Outer hooks: the schema exists before the contract's beforeAll opens the store, and is
  // dropped after its afterAll closes it.
  let schema = '';
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ schema, drop } = await createPgSchema());
  });
  afterAll(async () => {
    await drop?.();
  });

  describe('contract', () => {
    addTasksContract(() => new TaskRegistry({ backend: 'postgres', url: PG_URL, schema }));
  });

  // Two pool connections at once: the goal row lock makes the second addTasks see the first's
  // rows (no duplicate, no unique violation), and a budget copy and a change of the goal's
  // tasks interleaved with them neither deadlock nor leave a seq hole.
  it('adds the same tasks from concurrent callers once, seq gap-free', async () => {
    const store = new TaskRegistry({ backend: 'postgres', url: PG_URL, schema });
    try {
      const goal = newGoal();
      const first = newTask('a');
      await store.createGoal(goal, [first], 'cli');
      const tasks = [newTask('b'), newTask('c')];
      const usage = { tokens: 100, costUsd: 0.5, wallMs: 1200 };
      const detail = { level: 'hard' as const, usage, budget: { tokens: 100 }, running: 1 };
      const event = { name: 'budget' as const, actor: null, at: new Date(), detail };
      const hard = { rev: 1, budget: { tokens: 100 }, usage, state: 'PAUSED' as const, event };
      const results = await Promise.all([
        store.addTasks(goal.id, tasks, 'agent:x'),
        store.addTasks(goal.id, tasks, 'agent:y', { deferRecord: true }),
        store.addTasks(goal.id, tasks, 'agent:z'),
        store.applyChanges([{ taskId: first.id, to: 'ASSIGNED', at: new Date(), attempt: 1 }]),
        store.updateGoalBudget(goal.id, hard),
      ]);
      const added = results.slice(0, 3) as Awaited<ReturnType<TaskRegistry['addTasks']>>[];
      expect(added.map((r) => r.created.length).sort()).toEqual([0, 0, 2]);
      expect((await store.getGoal(goal.id))!.taskCount).toBe(3);
      await store.recordTasks(tasks.map((t) => t.id));
      const events = await store.eventsAfter(0, 100000);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const news = events.filter((e) => e.event === 'new' && e.goalId === goal.id);
      expect(news.map((e) => e.taskId).sort()).toEqual(
        [first.id, ...tasks.map((t) => t.id)].sort(),
      );
    } finally {
      await store.close();
    }
  });
});
