/**
 * `agentq limits set CAP [--concurrency N] [--rate MAX/DURATION] [--per-key K]`,
 * `agentq limits show [--json]`, `agentq limits clear CAP` (docs/limits.md). `set` replaces the
 * capability's limits as a whole; agents obey them from their next claim, without a restart.
 */
import type { Command } from 'commander';
import { clearLimits, setLimits } from '../../interface/operations/set-limits';
import { formatRate, parseRate, wholeNumber } from '../../queues/capability-limits';
import { viewCapabilityLimits, type CapabilityLimitsView } from '../../queues/limits-view';
import { withContext } from '../context';
import type { Output } from '../output';

interface SetOptions {
  concurrency?: string;
  rate?: string;
  perKey?: string;
}

/** The flags as a limits object (validated by the operation, which names the bad field). */
export function limitsFromFlags(options: SetOptions): Record<string, unknown> {
  return {
    ...(options.concurrency !== undefined
      ? { concurrency: wholeNumber(options.concurrency, 'concurrency') }
      : {}),
    ...(options.rate !== undefined ? { rate: parseRate(options.rate) } : {}),
    ...(options.perKey !== undefined ? { perKey: wholeNumber(options.perKey, 'perKey') } : {}),
  };
}

export function renderLimits(views: CapabilityLimitsView[], out: Output): void {
  if (views.length === 0)
    return out.print('No capability limits. Set one with `agentq limits set CAP --concurrency N`.');
  out.table(
    ['capability', 'concurrency', 'running', 'rate', 'per key', 'keys running', 'parked'],
    views.map((v) => [
      v.capability,
      v.limits.concurrency ?? '-',
      v.running,
      v.limits.rate
        ? formatRate(v.limits.rate) +
          (v.rateLimitedForMs > 0 ? ` (held ${v.rateLimitedForMs} ms)` : '')
        : '-',
      v.limits.perKey ?? '-',
      v.keys ? `${v.keys.keysRunning} (${v.keys.running} tasks)` : '-',
      v.keys ? `${v.keys.parked} (${v.keys.keysParked} keys)` : '-',
    ]),
  );
}

export function register(program: Command): void {
  const limits = program
    .command('limits')
    .description('capability limits: concurrency, rate and per-key concurrency over every agent');

  limits
    .command('set <capability>')
    .description('set the limits of a capability (replaces the ones it had)')
    .option('--concurrency <n>', 'tasks of the capability running at once')
    .option('--rate <max/duration>', 'tasks started per window, e.g. 60/1m (ms, s, m, h)')
    .option('--per-key <k>', "tasks running at once per task's concurrencyKey")
    .option('--json', 'one JSON document on stdout')
    .action((capability: string, options: SetOptions, command: Command) =>
      withContext(command, {}, async ({ registry, coordinator, out, actor }) => {
        const outcome = await setLimits(
          { store: registry, coordinator },
          { capability, limits: limitsFromFlags(options) },
          actor,
        );
        if (out.json) return out.printJson(outcome);
        const l = outcome.limits!;
        const parts = [
          l.concurrency !== undefined ? `concurrency ${l.concurrency}` : null,
          l.rate ? `rate ${formatRate(l.rate)}` : null,
          l.perKey !== undefined ? `per key ${l.perKey}` : null,
        ].filter(Boolean);
        out.print(`Limits of ${capability}: ${parts.join(', ')}.`);
      }),
    );

  limits
    .command('show')
    .description('every capability limit, with what runs under it now')
    .option('--json', 'one JSON document on stdout')
    .action((_options: unknown, command: Command) =>
      withContext(command, { db: false }, async ({ coordinator, out }) => {
        const views = await viewCapabilityLimits(coordinator);
        if (out.json) return out.printJson({ limits: views });
        renderLimits(views, out);
      }),
    );

  limits
    .command('clear <capability>')
    .description('remove every limit of a capability')
    .option('--json', 'one JSON document on stdout')
    .action((capability: string, _options: unknown, command: Command) =>
      withContext(command, {}, async ({ registry, coordinator, out, actor }) => {
        const outcome = await clearLimits({ store: registry, coordinator }, { capability }, actor);
        if (out.json) return out.printJson(outcome);
        out.print(
          outcome.cleared ? `Limits of ${capability} cleared.` : `${capability} had no limits.`,
        );
      }),
    );
}
