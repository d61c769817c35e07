/**
 * Reads what test/fixtures/handlers/limits.cjs recorded (starts and ends, in Redis time, with the
 * number running at each start) and answers the questions of the limits tests.
 */
import type { RedisConnection } from '../../src/queues/connection';

export interface LimitEvent {
  kind: 'start' | 'end';
  at: number;
  /** At a start: how many ran then, this one included. */
  running: number;
  key: string;
  task: string;
}

export async function readLimitLog(client: RedisConnection, log: string): Promise<LimitEvent[]> {
  const lines = await client.lrange(`${log}:events`, 0, -1);
  return lines.map((line) => {
    const parts = line.split(' ');
    if (parts[0] === 'start') {
      return {
        kind: 'start',
        at: Number(parts[1]),
        running: Number(parts[2]),
        key: parts[3]!,
        task: parts[4]!,
      };
    }
    return { kind: 'end', at: Number(parts[1]), running: 0, key: parts[2]!, task: parts[3]! };
  });
}

/** The most that ran at once (from the count at each start), over starts picked by `where`. */
export function peakRunning(
  events: readonly LimitEvent[],
  where: (e: LimitEvent) => boolean = () => true,
): number {
  return Math.max(0, ...events.filter((e) => e.kind === 'start' && where(e)).map((e) => e.running));
}

/** The most tasks of one key that ran at once, from the order of starts and ends. */
export function peakPerKey(events: readonly LimitEvent[]): Map<string, number> {
  const now = new Map<string, number>();
  const peak = new Map<string, number>();
  for (const e of events) {
    const n = (now.get(e.key) ?? 0) + (e.kind === 'start' ? 1 : -1);
    now.set(e.key, n);
    peak.set(e.key, Math.max(peak.get(e.key) ?? 0, n));
  }
  return peak;
}

/**
 * Starts per rate window, windows as a fixed-window limiter opens them: a window opens at the
 * first start after the previous one closed. `windowMs` is the limiter's window less a margin
 * for the few ms between a claim (when BullMQ counts it) and the handler's start (recorded here).
 */
export function startsPerWindow(events: readonly LimitEvent[], windowMs: number): number[] {
  const starts = events.filter((e) => e.kind === 'start').map((e) => e.at);
  starts.sort((a, b) => a - b);
  const counts: number[] = [];
  let opened = -Infinity;
  for (const at of starts) {
    if (at >= opened + windowMs) {
      opened = at;
      counts.push(0);
    }
    counts[counts.length - 1]! += 1;
  }
  return counts;
}
