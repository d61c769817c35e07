/** The CLI's supervisor: configured from the context, recording `cli:<user>` as the actor. */
import { SupervisorAgent } from '../queues/supervisor-agent';
import type { CliContext } from './context';

export function supervisorFor(ctx: CliContext): SupervisorAgent {
  return new SupervisorAgent(ctx.registry, ctx.coordinator, {
    templatesDir: ctx.config.templatesDir,
    llm: ctx.config.llm,
    actor: ctx.actor,
    onWarning: ctx.out.warn,
  });
}
