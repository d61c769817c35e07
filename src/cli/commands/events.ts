/**
 * `agentq events`: the audit log from the store (`--after SEQ`), and with `--follow` the live
 * pub/sub channels, filling any gap in `seq` from the store so no transition is missed.
 */
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { withContext, type CliContext } from '../context';
import { onInterrupt } from '../interrupt';
import { watchRedisHealth } from '../redis-health';
import { EventFollower, eventLineOf, formatEventLine, type EventLine } from '../event-follower';

interface EventsOptions {
  follow?: boolean;
  after?: string;
  limit: string;
}

export function register(program: Command): void {
  program
    .command('events')
    .description('the task event log; --follow for live events')
    .option('--after <seq>', 'only events after this sequence number')
    .option('--limit <n>', 'at most this many (without --follow)', '100')
    .option('--follow', 'keep printing live events until Ctrl-C (NDJSON with --json)')
    .action((options: EventsOptions, command: Command) =>
      withContext(
        command,
        { role: options.follow ? 'worker' : 'command', readsSql: true },
        (ctx) => (options.follow ? follow(ctx, options) : list(ctx, options)),
      ),
    );
}

function wholeNumber(raw: string, field: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new InputError(`'${raw}' must be a whole number from ${min}`, field);
  }
  return n;
}

async function list(ctx: CliContext, options: EventsOptions): Promise<void> {
  const after = options.after === undefined ? 0 : wholeNumber(options.after, 'after', 0);
  const limit = wholeNumber(options.limit, 'limit', 1);
  const events = (await ctx.registry.eventsAfter(after, limit)).map(eventLineOf);
  if (ctx.out.json) return ctx.out.printJson({ events });
  if (events.length === 0) return ctx.out.print('No events.');
  for (const event of events) ctx.out.print(formatEventLine(event, ctx.out.color));
}

async function follow(ctx: CliContext, options: EventsOptions): Promise<void> {
  const after =
    options.after === undefined
      ? await ctx.registry.lastSeq()
      : wholeNumber(options.after, 'after', 0);
  const print = (event: EventLine) =>
    ctx.out.json
      ? ctx.out.print(JSON.stringify(event))
      : ctx.out.print(formatEventLine(event, ctx.out.color));
  const subscriber = ctx.coordinator.duplicate('worker');
  const health = watchRedisHealth(ctx.coordinator, { write: ctx.out.warn });
  const follower = new EventFollower(ctx.registry, ctx.coordinator, subscriber, after, print);
  const interrupt = onInterrupt();
  try {
    await follower.start();
    await interrupt.done;
  } finally {
    interrupt.dispose();
    health.stop();
    await follower.stop();
  }
}
