import {
  compareStreamIds,
  parseCursor,
  serializeCursor,
  streamIdMs,
} from '../../src/mirror/mirror-cursor';
import { fillPath, isTrimmedPast, statePath } from '../../src/mirror/mirror-reconcile';
import { RecentSamples } from '../../src/mirror/mirror-metrics';
import { taskPayload } from '../../src/mirror/channel-payload';
import type { StreamInfo } from '../../src/mirror/mirror-streams';

const info = (over: Partial<StreamInfo>): StreamInfo => ({
  exists: true,
  lastId: '900-0',
  maxDeletedId: '0-0',
  firstId: '500-0',
  length: 10,
  entriesAdded: 10,
  ...over,
});

describe('mirror rules', () => {
  it('orders stream ids numerically, not as strings', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-1', '10-1')).toBe(0);
    expect(streamIdMs('1700000000123-4')).toBe(1700000000123);
  });

  it('round-trips the cursor and drops values that are not stream ids', () => {
    const cursor = { b: '2-0', a: '1-5' };
    expect(serializeCursor(cursor)).toBe('{"a":"1-5","b":"2-0"}');
    expect(parseCursor(serializeCursor(cursor))).toEqual(cursor);
    expect(parseCursor('{"a":"x","b":"3-1"}')).toEqual({ b: '3-1' });
    expect(parseCursor(null)).toEqual({});
  });

  it('tells a stream trimmed past the cursor from one that was not', () => {
    expect(isTrimmedPast(info({}), '400-0')).toBe(false); // nothing ever removed
    expect(isTrimmedPast(info({ entriesAdded: 50 }), '400-0')).toBe(true);
    expect(isTrimmedPast(info({ entriesAdded: 50 }), '600-0')).toBe(false); // trimmed behind us
    expect(isTrimmedPast(info({ entriesAdded: 50, length: 0, firstId: null }), '400-0')).toBe(true);
    expect(isTrimmedPast(info({ maxDeletedId: '700-0' }), '600-0')).toBe(true);
    expect(isTrimmedPast(info({ exists: false }), '0-0')).toBe(false);
  });

  it('finds the legal steps between two states', () => {
    expect(statePath('BACKLOG', 'DONE')).toEqual(['PENDING', 'ASSIGNED', 'DONE']);
    expect(statePath('PENDING', 'FAILED')).toEqual(['FAILED']);
    expect(statePath('DONE', 'PENDING')).toBeNull();
    const at = new Date(0);
    const filled = fillPath('BACKLOG', [{ taskId: 't', to: 'DONE', at }]);
    expect(filled.map((c) => c.to)).toEqual(['PENDING', 'ASSIGNED', 'DONE']);
  });

  it('gives percentiles of recent samples', () => {
    const samples = new RecentSamples(100);
    for (let i = 1; i <= 200; i++) samples.add(i);
    expect(samples.count).toBe(100);
    expect(samples.percentile(50)).toBe(150);
    expect(samples.percentile(99)).toBe(199);
  });

  it('builds the channel payload from an audit event', () => {
    const payload = taskPayload(
      {
        seq: 7,
        taskId: 'g-1.build',
        goalId: 'g-1',
        event: 'failed',
        fromState: 'ACTIVE',
        toState: 'FAILED',
        attempt: 3,
        agentId: 'a1',
        actor: null,
        at: new Date(0),
        detail: { error: { message: 'boom', stack: 'secret' } },
      },
      { key: 'build', type: 'dev' },
    );
    expect(payload).toEqual({
      v: 1,
      seq: 7,
      event: 'failed',
      taskId: 'g-1.build',
      goalId: 'g-1',
      key: 'build',
      type: 'dev',
      state: 'FAILED',
      attempt: 3,
      agentId: 'a1',
      at: '1970-01-01T00:00:00.000Z',
      error: { message: 'boom' },
      final: true,
    });
  });
});
