/** Redrives dead letters: one by id (`<taskId>@<epoch>` or a task id), or all of them. */
import { retryAllDeadLetters, retryDeadLetter, type Redrive } from '../../processors/dead-letters';
import type { Actor, OperationDeps } from './deps';

export interface RedriveDeadLetterInput {
  /** `<taskId>@<epoch>` (see `agentq dlq list`) or a task id. */
  id: string;
}

export function redriveDeadLetter(
  deps: Pick<OperationDeps, 'coordinator'>,
  input: RedriveDeadLetterInput,
  actor: Actor,
): Promise<Redrive> {
  return retryDeadLetter(deps.coordinator, input.id, actor);
}

/** Every dead letter; one that cannot be redriven is reported, the rest still run. */
export function redriveAllDeadLetters(
  deps: Pick<OperationDeps, 'coordinator'>,
  actor: Actor,
): Promise<{ redriven: Redrive[]; refused: Array<{ id: string; error: string }> }> {
  return retryAllDeadLetters(deps.coordinator, actor);
}
