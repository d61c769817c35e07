/** `agentq agents`: live agents, from their heartbeats in Redis. */
import type { Command } from 'commander';
import { withContext } from '../context';

export function register(program: Command): void {
  program
    .command('agents')
    .description('live agents: capabilities, running tasks, breakers')
    .action((_options: unknown, command: Command) =>
      withContext(command, { db: false }, async ({ coordinator, out }) => {
        const agents = await coordinator.getAllAgents();
        if (out.json) return out.printJson({ agents });
        if (agents.length === 0)
          return out.print('No live agents. Start one with `agentq worker`.');
        out.table(
          ['agent', 'capabilities', 'running', 'breakers', 'host', 'pid', 'last seen'],
          agents.map((a) => [
            a.id,
            a.capabilities.join(', '),
            `${a.running.length}/${a.concurrency}`,
            Object.entries(a.breakers)
              .filter(([, state]) => state !== 'closed')
              .map(([cap, state]) => `${cap}: ${out.color.red(state)}`)
              .join(', ') || '-',
            a.host,
            a.pid,
            a.lastSeenAt.toISOString(),
          ]),
        );
      }),
    );
}
