/**
 * Runs before each test file of the `cluster` project: points the tests at the cluster instead of
 * the single Redis server. Jest gives each test file its own copy of `process.env`: a test that
 * spawns a process must pass the Redis URL in the child's `env` itself.
 */
const url = process.env.AGENTQ_TEST_CLUSTER_URL;
if (!url) throw new Error('the cluster project needs its global setup (AGENTQ_TEST_CLUSTER_URL)');
process.env.TEST_REDIS_URL = url;
process.env.REDIS_URL = url;
