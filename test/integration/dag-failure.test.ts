/**
 * The failure policy, optional tasks, goal cancel and idempotent resubmits, on two real worker
 * processes. Task states are asserted on Redis (job states, agentq stream entries) and on what
 * the handlers recorded; SQL states are the mirror's job.
 */
import { cancelledReason } from '../../src/queues/protocol';
import { startDagHarness, type DagHarness } from '../helpers/dag-harness';
import { task } from '../helpers/dag-plans';
import { waitFor } from '../helpers/wait-for';

describe('failures, optional tasks, cancels and resubmits', () => {
  let h: DagHarness;

  beforeAll(async () => {
    h = await startDagHarness(['a', 'b', 'c']);
  });

  afterAll(async () => {
    await h?.close();
  });

  async function ran(goalId: string): Promise<string[]> {
    return (await h.records()).filter((r) => r.taskId.startsWith(`${goalId}.`)).map((r) => r.key);
  }

  /** A dependent ended FAILED: by BullMQ's failParentOnFailure, or removed with an agentq FAILED entry. */
  async function endedFailed(goalId: string, key: string, type: string): Promise<boolean> {
    const id = `${goalId}.${key}`;
    const state = await h.coordinator.queue(type, 0).getJobState(id);
    if (state === 'failed') return true;
    const entry = (await h.agentqEvents(type)).get(id);
    return entry?.to === 'FAILED' && /^dependency \S+ failed$/.test(entry.reason ?? '');
  }

  it('fails the dependents of a task that failed for good, never runs them, and fails the goal', async () => {
    const plan = {
      goal: 'failure policy',
      tasks: [
        task('bad', 'a', [], { data: { fail: true }, attempts: 1 }),
        task('tree-child', 'b', ['bad']),
        task('gated', 'c', ['bad']),
        task('grandchild', 'a', ['tree-child']),
        task('join', 'b', ['grandchild', 'gated', 'fine']),
        task('fine', 'c'),
      ],
    };
    const { goalId } = await h.supervisor.submitPlan(plan);
    const end = await h.goalEnd(goalId);
    expect(end).toEqual({ state: 'failed', reason: 'dependency bad failed' });
    const keys = await ran(goalId);
    for (const k of ['tree-child', 'gated', 'grandchild', 'join']) expect(keys).not.toContain(k);
    expect(await endedFailed(goalId, 'tree-child', 'b')).toBe(true);
    expect(await endedFailed(goalId, 'gated', 'c')).toBe(true);
    expect(await endedFailed(goalId, 'grandchild', 'a')).toBe(true);
    expect(await endedFailed(goalId, 'join', 'b')).toBe(true);
    await waitFor('no job of the goal left waiting', async () =>
      (await h.leftovers(goalId, ['a', 'b', 'c'])).length === 0 ? true : null,
    );
  });

  it('lets the dependents of an optional task that failed run with { error }', async () => {
    const plan = {
      goal: 'optional',
      tasks: [
        task('maybe', 'a', [], { data: { fail: true }, attempts: 1, optional: true }),
        task('first', 'b', ['maybe']),
        task('second', 'c', ['maybe']),
      ],
    };
    const { goalId } = await h.supervisor.submitPlan(plan);
    expect(await h.goalEnd(goalId)).toEqual({ state: 'completed', reason: '' });
    const records = (await h.records()).filter((r) => r.taskId.startsWith(`${goalId}.`));
    expect(records.map((r) => r.key).sort()).toEqual(['first', 'second']);
    for (const r of records) {
      expect(r.deps).toEqual({ maybe: { error: { message: 'task maybe failed on purpose' } } });
    }
  });

  it('cancels every unfinished task of a cancelled goal and leaves nothing waiting', async () => {
    const plan = {
      goal: 'cancel me',
      tasks: [
        task('running', 'a', [], { data: { block: true } }),
        task('next', 'b', ['running']),
        task('gated', 'c', ['running']),
        task('last', 'a', ['next', 'gated']),
        task('other', 'b', [], { data: { block: true } }),
      ],
    };
    const { goalId } = await h.supervisor.submitPlan(plan);
    await waitFor('both blocking tasks to run', async () =>
      (await h.blocked()).filter((k) => k === 'running' || k === 'other').length >= 2 ? true : null,
    );
    await h.supervisor.cancelGoal(goalId, 'tester');
    const end = await h.goalEnd(goalId);
    expect(end).toEqual({ state: 'failed', reason: cancelledReason('tester') });
    for (const [key, type] of [
      ['running', 'a'],
      ['other', 'b'],
    ] as const) {
      const job = await h.coordinator.queue(type, 0).getJob(`${goalId}.${key}`);
      await waitFor(`${key} to fail as cancelled`, async () =>
        (await job!.getState()) === 'failed' ? true : null,
      );
      const fresh = await h.coordinator.queue(type, 0).getJob(`${goalId}.${key}`);
      expect(fresh!.failedReason).toBe(cancelledReason('tester'));
    }
    for (const [key, type] of [
      ['next', 'b'],
      ['gated', 'c'],
      ['last', 'a'],
    ] as const) {
      const entry = (await h.agentqEvents(type)).get(`${goalId}.${key}`);
      expect(entry).toMatchObject({
        to: 'CANCELLED',
        reason: cancelledReason('tester'),
        actor: 'tester',
      });
    }
    expect(await ran(goalId)).toEqual([]);
    expect(await h.leftovers(goalId, ['a', 'b', 'c'])).toEqual([]);
  });

  it('returns the existing goal when a plan with the same key is submitted again', async () => {
    const plan = {
      goal: 'once',
      key: `once-${h.prefix}`,
      tasks: [task('x', 'a'), task('y', 'b', ['x'])],
    };
    const first = await h.supervisor.submitPlan(plan);
    const second = await h.supervisor.submitPlan(plan);
    expect(second.goalId).toBe(first.goalId);
    expect(second.created).toBe(false);
    expect(second.tasks.map((t) => t.id).sort()).toEqual(first.tasks.map((t) => t.id).sort());
    expect(await h.goalEnd(first.goalId)).toEqual({ state: 'completed', reason: '' });
    expect((await ran(first.goalId)).sort()).toEqual(['x', 'y']);
  });
});
