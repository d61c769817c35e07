/**
 * Global setup of the `cluster` Jest project: one private 3-master Redis Cluster for the whole
 * run, its URL handed to that project's test files (see cluster-env.ts) — the same DAG,
 * cancellation and crash tests then run on a cluster instead of the single server.
 */
import { PrivateRedisCluster } from './redis-cluster';

declare global {
  var agentqTestCluster: PrivateRedisCluster | undefined;
}

export default async function setup(): Promise<void> {
  const cluster = await PrivateRedisCluster.start(3, true);
  globalThis.agentqTestCluster = cluster;
  process.env.AGENTQ_TEST_CLUSTER_URL = cluster.url;
}
