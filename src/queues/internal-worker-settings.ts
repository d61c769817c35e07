/** How agentq's own workers (gates, goal roots, reconciler) run; see internal-workers.ts. */
export interface InternalWorkerSettings {
  /** Gate jobs processed at once per shard. @defaultValue 50 */
  gateConcurrency?: number;
  /** Goal roots finalized at once per shard. @defaultValue 4 */
  goalConcurrency?: number;
  /** How often the reconciler releases links a crash left behind. @defaultValue 3000 */
  reconcileIntervalMs?: number;
}
