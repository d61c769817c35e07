/**
 * Refuses, with a 400 naming where, a request whose decoded path, query or JSON body holds text
 * no store can hold (a NUL, a lone surrogate: see storable-text.ts). PostgreSQL would otherwise
 * fail the query (`/api/tasks/%00` was a 500); with this the answer is the same on every store.
 */
import type { RequestHandler } from 'express';
import { assertStorable } from '../queues/storable-text';

function decodedSegments(path: string): string[] {
  return path.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return ''; // A malformed escape: the router answers that one with its own 400.
    }
  });
}

export function refuseUnstorableInput(): RequestHandler {
  return (req, _res, next) => {
    for (const segment of decodedSegments(req.path)) assertStorable(segment, 'path');
    assertStorable(req.query, '');
    if (req.body !== undefined) assertStorable(req.body, '');
    next();
  };
}
