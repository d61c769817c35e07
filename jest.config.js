/**
 * Two projects: `unit` (no I/O, fast) and `integration` (real Redis, SQLite, PostgreSQL,
 * child processes). ts-jest transpiles only (isolatedModules); `npm run typecheck` checks types.
 */
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };
const common = {
  testEnvironment: 'node',
  transform,
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFilesAfterEnv: ['<rootDir>/test/helpers/leak-guard.ts'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      // Real servers and child processes: give each test room, say why in the test when more.
      testTimeout: 60000,
    },
  ],
};
