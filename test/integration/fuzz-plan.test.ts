/**
 * Property-based fuzzing of the plan parser (`parsePlanText`) and validator (`resolvePlan`):
 * malformed, huge, deeply nested and unicode JSON and YAML. Whatever the input, the only thing
 * either may throw is an `InputError` naming a field; never a RangeError, a TypeError or a hang.
 */
import fc from 'fast-check';
import { InputError } from '../../src/errors';
import { parsePlanText } from '../../src/queues/plan-loader';
import { resolvePlan } from '../../src/queues/plan-schema';

const RUNS = 150;

/** Runs `fn`; passes when it returns, or throws an InputError with a non-empty field. */
function onlyInputErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    expect(error.field).toBeTruthy();
    expect(error.message.length).toBeGreaterThan(0);
  }
}

const LONE_SURROGATES = ['\uD800', '\uDFFF', 'a\uDBFFb'];
const HOSTILE_STRINGS = [
  '',
  '\u0000',
  'a\u0000b',
  '\u202Egnp.exe',
  'مرحبا بالعالم',
  '\uFEFF',
  '𝕏'.repeat(100),
  ...LONE_SURROGATES,
];

const hostileString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(...HOSTILE_STRINGS),
);

/** Any JSON-ish value, hostile strings in keys and values. */
const hostileValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A task that is mostly valid, with one or more fields replaced by hostile values. */
const nearlyValidTask = fc
  .record({
    key: fc.oneof(fc.constant('a'), hostileString),
    title: fc.oneof(fc.constant('A'), hostileString, hostileValue),
    type: fc.oneof(fc.constant('dev'), hostileString),
    priority: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.double(), hostileValue),
    dependsOn: fc.oneof(fc.constant([]), fc.array(hostileString, { maxLength: 3 }), hostileValue),
    data: fc.oneof(fc.constant({}), hostileValue),
    attempts: fc.oneof(fc.constant(3), fc.integer(), hostileValue),
    timeoutMs: fc.oneof(fc.constant(1000), fc.double(), hostileValue),
    optional: fc.oneof(fc.boolean(), hostileValue),
  })
  .map((task) => task as Record<string, unknown>);

const nearlyValidPlan = fc.record({
  goal: fc.oneof(fc.constant('g'), hostileString, hostileValue),
  key: fc.oneof(fc.constant(undefined), hostileString, hostileValue),
  tasks: fc.oneof(fc.array(nearlyValidTask, { maxLength: 4 }), hostileValue),
});

function nested(open: string, close: string, depth: number, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

describe('the plan validator under hostile input', () => {
  it('answers any value with a plan or an InputError naming the field', () => {
    fc.assert(
      fc.property(fc.oneof(hostileValue, nearlyValidPlan), (value) => {
        onlyInputErrors(() => resolvePlan(value));
      }),
      { numRuns: RUNS },
    );
  });

  it('names the data field of a task whose data nests deeper than the limit', () => {
    let data: unknown = 1;
    for (let i = 0; i < 200_000; i++) data = [data];
    expect(() =>
      resolvePlan({ goal: 'g', tasks: [{ key: 'a', title: 'A', type: 'd', data: { d: data } }] }),
    ).toThrow(/tasks\[0\]\.data: nests deeper than/);
  });

  it('refuses data just over 1 MiB and accepts data just under it', () => {
    const task = (size: number) => ({
      key: 'a',
      title: 'A',
      type: 'd',
      data: { s: 'x'.repeat(size) },
    });
    expect(() => resolvePlan({ goal: 'g', tasks: [task(1024 * 1024)] })).toThrow(
      /tasks\[0\]\.data: .*1 MiB/,
    );
    expect(resolvePlan({ goal: 'g', tasks: [task(1024 * 1024 - 100)] }).tasks).toHaveLength(1);
  });

  it('keeps unicode and RTL text in titles and data as given', () => {
    const title = 'مرحبا \u202E 𝕏';
    const plan = resolvePlan({
      goal: title,
      tasks: [{ key: 'a', title, type: 'd', data: { [title]: title } }],
    });
    expect(plan.tasks[0]!.title).toBe(title);
    expect(plan.tasks[0]!.data).toEqual({ [title]: title });
  });

  it('refuses a NUL in a title or in data (PostgreSQL cannot store one)', () => {
    const nul = 'a\u0000b';
    expect(() => resolvePlan({ goal: 'g', tasks: [{ key: 'a', title: nul, type: 'd' }] })).toThrow(
      'tasks[0].title: must not contain a NUL character',
    );
    expect(() =>
      resolvePlan({ goal: 'g', tasks: [{ key: 'a', title: 'A', type: 'd', data: { x: nul } }] }),
    ).toThrow('tasks[0].data.x: must not contain a NUL character');
  });
});

describe('the plan file parser under hostile input', () => {
  const files = fc.constantFrom('plan.json', 'plan.yaml', 'plan.yml');

  it('answers any text with a value or an InputError naming the file', () => {
    fc.assert(
      fc.property(
        fc.oneof(hostileString, fc.json(), fc.string({ unit: 'binary' })),
        files,
        (text, file) => {
          onlyInputErrors(() => parsePlanText(text, file));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers truncated and corrupted plan files with an InputError', () => {
    const valid = JSON.stringify(
      { goal: 'g', tasks: [{ key: 'a', title: 'A', type: 'dev' }] },
      null,
      2,
    );
    fc.assert(
      fc.property(
        fc.nat({ max: valid.length }),
        fc.nat({ max: valid.length }),
        hostileString,
        files,
        (cut, at, noise, file) => {
          const text = valid.slice(0, at) + noise + valid.slice(at, Math.max(at, cut));
          onlyInputErrors(() => resolvePlan(parsePlanText(text, file)));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it.each([
    ['JSON arrays 200,000 deep', nested('[', ']', 200_000), 'plan.json'],
    ['JSON objects 100,000 deep', nested('{"a":', '}', 100_000), 'plan.json'],
    ['YAML flow sequences 200,000 deep', nested('[', ']', 200_000), 'plan.yaml'],
    ['YAML flow maps 50,000 deep', nested('{a: ', '}', 50_000), 'plan.yaml'],
    [
      'YAML block maps 5,000 deep',
      Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
      'plan.yaml',
    ],
    [
      'a YAML alias bomb',
      ['a: &a ["x","x","x","x","x","x","x","x","x"]']
        .concat(
          Array.from(
            { length: 9 },
            (_, i) =>
              `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
          ),
        )
        .join('\n'),
      'plan.yaml',
    ],
    [
      'a 2 MiB JSON string',
      JSON.stringify({ goal: 'x'.repeat(2 * 1024 * 1024), tasks: [] }),
      'plan.json',
    ],
    ['NUL bytes', '{"goal":"\u0000","tasks":[{"key":"\u0000"}]}', 'plan.json'],
    ['a lone surrogate escape', '{"goal":"\\ud800","tasks":"\\udfff"}', 'plan.json'],
    ['a byte-order mark', '\uFEFF{"goal":"g","tasks":[]}', 'plan.json'],
  ])('answers %s with a plan or an InputError', (_name, text, file) => {
    onlyInputErrors(() => resolvePlan(parsePlanText(text, file)));
  });
});
