import type { StreamEntry } from '../../src/mirror/mirror-events';
import { orderEntries } from '../../src/mirror/mirror-merge';

const e = (id: string, fields: Record<string, string>): StreamEntry => ({ id, fields });
const done = (id: string, job: string) => e(id, { event: 'completed', jobId: job });
const released = (id: string, job: string) =>
  e(id, { event: 'waiting', jobId: job, prev: 'waiting-children' });
const active = (id: string, job: string) => e(id, { event: 'active', jobId: job });

const names = ({ order }: ReturnType<typeof orderEntries>) =>
  order.map((m) => `${m.entry.fields.event}:${m.entry.fields.jobId}`);

describe('orderEntries', () => {
  it('merges streams by time, keeping each stream in order', () => {
    const read = new Map([
      ['a', [done('10-0', 'x'), done('30-0', 'y')]],
      ['b', [active('20-0', 'z'), active('40-0', 'w')]],
    ]);
    expect(names(orderEntries(read, 100))).toEqual([
      'completed:x',
      'active:z',
      'completed:y',
      'active:w',
    ]);
  });

  it('puts an end before a release in the same millisecond', () => {
    const read = new Map([
      ['b', [released('10-0', 'child')]],
      ['a', [done('10-3', 'dep')]],
    ]);
    expect(names(orderEntries(read, 100))).toEqual(['completed:dep', 'waiting:child']);
  });

  it('holds a release (and its job) until a dependency that ended a millisecond later', () => {
    const read = new Map([
      ['b', [released('10-0', 'child'), active('12-0', 'child'), active('12-1', 'other')]],
      ['a', [done('11-0', 'dep')]],
    ]);
    const facts = { dependencies: new Map([['child', ['dep']]]), ended: new Set<string>() };
    expect(names(orderEntries(read, 100, facts))).toEqual([
      'completed:dep',
      'waiting:child',
      'active:child',
      'active:other',
    ]);
  });

  it('orders a release after its dependency later in the same stream', () => {
    const read = new Map([['a', [released('10-0', 'child'), done('10-1', 'dep')]]]);
    const facts = { dependencies: new Map([['child', ['dep']]]), ended: new Set<string>() };
    expect(names(orderEntries(read, 100, facts))).toEqual(['completed:dep', 'waiting:child']);
  });

  it('takes a release at once when SQL records its dependencies ended', () => {
    const read = new Map([['b', [released('10-0', 'child')]]]);
    const facts = { dependencies: new Map([['child', ['dep']]]), ended: new Set(['dep']) };
    expect(names(orderEntries(read, 100, facts))).toEqual(['waiting:child']);
  });

  it('leaves a stream from a release whose dependency has not ended in this read', () => {
    const read = new Map([
      ['b', [active('9-0', 'first'), released('10-0', 'child'), done('11-0', 'other')]],
      ['a', [done('12-0', 'unrelated')]],
    ]);
    const facts = { dependencies: new Map([['child', ['dep']]]), ended: new Set<string>() };
    const ordered = orderEntries(read, 100, facts);
    expect(names(ordered)).toEqual(['active:first', 'completed:unrelated']);
    expect(ordered.held).toEqual(['child']);
  });

  it('re-orders when a cut takes away the end another release waited for', () => {
    // c's release waits for dep2, which ends after b's held release in stream b: both go.
    const read = new Map([
      ['b', [released('10-0', 'child'), done('11-0', 'dep2')]],
      ['c', [released('12-0', 'other')]],
    ]);
    const facts = {
      dependencies: new Map([
        ['child', ['never']],
        ['other', ['dep2']],
      ]),
      ended: new Set<string>(),
    };
    const ordered = orderEntries(read, 100, facts);
    expect(names(ordered)).toEqual([]);
    expect(ordered.held.sort()).toEqual(['child', 'other']);
  });

  it('leaves the other streams from the millisecond a full read stopped at', () => {
    const read = new Map([
      ['a', [done('10-0', 'x'), done('20-0', 'y')]],
      ['b', [active('15-0', 'z'), active('20-5', 'w'), active('25-0', 'v')]],
    ]);
    // a returned `count` (2) entries: it may hold more at 20 ms, so nothing from 20 ms on.
    expect(names(orderEntries(read, 2))).toEqual(['completed:x', 'active:z']);
  });

  it('takes the millisecond when a full read holds nothing else', () => {
    const read = new Map([['a', [done('10-0', 'x'), done('10-1', 'y')]]]);
    expect(names(orderEntries(read, 2))).toEqual(['completed:x', 'completed:y']);
  });
});
