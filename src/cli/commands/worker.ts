/**
 * `agentq worker --id ID --capabilities a,b [--concurrency N] (--handlers FILE | --shell "CMD")
 * [--worktree REPO] [--sandboxed] [--grace-ms MS]`: one agent in this process until SIGINT/SIGTERM
 * (graceful: running tasks get the grace period, then go back to their queues). The agent is
 * given the task registry, so this process runs a mirror candidate too: a deployment of workers
 * alone still mirrors into SQL (one candidate leads).
 */
import { LlmRepairPlanner } from '../../queues/planners/llm-repair';
import { templateRepair } from '../../queues/repair';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { AutonomousAgent } from '../../processors/autonomous-agent';
import { loadHandlerModule, pickHandlers } from '../../processors/handler-module';
import type { HandlerMap } from '../../processors/handler-types';
import { createShellHandler } from '../../processors/shell-executor';
import { installShutdownHandlers } from '../../processors/shutdown';
import { checkRedisServer } from '../../queues/redis-checks';
import { WorktreeManager } from '../../processors/worktree';
import { withContext } from '../context';

interface WorkerFlags {
  id?: string;
  capabilities: string;
  concurrency: string;
  handlers?: string;
  shell?: string;
  worktree?: string;
  sandboxed?: boolean;
  graceMs: string;
}

function positiveInt(raw: string, field: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new InputError(`'${raw}' must be a whole number of at least 1`, field);
  return n;
}

async function handlersFor(flags: WorkerFlags, capabilities: string[]): Promise<HandlerMap> {
  if (flags.shell) {
    const handler = createShellHandler(flags.shell);
    return Object.fromEntries(capabilities.map((c) => [c, handler]));
  }
  return loadHandlerModule(flags.handlers!);
}

/**
 * `agentq worker ID: serves a,b (concurrency N per capability)`, printed once the agent serves.
 * With AGENTQ_SHARDS above 1 there is one BullMQ worker per capability and shard, so it says
 * `(concurrency N per capability and shard, S shards)`.
 */
export function readyLine(
  agentId: string,
  capabilities: readonly string[],
  concurrency: number,
  shards: number,
): string {
  const per = shards > 1 ? `capability and shard, ${shards} shards` : 'capability';
  return `agentq worker ${agentId}: serves ${capabilities.join(',')} (concurrency ${concurrency} per ${per})`;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run an agent: claim and run tasks of the given capabilities')
    .option('--id <id>', 'agent id (default: <host>-<pid>)')
    .requiredOption('--capabilities <list>', 'comma-separated capabilities it serves')
    .option('--concurrency <n>', 'tasks at once per capability', '1')
    .option(
      '--handlers <file>',
      'handler module (CommonJS or ESM): capability → async (task, ctx) => result',
    )
    .option(
      '--shell <command>',
      'run this command for every task (no shell; task in env and a JSON file)',
    )
    .option('--worktree <repo>', 'run each task in its own git worktree of this repository')
    .option('--sandboxed', 'run handlers from --handlers in child processes')
    .option('--grace-ms <ms>', 'how long running tasks may finish on SIGINT/SIGTERM', '30000')
    .action((flags: WorkerFlags, command: Command) =>
      withContext(
        command,
        { role: 'worker', log: true },
        async ({ coordinator, registry, out, config }) => {
          if (!flags.handlers === !flags.shell)
            throw new InputError('give either --handlers FILE or --shell "CMD"', 'handlers');
          if (flags.sandboxed && !flags.handlers)
            throw new InputError('--sandboxed needs --handlers', 'sandboxed');
          const concurrency = positiveInt(flags.concurrency, 'concurrency');
          const graceMs = positiveInt(flags.graceMs, 'grace-ms');
          const capabilities = flags.capabilities
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean);
          // Refuse an evicting server (it would lose accepted tasks); say what else is worth knowing.
          const redis = await checkRedisServer(coordinator.client);
          for (const warning of redis.warnings) out.warn(`warning: ${warning}`);
          const agentId = flags.id ?? `${hostname()}-${process.pid}`;
          // Refused before anything (pruning this id's worktrees) when a live worker holds the id.
          await coordinator.assertAgentIdFree(agentId);
          // Every capability needs a handler (its own or '*'), sandboxed ones too: refused now,
          // not per task in a child.
          const handlers = pickHandlers(await handlersFor(flags, capabilities), capabilities);
          let worktree: WorktreeManager | undefined;
          if (flags.worktree) {
            worktree = new WorktreeManager({ repo: flags.worktree, agentId });
            const live = (await coordinator.getAllAgents()).map((a) => a.id);
            await worktree.prepare(live);
          }
          const agent = new AutonomousAgent({
            agentId,
            capabilities,
            taskRegistry: registry,
            redisCoordinator: coordinator,
            handlers,
            concurrency,
            graceMs,
            ...(flags.sandboxed ? { sandboxed: { handlersFile: flags.handlers! } } : {}),
            ...(worktree ? { worktree } : {}),
            // With an LLM endpoint configured, repairs of replanning goals ask it first.
            ...(config.llm
              ? {
                  repairPlanner: new LlmRepairPlanner({
                    ...config.llm,
                    fallback: templateRepair,
                    onFallback: (reason) => out.warn(`repair: ${reason}; the template repair`),
                  }),
                }
              : {}),
            onError: (error) => {
              process.stderr.write(`agent ${agentId}: ${error.message}\n`);
            },
          });
          await agent.start();
          // The one ready line (docs/cli.md): claimed id, heartbeat written, workers running.
          out.print(readyLine(agentId, capabilities, concurrency, coordinator.shards));
          await new Promise<void>((done) => {
            installShutdownHandlers(async () => {
              out.print('Stopping: running tasks get the grace period…');
              await agent.close();
              done();
            });
          });
        },
      ),
    );
}
