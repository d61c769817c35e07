/**
 * `npm run soak` (`tsx bench/soak.ts [--tasks N] [--workers N] [--crash-every-ms MS]
 * [--fail-rate R] [--redis URL]`): the long soak of issue 7 — by default 200,000 tasks through 4
 * agent processes, 5% of attempts failing, one agent killed -9 and restarted every minute. Prints
 * the report (and Redis memory over time) and writes bench/results/soak.json; exits 1 when the
 * end checks found a task lost, doubled or not dead-lettered.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSoak } from '../test/helpers/soak-run';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

function text(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const report = await runSoak({
    redisUrl: text('redis', 'redis://127.0.0.1:6379'),
    prefix: `soak${randomBytes(4).toString('hex')}`,
    tasks: flag('tasks', 200_000),
    workers: flag('workers', 4),
    crashEveryMs: flag('crash-every-ms', 60_000),
    failRate: flag('fail-rate', 0.05),
    sampleEveryMs: flag('sample-every-ms', 10_000),
    log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
  });
  const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
  const memory = report.memory.samples;
  process.stdout.write(
    `${report.tasks} tasks in ${report.seconds.toFixed(0)} s ` +
      `(${(report.tasks / report.seconds).toFixed(0)} tasks/s): ${report.done} DONE, ` +
      `${report.failed} FAILED, ${report.deadLetters} dead letters, ${report.crashes} crashes, ` +
      `${report.events} events in SQL\n` +
      `Redis used_memory: ${memory.map((s) => `${s.atS.toFixed(0)}s ${mib(s.usedBytes)} MiB`).join(', ')}\n` +
      `Redis keeps ${report.memory.keptJobs} finished task jobs at the end (they leave after AGENTQ_RETENTION_MS, default 1 h)\n` +
      (report.problems.length
        ? `PROBLEMS:\n${report.problems.join('\n')}\n`
        : 'no problems found\n'),
  );
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = report.problems.length ? 1 : 0;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
