import type { TaskChange } from '../../src/entities/task-model';
import type { TaskStateRow } from '../../src/entities/task-store';
import { decideGoalEnds, MAX_HOLD_MS, type GoalEndEntry } from '../../src/mirror/mirror-goal-ends';

/** A store whose open tasks are the given ids (whatever the goal asked). */
function storeWithOpen(ids: string[]) {
  return {
    findTaskStates: async ({ goalId, limit }: { goalId?: string; limit?: number }) =>
      ids
        .filter((id) => id.startsWith(`${goalId}.`))
        .slice(0, limit)
        .map((id) => ({ id }) as TaskStateRow),
  };
}

const NOW = 1_000_000;
const end = (goalId: string, state: 'DONE' | 'FAILED', at = NOW): GoalEndEntry => ({
  streamKey: '{p}:_goals:events',
  before: `${at - 1}-0`,
  end: { goalId, state, at: new Date(at) },
});
const done = (taskId: string): TaskChange => ({ taskId, to: 'DONE' }) as TaskChange;

describe('decideGoalEnds', () => {
  it('writes DONE when every open task of the goal ends in this batch', async () => {
    const d = await decideGoalEnds(
      storeWithOpen(['g1.a', 'g1.b']),
      [end('g1', 'DONE')],
      [done('g1.a'), done('g1.b')],
    );
    expect(d.write.map((e) => e.goalId)).toEqual(['g1']);
    expect(d.hold.size).toBe(0);
  });

  it('holds DONE (and every later end of its stream) while a task is open', async () => {
    const d = await decideGoalEnds(
      storeWithOpen(['g1.a', 'g1.b']),
      [end('g1', 'DONE'), end('g2', 'DONE')],
      [done('g1.a')],
      NOW,
    );
    expect(d.write).toEqual([]);
    expect(d.hold.get('{p}:_goals:events')).toBe(`${NOW - 1}-0`);
  });

  it('writes FAILED at once, however many tasks still run', async () => {
    const d = await decideGoalEnds(storeWithOpen(['g1.a']), [end('g1', 'FAILED')], []);
    expect(d.write.map((e) => e.state)).toEqual(['FAILED']);
  });

  it('writes a DONE held longer than MAX_HOLD_MS, and says so', async () => {
    const old = NOW - MAX_HOLD_MS - 1;
    const d = await decideGoalEnds(storeWithOpen(['g1.a']), [end('g1', 'DONE', old)], [], NOW);
    expect(d.write.map((e) => e.goalId)).toEqual(['g1']);
    expect(d.overdue.map((e) => e.goalId)).toEqual(['g1']);
  });
});
