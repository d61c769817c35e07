import {
  isStale,
  NO_METRICS,
  planChanges,
  type HeadField,
  type TaskHead,
} from '../../src/entities/apply-changes';
import { NotFoundError } from '../../src/errors';
import { IllegalTransitionError } from '../../src/entities/task-state';

const at = new Date('2025-01-01T00:00:00.000Z');

function head(extra: Partial<TaskHead> = {}): TaskHead {
  return {
    id: 't1',
    goalId: 'g1',
    state: 'PENDING',
    attempt: 0,
    epoch: 0,
    agentId: null,
    progress: null,
    result: null,
    error: null,
    updatedAt: at,
    ...NO_METRICS,
    queuedAt: at,
    ...extra,
  };
}

describe('planning a batch of task changes', () => {
  it('applies changes to one task in order, each seeing the one before', () => {
    const current = new Map([['t1', head()]]);
    const plan = planChanges(current, [
      { taskId: 't1', to: 'ASSIGNED', at, attempt: 1, agentId: 'a' },
      { taskId: 't1', to: 'ACTIVE', at, attempt: 1, metrics: { startedAt: at } },
      { taskId: 't1', to: 'ACTIVE', at, progress: 0.5 },
      { taskId: 't1', to: 'DONE', at, result: { ok: true }, metrics: { durationMs: 5 } },
    ]);
    expect(plan.events.map((e) => [e.event, e.fromState, e.toState])).toEqual([
      ['claimed', 'PENDING', 'ASSIGNED'],
      ['updated', 'ASSIGNED', 'ACTIVE'],
      ['updated', 'ACTIVE', 'ACTIVE'],
      ['complete', 'ACTIVE', 'DONE'],
    ]);
    expect(plan.heads.get('t1')).toMatchObject({
      state: 'DONE',
      attempt: 1,
      agentId: 'a',
      progress: 0.5,
      result: { ok: true },
      startedAt: at,
      durationMs: 5,
    });
    expect(current.get('t1')!.state).toBe('PENDING');
  });

  it('rejects unknown tasks and illegal transitions, and plans the rest', () => {
    const plan = planChanges(new Map([['t1', head()]]), [
      { taskId: 'nope', to: 'ASSIGNED', at },
      { taskId: 't1', to: 'DONE', at },
      { taskId: 't1', to: 'ASSIGNED', at },
    ]);
    expect(plan.rejected[0]!.error).toBeInstanceOf(NotFoundError);
    expect(plan.rejected[1]!.error).toBeInstanceOf(IllegalTransitionError);
    expect(plan.rejected[1]!.error.message).toBe('task t1: illegal transition PENDING → DONE');
    expect(plan.events).toHaveLength(1);
  });

  it('treats an older (epoch, attempt) as stale and a missing one as current', () => {
    const h = head({ state: 'ACTIVE', attempt: 2, epoch: 1 });
    expect(isStale(h, { taskId: 't1', to: 'DONE', at, attempt: 1 })).toBe(true);
    expect(isStale(h, { taskId: 't1', to: 'DONE', at, epoch: 0, attempt: 9 })).toBe(true);
    expect(isStale(h, { taskId: 't1', to: 'DONE', at })).toBe(false);
    expect(isStale(h, { taskId: 't1', to: 'DONE', at, attempt: 2 })).toBe(false);
    expect(isStale(h, { taskId: 't1', to: 'DONE', at, epoch: 2, attempt: 0 })).toBe(false);
    const plan = planChanges(new Map([['t1', h]]), [{ taskId: 't1', to: 'DONE', at, attempt: 1 }]);
    expect(plan.stale).toHaveLength(1);
    expect(plan.events).toEqual([]);
  });

  it('starts a new epoch afresh: attempt 0 and the old outcome cleared', () => {
    const failed = head({ state: 'FAILED', attempt: 3, error: { message: 'x' }, result: 1 });
    const plan = planChanges(new Map([['t1', failed]]), [
      { taskId: 't1', to: 'PENDING', at, epoch: 1, actor: 'cli', reason: 'retry' },
    ]);
    expect(plan.heads.get('t1')).toMatchObject({ epoch: 1, attempt: 0, error: null, result: null });
    expect(plan.events[0]).toMatchObject({ actor: 'cli', detail: { reason: 'retry' } });
  });

  it('lets only a new epoch move PENDING → PENDING (recover re-queuing a task between retries)', () => {
    const waiting = head({ state: 'PENDING', attempt: 2, error: { message: 'attempt 2' } });
    const sameEpoch = planChanges(new Map([['t1', waiting]]), [
      { taskId: 't1', to: 'PENDING', at, attempt: 2 },
    ]);
    expect(sameEpoch.rejected[0]!.error).toBeInstanceOf(IllegalTransitionError);
    const plan = planChanges(new Map([['t1', waiting]]), [
      { taskId: 't1', to: 'PENDING', at, epoch: 1, attempt: 0, actor: 'recover' },
      { taskId: 't1', to: 'ASSIGNED', at, attempt: 1, agentId: 'a' },
    ]);
    expect(plan.rejected).toEqual([]);
    expect(plan.events.map((e) => [e.fromState, e.toState, e.attempt])).toEqual([
      ['PENDING', 'PENDING', 0],
      ['PENDING', 'ASSIGNED', 1],
    ]);
    expect(plan.heads.get('t1')).toMatchObject({ epoch: 1, attempt: 1, error: null });
  });

  it('clears the error of a task that completes', () => {
    const active = head({ state: 'ACTIVE', attempt: 2, error: { message: 'earlier attempt' } });
    const plan = planChanges(new Map([['t1', active]]), [{ taskId: 't1', to: 'DONE', at }]);
    expect(plan.heads.get('t1')!.error).toBeNull();
  });

  it('lists the fields each task rewrote, so a store may write only those', () => {
    const failed = head({ id: 't2', state: 'FAILED', attempt: 3, result: 1 });
    const plan = planChanges(
      new Map([
        ['t1', head()],
        ['t2', failed],
      ]),
      [
        { taskId: 't1', to: 'ASSIGNED', at, attempt: 1, agentId: 'a', metrics: { waitMs: 3 } },
        { taskId: 't1', to: 'ACTIVE', at, progress: { pct: 5 } },
        { taskId: 't2', to: 'PENDING', at, epoch: 1 },
        { taskId: 't1', to: 'DONE', at },
      ],
    );
    expect([...plan.written.get('t1')!].sort()).toEqual(
      ['agentId', 'attempt', 'epoch', 'error', 'progress', 'state', 'updatedAt', 'waitMs'].sort(),
    );
    expect([...plan.written.get('t2')!].sort()).toEqual(
      ['attempt', 'epoch', 'error', 'progress', 'result', 'state', 'updatedAt'].sort(),
    );
    for (const [id, fields] of plan.written) {
      const rewritable = Object.keys(head()).filter((key) => key !== 'id' && key !== 'goalId');
      for (const field of rewritable as HeadField[]) {
        const before = id === 't1' ? head() : failed;
        if (!fields.has(field)) {
          expect([id, field, plan.heads.get(id)![field]]).toEqual([id, field, before[field]]);
        }
      }
    }
  });
});
