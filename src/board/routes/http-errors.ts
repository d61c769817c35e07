/**
 * The one error builder and the one error middleware of the HTTP API. Every failure leaves as
 * `{ "error": { "code", "message", "field"? } }` with a status chosen by the error's type, so bad
 * input is never a 500.
 */
import type { ErrorRequestHandler, Response } from 'express';
import {
  AgentqError,
  ConflictError,
  ConnectionError,
  InputError,
  NotFoundError,
} from '../../errors';

export type HttpStatus = 400 | 401 | 403 | 404 | 409 | 413 | 500 | 503;
export type HttpErrorCode =
  | 'invalid_input'
  | 'malformed_json'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unavailable'
  | 'internal';

export interface HttpErrorBody {
  error: { code: string; message: string; field?: string };
}

/** Sends the error document. */
export function sendError(
  res: Response,
  status: HttpStatus,
  code: HttpErrorCode | string,
  message: string,
  field?: string,
): void {
  const body: HttpErrorBody = { error: { code, message, ...(field ? { field } : {}) } };
  res.status(status).json(body);
}

/** Errors thrown by body-parser carry a `type` and a `status`. */
interface BodyParserError {
  type: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'type' in error &&
    'status' in error &&
    typeof error.type === 'string'
  );
}

function statusOf(error: AgentqError): HttpStatus {
  if (error instanceof InputError) return 400;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError || error.code === 'illegal_transition') return 409;
  if (error instanceof ConnectionError || error.code === 'unavailable') return 503;
  return 500;
}

/** Maps typed errors to statuses; logs only what is really a server fault. */
export function errorMiddleware(log: (line: string) => void): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (isBodyParserError(error)) {
      if (error.type === 'entity.too.large') {
        sendError(res, 413, 'payload_too_large', 'request body is larger than 1 MiB');
      } else if (error.type === 'entity.parse.failed') {
        sendError(res, 400, 'malformed_json', 'request body is not valid JSON', 'body');
      } else {
        sendError(res, 400, 'invalid_input', `request body refused (${error.type})`, 'body');
      }
      return;
    }
    if (error instanceof URIError) {
      // The router could not decode a `%`-escape of a path parameter: the client's fault.
      sendError(res, 400, 'invalid_input', 'the path holds a malformed %-escape', 'path');
      return;
    }
    if (error instanceof AgentqError) {
      const status = statusOf(error);
      if (status === 500) log(`internal error: ${error.stack ?? error.message}`);
      const field = error instanceof InputError ? error.field : undefined;
      sendError(res, status, error.code, error.message, field);
      return;
    }
    log(
      `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    sendError(res, 500, 'internal', 'internal server error');
  };
}
