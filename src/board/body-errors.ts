/**
 * A request body that cannot be decoded is the client's fault. body-parser passes on zlib's own
 * error for a corrupt or truncated `Content-Encoding: gzip | deflate | br` body: it has a 4xx
 * `status` and `expose: true` but no body-parser `type`, so the generic error middleware took it
 * for a server fault (a 500 and a stack in the log). This turns it into a 400 naming the encoding.
 */
import type { ErrorRequestHandler } from 'express';
import { sendError } from './routes/http-errors';

interface ExposedClientError {
  status: number;
  expose: true;
  message: string;
}

function isExposedClientError(error: unknown): error is ExposedClientError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { status?: unknown; expose?: unknown; type?: unknown };
  return (
    e.expose === true &&
    e.type === undefined &&
    typeof e.status === 'number' &&
    e.status >= 400 &&
    e.status < 500
  );
}

export function refuseUndecodableBodies(): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent || !isExposedClientError(error)) {
      next(error);
      return;
    }
    const encoding = req.headers['content-encoding'] ?? 'identity';
    sendError(
      res,
      400,
      'malformed_body',
      `request body could not be decoded (Content-Encoding ${encoding}): ${error.message}`,
      'body',
    );
  };
}
