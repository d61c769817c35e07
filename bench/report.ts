/**
 * The suite's results: the one JSON document of `agentq bench --json` and a markdown table for
 * the README, both written to bench/results/latest.{json,md} with the machine and versions.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { DagSection } from './scenarios/dag';
import type { DagEdgeSection } from './scenarios/dag-edge';
import type { FirstStartSection } from './scenarios/first-start';
import type { SpawnSection } from './scenarios/spawn';
import type { LatencySection } from './scenarios/latency';
import type { MemorySection } from './scenarios/memory';
import type { MirrorLagSection } from './scenarios/mirror-lag';
import type { Scaling64, ScalingRow } from './scenarios/scaling';
import type { LimitsSection } from './scenarios/limits';
import type { StartupSection } from './scenarios/startup';
import type { ThroughputSection } from './scenarios/throughput';

export interface Environment {
  date: string;
  machine: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  redis: string;
  bullmq: string;
  mode: 'quick' | 'full';
  /** 1-minute load average when the run ended: figures from a busy machine are not comparable. */
  loadAverage: number;
}

export interface BenchDocument {
  throughput: ThroughputSection;
  latency: LatencySection;
  dag: DagSection;
  dagEdge: DagEdgeSection;
  mirrorLag: MirrorLagSection;
  scaling: ScalingRow[];
  memory: MemorySection;
  startup: StartupSection;
  limits: LimitsSection;
  firstStart: FirstStartSection;
  spawn: SpawnSection;
  scaling64: Scaling64;
  environment: Environment;
}

export function describeEnvironment(redisVersion: string, quick: boolean): Environment {
  const cpu = cpus();
  const bullmq = (
    JSON.parse(readFileSync(require.resolve('bullmq/package.json'), 'utf8')) as { version: string }
  ).version;
  return {
    date: new Date().toISOString(),
    machine: `${process.platform} ${process.arch}`,
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis: redisVersion,
    bullmq,
    mode: quick ? 'quick' : 'full',
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
  };
}

const fmt = (value: number | null | undefined, digits = 2) =>
  typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';

