/**
 * Capability limits (DESIGN.md, "Limits and budgets"): how many tasks of a capability may run at
 * once, how many may start per window, and how many may run at once per `concurrencyKey`. One
 * shape for the CLI (`agentq limits set`), the REST API (`PUT /api/limits/:capability`), the
 * library (`redis.setCapabilityLimits`) and the SQL copy; validated here, once, so a bad value is
 * one `InputError` naming its field before anything is written.
 */
import type * as Zod from 'zod';
import type { CapabilityLimits, RateLimit } from '../entities/task-model';
import { InputError } from '../errors';

export type { CapabilityLimits, RateLimit } from '../entities/task-model';

/** Upper bounds that keep every value a safe integer in Redis, Lua and SQL. */
export const MAX_LIMIT = 1_000_000;
export const MAX_RATE_WINDOW_MS = 7 * 24 * 3600 * 1000;

/** Built on first use: zod is not loaded by the commands that only read limits (`task show`). */
function buildSchema() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { z } = require('zod') as typeof Zod;
  const count = (what: string) =>
    z
      .number({ error: `must be a whole number of ${what} (at least 1)` })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`);

  return z
    .object(
      {
        concurrency: count('tasks').optional(),
        rate: z
          .object(
            {
              max: count('tasks'),
              durationMs: z
                .number({ error: 'must be a number of milliseconds (at least 1)' })
                .int('must be a whole number of milliseconds')
                .min(1, 'must be at least 1 ms')
                .max(MAX_RATE_WINDOW_MS, 'must be at most 7 days'),
            },
            { error: 'must be { max, durationMs }' },
          )
          .strict()
          .optional(),
        perKey: count('tasks').optional(),
      },
      { error: 'must be an object: { concurrency?, rate?: { max, durationMs }, perKey? }' },
    )
    .strict();
}

let limitsSchema: ReturnType<typeof buildSchema> | undefined;

/**
 * Validates limits from any source. At least one limit must be given (clearing is `clear`).
 * `where` prefixes the field of an error (`rate.max`).
 */
export function parseCapabilityLimits(input: unknown): CapabilityLimits {
  limitsSchema ??= buildSchema();
  const parsed = limitsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.');
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field '${issue.keys.join("', '")}' (known: concurrency, rate, perKey)`
        : issue.message;
    throw new InputError(message, field || 'limits');
  }
  const limits = parsed.data;
  if (limits.concurrency === undefined && !limits.rate && limits.perKey === undefined) {
    throw new InputError(
      'give at least one of concurrency, rate, perKey (to remove limits, clear them)',
      'limits',
    );
  }
  return {
    ...(limits.concurrency !== undefined ? { concurrency: limits.concurrency } : {}),
    ...(limits.rate ? { rate: { max: limits.rate.max, durationMs: limits.rate.durationMs } } : {}),
    ...(limits.perKey !== undefined ? { perKey: limits.perKey } : {}),
  };
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `60/1m` → `{ max: 60, durationMs: 60000 }`; units ms, s, m, h; `60/m` means `60/1m`. */
export function parseRate(text: string, field = 'rate'): RateLimit {
  const match = /^\s*([^/\s]+)\s*\/\s*([0-9]*)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!match) throw new InputError(`'${text}' is not MAX/DURATION (for example 60/1m)`, field);
  const [, maxText, amountText, unitText] = match as unknown as [string, string, string, string];
  const max = wholeNumber(maxText, `${field}.max`);
  const unit = unitText.toLowerCase();
  if (!(unit in UNIT_MS)) {
    throw new InputError(
      `unknown duration unit '${unitText || '(none)'}' in '${text}': use ms, s, m or h (for example 60/1m)`,
      `${field}.duration`,
    );
  }
  const amount = amountText === '' ? 1 : wholeNumber(amountText, `${field}.duration`);
  return parseCapabilityLimits({
    rate: { max, durationMs: amount * UNIT_MS[unit as keyof typeof UNIT_MS] },
  }).rate!;
}

/** A CLI count (`--concurrency 4`): a whole number, or an InputError naming `field`. */
export function wholeNumber(text: string, field: string): number {
  if (!/^-?[0-9]+$/.test(text.trim())) {
    throw new InputError(`'${text}' is not a whole number`, field);
  }
  return Number(text.trim());
}

/** `{ max: 60, durationMs: 60000 }` → `60/1m` (the largest unit that divides the window). */
export function formatRate(rate: RateLimit): string {
  for (const unit of ['h', 'm', 's'] as const) {
    if (rate.durationMs % UNIT_MS[unit] === 0) {
      return `${rate.max}/${rate.durationMs / UNIT_MS[unit]}${unit}`;
    }
  }
  return `${rate.max}/${rate.durationMs}ms`;
}

/**
 * Shard `shard`'s share of a total spread over `shards` queues: the total divided evenly, the
 * remainder to the lowest shards, so the shares add up to the total exactly.
 */
export function shardShare(total: number, shards: number, shard: number): number {
  return Math.floor(total / shards) + (shard < total % shards ? 1 : 0);
}

/**
 * With several shards a capability has one BullMQ queue per shard and each enforces its share
 * (see docs/limits.md): refuses limits a share of which would be 0 (a shard that never runs).
 */
export function assertShardable(limits: CapabilityLimits, shards: number): void {
  if (shards <= 1) return;
  if (limits.concurrency !== undefined && limits.concurrency < shards) {
    throw new InputError(
      `must be at least the number of shards (${shards}): each shard's queue enforces its share`,
      'concurrency',
    );
  }
  if (limits.rate && limits.rate.max < shards) {
    throw new InputError(
      `must be at least the number of shards (${shards}): each shard's queue enforces its share`,
      'rate.max',
    );
  }
}
