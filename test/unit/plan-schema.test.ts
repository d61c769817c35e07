import { InputError } from '../../src/errors';
import { MAX_TASKS, resolvePlan } from '../../src/queues/plan-schema';

const ok = (extra: object = {}) => ({ key: 'a', title: 'A', type: 'dev', ...extra });

function errorOf(plan: unknown): InputError {
  try {
    resolvePlan(plan);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('resolvePlan', () => {
  it('applies every default', () => {
    expect(resolvePlan({ goal: 'g', tasks: [ok()] }).tasks[0]).toEqual({
      key: 'a',
      title: 'A',
      type: 'dev',
      description: '',
      priority: 5,
      dependsOn: [],
      data: {},
      attempts: 3,
      timeoutMs: 600000,
      optional: false,
    });
  });

  it('prints the path of a cycle', () => {
    const e = errorOf({
      goal: 'g',
      tasks: [
        ok({ key: 'a', dependsOn: ['c'] }),
        ok({ key: 'b', dependsOn: ['a'] }),
        ok({ key: 'c', dependsOn: ['b'] }),
      ],
    });
    expect(e.message).toBe('tasks: cycle: a → c → b → a');
  });

  it.each([
    [
      'an unknown dependsOn key',
      [ok({ dependsOn: ['nope'] })],
      "tasks[0].dependsOn[0]: unknown task key 'nope'",
    ],
    ['a duplicate key', [ok(), ok()], "tasks[1].key: duplicate key 'a' (also tasks[0])"],
    ['an empty plan', [], 'tasks: the plan has no tasks'],
    ['a missing title', [{ key: 'a', type: 'dev' }], 'tasks[0].title: is required'],
    ['a missing type', [{ key: 'a', title: 'A' }], 'tasks[0].type: is required'],
    ['priority 0', [ok({ priority: 0 })], 'tasks[0].priority: must be from 1 to 10'],
    ['priority 11', [ok({ priority: 11 })], 'tasks[0].priority: must be from 1 to 10'],
    ['attempts 0', [ok({ attempts: 0 })], 'tasks[0].attempts: must be from 1 to 100'],
    ['attempts 101', [ok({ attempts: 101 })], 'tasks[0].attempts: must be from 1 to 100'],
  ])('refuses %s', (_name, tasks, message) => {
    expect(errorOf({ goal: 'g', tasks }).message).toBe(message);
  });

  it('refuses data over 1 MiB', () => {
    const e = errorOf({ goal: 'g', tasks: [ok({ data: { blob: 'x'.repeat(1024 * 1024) } })] });
    expect(e.field).toBe('tasks[0].data');
    expect(e.message).toMatch(/at most 1 MiB/);
  });

  it('refuses more than 100,000 tasks', () => {
    const tasks = Array.from({ length: MAX_TASKS + 1 }, (_, i) => ok({ key: `t${i}` }));
    expect(errorOf({ goal: 'g', tasks }).message).toBe('tasks: 100001 tasks; at most 100000');
  });

  it('refuses a plan without a goal', () => {
    expect(errorOf({ tasks: [ok()] }).message).toBe('goal: is required');
  });
});
