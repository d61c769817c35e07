/** The supervisor a creating route needs, or a 503 when this server has none. */
import { AgentqError } from '../../errors';
import type { SubmittingDeps } from '../../interface/operations/deps';
import type { RouteDeps } from './route-handler';

/** Answers 503 (see http-errors.ts): the app was created without `goals`. */
export class NoSupervisorError extends AgentqError {
  constructor() {
    super('unavailable', 'this server was started without a supervisor');
  }
}

export function submittingDeps(deps: RouteDeps): SubmittingDeps {
  if (!deps.goals) throw new NoSupervisorError();
  return { store: deps.store, coordinator: deps.coordinator, goals: deps.goals };
}
