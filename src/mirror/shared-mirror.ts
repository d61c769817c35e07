/**
 * The mirror candidate a process runs for a (store, coordinator) pair, shared by every part built
 * with both (InterfaceAgent, an AutonomousAgent given its `taskRegistry`, `createAgentSystem`,
 * `serve`, `worker`): started by the first, closed when the last closes or the coordinator does.
 * With the leader lock in Redis, exactly one candidate of the deployment mirrors, whatever the
 * user started. `startMirror` stays for a candidate with options of its own (benchmarks, tests).
 */
import type { TaskStore } from '../entities/task-store';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import type { ServiceLease } from '../queues/shared-services';
import { startMirror, type MirrorHandle } from './mirror';

/** Joins (or starts) this process's mirror candidate for `store` and `coordinator`. */
export function joinMirror(
  store: TaskStore,
  coordinator: RedisCoordinator,
): ServiceLease<MirrorHandle> {
  return coordinator.services.join(store, 'mirror', () =>
    startMirror({ store, coordinator, onLog: coordinator.log }),
  );
}
