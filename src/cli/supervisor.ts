/** The CLI's supervisor: configured from the context, recording `cli:<user>` as the actor. */
import type { SupervisorAgent } from '../queues/supervisor-agent';
import { supervisorFrom } from '../system/core';
import type { CliContext } from './context';

export function supervisorFor(ctx: CliContext): SupervisorAgent {
  return supervisorFrom(ctx, { actor: ctx.actor, onWarning: ctx.out.warn });
}
