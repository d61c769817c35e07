/**
 * @jest-config-loader esbuild-register
 */
/*
 * Three projects: `unit` (no I/O, fast), `integration` (real Redis, SQLite, PostgreSQL, child
 * processes) and `cluster` (the DAG, cancellation and crash tests again, on a private 3-master
 * Redis Cluster its global setup starts). ts-jest transpiles only (isolatedModules); `npm run
 * typecheck` checks types. The global setup builds dist/ when a source is newer than it, so the
 * tests that run the `agentq` command (dist/cli/bin.js) run the current sources. Jest reads this
 * file through esbuild-register (the docblock above).
 */
import type { Config } from 'jest';

type ProjectConfig = Exclude<NonNullable<Config['projects']>[number], string>;

const transform: ProjectConfig['transform'] = {
  '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
};
const common: ProjectConfig = {
  testEnvironment: 'node',
  transform,
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFilesAfterEnv: ['<rootDir>/test/helpers/leak-guard.ts'],
};
/** Integration tests that must also pass on Redis Cluster (issue 8). */
const CLUSTER_TESTS = [
  'redis-coordinator',
  'dag-run',
  'dag-failure',
  'dag-validation',
  'cancel-running',
  'agent-processes',
  'mirror-crash',
  'mirror-stop',
  'limits-agents',
  'limits-per-key',
  'limits-shards',
  'budget-usage',
  'approvals',
  'extend-flow',
  'spawn',
  'repair',
];
const config: Config = {
  // Real servers and child processes; a test that needs more says so itself.
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/helpers/build-dist.ts',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      // Real servers and child processes: give each test room, say why in the test when more.
      testTimeout: 60000,
    },
    {
      ...common,
      displayName: 'cluster',
      testMatch: CLUSTER_TESTS.map((name) => `<rootDir>/test/integration/${name}.test.ts`),
      globalSetup: '<rootDir>/test/helpers/cluster-global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/cluster-global-teardown.ts',
      setupFiles: ['<rootDir>/test/helpers/cluster-env.ts'],
      testTimeout: 60000,
    },
  ],
};

export default config;
