/**
 * Whether Redis answers, as one process sees it, across all of its connections. Every ioredis
 * client, Queue, Worker and subscriber of a long-running process emits an error on each failed
 * reconnect attempt (BullMQ forwards each client's errors, several per Worker), so a Redis that is
 * down for 5 s meant dozens of `ECONNREFUSED` lines. Instead, every connection error is handed
 * here (`absorb`); this object asks Redis itself (a PING on the process's command connection)
 * and says one line when Redis is lost and one when it is back. A PING answered within `noticeMs`
 * means the error was a blip of one connection (it reconnects by itself): nothing is said.
 */
import type { RedisConfig } from '../config';
import { ConnectionError } from '../errors';
import { cannotConnectMessage, lostConnectionMessage } from './connection';

export type ConnectionState = 'unknown' | 'up' | 'checking' | 'down' | 'closed';

export interface ConnectionHealthOptions {
  redis: RedisConfig;
  /** Resolves when Redis answers (a PING on a connection that retries until it is back). */
  probe: () => Promise<unknown>;
  /**
   * How long a PING may go unanswered before Redis counts as lost (or, at start, unreachable).
   * @defaultValue 2000
   */
  noticeMs?: number;
  /** Where the lines go until `setWriter` says otherwise. @defaultValue a line on stderr */
  write?: (line: string) => void;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const CONNECTION_MESSAGES = [
  /^Connection is closed/,
  /^connect ETIMEDOUT/,
  /^Stream isn't writeable/,
  /^Failed to refresh slots cache/,
  /^None of startup nodes is available/,
  /^LOADING /,
  /ECONNREFUSED/,
];
const CONNECTION_NAMES = new Set([
  'ConnectionClosedError',
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
]);

/** True for the errors a lost or refused connection produces (ioredis, BullMQ, the OS). */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (CONNECTION_NAMES.has(error.name)) return true;
  return CONNECTION_MESSAGES.some((pattern) => pattern.test(error.message));
}

const stderrLine = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export class ConnectionHealth {
  private current: ConnectionState = 'unknown';
  private readonly defaultWrite: (line: string) => void;
  private write: (line: string) => void;
  private readonly noticeMs: number;
  private starting: Promise<void> | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Resolves on `close()`: every wait here races it, so none outlives the connections. */
  private readonly closed: Promise<false>;
  private markClosed: () => void = () => undefined;

  constructor(private readonly options: ConnectionHealthOptions) {
    this.noticeMs = options.noticeMs ?? 2000;
    this.defaultWrite = options.write ?? stderrLine;
    this.write = this.defaultWrite;
    this.closed = new Promise<false>((resolve) => {
      this.markClosed = () => resolve(false);
    });
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** A getter, not a field test: it changes across awaits (`close()` may come at any time). */
  private get isClosed(): boolean {
    return this.current === 'closed';
  }

  /** Sends the lines to `write` until the returned function puts the default back. */
  setWriter(write: (line: string) => void): () => void {
    this.write = write;
    return () => {
      if (this.write === write) this.write = this.defaultWrite;
    };
  }

  /**
   * Takes a connection error (the caller then prints nothing); false for any other error, which
   * the caller reports as before.
   */
  absorb(error: unknown): boolean {
    if (!isConnectionError(error)) return false;
    if (this.current === 'up') void this.check((error as Error).message);
    return true;
  }

  /**
   * Resolves once Redis answers. When it has not answered within `noticeMs`, says so once (the
   * one-shot commands' message, with the fix) and keeps waiting; says so again when it answers.
   * Rejects with `ConnectionError` when closed before that.
   */
  untilReachable(): Promise<void> {
    if (this.isClosed) return Promise.reject(this.closedError());
    if (this.current !== 'unknown') return Promise.resolve();
    this.starting ??= this.start();
    return this.starting;
  }

  /** No more lines; every pending wait ends. */
  close(): void {
    this.current = 'closed';
    this.markClosed();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async start(): Promise<void> {
    const answered = this.probe();
    if (!(await this.within(answered))) {
      if (this.isClosed) throw this.closedError();
      this.current = 'down';
      this.write(`warning: ${cannotConnectMessage(this.options.redis)} Retrying until it answers…`);
      if (!(await this.untilAnswered(answered))) throw this.closedError();
      this.write(`Connected to Redis at ${this.where()}.`);
    }
    if (this.isClosed) throw this.closedError();
    this.current = 'up';
  }

  private closedError(): ConnectionError {
    return new ConnectionError(`closed while waiting for Redis at ${this.where()}`);
  }

  private async check(why: string): Promise<void> {
    this.current = 'checking';
    const answered = this.probe();
    if (await this.within(answered)) {
      if (this.current === 'checking') this.current = 'up';
      return;
    }
    if (this.current !== 'checking') return;
    this.current = 'down';
    this.write(`warning: ${lostConnectionMessage(this.options.redis, why)} Retrying…`);
    if (!(await this.untilAnswered(answered))) return;
    this.current = 'up';
    this.write(`Redis at ${this.where()} is back.`);
  }

  /** One PING: true when answered, false when it failed. Never rejects. */
  private probe(): Promise<boolean> {
    return Promise.resolve()
      .then(() => this.options.probe())
      .then(
        () => true,
        () => false,
      );
  }

  /** True when `answered` said yes within `noticeMs` (false once closed). */
  private async within(answered: Promise<boolean>): Promise<boolean> {
    const late = new Promise<false>((resolve) => this.later(this.noticeMs, () => resolve(false)));
    return Promise.race([answered, late, this.closed]);
  }

  /** Waits for a PING to be answered, asking again after failures; false once closed. */
  private async untilAnswered(first: Promise<boolean>): Promise<boolean> {
    let answered = first;
    for (;;) {
      const ok = await Promise.race([answered, this.closed]);
      if (this.isClosed) return false;
      if (ok) return true;
      const pause = new Promise<false>((resolve) => this.later(500, () => resolve(false)));
      await Promise.race([pause, this.closed]);
      if (this.isClosed) return false;
      answered = this.probe();
    }
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private where(): string {
    return `${this.options.redis.host}:${this.options.redis.port}`;
  }
}
