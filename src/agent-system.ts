/**
 * `createAgentSystem(options)`: every part of agentq wired from the configuration, with one
 * `close()`. The registry, the coordinator, the supervisor and the interface are the seed's; the
 * mirror candidate and the internal workers (gates, goal roots, reconciler) run in every process
 * that has a system, so a deployment mirrors and reconciles links as long as one process is up.
 * Built by the composition root (system/compose.ts), closed in reverse order.
 */
import { InterfaceAgent } from './interface/interface-agent';
import type { MirrorHandle } from './mirror/mirror';
import { loadConfig, type AgentqConfig, CONFIG_VARIABLES } from './config';
import type { TaskRegistry } from './entities/task-registry';
import { AutonomousAgent, type AutonomousAgentOptions } from './processors/autonomous-agent';
import type { RedisCoordinator } from './queues/redis-coordinator';
import type { SupervisorAgent } from './queues/supervisor-agent';
import { acquireCore, joinProcessServices, supervisorFrom } from './system/compose';
import { buildWithReleasers } from './system/releasers';

export type ConfigOverrides = Partial<Record<(typeof CONFIG_VARIABLES)[number], string>>;

export interface AgentSystemOptions {
  /** Environment-style settings that win over the environment (`REDIS_URL`, `AGENTQ_DB`, …). */
  config?: ConfigOverrides;
  /** Run a mirror candidate in this process. @defaultValue true */
  mirror?: boolean;
  /** Run the gate and goal workers and the reconciler in this process. @defaultValue true */
  internalWorkers?: boolean;
  /** Where the mirror and the internal workers report what they did. @defaultValue none */
  onLog?: (line: string) => void;
  /** Audit actor of goals this system's supervisor submits. @defaultValue 'supervisor' */
  actor?: string;
}

export interface AgentSystem {
  readonly config: Readonly<AgentqConfig>;
  readonly registry: TaskRegistry;
  readonly redis: RedisCoordinator;
  readonly supervisor: SupervisorAgent;
  readonly iface: InterfaceAgent;
  readonly mirror: MirrorHandle | null;
  /** Creates an agent on this system's registry and coordinator, started; closed with the system. */
  startAgent(
    options: Omit<AutonomousAgentOptions, 'taskRegistry' | 'redisCoordinator'>,
  ): Promise<AutonomousAgent>;
  /** Closes the agents (gracefully), the mirror, the internal workers, Redis and the store. */
  close(): Promise<void>;
}

export async function createAgentSystem(options: AgentSystemOptions = {}): Promise<AgentSystem> {
  const config = loadConfig(options.config ?? {});
  const log = options.onLog ?? (() => undefined);
  const { value: parts, releasers } = await buildWithReleasers(async (releasers) => {
    const core = acquireCore(releasers, { config, role: 'worker', onLog: log });
    await core.registry.open();
    const { mirror } = joinProcessServices(releasers, core, {
      mirror: options.mirror !== false,
      internalWorkers: options.internalWorkers !== false,
    });
    const supervisor = supervisorFrom(core, {
      actor: options.actor ?? 'supervisor',
      onWarning: log,
    });
    // The system's own mirror (or none, when turned off) stands for the interface's.
    const iface = releasers.use(
      new InterfaceAgent(core.registry, core.coordinator, { supervisor, mirror: false }),
      (i) => i.close(),
    );
    return { core, mirror, supervisor, iface };
  });
  const agents: AutonomousAgent[] = [];
  // Agents leave first: they finish their tasks while the mirror still records them.
  releasers.add(() => Promise.allSettled(agents.map((agent) => agent.close())));
  const { core } = parts;

  return {
    config,
    registry: core.registry,
    redis: core.coordinator,
    supervisor: parts.supervisor,
    iface: parts.iface,
    mirror: parts.mirror,
    async startAgent(agentOptions) {
      const agent = new AutonomousAgent({
        mirror: false, // the system decides whether this process mirrors
        ...agentOptions,
        taskRegistry: core.registry,
        redisCoordinator: core.coordinator,
      });
      agents.push(agent);
      await agent.start();
      return agent;
    },
    close: () => releasers.release(),
  };
}
