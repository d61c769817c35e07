import { compareVersions } from '../../src/queues/redis-checks';

describe('compareVersions', () => {
  it('orders dotted versions numerically', () => {
    expect(compareVersions('7.0.15', '6.2.0')).toBe(1);
    expect(compareVersions('6.2.0', '6.2.0')).toBe(0);
    expect(compareVersions('6.0.16', '6.2.0')).toBe(-1);
    expect(compareVersions('10.0', '9.9.9')).toBe(1);
  });
});
