import { CircuitBreaker, type BreakerChange } from '../../src/processors/circuit-breaker';
import { InputError } from '../../src/errors';

function breakerWithClock(threshold = 3, cooldownMs = 1000) {
  const clock = { now: 1_000_000 };
  const changes: BreakerChange[] = [];
  const breaker = new CircuitBreaker({ threshold, cooldownMs, now: () => clock.now });
  breaker.onChange((change) => changes.push(change));
  return { breaker, clock, changes };
}

function fail(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i++) breaker.recordFailure();
}

describe('CircuitBreaker', () => {
  it('starts closed and defaults to 5 failures and a 30 s cool-down', () => {
    const breaker = new CircuitBreaker();
    expect(breaker.state).toBe('closed');
    expect(breaker.threshold).toBe(5);
    expect(breaker.cooldownMs).toBe(30000);
    expect(breaker.retryAt).toBeNull();
  });

  it('opens after N consecutive failures and refuses runs until the cool-down passes', () => {
    const { breaker, clock, changes } = breakerWithClock(3, 1000);
    fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.canRun()).toBe(true);
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.retryAt).toBe(clock.now + 1000);
    expect(breaker.canRun()).toBe(false);
    expect(changes).toEqual([
      { from: 'closed', to: 'open', retryAt: clock.now + 1000, failures: 3 },
    ]);
    clock.now += 999;
    expect(breaker.canRun()).toBe(false);
  });

  it('resets the count on a success, so only consecutive failures open it', () => {
    const { breaker } = breakerWithClock(3);
    fail(breaker, 2);
    breaker.recordSuccess();
    expect(breaker.failures).toBe(0);
    fail(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('lets exactly one probe through after the cool-down', () => {
    const { breaker, clock, changes } = breakerWithClock(1, 1000);
    breaker.recordFailure();
    clock.now += 1000;
    expect(breaker.state).toBe('half-open');
    expect(breaker.retryAt).toBeNull();
    expect(breaker.canRun()).toBe(true);
    expect(breaker.canRun()).toBe(false);
    expect(breaker.canRun()).toBe(false);
    expect(changes.map((c) => c.to)).toEqual(['open', 'half-open']);
  });

  it('closes after a good probe', () => {
    const { breaker, clock, changes } = breakerWithClock(2, 1000);
    fail(breaker, 2);
    clock.now += 1000;
    expect(breaker.canRun()).toBe(true);
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.canRun()).toBe(true);
    expect(breaker.canRun()).toBe(true);
    expect(breaker.failures).toBe(0);
    expect(changes.map((c) => c.to)).toEqual(['open', 'half-open', 'closed']);
  });

  it('re-opens for another cool-down after a bad probe', () => {
    const { breaker, clock, changes } = breakerWithClock(2, 1000);
    fail(breaker, 2);
    clock.now += 1500;
    expect(breaker.canRun()).toBe(true);
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.retryAt).toBe(clock.now + 1000);
    expect(breaker.canRun()).toBe(false);
    clock.now += 1000;
    expect(breaker.canRun()).toBe(true);
    expect(changes.map((c) => c.to)).toEqual(['open', 'half-open', 'open', 'half-open']);
  });

  it('lets another probe through when the first ends without a verdict', () => {
    const { breaker, clock } = breakerWithClock(1, 10);
    breaker.recordFailure();
    clock.now += 10;
    expect(breaker.canRun()).toBe(true);
    breaker.cancelProbe();
    expect(breaker.canRun()).toBe(true);
    expect(breaker.canRun()).toBe(false);
  });

  it('ignores late results of attempts that started before it opened', () => {
    const { breaker } = breakerWithClock(1, 1000);
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
  });

  it('stops calling a listener once it unsubscribes', () => {
    const breaker = new CircuitBreaker({ threshold: 1 });
    const seen: string[] = [];
    const unsubscribe = breaker.onChange((c) => seen.push(c.to));
    unsubscribe();
    breaker.recordFailure();
    expect(seen).toEqual([]);
  });

  it('refuses a bad threshold or cool-down with an error naming the field', () => {
    expect(() => new CircuitBreaker({ threshold: 0 })).toThrow(InputError);
    expect(() => new CircuitBreaker({ threshold: 1.5 })).toThrow('threshold');
    expect(() => new CircuitBreaker({ cooldownMs: -1 })).toThrow('cooldownMs');
  });
});
