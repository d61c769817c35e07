/**
 * `agentq task show|create|cancel|retry`. Reads come from the task store; changes go through
 * the supervisor (it owns the flow), with `cli:<user>` as the audit actor.
 */
import type { Command } from 'commander';
import { InterfaceAgent } from '../../board/interface-agent';
import { withContext } from '../context';

export function register(program: Command): void {
  const task = program.command('task').description('show, create, cancel or retry one task');

  task
    .command('show <id>')
    .description('one task: state, attempts, result or error, and why it waits')
    .action((id: string, _options: unknown, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const iface = new InterfaceAgent(ctx.registry, ctx.coordinator);
        const summary = await iface.getTaskSummary(id);
        if (ctx.out.json) return ctx.out.printJson(summary);
        ctx.out.print(iface.formatTaskSummary(summary));
      }),
    );
}
