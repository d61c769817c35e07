import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { BenchDocument } from '../../bench/report';
import { REDIS_URL } from '../helpers/servers';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
// `bench --quick` is meant to finish in under 3 minutes; a loaded machine gets twice that.
const BENCH_TIMEOUT_MS = 6 * 60_000;

function benchCommand(out: string): [string, string[]] {
  const args = ['--quick', '--json', '--out', out];
  // The built CLI (jest's global setup keeps it current); it runs bench/run.ts through tsx.
  return [process.execPath, [join(ROOT, 'dist', 'cli', 'bin.js'), 'bench', ...args]];
}

const num = expect.any(Number);
// This run's keys only: another bench may run against the same Redis meanwhile.
const RUN = `t${process.pid}${Date.now().toString(36)}`;

describe('agentq bench --quick --json (a real child process)', () => {
  let redis: Redis;
  let out: string;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    out = mkdtempSync(join(tmpdir(), 'agentq-bench-test-'));
  });
  afterAll(async () => {
    await redis.quit();
    rmSync(out, { recursive: true, force: true });
  });

  it(
    'prints exactly one document of the agreed shape, writes latest.json and .md, leaves no keys',
    async () => {
      const [file, argv] = benchCommand(out);
      const { stdout } = await run(file, argv, {
        cwd: ROOT,
        env: { ...process.env, REDIS_URL, BENCH_RUN: RUN },
        maxBuffer: 16 * 1024 * 1024,
      });
      const doc = JSON.parse(stdout) as BenchDocument;
      expect(doc.throughput).toEqual(
        expect.objectContaining({ agentq: num, bullmq: num, ratio: num }),
      );
      const calls = doc.throughput.redisCallsPerTask;
      expect(calls).toEqual({ agentq: num, bullmq: num });
      // At least one command per task each side (its add, its completion).
      expect(calls.bullmq).toBeGreaterThan(1);
      expect(calls.agentq).toBeGreaterThan(1);
      expect(doc.firstStart).toEqual({
        sizes: { small: 100, large: 1000 },
        tasks1000Ms: num,
        tasks10000Ms: num,
        submitMs: { small: num, large: num },
      });
      expect(doc.firstStart.tasks1000Ms).toBeGreaterThan(0);
      expect(doc.firstStart.tasks10000Ms).toBeGreaterThan(0);
      expect(doc.spawn).toEqual({
        tasks: 400,
        fanOut: 20,
        seconds: num,
        planSeconds: num,
        ratio: num,
      });
      expect(doc.spawn.seconds).toBeGreaterThan(0);
      expect(doc.spawn.planSeconds).toBeGreaterThan(0);
      expect(doc.scaling64).toEqual({ layout: '4 × 16', agentq: num, bullmq: num });
      expect(doc.latency).toEqual(expect.objectContaining({ rate: 500, p50: num, p99: num }));
      expect(doc.latency.rates.map((r) => r.rate)).toEqual([100, 500, 2000]);
      expect(doc.dag).toEqual(expect.objectContaining({ tasks: num, seconds: num }));
      const edge = doc.dagEdge;
      const edgeFigures = [edge, edge.chain, edge.fan, edge.random, edge.bullmq];
      for (const figure of edgeFigures) {
        for (const value of [figure.p50, figure.p99, figure.max]) {
          expect(value).toEqual(num);
          expect(value).toBeGreaterThan(0);
        }
        expect(figure.min).toBeGreaterThan(0);
        expect(figure.min).toBeLessThanOrEqual(figure.p50);
        expect(figure.p50).toBeLessThanOrEqual(figure.p99);
        expect(figure.p99).toBeLessThanOrEqual(figure.max);
      }
      expect(edge.ratioP50).toBeGreaterThan(0);
      // Quick sizes; one sample per task with dependencies (all but the first of each shape).
      expect([edge.chain.tasks, edge.fan.tasks, edge.random.tasks]).toEqual([100, 102, 300]);
      expect([edge.chain.edges, edge.fan.edges, edge.random.edges]).toEqual([99, 101, 299]);
      expect([edge.bullmq.pairs.flows, edge.bullmq.chain.levels]).toEqual([50, 20]);
      expect(edge.bullmq.edges).toBe(50 + 19);
      // Free slots: the agent's concurrency covers the widest level of every shape.
      expect(edge.fan.widestLevel).toBe(100);
      expect(edge.concurrency).toBeGreaterThanOrEqual(
        Math.max(edge.chain.widestLevel, edge.fan.widestLevel, edge.random.widestLevel),
      );
      expect(doc.mirrorLag).toEqual(expect.objectContaining({ p99: num }));
      expect(doc.scaling.map((s) => s.slots)).toEqual([1, 4, 16, 64]);
      for (const row of doc.scaling) expect(row.efficiency).toBeGreaterThan(0);
      expect(doc.memory).toEqual(
        expect.objectContaining({ agentqBytesPerTask: num, bullmqBytesPerTask: num }),
      );
      expect(doc.startup).toEqual({
        runs: num,
        medianMs: { node: num, bullmq: num, version: num, help: num, taskShow: num },
        ratio: { version: num, help: num, taskShow: num },
      });
      expect(doc.limits.rows.map((r) => r.variant)).toEqual([
        'no limit',
        'concurrency limit 10000 (not binding)',
        'per key 1, 1000 keys interleaved',
        'per key 1, 1000 keys in runs (most claims park)',
      ]);
      for (const row of doc.limits.rows) {
        expect(row).toEqual(
          expect.objectContaining({ tasksPerSecond: num, ratioToNoLimit: num, cpuUsPerTask: num }),
        );
      }
      expect(doc.environment).toEqual(
        expect.objectContaining({
          mode: 'quick',
          node: process.version,
          bullmq: expect.any(String),
        }),
      );
      const written = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchDocument;
      expect(written.environment.date).toBe(doc.environment.date);
      const markdown = readFileSync(join(out, 'latest.md'), 'utf8');
      expect(markdown).toContain('| scenario | agentq | plain BullMQ | target |');
      expect(markdown).toContain(`Node ${process.version}`);
      expect(markdown).toContain('`agentq task show ID` start-up');
      expect(markdown).toContain('concurrency limit 10000 (not binding)');
      expect(markdown).toContain('DAG edge, dependency end → dependent start, chain of 100');
      expect(markdown).toContain('fan 1 → 100 → 1');
      expect(markdown).toContain('random DAG of 300');
      expect(markdown).toContain('Redis commands sent per no-op task');
      expect(markdown).toContain('submission → first handler start, plans of 100 / 1000 tasks');
      const [, left] = await redis.scan('0', 'MATCH', `{bench-${RUN}-*`, 'COUNT', 100_000);
      expect(left).toEqual([]);
    },
    BENCH_TIMEOUT_MS,
  );
});
