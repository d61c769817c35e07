/**
 * `agentq latency`: every probe of the seed's latency test beside the seed's claim (~1 ms
 * coordination), PASS or FAIL per line. A line whose agentq part has not landed says what it
 * needs and is never PASS.
 */
import { Redis } from 'ioredis';
import type { RedisConfig } from '../src/config';
import { probeBullmqClaim, probePing, probePubSub, type ProbeOptions } from './latency-probes';
import type { LatencySummary } from './stats';
import { probeAgentqClaim } from './agentq/claim-latency';
import { probeStatusUpdate } from './agentq/status-latency';
import { deleteByPrefix } from './context';

export interface LatencyClaim {
  p50: number;
  p99: number;
}

export interface LatencyLine {
  name: string;
  what: string;
  claim: LatencyClaim;
  /** PASS / FAIL against the claim; NEEDS when a part it measures is not there yet. */
  verdict: 'PASS' | 'FAIL' | 'NEEDS';
  summary: LatencySummary | null;
  note?: string;
}

export interface LatencyReport {
  date: string;
  redis: { url: string; version: string; private: boolean };
  samples: number;
  lines: LatencyLine[];
}

/** The seed's "~1 ms coordination", as a median, with a tail allowance; pub/sub after a transition per issue 5. */
const COORDINATION: LatencyClaim = { p50: 1, p99: 10 };
const STATUS_UPDATE: LatencyClaim = { p50: 2, p99: 50 };

export interface LatencyTestOptions extends ProbeOptions {
  isPrivate: boolean;
  /** Told the name of each probe as it starts. */
  onProbe?: (name: string) => void;
}

function judged(name: string, what: string, claim: LatencyClaim, s: LatencySummary): LatencyLine {
  const verdict = s.p50 <= claim.p50 && s.p99 <= claim.p99 ? 'PASS' : 'FAIL';
  return { name, what, claim, verdict, summary: s };
}

async function redisVersion(config: RedisConfig): Promise<string> {
  const client = new Redis(config.url);
  client.on('error', () => undefined);
  try {
    const info = await client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } finally {
    await client.quit();
  }
}

const agentqPrefix = (prefix: string) => `${prefix}a`;
const statusPrefix = (prefix: string) => `${prefix}s`;

/** Runs every probe, then deletes every key the probes made (SCAN + UNLINK by prefix). */
export async function runLatencyTest(options: LatencyTestOptions): Promise<LatencyReport> {
  try {
    return await runProbes(options);
  } finally {
    const client = new Redis(options.redis.url);
    client.on('error', () => undefined);
    await deleteByPrefix(client, options.prefix)
      .then(() => deleteByPrefix(client, agentqPrefix(options.prefix)))
      .then(() => deleteByPrefix(client, statusPrefix(options.prefix)))
      .finally(() => client.quit());
  }
}

async function runProbes(options: LatencyTestOptions): Promise<LatencyReport> {
  const step = options.onProbe ?? (() => undefined);
  const lines: LatencyLine[] = [];
  step('ping');
  lines.push(judged('ping', 'PING round trip', COORDINATION, await probePing(options)));
  step('pubsub');
  lines.push(judged('pubsub', 'pub/sub one-way', COORDINATION, await probePubSub(options)));
  step('claim-bullmq');
  lines.push(
    judged(
      'claim-bullmq',
      'claim, plain BullMQ Worker (enqueue → handler start)',
      COORDINATION,
      await probeBullmqClaim(options),
    ),
  );
  step('claim-agentq');
  lines.push(
    judged(
      'claim-agentq',
      'claim, agentq AutonomousAgent (enqueue → handler start)',
      COORDINATION,
      await probeAgentqClaim({ ...options, prefix: agentqPrefix(options.prefix) }),
    ),
  );
  step('status-update');
  lines.push(
    judged(
      'status-update',
      'status update (handler done → mirror → tasks:complete)',
      STATUS_UPDATE,
      await probeStatusUpdate({ ...options, prefix: statusPrefix(options.prefix) }),
    ),
  );
  return {
    date: new Date().toISOString(),
    redis: {
      url: options.redis.display,
      version: await redisVersion(options.redis),
      private: options.isPrivate,
    },
    samples: options.samples,
    lines,
  };
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(3) : value.toFixed(1);
}

/** The report as text: one line per probe, p50/p95/p99/max in ms, the claim and the verdict. */
export function formatLatencyReport(report: LatencyReport): string {
  const out = [
    `Redis ${report.redis.version} at ${report.redis.url}${report.redis.private ? ' (private)' : ''}, ` +
      `${report.samples} sequential samples per line, times in ms`,
    '',
    `${'probe'.padEnd(56)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}  claim               verdict`,
  ];
  for (const line of report.lines) {
    const claim = `p50≤${line.claim.p50} p99≤${line.claim.p99}`.padEnd(19);
    const s = line.summary;
    const figures = s
      ? [s.p50, s.p95, s.p99, s.max].map((v) => ms(v).padStart(8)).join(' ')
      : 'n/a'.padStart(8) + ' '.repeat(27);
    out.push(`${line.what.padEnd(56)} ${figures}  ${claim} ${line.verdict}`);
    if (line.note) out.push(`  ${line.note}`);
  }
  return out.join('\n');
}
