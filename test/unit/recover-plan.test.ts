import { NO_METRICS } from '../../src/entities/apply-changes';
/** The recovery rules of recover-plan.ts on hand-made SQL task records (no I/O). */
import type { Json, TaskRecord } from '../../src/entities/task-model';
import type { TaskState } from '../../src/entities/task-state';
import { planGoalRecovery } from '../../src/queues/recover-plan';

const AT = new Date('2026-01-01T00:00:00Z');

function task(
  key: string,
  state: TaskState,
  dependsOn: string[] = [],
  extra: Partial<TaskRecord> = {},
): TaskRecord {
  return {
    id: `g-1.${key}`,
    goalId: 'g-1',
    key,
    title: key,
    description: '',
    type: 'work',
    priority: 5,
    data: {},
    dependsOn,
    attempts: 3,
    timeoutMs: 1000,
    optional: false,
    state,
    attempt: state === 'ACTIVE' || state === 'DONE' ? 1 : 0,
    epoch: 0,
    agentId: null,
    progress: null,
    result: state === 'DONE' ? ({ from: key } as Json) : null,
    error: null,
    createdAt: AT,
    updatedAt: AT,
    spawnedBy: null,
    addedBy: null,
    deferredAt: null,
    ...NO_METRICS,
    ...extra,
  };
}

const keys = (tasks: TaskRecord[]) => tasks.map((t) => t.key);

describe('planGoalRecovery', () => {
  it('re-queues open tasks, resolves done ones and restarts interrupted runs in a new epoch', () => {
    const tasks = [
      task('a', 'DONE'),
      task('b', 'ACTIVE', ['a']),
      task('c', 'BACKLOG', ['a']),
      task('d', 'BACKLOG', ['b', 'c']),
    ];
    const plan = planGoalRecovery(tasks, keys(tasks), AT);
    expect(plan.goalEnd).toBeNull();
    expect(plan.keptDone).toEqual(['a']);
    expect(plan.requeue.map((r) => [r.spec.key, r.spec.dependsOn, r.dependsOn])).toEqual([
      ['b', [], ['a']],
      ['c', [], ['a']],
      ['d', ['b', 'c'], ['b', 'c']],
    ]);
    expect(plan.requeue[0]!.resolved).toEqual({ a: { from: 'a' } });
    expect(plan.requeue[0]!.epoch).toBe(1);
    expect(plan.changes.map((c) => [c.taskId, c.to, c.epoch, c.actor])).toEqual([
      ['g-1.b', 'PENDING', 1, 'recover'],
      ['g-1.c', 'PENDING', undefined, 'recover'],
    ]);
  });

  it('re-queues a task waiting for its retry in a new epoch, a never-run one in its own', () => {
    const tasks = [
      task('a', 'PENDING', [], { attempt: 2, error: { message: 'attempt 2 failed' } }),
      task('b', 'PENDING'),
      task('c', 'BACKLOG', ['a', 'b']),
    ];
    const plan = planGoalRecovery(tasks, keys(tasks), AT);
    expect(plan.requeue.map((r) => [r.spec.key, r.epoch, r.spec.attempts])).toEqual([
      ['a', 1, 3],
      ['b', 0, 3],
      ['c', 0, 3],
    ]);
    // PENDING → PENDING is legal only as a new epoch; attempts count from 0 again.
    expect(plan.changes).toEqual([
      {
        taskId: 'g-1.a',
        to: 'PENDING',
        epoch: 1,
        attempt: 0,
        at: AT,
        actor: 'recover',
        reason: 'recovered after Redis lost the goal',
      },
    ]);
  });

  it('ends the whole goal FAILED when a required task had failed', () => {
    const tasks = [
      task('a', 'FAILED', [], { error: { message: 'boom' } }),
      task('b', 'BACKLOG', ['a']),
      task('c', 'PENDING'),
    ];
    const plan = planGoalRecovery(tasks, keys(tasks), AT);
    expect(plan.goalEnd).toBe('FAILED');
    expect(plan.requeue).toEqual([]);
    expect(plan.changes.map((c) => [c.taskId, c.to, c.error?.dependency])).toEqual([
      ['g-1.b', 'FAILED', 'a'],
      ['g-1.c', 'CANCELLED', undefined],
    ]);
  });

  it('cancels the dependents of a cancelled task and keeps the goal headed for CANCELLED', () => {
    const tasks = [task('a', 'CANCELLED'), task('b', 'BACKLOG', ['a']), task('c', 'PENDING')];
    const plan = planGoalRecovery(tasks, keys(tasks), AT);
    expect(plan.goalEnd).toBeNull();
    expect(plan.cancelled).toBe(true);
    expect(plan.changes.map((c) => [c.taskId, c.to])).toEqual([['g-1.b', 'CANCELLED']]);
    expect(plan.requeue.map((r) => r.spec.key)).toEqual(['c']);
  });

  it('hands an optional failure to its dependents as { error }', () => {
    const tasks = [
      task('a', 'FAILED', [], { optional: true, error: { message: 'flaky' } }),
      task('b', 'BACKLOG', ['a']),
    ];
    const plan = planGoalRecovery(tasks, keys(tasks), AT);
    expect(plan.goalEnd).toBeNull();
    expect(plan.requeue[0]!.resolved).toEqual({ a: { error: { message: 'flaky' } } });
    expect(plan.changes.map((c) => [c.taskId, c.to])).toEqual([['g-1.b', 'PENDING']]);
  });

  it('ends a goal with nothing left to run', () => {
    const done = [task('a', 'DONE'), task('b', 'DONE', ['a'])];
    expect(planGoalRecovery(done, keys(done), AT)).toMatchObject({ goalEnd: 'DONE', changes: [] });
    const cancelled = [task('a', 'DONE'), task('b', 'CANCELLED', ['a'])];
    expect(planGoalRecovery(cancelled, keys(cancelled), AT).goalEnd).toBe('CANCELLED');
  });
});
