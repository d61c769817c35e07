import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../helpers/servers';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
// The demo promises under 30 s; a loaded test machine gets twice that.
const DEMO_TIMEOUT_MS = 60_000;

/** `node dist/cli/bin.js demo` (the built CLI; jest's global setup keeps it current). */
function demoCommand(): [string, string[]] {
  return [process.execPath, [join(ROOT, 'dist', 'cli', 'bin.js'), 'demo']];
}

async function demo(redisUrl: string) {
  const [file, argv] = demoCommand();
  return run(file, argv, { cwd: ROOT, env: { ...process.env, REDIS_URL: redisUrl } });
}

describe('agentq demo (a real child process)', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it(
    'runs the goal with three agents, prints live events, the report and metrics, exits 0',
    async () => {
      const { stdout } = await demo(REDIS_URL);
      expect(stdout).toContain('"Build user authentication system" → 6 tasks');
      // Live lines from the pub/sub bridge, with agent ids.
      expect(stdout).toMatch(/claimed\s+design\s+\(design, attempt 1\) by architect-1/);
      expect(stdout).toMatch(/complete\s+design\s+\(design, attempt 1\) by architect-1/);
      expect(stdout).toMatch(/retry\s+backend\s+\(backend, attempt 1\) by developer-1 — package/);
      expect(stdout).toMatch(/complete\s+backend\s+\(backend, attempt 2\) by developer-1/);
      expect(stdout).toMatch(/failed\s+security\s+\(security, attempt 1\) by qa-1 — no security/);
      expect(stdout).toMatch(/complete\s+tests\s+\(testing, attempt 1\) by qa-1/);
      expect(stdout).toMatch(/complete\s+review\s+\(review, attempt 1\) by architect-1/);
      // The interface agent's report, then each task's metrics.
      expect(stdout).toMatch(/agentq status at .*\nTasks: 6 total/);
      expect(stdout).toMatch(/task metrics:\n(\s+\S+\s+(DONE|FAILED)\s+agent .*\n){6}/);
      expect(stdout).toMatch(/dead-letter queue: g-[0-9a-f]+\.security/);
      expect(stdout).toMatch(/goal DONE in [\d.]+ s/);
      const prefix = /prefix (demo-[0-9a-f]+)/.exec(stdout)![1]!;
      const [, left] = await redis.scan('0', 'MATCH', `{${prefix}}*`, 'COUNT', 10_000);
      expect(left).toEqual([]);
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    'starts a private Redis when nothing answers at REDIS_URL',
    async () => {
      const { stdout } = await demo('redis://127.0.0.1:1');
      expect(stdout).toMatch(/started a private redis-server on 127\.0\.0\.1:\d+/);
      expect(stdout).toMatch(/goal DONE in [\d.]+ s/);
    },
    DEMO_TIMEOUT_MS,
  );
});
