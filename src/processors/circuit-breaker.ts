/**
 * A circuit breaker for one agent and one capability: after `threshold` consecutive failures it
 * opens and the agent stops claiming that capability; after `cooldownMs` it lets exactly one
 * probe through (half-open); a good probe closes it, a bad one re-opens it for another cool-down.
 *
 * The breaker only keeps the books. The agent asks `canRun()` before it claims, reports every
 * attempt's end, and listens to `onChange` to pause and resume its worker (at `retryAt`).
 */
import { InputError } from '../errors';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. @defaultValue 5 */
  threshold?: number;
  /** How long it stays open before it lets one probe through. @defaultValue 30000 */
  cooldownMs?: number;
  /** The clock, in epoch milliseconds; injected by tests. @defaultValue Date.now */
  now?: () => number;
}

export interface BreakerChange {
  from: BreakerState;
  to: BreakerState;
  /** When an open breaker lets its probe through; null unless `to` is open. */
  retryAt: number | null;
  /** Consecutive failures counted when the change happened. */
  failures: number;
}

export type BreakerListener = (change: BreakerChange) => void;

export class CircuitBreaker {
  readonly threshold: number;
  readonly cooldownMs: number;
  private readonly now: () => number;
  private current: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openUntil: number | null = null;
  private probeInFlight = false;
  private readonly listeners = new Set<BreakerListener>();

  constructor(options: CircuitBreakerOptions = {}) {
    const { threshold = 5, cooldownMs = 30000, now = Date.now } = options;
    if (!Number.isInteger(threshold) || threshold < 1) {
      throw new InputError('must be an integer of at least 1', 'threshold');
    }
    if (!Number.isFinite(cooldownMs) || cooldownMs < 0) {
      throw new InputError('must be a non-negative number of milliseconds', 'cooldownMs');
    }
    this.threshold = threshold;
    this.cooldownMs = cooldownMs;
    this.now = now;
  }

  /** The state as of now: an open breaker whose cool-down has passed reads as half-open. */
  get state(): BreakerState {
    if (this.current === 'open' && this.cooldownOver()) this.transition('half-open');
    return this.current;
  }

  /** When an open breaker will let its probe through (epoch ms); null when not open. */
  get retryAt(): number | null {
    return this.current === 'open' ? this.openUntil : null;
  }

  get failures(): number {
    return this.consecutiveFailures;
  }

  /**
   * May one more attempt start now? Closed: yes. Open: no. Half-open: yes exactly once (the
   * probe) until that probe is reported with `recordSuccess`, `recordFailure` or `cancelProbe`.
   */
  canRun(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  recordSuccess(): void {
    // A late result of an attempt that started before the breaker opened proves nothing: ignore it.
    if (this.current === 'open') return;
    this.consecutiveFailures = 0;
    this.probeInFlight = false;
    if (this.current === 'half-open') this.transition('closed');
  }

  recordFailure(): void {
    if (this.current === 'open') return;
    this.consecutiveFailures += 1;
    const wasProbe = this.current === 'half-open';
    this.probeInFlight = false;
    if (wasProbe || this.consecutiveFailures >= this.threshold) this.open();
  }

  /** The probe ended without a verdict (declined, cancelled, handed back): let another one through. */
  cancelProbe(): void {
    this.probeInFlight = false;
  }

  /** Calls `listener` on every state change; returns a function that unsubscribes it. */
  onChange(listener: BreakerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private cooldownOver(): boolean {
    return this.openUntil !== null && this.now() >= this.openUntil;
  }

  private open(): void {
    this.openUntil = this.now() + this.cooldownMs;
    this.transition('open');
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    if (to !== 'open') this.openUntil = null;
    const change: BreakerChange = {
      from,
      to,
      retryAt: this.retryAt,
      failures: this.consecutiveFailures,
    };
    for (const listener of this.listeners) listener(change);
  }
}
