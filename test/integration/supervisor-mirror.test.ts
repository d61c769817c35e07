/**
 * Goals end to end with the state mirror on: the SQL rows of a failed goal (dependents FAILED by
 * "dependency X failed", goal FAILED) and of a cancelled goal (every unfinished task CANCELLED,
 * goal CANCELLED), from two real worker processes.
 */
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { startDagHarness, type DagHarness } from '../helpers/dag-harness';
import { task } from '../helpers/dag-plans';
import { waitFor } from '../helpers/wait-for';

describe('supervisor goals as the SQL mirror records them', () => {
  let h: DagHarness;
  let mirror: MirrorHandle;

  beforeAll(async () => {
    h = await startDagHarness(['a', 'b', 'c']);
    mirror = startMirror({ store: h.registry, coordinator: h.coordinator });
  });

  afterAll(async () => {
    await mirror?.close();
    await h?.close();
  });

  async function goalEndsIn(goalId: string, state: string) {
    return waitFor(`goal ${goalId} ${state} in SQL`, async () => {
      const { goal, tasks } = await h.supervisor.getGoal(goalId);
      const settled = tasks.every((t) => ['DONE', 'FAILED', 'CANCELLED'].includes(t.state));
      return goal.state === state && settled ? tasks : null;
    });
  }

  it('records the dependents of a failed task FAILED by a dependency, and the goal FAILED', async () => {
    const { goalId } = await h.supervisor.submitPlan({
      goal: 'failure in SQL',
      tasks: [
        task('bad', 'a', [], { data: { fail: true }, attempts: 1 }),
        task('child', 'b', ['bad']),
        task('gated', 'c', ['bad']),
        task('join', 'a', ['child', 'gated', 'fine']),
        task('fine', 'b'),
      ],
    });
    const tasks = await goalEndsIn(goalId, 'FAILED');
    const byKey = Object.fromEntries(tasks.map((t) => [t.key, t]));
    expect(byKey.bad!.state).toBe('FAILED');
    expect(byKey.fine!.state).toBe('DONE');
    for (const k of ['child', 'gated', 'join']) {
      expect(byKey[k]!.state).toBe('FAILED');
      expect(byKey[k]!.error?.message).toMatch(/^dependency (bad|child|gated) failed$/);
    }
  });

  it('records every unfinished task of a cancelled goal CANCELLED, and the goal CANCELLED', async () => {
    const { goalId } = await h.supervisor.submitPlan({
      goal: 'cancel in SQL',
      tasks: [
        task('running', 'a', [], { data: { block: true } }),
        task('next', 'b', ['running']),
        task('gated', 'c', ['running']),
        task('last', 'a', ['next', 'gated']),
      ],
    });
    await waitFor('the blocking task to run', async () =>
      (await h.blocked()).includes('running') ? true : null,
    );
    await h.supervisor.cancelGoal(goalId, 'tester');
    const tasks = await goalEndsIn(goalId, 'CANCELLED');
    expect(tasks.map((t) => t.state)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED', 'CANCELLED']);
  });

  it('cancels a task with its dependents; the rest of the goal runs and the goal ends CANCELLED', async () => {
    const { goalId } = await h.supervisor.submitPlan({
      goal: 'cancel one task',
      tasks: [
        task('slow', 'a', [], { data: { block: true } }),
        task('after', 'b', ['slow']),
        task('later', 'c', ['after', 'other']),
        task('other', 'b'),
        task('alone', 'c', ['other']),
      ],
    });
    await waitFor('the blocking task to run', async () =>
      (await h.blocked()).includes('slow') ? true : null,
    );
    await h.supervisor.cancelTask(`${goalId}.slow`, 'tester');
    const tasks = await goalEndsIn(goalId, 'CANCELLED');
    // The cancelTask operation's rule, the same as REST's and the CLI's.
    await expect(h.supervisor.cancelTask(`${goalId}.other`, 'tester')).rejects.toThrow(
      /is DONE: only an unfinished task can be cancelled/,
    );
    const states = Object.fromEntries(tasks.map((t) => [t.key, t.state]));
    expect(states).toEqual({
      slow: 'CANCELLED',
      after: 'CANCELLED',
      later: 'CANCELLED',
      other: 'DONE',
      alone: 'DONE',
    });
  });

  it('plans a goal given as text from a template, and cancels it while no agent serves it', async () => {
    const submitted = await h.supervisor.executeGoal('Build user authentication system', {
      key: `auth-${h.prefix}`,
    });
    expect(submitted.template).toBe('feature');
    expect(submitted.planner).toBe('template:feature');
    expect(submitted.tasks.map((t) => [t.key, t.state])).toEqual(
      expect.arrayContaining([
        ['design', 'PENDING'],
        ['backend', 'BACKLOG'],
      ]),
    );
    await h.supervisor.cancelGoal(submitted.goalId, 'tester');
    const tasks = await goalEndsIn(submitted.goalId, 'CANCELLED');
    expect(new Set(tasks.map((t) => t.state))).toEqual(new Set(['CANCELLED']));
    expect(
      await h.leftovers(submitted.goalId, ['design', 'backend', 'frontend', 'testing']),
    ).toEqual([]);
  });

  it('creates a single task as a goal of one', async () => {
    const created = await h.supervisor.createTask({
      title: 'one thing',
      description: 'd',
      type: 'a',
    });
    expect(created).toMatchObject({ key: 'task', type: 'a', state: 'PENDING', priority: 5 });
    await goalEndsIn(created.goalId, 'DONE');
  });
});
