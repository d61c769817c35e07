/** Stops the Redis Cluster the `cluster` project's global setup started. */
export default async function teardown(): Promise<void> {
  await globalThis.agentqTestCluster?.stop();
  globalThis.agentqTestCluster = undefined;
}
