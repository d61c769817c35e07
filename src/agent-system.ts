/**
 * `createAgentSystem(options)`: every part of agentq wired from the configuration, with one
 * `close()`. The registry, the coordinator, the supervisor and the interface are the seed's; the
 * mirror candidate and the internal workers (gates, goal roots, reconciler) run in every process
 * that has a system, so a deployment mirrors and reconciles links as long as one process is up.
 */
import { InterfaceAgent } from './interface/interface-agent';
import { startMirror, type MirrorHandle } from './mirror/mirror';
import { loadConfig, type AgentqConfig, CONFIG_VARIABLES } from './config';
import { TaskRegistry } from './entities/task-registry';
import { AutonomousAgent, type AutonomousAgentOptions } from './processors/autonomous-agent';
import { startInternalWorkers, type InternalWorkers } from './queues/internal-workers';
import { RedisCoordinator } from './queues/redis-coordinator';
import { SupervisorAgent } from './queues/supervisor-agent';
import { tracingFromConfig } from './tracing';

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
  const registry = TaskRegistry.fromConfig(config.db);
  await registry.open();
  // OTEL_EXPORTER_OTLP_ENDPOINT set: traces through bullmq-otel; unset: no OpenTelemetry loaded.
  const tracing = tracingFromConfig(config);
  const redis = RedisCoordinator.fromConfig(config, {
    role: 'worker',
    ...(tracing ? { telemetry: tracing.telemetry } : {}),
  });
  const log = options.onLog ?? (() => undefined);
  const supervisor = new SupervisorAgent(registry, redis, {
    templatesDir: config.templatesDir,
    llm: config.llm,
    actor: options.actor ?? 'supervisor',
    onWarning: log,
  });
  const iface = new InterfaceAgent(registry, redis, {
    mutations: {
      createTask: async (input) => supervisor.createTask(input),
      cancelTask: async (taskId, actor) => supervisor.cancelTask(taskId, actor ?? 'interface'),
    },
  });
  const mirror =
    options.mirror === false
      ? null
      : startMirror({ store: registry, coordinator: redis, onLog: log });
  const internal: InternalWorkers | null =
    options.internalWorkers === false
      ? null
      : startInternalWorkers(redis, { onError: (error) => log(`internal: ${error.message}`) });
  const agents: AutonomousAgent[] = [];
  let closing: Promise<void> | null = null;

  return {
    config,
    registry,
    redis,
    supervisor,
    iface,
    mirror,
    async startAgent(agentOptions) {
      const agent = new AutonomousAgent({
        ...agentOptions,
        taskRegistry: registry,
        redisCoordinator: redis,
      });
      agents.push(agent);
      await agent.start();
      return agent;
    },
    close() {
      closing ??= (async () => {
        await Promise.allSettled(agents.map((agent) => agent.close()));
        await internal?.close();
        await mirror?.close();
        await supervisor.close();
        await iface.close();
        await redis.close();
        await registry.close();
        await tracing?.shutdown();
      })();
      return closing;
    },
  };
}
