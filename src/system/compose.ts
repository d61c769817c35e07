/**
 * The one composition root of agentq's processes: `serve`, `worker`, the CLI context and
 * `createAgentSystem` all build their parts here (the core in core.ts), each part's release
 * registered as it is acquired (releasers.ts), so they are closed in reverse order, once, the
 * first error kept.
 */
import type { MirrorHandle } from '../mirror/mirror';
import { joinMirror } from '../mirror/shared-mirror';
import { joinInternalWorkers } from '../queues/internal-workers';
import type { CoreParts } from './core';
import type { Releasers } from './releasers';

export { acquireCore, supervisorFrom, type CoreOptions, type CoreParts } from './core';

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
