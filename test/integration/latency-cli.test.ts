import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LatencyReport } from '../../bench/latency-test';
import { REDIS_URL } from '../helpers/servers';

const run = promisify(execFile);
// Each run is a child process that measures five probes; a loaded machine needs room.
const RUN_TIMEOUT_MS = 120_000;
const ROOT = join(__dirname, '..', '..');

/** `node dist/cli/bin.js latency …` (the built CLI; jest's global setup keeps it current). */
function latencyCommand(args: string[]): [string, string[]] {
  return [process.execPath, [join(ROOT, 'dist', 'cli', 'bin.js'), 'latency', ...args]];
}

async function latency(args: string[], redisUrl = REDIS_URL) {
  const [file, argv] = latencyCommand(args);
  return run(file, argv, { cwd: ROOT, env: { ...process.env, REDIS_URL: redisUrl } });
}

describe('agentq latency (a real child process)', () => {
  it(
    'prints every probe with p50/p95/p99/max beside the claim, PASS or FAIL',
    async () => {
      const { stdout } = await latency(['--samples', '200']);
      expect(stdout).toMatch(
        /PING round trip\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+p50≤1 p99≤10\s+(PASS|FAIL)/,
      );
      expect(stdout).toMatch(/pub\/sub one-way\s+[\d.]+.*(PASS|FAIL)/);
      expect(stdout).toMatch(/claim, plain BullMQ Worker.*(PASS|FAIL)/);
      expect(stdout).toMatch(/claim, agentq AutonomousAgent.*(PASS|FAIL)/);
      expect(stdout).toMatch(/status update .*(PASS|FAIL)/);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'prints one JSON document with --json',
    async () => {
      const { stdout } = await latency(['--json', '--samples', '100']);
      const report = JSON.parse(stdout) as LatencyReport;
      expect(report.samples).toBe(100);
      const ping = report.lines.find((line) => line.name === 'ping')!;
      expect(ping.summary).toEqual(
        expect.objectContaining({ samples: 100, p50: expect.any(Number), max: expect.any(Number) }),
      );
      expect(['PASS', 'FAIL']).toContain(ping.verdict);
      expect(report.lines.map((line) => line.name)).toEqual([
        'ping',
        'pubsub',
        'claim-bullmq',
        'claim-agentq',
        'status-update',
      ]);
      for (const line of report.lines) {
        expect(line.summary!.samples).toBe(100);
        expect(line.summary!.p50).toBeLessThanOrEqual(line.summary!.p99);
        expect(['PASS', 'FAIL']).toContain(line.verdict);
      }
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'starts a private Redis when nothing answers at REDIS_URL',
    async () => {
      const { stdout, stderr } = await latency(
        ['--json', '--samples', '50'],
        'redis://127.0.0.1:1',
      );
      expect(stderr).toMatch(/started a private redis-server on 127\.0\.0\.1:\d+/);
      const report = JSON.parse(stdout) as LatencyReport;
      expect(report.redis.private).toBe(true);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'refuses a bad --samples with exit code 2',
    async () => {
      await expect(latency(['--samples', 'lots'])).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining('--samples'),
      });
    },
    RUN_TIMEOUT_MS,
  );
});
