/**
 * The seed's Redis latency test: `npx tsx examples/redis-latency-test.ts [--json] [--samples N]`
 * (what `agentq latency` runs). Uses REDIS_URL, or a private redis-server when nothing answers.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { ensureRedis } from '../src/cli/private-redis';
import { formatLatencyReport, runLatencyTest } from '../bench/latency-test';
import { InputError } from '../src/errors';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean', default: false }, samples: { type: 'string' } },
  });
  const samples = Number(values.samples ?? 1000);
  if (!Number.isInteger(samples) || samples < 1 || samples > 1_000_000) {
    throw new InputError(
      `'${values.samples}' must be a whole number from 1 to 1000000`,
      '--samples',
    );
  }
  const redis = await ensureRedis(loadConfig().redis, { log: (line) => console.error(line) });
  try {
    const report = await runLatencyTest({
      redis: redis.config,
      isPrivate: redis.isPrivate,
      samples,
      prefix: `lat${randomBytes(4).toString('hex')}`,
      onProbe: values.json ? undefined : (name) => console.error(`measuring ${name}…`),
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatLatencyReport(report));
  } finally {
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = error instanceof InputError ? 2 : 1;
});
