import { InputError } from '../../src/errors';
import {
  MAX_DESCRIPTION_CHARS,
  MAX_GOAL_CHARS,
  MAX_KEY_CHARS,
  MAX_TASKS,
  MAX_TITLE_CHARS,
  resolvePlan,
} from '../../src/queues/plan-schema';

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

  it('keeps a concurrencyKey and names it when it cannot be one', () => {
    const plan = resolvePlan({ goal: 'g', tasks: [ok({ concurrencyKey: 'org/repo' })] });
    expect(plan.tasks[0]!.concurrencyKey).toBe('org/repo');
    expect(resolvePlan({ goal: 'g', tasks: [ok()] }).tasks[0]).not.toHaveProperty('concurrencyKey');
    expect(errorOf({ goal: 'g', tasks: [ok({ concurrencyKey: 'a b' })] }).field).toBe(
      'tasks[0].concurrencyKey',
    );
    expect(errorOf({ goal: 'g', tasks: [ok({ concurrencyKey: 7 })] }).field).toBe(
      'tasks[0].concurrencyKey',
    );
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

describe('resolvePlan: what every store can hold, one set of limits', () => {
  it.each([
    ['a 46-character key', [ok({ key: 'k'.repeat(MAX_KEY_CHARS + 1) })], 'tasks[0].key'],
    [
      'a title over 500 characters',
      [ok({ title: 't'.repeat(MAX_TITLE_CHARS + 1) })],
      'tasks[0].title',
    ],
    [
      'a description over the limit',
      [ok({ description: 'd'.repeat(MAX_DESCRIPTION_CHARS + 1) })],
      'tasks[0].description',
    ],
    ['a NUL in a title', [ok({ title: 'a\u0000b' })], 'tasks[0].title'],
    ['a lone surrogate in a description', [ok({ description: '\udfff' })], 'tasks[0].description'],
    ['a NUL deep in data', [ok({ data: { a: [{ b: 'x\u0000' }] } })], 'tasks[0].data.a[0].b'],
    ['a lone surrogate in a data key', [ok({ data: { '\ud800': 1 } })], 'tasks[0].data'],
  ])('refuses %s', (_what, tasks, field) => {
    expect(errorOf({ goal: 'g', tasks }).field).toBe(field);
  });

  it('refuses goal text over 10,000 characters or with a NUL', () => {
    expect(errorOf({ goal: 'g'.repeat(MAX_GOAL_CHARS + 1), tasks: [ok()] }).field).toBe('goal');
    expect(errorOf({ goal: 'g\u0000', tasks: [ok()] }).field).toBe('goal');
  });

  it('takes the longest key, title and description allowed, and paired surrogates', () => {
    const plan = resolvePlan({
      goal: 'g'.repeat(MAX_GOAL_CHARS),
      tasks: [
        ok({
          key: 'k'.repeat(MAX_KEY_CHARS),
          title: '𝕏'.repeat(MAX_TITLE_CHARS / 2),
          description: 'd'.repeat(MAX_DESCRIPTION_CHARS),
        }),
      ],
    });
    expect(plan.tasks[0]!.key).toHaveLength(MAX_KEY_CHARS);
  });
});
