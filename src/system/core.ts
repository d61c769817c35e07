/**
 * The core of every process's composition (compose.ts): tracing, the store, the coordinator and
 * the supervisor, each release registered as it is acquired. Kept apart from the shared services
 * so a one-shot CLI command loads no mirror or worker code.
 */
import type { AgentqConfig } from '../config';
import { TaskRegistry } from '../entities/task-registry';
import { RedisCoordinator } from '../queues/redis-coordinator';
import type * as Supervisor from '../queues/supervisor-agent';
import type { SupervisorAgent } from '../queues/supervisor-agent';
import { tracingFromConfig, type Tracing } from '../tracing';
import type { Releasers } from './releasers';

export interface CoreParts {
  readonly config: Readonly<AgentqConfig>;
  /** Not opened yet: the caller opens it (the CLI bounds the wait, serve does not). */
  readonly registry: TaskRegistry;
  readonly coordinator: RedisCoordinator;
  readonly tracing: Tracing | null;
}

export interface CoreOptions {
  config: Readonly<AgentqConfig>;
  /** `worker` connections retry forever (long-running processes); `command` ones fail fast. */
  role: 'worker' | 'command';
  /** The OTLP service name, when tracing is configured. @defaultValue 'agentq' */
  serviceName?: string;
  /** Where the process's shared services (mirror, internal workers) report. @defaultValue none */
  onLog?: (line: string) => void;
}

/** Tracing (when configured), the registry and the coordinator, in that order. */
export function acquireCore(releasers: Releasers, options: CoreOptions): CoreParts {
  const { config } = options;
  // OTEL_EXPORTER_OTLP_ENDPOINT set: traces through bullmq-otel; unset: no OpenTelemetry loaded.
  const tracing = tracingFromConfig(config, options.serviceName);
  if (tracing) releasers.add(() => tracing.shutdown());
  const registry = releasers.use(TaskRegistry.fromConfig(config.db), (r) => r.close());
  const coordinator = releasers.use(
    RedisCoordinator.fromConfig(config, {
      role: options.role,
      ...(tracing ? { telemetry: tracing.telemetry } : {}),
      ...(options.onLog ? { onLog: options.onLog } : {}),
    }),
    (c) => c.close(),
  );
  return { config, registry, coordinator, tracing };
}

/** The supervisor, configured from the configuration (templates, LLM) by its caller. */
export function supervisorFrom(
  core: Pick<CoreParts, 'config' | 'registry' | 'coordinator'>,
  options: { actor: string; onWarning?: (message: string) => void },
): SupervisorAgent {
  // Loaded when one is made: the planners and plan parsing are not every command's.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SupervisorAgent } = require('../queues/supervisor-agent') as typeof Supervisor;
  return new SupervisorAgent(core.registry, core.coordinator, {
    templatesDir: core.config.templatesDir,
    llm: core.config.llm,
    actor: options.actor,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
}
