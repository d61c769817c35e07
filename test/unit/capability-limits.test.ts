/** Parsing and sharing out capability limits (no I/O). */
import { InputError } from '../../src/errors';
import {
  assertShardable,
  formatRate,
  parseCapabilityLimits,
  parseRate,
  shardShare,
} from '../../src/queues/capability-limits';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error.field;
    throw error;
  }
  return undefined;
}

describe('capability limits', () => {
  it('reads MAX/DURATION with ms, s, m and h, and writes it back the same way', () => {
    expect(parseRate('60/1m')).toEqual({ max: 60, durationMs: 60000 });
    expect(parseRate('5/250ms')).toEqual({ max: 5, durationMs: 250 });
    expect(parseRate('100/h')).toEqual({ max: 100, durationMs: 3_600_000 });
    expect(parseRate('3 / 10s')).toEqual({ max: 3, durationMs: 10000 });
    expect(formatRate({ max: 60, durationMs: 60000 })).toBe('60/1m');
    expect(formatRate({ max: 5, durationMs: 250 })).toBe('5/250ms');
    expect(formatRate({ max: 9, durationMs: 90000 })).toBe('9/90s');
  });

  it('names the bad part of a rate', () => {
    expect(fieldOf(() => parseRate('60/1y'))).toBe('rate.duration');
    expect(fieldOf(() => parseRate('x/1m'))).toBe('rate.max');
    expect(fieldOf(() => parseRate('0/1m'))).toBe('rate.max');
    expect(fieldOf(() => parseRate('60/0s'))).toBe('rate.durationMs');
    expect(fieldOf(() => parseRate('sixty'))).toBe('rate');
  });

  it('keeps only the limits given and refuses none at all', () => {
    expect(parseCapabilityLimits({ perKey: 2 })).toEqual({ perKey: 2 });
    expect(fieldOf(() => parseCapabilityLimits({}))).toBe('limits');
    expect(fieldOf(() => parseCapabilityLimits(null))).toBe('limits');
    expect(fieldOf(() => parseCapabilityLimits({ concurrency: 1e9 }))).toBe('concurrency');
  });

  it('shares a limit over shards so that the shares add up to it', () => {
    const shares = [0, 1, 2].map((s) => shardShare(10, 3, s));
    expect(shares).toEqual([4, 3, 3]);
    expect(fieldOf(() => assertShardable({ concurrency: 2 }, 3))).toBe('concurrency');
    expect(fieldOf(() => assertShardable({ rate: { max: 1, durationMs: 1 } }, 2))).toBe('rate.max');
    expect(() => assertShardable({ concurrency: 1 }, 1)).not.toThrow();
  });
});
