import { mapTaskEntry, type MirrorLookups, type TaskMemo } from '../../src/mirror/mirror-events';
import { dependencyOfChildKey } from '../../src/mirror/mirror-failure';
import { cancelledReason, type TaskResultEnvelope } from '../../src/queues/protocol';

const ID = 'g-1.build';
const reasons = new Map<string, string>();
const jobs = new Map<string, Record<string, string>>();
const lookups: MirrorLookups = {
  failedReasonOf: async (key) => reasons.get(key) ?? null,
  jobFields: async (key, fields) => fields.map((f) => jobs.get(key)?.[f] ?? null),
  jobKey: (jobId) => `{aq}:dev:${jobId}`,
};

function map(
  fields: Record<string, string>,
  memos = new Map<string, TaskMemo>(),
  id = '1700000000000-0',
) {
  return mapTaskEntry({ id, fields: { jobId: ID, ...fields } }, memos, lookups);
}

describe('mirror event mapping', () => {
  beforeEach(() => {
    reasons.clear();
    jobs.clear();
  });

  it('ignores a fresh add and `active` (the agent id comes with `started`)', async () => {
    expect(await map({ event: 'waiting' })).toEqual([]);
    expect(await map({ event: 'active', prev: 'waiting' })).toEqual([]);
    expect(await map({ event: 'added', name: 'x' })).toEqual([]);
  });

  it('records dependencies done as PENDING with the time it was queued', async () => {
    const [change] = await map({ event: 'waiting', prev: 'waiting-children' });
    expect(change).toMatchObject({
      taskId: ID,
      to: 'PENDING',
      metrics: { queuedAt: new Date(1700000000000) },
    });
  });

  it('an approval: the decider is the actor of DONE (note as reason) and of a rejection', async () => {
    const envelope: TaskResultEnvelope = {
      v: 1,
      key: 'build',
      result: { approved: true, by: 'cli:ann', note: 'ok', data: null },
      agentId: 'cli:ann',
      attempt: 1,
      startedAt: 1000,
      finishedAt: 1000,
      actor: 'cli:ann',
      note: 'ok',
    };
    const [done] = await map({ event: 'completed', returnvalue: JSON.stringify(envelope) });
    expect(done).toMatchObject({ to: 'DONE', actor: 'cli:ann', reason: 'ok', agentId: 'cli:ann' });
    const [failed] = await map({ event: 'failed', failedReason: 'rejected by api:admin: no' });
    expect(failed).toMatchObject({
      to: 'FAILED',
      actor: 'api:admin',
      error: { message: 'rejected by api:admin: no' },
    });
    const [other] = await map({ event: 'failed', failedReason: 'boom' });
    expect(other!.actor).toBeUndefined();
  });

  it('turns `started` into ASSIGNED then ACTIVE with the agent, attempt and wait time', async () => {
    const memos = new Map<string, TaskMemo>([[ID, { queuedAtMs: 1000 }]]);
    const data = JSON.stringify({
      phase: 'started',
      agentId: 'a1',
      attempt: 2,
      claimedAt: 1500,
      startedAt: 1600,
    });
    const changes = await map({ event: 'progress', data }, memos);
    expect(changes.map((c) => [c.to, c.agentId, c.attempt])).toEqual([
      ['ASSIGNED', 'a1', 2],
      ['ACTIVE', 'a1', 2],
    ]);
    expect(changes[1]!.metrics).toEqual({ startedAt: new Date(1600), waitMs: 500 });
    expect(memos.get(ID)).toMatchObject({ state: 'ACTIVE', attempt: 2 });
  });

  it('records progress with its quality score', async () => {
    const data = JSON.stringify({
      phase: 'progress',
      agentId: 'a1',
      attempt: 1,
      value: { qualityScore: 0.9 },
    });
    const [change] = await map({ event: 'progress', data });
    expect(change).toMatchObject({
      to: 'ACTIVE',
      progress: { qualityScore: 0.9 },
      metrics: { qualityScore: 0.9 },
    });
  });

  it('records a completion with the envelope result, agent and metrics', async () => {
    const envelope: TaskResultEnvelope = {
      v: 1,
      key: 'build',
      result: { ok: true },
      agentId: 'a1',
      attempt: 1,
      startedAt: 1000,
      finishedAt: 1250,
      metrics: { cpuMs: 12, peakRssBytes: 1024, qualityScore: 0.5 },
    };
    const [change] = await map({ event: 'completed', returnvalue: JSON.stringify(envelope) });
    expect(change).toMatchObject({
      to: 'DONE',
      agentId: 'a1',
      attempt: 1,
      result: { ok: true },
      metrics: { durationMs: 250, cpuMs: 12, peakRssBytes: 1024, qualityScore: 0.5 },
    });
  });

  it('puts a failed attempt with attempts left back to PENDING with its error', async () => {
    jobs.set(`{aq}:dev:${ID}`, { failedReason: 'boom', atm: '1', data: '{"epoch":0}' });
    const memos = new Map<string, TaskMemo>([[ID, { state: 'ACTIVE', attempt: 1 }]]);
    const [change] = await map({ event: 'delayed', delay: '123' }, memos);
    expect(change).toMatchObject({ to: 'PENDING', attempt: 1, error: { message: 'boom' } });
    // The backoff's end is then the same PENDING: not recorded twice.
    expect(await map({ event: 'waiting', prev: 'delayed' }, memos)).toEqual([]);
  });

  it('opens a new epoch for a dead-letter redrive, without the old error', async () => {
    jobs.set(`{aq}:dev:${ID}`, { failedReason: 'boom', data: '{"epoch":2}' });
    const [change] = await map({ event: 'waiting', prev: 'failed' });
    expect(change).toMatchObject({ to: 'PENDING', epoch: 2 });
    expect(change).not.toHaveProperty('attempt');
    expect(change).not.toHaveProperty('error');
  });

  it('records a cancel as CANCELLED with its actor', async () => {
    const [change] = await map({ event: 'failed', failedReason: cancelledReason('api:ops') });
    expect(change).toMatchObject({ to: 'CANCELLED', actor: 'api:ops' });
  });

  it('records a parent failed by a child as FAILED by that dependency, or CANCELLED with it', async () => {
    reasons.set('{aq}:dev:g-1.design', 'exploded');
    const [failed] = await map({
      event: 'failed',
      failedReason: 'child {aq}:dev:g-1.design failed',
    });
    expect(failed).toMatchObject({
      to: 'FAILED',
      error: { message: 'dependency design failed', dependency: 'design' },
    });
    reasons.set('{aq}:dev:g-1.design', cancelledReason('cli'));
    const [cancelled] = await map({
      event: 'failed',
      failedReason: 'child {aq}:dev:g-1.design failed',
    });
    expect(cancelled).toMatchObject({
      to: 'CANCELLED',
      reason: cancelledReason('cli'),
      actor: 'cli',
    });
  });

  it('names the source task of a failed gate child', () => {
    expect(dependencyOfChildKey('{aq.s1}:_gates:g-1.schema~api')).toBe('schema');
    expect(dependencyOfChildKey('{aq}:dev:g-1.design')).toBe('design');
  });

  it("records agentq's own stream events", async () => {
    const changes = await mapTaskEntry(
      {
        id: '5-0',
        fields: {
          event: 'agentq',
          taskId: ID,
          to: 'FAILED',
          reason: 'dependency x failed',
          actor: '',
          dependency: 'x',
        },
      },
      new Map(),
      lookups,
    );
    expect(changes).toEqual([
      {
        taskId: ID,
        to: 'FAILED',
        at: new Date(5),
        reason: 'dependency x failed',
        actor: null,
        error: { message: 'dependency x failed', dependency: 'x' },
        metrics: { finishedAt: new Date(5) },
      },
    ]);
  });
});
