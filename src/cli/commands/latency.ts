/** `agentq latency [--json] [--samples N]`: the seed's Redis latency test (examples/redis-latency-test.ts). */
import type { Command } from 'commander';
import { runCheckoutScript } from '../run-script';

export interface LatencyOptions {
  json?: boolean;
  samples?: string;
}

export async function runLatency(options: LatencyOptions): Promise<number> {
  const args = [
    ...(options.json ? ['--json'] : []),
    ...(options.samples ? ['--samples', options.samples] : []),
  ];
  return runCheckoutScript('examples/redis-latency-test.ts', args);
}

export function register(program: Command): void {
  program
    .command('latency')
    .description(
      'PING, pub/sub, claim and status-update latency (p50/p95/p99/max) beside the ~1 ms claims',
    )
    .option('--json', 'one JSON document on stdout')
    .option('--samples <n>', 'samples per line, run one after another', '1000')
    .action(async (options: LatencyOptions) => {
      const code = await runLatency(options);
      // The child printed its own output and error; exit with its code (main.ts would reset it).
      if (code !== 0) process.exit(code);
    });
}
