/**
 * The soak in short (bench/soak.ts runs the long one): 2,000 tasks through 4 agent processes with
 * 5% of attempts failing at random and one agent killed -9 mid-run. Every task ends DONE, or
 * FAILED with exactly one dead letter; SQL holds every event (gap-free seq, one terminal
 * transition per task, none out of a terminal state); Redis agrees with SQL.
 */
import { runSoak } from '../helpers/soak-run';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

// Four agent processes start through tsx, and a crashed task waits out its 5 s lock.
jest.setTimeout(120_000);

describe('the short soak', () => {
  it('ends 2,000 tasks DONE or dead-lettered exactly once through an agent crash', async () => {
    const report = await runSoak({
      redisUrl: REDIS_URL,
      prefix: uniquePrefix('soak'),
      tasks: 2000,
      crashEveryMs: 2000,
      maxCrashes: 1,
      sampleEveryMs: 1000,
      ms: 5,
    });
    const memory = report.memory.samples.map((s) => s.usedBytes);
    process.stdout.write(
      `soak-short: ${report.done} DONE, ${report.failed} FAILED (${report.deadLetters} dead letters), ` +
        `${report.crashes} crash, ${report.events} events, ${report.seconds.toFixed(1)} s; ` +
        `Redis used_memory ${memory[0]} → ${memory.at(-1)} bytes, ${report.memory.keptJobs} jobs kept\n`,
    );
    expect(report.problems).toEqual([]);
    expect(report.crashes).toBe(1);
    expect(report.done + report.failed).toBe(2000);
    expect(report.deadLetters).toBe(report.failed);
  });
});
