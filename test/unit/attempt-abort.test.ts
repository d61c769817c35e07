/**
 * How an attempt ends when it is aborted (timeout, cancel, shutdown), with and without the
 * handler reading `ctx.signal` (whose AbortController is made only on first read).
 */
import { UnrecoverableError } from 'bullmq';
import { cancelledReason } from '../../src/queues/protocol';
import type { TaskJobData } from '../../src/queues/task-job';
import type { TaskHandler } from '../../src/processors/handler-types';
import {
  AttemptInterruptedError,
  AttemptTimeoutError,
  runAttempt,
  SHUTDOWN_REASON,
  type AttemptJob,
} from '../../src/processors/task-runner';

function job(timeoutMs: number): AttemptJob {
  const data: TaskJobData = {
    v: 1,
    kind: 'task',
    taskId: 'g1:t',
    goalId: 'g1',
    key: 't',
    title: 't',
    description: '',
    type: 'noop',
    priority: 0,
    data: {},
    dependsOn: [],
    timeoutMs,
    optional: false,
    epoch: 0,
    shard: 0,
  };
  return {
    data,
    attemptsMade: 0,
    getChildrenValues: async () => ({}),
    getIgnoredChildrenFailures: async () => ({}),
    updateProgress: async () => undefined,
    log: async () => undefined,
  };
}

function attempt(timeoutMs: number, handler: TaskHandler, signal?: AbortSignal) {
  return runAttempt(job(timeoutMs), {
    agentId: 'a',
    handler,
    workdir: '/nonexistent/agentq-unit',
    ...(signal ? { signal } : {}),
  });
}

const never = () => new Promise<never>(() => undefined);

describe('an aborted attempt', () => {
  it('times out a handler that never reads its signal', async () => {
    await expect(attempt(20, never)).rejects.toBeInstanceOf(AttemptTimeoutError);
  });

  it('aborts the signal a handler read, with the timeout as its reason', async () => {
    let seen: AbortSignal | undefined;
    const handler: TaskHandler = (_input, ctx) => {
      seen = ctx.signal;
      return new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => reject(new Error('x'))),
      );
    };
    await expect(attempt(20, handler)).rejects.toBeInstanceOf(AttemptTimeoutError);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(AttemptTimeoutError);
  });

  it('hands an already aborted signal to a handler that reads it late', async () => {
    const outer = new AbortController();
    let lateSignal: AbortSignal | undefined;
    const handler: TaskHandler = async (_input, ctx) => {
      outer.abort(SHUTDOWN_REASON);
      await new Promise((resolve) => setImmediate(resolve));
      lateSignal = ctx.signal;
      return null;
    };
    await expect(attempt(60_000, handler, outer.signal)).rejects.toBeInstanceOf(
      AttemptInterruptedError,
    );
    // The attempt ended at the abort; the handler reads its signal later and finds it aborted.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(lateSignal?.aborted).toBe(true);
    expect(lateSignal?.reason).toBe(SHUTDOWN_REASON);
  });

  it('fails for good when cancelled, even before the handler runs', async () => {
    const outer = new AbortController();
    outer.abort(cancelledReason('alice'));
    await expect(attempt(60_000, never, outer.signal)).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it('returns the result of a handler that finishes in time', async () => {
    const envelope = await attempt(60_000, () => ({ ok: true }));
    expect(envelope.result).toEqual({ ok: true });
  });
});
