/**
 * The benchmark suite (`agentq bench [--quick] [--json]`): every scenario, plain BullMQ doing the
 * same work in the same run, results to bench/results/latest.{json,md}. `--json` prints exactly
 * one document on stdout; the progress bar goes to stderr, on a TTY only.
 */
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config';
import { ensureRedis } from '../src/cli/private-redis';
import type { BenchContext } from './context';
import { describeEnvironment, toMarkdown, writeResults, type BenchDocument } from './report';
import { dagScenario } from './scenarios/dag';
import { dagEdgeScenario } from './scenarios/dag-edge';
import { firstStartScenario } from './scenarios/first-start';
import { spawnScenario } from './scenarios/spawn';
import { latencyScenario, RATES } from './scenarios/latency';
import { limitsScenario } from './scenarios/limits';
import { memoryScenario } from './scenarios/memory';
import { mirrorLagScenario } from './scenarios/mirror-lag';
import { scaling64, scalingScenario, SLOTS } from './scenarios/scaling';
import { startupScenario } from './scenarios/startup';
import { throughputScenario } from './scenarios/throughput';

// Steps the progress bar counts: one per ctx.step() call of the scenarios.
const STEPS = 2 + 2 * RATES.length + 2 + 4 + 1 + 2 * SLOTS.length + 2 + 1 + 1 + 2 + 2;

async function redisVersion(url: string): Promise<string> {
  const client = new Redis(url);
  client.on('error', () => undefined);
  try {
    return /redis_version:(\S+)/.exec(await client.info('server'))?.[1] ?? 'unknown';
  } finally {
    await client.quit();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      // Where latest.json and latest.md go (tests write elsewhere than the committed results).
      out: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const redis = await ensureRedis(loadConfig().redis, { log: (line) => console.error(line) });
  const bar = process.stderr.isTTY
    ? new SingleBar(
        { format: ' {bar} {value}/{total} {label}', stream: process.stderr },
        Presets.shades_classic,
      )
    : null;
  bar?.start(STEPS, 0, { label: '' });
  let steps = 0;
  const ctx: BenchContext = {
    redis: redis.config,
    quick,
    step: (label) => {
      if (bar) bar.update(steps++, { label });
      else if (!values.json) console.error(label);
    },
  };
  try {
    if (quick)
      console.error('quick run: smaller counts (see each section\'s "tasks"), under 3 minutes');
    const throughput = await throughputScenario(ctx);
    const latency = await latencyScenario(ctx);
    const dag = await dagScenario(ctx);
    const dagEdge = await dagEdgeScenario(ctx);
    const mirrorLag = await mirrorLagScenario(ctx);
    const scaling = await scalingScenario(ctx);
    const doc: BenchDocument = {
      throughput,
      latency,
      dag,
      dagEdge,
      mirrorLag,
      scaling,
      memory: await memoryScenario(ctx),
      startup: await startupScenario(ctx),
      limits: await limitsScenario(ctx),
      firstStart: await firstStartScenario(ctx),
      spawn: await spawnScenario(ctx),
      scaling64: scaling64(scaling),
      environment: describeEnvironment(await redisVersion(redis.config.url), quick),
    };
    bar?.update(STEPS, { label: 'done' });
    bar?.stop();
    writeResults(doc, values.out);
    console.log(values.json ? JSON.stringify(doc) : toMarkdown(doc));
  } finally {
    bar?.stop();
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
