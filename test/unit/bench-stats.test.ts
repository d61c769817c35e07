import { percentile, ratio, summarize } from '../../bench/stats';

describe('bench stats', () => {
  it('takes nearest-rank percentiles, always a measured value', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 99.9)).toBe(100);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 1)).toBe(7);
  });

  it('gives NaN for no samples and refuses a percentile outside (0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('summarizes unsorted samples without changing them', () => {
    const samples = [5, 1, 4, 2, 3];
    const summary = summarize(samples);
    expect(samples).toEqual([5, 1, 4, 2, 3]);
    expect(summary).toEqual({ samples: 5, p50: 3, p95: 5, p99: 5, p999: 5, max: 5, mean: 3 });
  });

  it('rounds to microseconds', () => {
    expect(summarize([0.1234567]).p50).toBe(0.123);
  });

  it('computes ratios and guards a zero ideal', () => {
    expect(ratio(9, 10)).toBe(0.9);
    expect(ratio(1, 3)).toBe(0.333);
    expect(ratio(5, 0)).toBe(0);
  });
});
