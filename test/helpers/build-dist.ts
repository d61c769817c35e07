/**
 * Jest's global setup: builds dist/ (scripts/build.js, tsc incremental) when a source is newer
 * than the last build, so the tests that run the `agentq` command or pack the package test the
 * current sources. A no-op when dist/ is current.
 */
import { join } from 'node:path';

interface BuildScript {
  ensureBuilt(options?: { force?: boolean; allowTypeErrors?: boolean }): number | null;
}

export default function buildDist(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ensureBuilt } = require(
    join(__dirname, '..', '..', 'scripts', 'build.js'),
  ) as BuildScript;
  // A type error is printed, not fatal: `npm run typecheck` is where types fail a run.
  const ms = ensureBuilt({ allowTypeErrors: true });
  if (ms !== null) process.stderr.write(`\nbuilt dist/ in ${(ms / 1000).toFixed(1)} s\n`);
}