/** The markdown table the README shows: one row per figure, agentq | plain BullMQ | target. */
export function toMarkdown(doc: BenchDocument): string {
  const e = doc.environment;
  const rows: string[][] = [
    [
      'no-op throughput (tasks/s, concurrency 50; agentq: mirror + bridge in the same process)',
      fmt(doc.throughput.agentq, 0),
      fmt(doc.throughput.bullmq, 0),
      'ratio ≥ 0.8',
    ],
    [
      'Redis commands sent per no-op task (submission + drain; agentq: with mirror + bridge)',
      fmt(doc.throughput.redisCallsPerTask.agentq),
      fmt(doc.throughput.redisCallsPerTask.bullmq),
      '',
    ],
    [
      `submission → first handler start, plans of ${doc.firstStart.sizes.small} / ${doc.firstStart.sizes.large} tasks (ms)`,
      `${fmt(doc.firstStart.tasks1000Ms, 1)} / ${fmt(doc.firstStart.tasks10000Ms, 1)}`,
      '—',
      '≤ ~100',
    ],
    [
      `${doc.spawn.fanOut} × ${doc.spawn.fanOut} tasks spawned at run time vs the same as one plan (s)`,
      `${fmt(doc.spawn.seconds, 2)} vs ${fmt(doc.spawn.planSeconds, 2)} (${fmt(doc.spawn.ratio)}×)`,
      '—',
      'ratio ≤ 1.5',
    ],
    ...doc.latency.rates.map((r) => {
      const a = 'p50' in r.agentq ? r.agentq : null;
      return [
        `enqueue → start at ${r.rate}/s, p50 / p99 / p99.9 (ms)`,
        a ? `${fmt(a.p50)} / ${fmt(a.p99)} / ${fmt(a.p999)}` : 'n/a',
        `${fmt(r.bullmq.p50)} / ${fmt(r.bullmq.p99)} / ${fmt(r.bullmq.p999)}`,
        r.rate === 500 ? 'p50 ≤ 1, p99 ≤ 10' : '',
      ];
    }),
    [
      `${doc.dag.tasks}-task DAG end to end (s)`,
      fmt(doc.dag.seconds),
      fmt(doc.dag.bullmqSeconds),
      '≤ 4 (10,000 tasks)',
    ],
    ...(
      [
        [`chain of ${doc.dagEdge.chain.tasks}`, doc.dagEdge.chain],
        [`fan 1 → ${doc.dagEdge.fan.tasks - 2} → 1`, doc.dagEdge.fan],
        [`random DAG of ${doc.dagEdge.random.tasks}`, doc.dagEdge.random],
      ] as const
    ).map(([shape, f]) => [
      `DAG edge, dependency end → dependent start, ${shape}, p50 / p99 / max (ms; BullMQ: flow child → parent)`,
      `${fmt(f.p50)} / ${fmt(f.p99)} / ${fmt(f.max)}`,
      `${fmt(doc.dagEdge.bullmq.p50)} / ${fmt(doc.dagEdge.bullmq.p99)} / ${fmt(doc.dagEdge.bullmq.max)}`,
      'p50 ≤ 2, p99 ≤ 10',
    ]),
    [
      'DAG edge, all shapes, p50 / p99 (ms; × BullMQ p50)',
      `${fmt(doc.dagEdge.p50)} / ${fmt(doc.dagEdge.p99)} (${fmt(doc.dagEdge.ratioP50)} ×)`,
      `${fmt(doc.dagEdge.bullmq.p50)} / ${fmt(doc.dagEdge.bullmq.p99)}`,
      'p50 ≤ 1.5 × BullMQ',
    ],
    [`mirror lag p99 at ${doc.mirrorLag.rate}/s (ms)`, fmt(doc.mirrorLag.p99, 1), '—', '≤ 50'],
    [`pub/sub delivery after the transition, p50 (ms)`, fmt(doc.mirrorLag.deliveryP50), '—', '≤ 2'],
    ...doc.scaling.map((s) => [
      `scaling efficiency, ${s.slots} slots (${s.bullmq.processes} × ${s.bullmq.concurrency})`,
      'efficiency' in s.agentq ? fmt(s.agentq.efficiency) : 'n/a',
      fmt(s.bullmq.efficiency),
      s.slots === 64 ? '≥ 0.9' : '',
    ]),
    [
      `Redis bytes per pending task (${doc.memory.tasks})`,
      fmt(doc.memory.agentqBytesPerTask, 0),
      fmt(doc.memory.bullmqBytesPerTask, 0),
      '≤ 1.2 × BullMQ',
    ],
    ...(
      [
        ['`agentq --version`', doc.startup.medianMs.version, doc.startup.ratio.version, '≤ 1.5 ×'],
        ['`agentq --help`', doc.startup.medianMs.help, doc.startup.ratio.help, ''],
        [
          '`agentq task show ID`',
          doc.startup.medianMs.taskShow,
          doc.startup.ratio.taskShow,
          '≤ 2 ×',
        ],
      ] as const
    ).map(([command, ms, times, target]) => [
      `${command} start-up, median of ${doc.startup.runs} (ms; × \`node -e "require('bullmq')"\`)`,
      `${fmt(ms, 0)} (${fmt(times)} ×)`,
      fmt(doc.startup.medianMs.bullmq, 0),
      target,
    ]),
    ...doc.limits.rows
      .filter((r) => r.limits !== null)
      .map((r) => [
        `no-op tasks/s, ${r.variant}, median of ${doc.limits.rounds} (× no limit; agent CPU µs/task)`,
        `${fmt(r.tasksPerSecond, 0)} (${fmt(r.ratioToNoLimit)} ×; ${fmt(r.cpuUsPerTask, 0)} µs)`,
        '—',
        r.variant.startsWith('concurrency') ? '≥ 0.9 × no limit' : '',
      ]),
  ];
  return [
    `Measured ${e.date.slice(0, 10)} (${e.mode} run) on ${e.machine}, ${e.cpu} × ${e.cores}, ` +
      `${e.memoryGiB} GiB, load average ${e.loadAverage}; Node ${e.node}, Redis ${e.redis}, ` +
      `BullMQ ${e.bullmq}. Both columns ran in the same run on the same Redis.`,
    '',
    '| scenario | agentq | plain BullMQ | target |',
    '| --- | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
}

export function writeResults(doc: BenchDocument, dir = join(__dirname, 'results')): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), toMarkdown(doc));
}
