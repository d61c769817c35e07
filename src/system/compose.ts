/**
 * The one composition root of agentq's processes: `serve`, `worker`, the CLI context and
 * `createAgentSystem` all build their parts here, each part's release registered as it is
 * acquired (releasers.ts), so they are closed in reverse order, once, the first error kept.
 */
import type { AgentqConfig } from '../config';
import { TaskRegistry } from '../entities/task-registry';
import type { MirrorHandle } from '../mirror/mirror';
import { joinMirror } from '../mirror/shared-mirror';
import { joinInternalWorkers } from '../queues/internal-workers';
import { RedisCoordinator } from '../queues/redis-coordinator';
import { SupervisorAgent } from '../queues/supervisor-agent';
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

export interface ProcessServicesOptions {
  /** Join this process's mirror candidate (one per deployment leads). */
  mirror: boolean;
  /** Join this process's internal workers (gates, goal roots, reconciler). */
  internalWorkers: boolean;
}

/** Joins the services a long-running process runs; they leave before the coordinator closes. */
export function joinProcessServices(
  releasers: Releasers,
  core: CoreParts,
  options: ProcessServicesOptions,
): { mirror: MirrorHandle | null } {
  let mirror: MirrorHandle | null = null;
  if (options.mirror) {
    const lease = releasers.use(joinMirror(core.registry, core.coordinator), (l) => l.close());
    mirror = lease.service;
  }
  if (options.internalWorkers) {
    releasers.use(joinInternalWorkers(core.coordinator), (l) => l.close());
  }
  return { mirror };
}

/** The supervisor, configured from the configuration (templates, LLM) by its caller. */
export function supervisorFrom(
  core: Pick<CoreParts, 'config' | 'registry' | 'coordinator'>,
  options: { actor: string; onWarning?: (message: string) => void },
): SupervisorAgent {
  return new SupervisorAgent(core.registry, core.coordinator, {
    templatesDir: core.config.templatesDir,
    llm: core.config.llm,
    actor: options.actor,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
}
