/**
 * Runs before each test file of the `cluster` project: points the tests (and the processes they
 * spawn, which inherit the environment) at the cluster instead of the single Redis server.
 */
const url = process.env.AGENTQ_TEST_CLUSTER_URL;
if (!url) throw new Error('the cluster project needs its global setup (AGENTQ_TEST_CLUSTER_URL)');
process.env.TEST_REDIS_URL = url;
process.env.REDIS_URL = url;
