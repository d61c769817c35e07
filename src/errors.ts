/**
 * Typed errors shared by every part of agentq. Retry semantics live in the type:
 * `UnrecoverableError` (BullMQ's own class, re-exported by index.ts, not here: this module loads
 * nothing, so the CLI's `--help` and `--version` load no BullMQ) fails a task without retry.
 */

/** Base class: a stable machine-readable `code` and optional readonly context. */
export class AgentqError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input from a person or a program: exit code 2, HTTP 400. `field` says where. */
export class InputError extends AgentqError {
  constructor(
    message: string,
    readonly field?: string,
    code = 'invalid_input',
  ) {
    super(code, field ? `${field}: ${message}` : message);
  }
}

/** An id that names nothing: HTTP 404. */
export class NotFoundError extends AgentqError {
  constructor(
    readonly kind: 'task' | 'goal' | 'agent' | 'job',
    readonly id: string,
  ) {
    super('not_found', `${kind} ${id} not found`);
  }
}

/** The request is valid but the thing is in the wrong state for it: HTTP 409. */
export class ConflictError extends AgentqError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** Redis (or another server we need) does not answer. */
export class ConnectionError extends AgentqError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('connection', message, options);
  }
}

/** Turns anything thrown into an Error, so handlers can throw strings and still be reported. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  try {
    return new Error(JSON.stringify(thrown));
  } catch {
    return new Error(String(thrown));
  }
}
