/**
 * CLI start-up: how long `agentq --version`, `agentq --help` and `agentq task show ID` take end
 * to end (a new Node process each, the built CLI dist/cli/bin.js), beside `node -e
 * "require('bullmq')"` in the same run, interleaved so a busy moment hits every command alike.
 * Medians of N runs; each ratio is a command's median over the BullMQ one's. Targets (issue 17):
 * --version ≤ 1.5×, task show ≤ 2×.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchConnection, benchPrefix, deleteByPrefix } from '../context';
import { percentile, ratio } from '../stats';
import type { BenchContext } from './types';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');

export interface StartupSection {
  /** Runs of each command. */
  runs: number;
  /** Median wall-clock milliseconds of each command. */
  medianMs: { node: number; bullmq: number; version: number; help: number; taskShow: number };
  /** Each command's median over `node -e "require('bullmq')"`'s. */
  ratio: { version: number; help: number; taskShow: number };
}

/** Runs `args` with this Node; its wall-clock milliseconds. Throws when it fails. */
function timed(args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`);
  }
  return ms;
}

export async function startupScenario(ctx: BenchContext): Promise<StartupSection> {
  // Keep the CLI under test equal to the sources (a no-op when dist/ is current).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const build = require(join(ROOT, 'scripts', 'build.js')) as { ensureBuilt(): number | null };
  build.ensureBuilt();
  const runs = ctx.quick ? 7 : 21;
  const prefix = benchPrefix('startup');
  const dir = mkdtempSync(join(tmpdir(), 'agentq-bench-startup-'));
  const globals = ['--redis', ctx.redis.url, '--db', `sqlite:${join(dir, 'agentq.db')}`];
  globals.push('--prefix', prefix);
  const client = benchConnection(ctx.redis);
  try {
    ctx.step(`start-up: ${runs} runs each of agentq --version, --help, task show; node + BullMQ`);
    const created = spawnSync(
      process.execPath,
      [BIN, ...globals, 'task', 'create', '--title', 'start-up', '--type', 'bench', '--json'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (created.status !== 0) throw new Error(`task create failed: ${created.stderr.trim()}`);
    const taskId = (JSON.parse(created.stdout) as { id: string }).id;
    const commands = {
      node: ['-e', ''],
      bullmq: ['-e', "require('bullmq')"],
      version: [BIN, '--version'],
      help: [BIN, '--help'],
      taskShow: [BIN, ...globals, 'task', 'show', taskId],
    };
    const names = Object.keys(commands) as Array<keyof typeof commands>;
    const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<
      keyof typeof commands,
      number[]
    >;
    // One warm-up round (disk cache), then the measured rounds.
    for (const name of names) timed(commands[name]);
    for (let i = 0; i < runs; i++)
      for (const name of names) samples[name].push(timed(commands[name]));
    const median = (n: keyof typeof commands) =>
      Math.round(
        percentile(
          [...samples[n]].sort((a, b) => a - b),
          50,
        ) * 10,
      ) / 10;
    const medianMs = Object.fromEntries(
      names.map((n) => [n, median(n)]),
    ) as StartupSection['medianMs'];
    const over = (ms: number) => Math.round(ratio(ms, medianMs.bullmq) * 100) / 100;
    return {
      runs,
      medianMs,
      ratio: {
        version: over(medianMs.version),
        help: over(medianMs.help),
        taskShow: over(medianMs.taskShow),
      },
    };
  } finally {
    await deleteByPrefix(client, prefix);
    await client.quit();
    rmSync(dir, { recursive: true, force: true });
  }
}
