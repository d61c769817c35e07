import type { TaskEventRecord } from '../../src/entities/task-model';
import { taskAttempts } from '../../src/interface/task-attempts';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));
let seq = 0;

function ev(
  event: TaskEventRecord['event'],
  fromState: TaskEventRecord['fromState'],
  toState: TaskEventRecord['toState'],
  s: number,
  extra: Partial<TaskEventRecord> = {},
): TaskEventRecord {
  seq += 1;
  return {
    seq,
    taskId: 'g.t',
    goalId: 'g',
    event,
    fromState,
    toState,
    attempt: 1,
    agentId: null,
    actor: null,
    at: at(s),
    detail: null,
    ...extra,
  };
}

describe('taskAttempts', () => {
  it('reads one attempt per claim: agent, claimed, started and finished times, outcome', () => {
    const attempts = taskAttempts([
      ev('new', null, 'PENDING', 0),
      ev('claimed', 'PENDING', 'ASSIGNED', 1, { agentId: 'a1' }),
      ev('updated', 'ASSIGNED', 'ACTIVE', 2, { agentId: 'a1' }),
      ev('updated', 'ACTIVE', 'ACTIVE', 3, { detail: { progress: 0.5 } }),
      ev('updated', 'ACTIVE', 'PENDING', 4, { detail: { error: { message: 'boom' } } }),
      ev('claimed', 'PENDING', 'ASSIGNED', 5, { agentId: 'a2', attempt: 2 }),
      ev('updated', 'ASSIGNED', 'ACTIVE', 6, { agentId: 'a2', attempt: 2 }),
      ev('complete', 'ACTIVE', 'DONE', 7, { attempt: 2, detail: { result: { ok: true } } }),
    ]);
    expect(attempts).toEqual([
      {
        attempt: 1,
        agentId: 'a1',
        claimedAt: at(1),
        startedAt: at(2),
        finishedAt: at(4),
        outcome: 'RETRIED',
        error: 'boom',
      },
      {
        attempt: 2,
        agentId: 'a2',
        claimedAt: at(5),
        startedAt: at(6),
        finishedAt: at(7),
        outcome: 'DONE',
        error: null,
      },
    ]);
  });

  it('leaves a running attempt open and ignores ends that no attempt had (a pending cancel)', () => {
    expect(
      taskAttempts([ev('new', null, 'PENDING', 0), ev('cancelled', 'PENDING', 'CANCELLED', 1)]),
    ).toEqual([]);
    const running = taskAttempts([
      ev('new', null, 'PENDING', 0),
      ev('claimed', 'PENDING', 'ASSIGNED', 1, { agentId: 'a1' }),
      ev('updated', 'ASSIGNED', 'ACTIVE', 2),
    ]);
    expect(running).toHaveLength(1);
    expect(running[0]).toMatchObject({ startedAt: at(2), finishedAt: null, outcome: null });
  });

  it('closes a failed attempt with its error, and a retry run counts from attempt 1 again', () => {
    const attempts = taskAttempts([
      ev('claimed', 'PENDING', 'ASSIGNED', 1, { agentId: 'a1' }),
      ev('updated', 'ASSIGNED', 'ACTIVE', 2),
      ev('failed', 'ACTIVE', 'FAILED', 3, { detail: { error: { message: 'bad input' } } }),
      ev('updated', 'FAILED', 'PENDING', 4, { actor: 'api:admin' }),
      ev('claimed', 'PENDING', 'ASSIGNED', 5, { agentId: 'a1' }),
      ev('cancelled', 'ASSIGNED', 'CANCELLED', 6),
    ]);
    expect(attempts.map((a) => [a.attempt, a.outcome, a.error])).toEqual([
      [1, 'FAILED', 'bad input'],
      [1, 'CANCELLED', null],
    ]);
  });
});
