/**
 * The living-goals part of the store contract (addTasks, recordTasks, deleteTasks), run for each
 * backend by store-sqlite-add-tasks.test.ts, store-postgres-add-tasks.test.ts and
 * store-json-add-tasks.test.ts.
 */
import { ConflictError, NotFoundError } from '../../src/errors';
import type { TaskRegistry } from '../../src/entities/task-registry';
import { newGoal, newTask } from './store-contract';

const at = () => new Date(Date.UTC(2025, 0, 1, 12));

export function addTasksContract(make: () => TaskRegistry): void {
  let store: TaskRegistry;
  beforeAll(() => {
    store = make();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('adds tasks to an open goal with their `new` events, growing taskCount; idempotent by id', async () => {
    const goal = newGoal();
    const first = newTask('a');
    await store.createGoal(goal, [first], 'cli');
    const seq = await store.lastSeq();
    const added = [newTask('b'), newTask('c', { dependsOn: ['b'], state: 'BACKLOG' })];
    const result = await store.addTasks(goal.id, added, 'agent:x', { spawnedBy: first.id });
    expect(result.created).toEqual(added.map((t) => t.id));
    expect(result.events.map((e) => [e.seq, e.taskId, e.event, e.actor])).toEqual([
      [seq + 1, added[0]!.id, 'new', 'agent:x'],
      [seq + 2, added[1]!.id, 'new', 'agent:x'],
    ]);
    expect(result.tasks.map((t) => [t.id, t.spawnedBy, t.deferredAt])).toEqual(
      added.map((t) => [t.id, first.id, null]),
    );
    expect((await store.getGoal(goal.id))!.taskCount).toBe(3);
    expect(await store.findTasks({ goalId: goal.id })).toHaveLength(3);
    expect((await store.getTask(first.id))!.spawnedBy).toBeNull();

    const again = await store.addTasks(goal.id, [added[0]!, newTask('d')], 'agent:x');
    expect(again.created).toHaveLength(1);
    expect(again.events).toHaveLength(1);
    expect(again.tasks[0]).toEqual(result.tasks[0]);
    expect((await store.getGoal(goal.id))!.taskCount).toBe(4);
    expect(await store.lastSeq()).toBe(seq + 3);
  });

  it('refuses an unknown goal and a goal that has ended, writing nothing', async () => {
    const task = newTask('x');
    await expect(store.addTasks('no-such-goal', [task])).rejects.toThrow(NotFoundError);
    const goal = newGoal();
    await store.createGoal(goal, [newTask('a')], 'cli');
    await store.setGoalState(goal.id, 'DONE', at());
    const seq = await store.lastSeq();
    const refused = store.addTasks(goal.id, [task], 'cli');
    await expect(refused).rejects.toThrow(ConflictError);
    await expect(store.addTasks(goal.id, [task], 'cli')).rejects.toThrow(
      new RegExp(`${goal.id}.*DONE`),
    );
    expect(await store.getTask(task.id)).toBeNull();
    expect((await store.getGoal(goal.id))!.taskCount).toBe(1);
    expect(await store.lastSeq()).toBe(seq);
  });

  it('defers `new` events: recordTasks writes them once, a change records them first', async () => {
    const goal = newGoal();
    await store.createGoal(goal, [newTask('a')], 'cli');
    const seq = await store.lastSeq();
    const [b, c] = [newTask('b'), newTask('c')];
    const result = await store.addTasks(goal.id, [b, c], 'api:ops', { deferRecord: true });
    expect(result.events).toEqual([]);
    expect(result.tasks.every((t) => t.deferredAt !== null)).toBe(true);
    expect(await store.lastSeq()).toBe(seq);

    const recorded = await store.recordTasks([b.id]);
    expect(recorded.map((e) => [e.seq, e.taskId, e.event, e.actor])).toEqual([
      [seq + 1, b.id, 'new', 'api:ops'],
    ]);
    expect(await store.recordTasks([b.id, 'gone'])).toEqual([]);
    expect((await store.getTask(b.id))!.deferredAt).toBeNull();

    const changed = await store.applyChanges([
      { taskId: c.id, to: 'ASSIGNED', at: at(), attempt: 1 },
    ]);
    expect(changed.events.map((e) => [e.seq, e.taskId, e.event])).toEqual([
      [seq + 2, c.id, 'new'],
      [seq + 3, c.id, 'claimed'],
    ]);
    expect(await store.recordTasks([c.id])).toEqual([]);
  });

  it('deletes deferred tasks without a seq hole, shrinking taskCount', async () => {
    const goal = newGoal();
    await store.createGoal(goal, [newTask('a')], 'cli');
    const seq = await store.lastSeq();
    const b = newTask('b');
    await store.addTasks(goal.id, [b], 'cli', { deferRecord: true });
    await store.deleteTasks([b.id]);
    expect(await store.getTask(b.id)).toBeNull();
    expect((await store.getGoal(goal.id))!.taskCount).toBe(1);
    const next = await store.addTasks(goal.id, [newTask('c')], 'cli');
    expect(next.events.map((e) => e.seq)).toEqual([seq + 1]);
    const seqs = (await store.eventsAfter(0, 100000)).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });
}
