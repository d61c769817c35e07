/**
 * The shape of every REST handler: one request in, one answer out, everything it needs in `deps`.
 * Express 5 hands a rejected promise to the error middleware (http-errors.ts), so handlers throw
 * typed errors (InputError → 400, NotFoundError → 404, ConflictError → 409) and never answer them.
 */
import type { Request, Response } from 'express';
import type { GoalSubmitter } from '../../interface/operations/deps';
import type { ApiContext } from './context';

export interface RouteDeps extends ApiContext {
  /** Submits goals (the supervisor); null when the server was started without one (503). */
  goals: GoalSubmitter | null;
}

export type RouteHandler = (deps: RouteDeps, req: Request, res: Response) => Promise<void> | void;
