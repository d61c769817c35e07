import { InputError } from '../../src/errors';
import { parseBudget, parseUsage } from '../../src/queues/goal-budget-schema';
import { resolvePlan, toPlanSpec } from '../../src/queues/plan-schema';

const task = { key: 'a', title: 'A', type: 'dev' };

function fieldOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof InputError) return `${error.field}: ${error.message}`;
    throw error;
  }
  return undefined;
}

describe('goal budget fields', () => {
  it('keeps a plan budget through resolvePlan and toPlanSpec', () => {
    const plan = resolvePlan({ goal: 'g', budget: { tokens: 1000, costUsd: 2.5 }, tasks: [task] });
    expect(plan.budget).toEqual({ tokens: 1000, costUsd: 2.5 });
    expect(toPlanSpec(plan).budget).toEqual({ tokens: 1000, costUsd: 2.5 });
    expect(resolvePlan({ goal: 'g', tasks: [task] }).budget).toBeNull();
  });

  it.each([
    [{ tokens: -1 }, 'budget.tokens: budget.tokens: must be more than 0'],
    [{ tokens: 0 }, 'budget.tokens: budget.tokens: must be more than 0'],
    [{ tokens: 1.5 }, 'budget.tokens: budget.tokens: must be a whole number'],
    [{ costUsd: 'ten' }, 'budget.costUsd: budget.costUsd: must be a number'],
    [{ wallMs: null }, 'budget.wallMs: budget.wallMs: must be a number'],
    [
      { tokenz: 5 },
      'budget.tokenz: budget.tokenz: is not a budget field (tokens, costUsd, wallMs)',
    ],
    [{}, 'budget: budget: name at least one of tokens, costUsd, wallMs'],
    ['lots', 'budget: budget: must be an object with tokens, costUsd and/or wallMs'],
  ])('refuses the plan budget %j, naming the field', (budget, expected) => {
    expect(fieldOf(() => resolvePlan({ goal: 'g', budget, tasks: [task] }))).toBe(expected);
  });

  it('names fields without a prefix for the budget operation (REST body, CLI flags)', () => {
    expect(fieldOf(() => parseBudget({ wallMs: -3 }, ''))).toBe(
      'wallMs: wallMs: must be more than 0',
    );
    expect(parseBudget({ wallMs: 60_000 }, '')).toEqual({ wallMs: 60_000 });
  });

  it('checks ctx.usage reports: numbers of 0 or more, tokens and costUsd only', () => {
    expect(parseUsage({ tokens: 12 })).toEqual({ tokens: 12, costUsd: 0 });
    expect(parseUsage({})).toEqual({ tokens: 0, costUsd: 0 });
    expect(fieldOf(() => parseUsage({ tokens: -1 }, 'ctx.usage'))).toBe(
      'ctx.usage.tokens: ctx.usage.tokens: must be 0 or more',
    );
    expect(fieldOf(() => parseUsage({ wallMs: 5 }, 'ctx.usage'))).toBe(
      'ctx.usage.wallMs: ctx.usage.wallMs: is not a usage field (tokens, costUsd)',
    );
    expect(fieldOf(() => parseUsage(7, 'ctx.usage'))).toBe(
      'ctx.usage: ctx.usage: must be an object with tokens and/or costUsd',
    );
  });
});
