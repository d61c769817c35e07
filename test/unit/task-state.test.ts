import {
  assertTransition,
  canTransition,
  IllegalTransitionError,
  TASK_STATES,
  TRANSITIONS,
} from '../../src/entities/task-state';

describe('task lifecycle', () => {
  it('walks the happy path BACKLOG → PENDING → ASSIGNED → ACTIVE → DONE', () => {
    const path = ['BACKLOG', 'PENDING', 'ASSIGNED', 'ACTIVE', 'DONE'] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
  });

  it('lets nothing leave DONE', () => {
    for (const to of TASK_STATES) expect(canTransition('DONE', to)).toBe(false);
  });

  it('re-opens FAILED and CANCELLED only into PENDING (an explicit retry)', () => {
    expect(TRANSITIONS.FAILED).toEqual(['PENDING']);
    expect(TRANSITIONS.CANCELLED).toEqual(['PENDING']);
  });

  it('refuses an illegal transition with an error naming the task and both states', () => {
    expect(() => assertTransition('t-1', 'BACKLOG', 'DONE')).toThrow(IllegalTransitionError);
    expect(() => assertTransition('t-1', 'BACKLOG', 'DONE')).toThrow(
      'task t-1: illegal transition BACKLOG → DONE',
    );
  });
});
