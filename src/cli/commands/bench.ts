/** `agentq bench [--quick] [--json]`: the benchmark suite against plain BullMQ (bench/run.ts). */
import type { Command } from 'commander';
import { runCheckoutScript } from '../run-script';

export interface BenchOptions {
  quick?: boolean;
  json?: boolean;
  out?: string;
}

export async function runBench(options: BenchOptions): Promise<number> {
  const args = [
    ...(options.quick ? ['--quick'] : []),
    ...(options.json ? ['--json'] : []),
    ...(options.out ? ['--out', options.out] : []),
  ];
  return runCheckoutScript('bench/run.ts', args);
}

export function register(program: Command): void {
  program
    .command('bench')
    .description(
      'throughput, enqueue → start latency, DAG, mirror lag, scaling and memory against plain BullMQ',
    )
    .option('--quick', 'smaller counts, under 3 minutes')
    .option('--json', 'one JSON document on stdout')
    .option('--out <dir>', 'where latest.json and latest.md go', 'bench/results')
    .action(async (options: BenchOptions) => {
      const code = await runBench(options);
      // The child printed its own output and error; exit with its code (main.ts would reset it).
      if (code !== 0) process.exit(code);
    });
}
