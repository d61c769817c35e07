/**
 * The mirror's durable cursor: the last entry id it recorded of every events stream, stored as
 * one JSON value in the same transaction as the transitions those entries produced.
 */
import { InputError } from '../errors';

/** The store cursor name the mirror commits shard 0's streams under. */
export const MIRROR_CURSOR = 'mirror';

/** Each shard has its own reader and cursor (a shard's streams share one Redis Cluster slot). */
export function mirrorCursorName(shard: number): string {
  return shard === 0 ? MIRROR_CURSOR : `${MIRROR_CURSOR}.s${shard}`;
}

/** stream key → last recorded entry id (`<ms>-<seq>`). */
export type StreamCursor = Record<string, string>;

export function parseCursor(raw: string | null): StreamCursor {
  if (raw === null || raw === '') return {};
  const value: unknown = JSON.parse(raw);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError('the mirror cursor is not a JSON object', MIRROR_CURSOR);
  }
  const cursor: StreamCursor = {};
  for (const [key, id] of Object.entries(value)) {
    if (typeof id === 'string' && isStreamId(id)) cursor[key] = id;
  }
  return cursor;
}

export function serializeCursor(cursor: StreamCursor): string {
  const sorted: StreamCursor = {};
  for (const key of Object.keys(cursor).sort()) sorted[key] = cursor[key]!;
  return JSON.stringify(sorted);
}

const STREAM_ID = /^\d+-\d+$/;

export function isStreamId(id: string): boolean {
  return STREAM_ID.test(id);
}

function parts(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  return dash < 0 ? [BigInt(id), 0n] : [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** Orders stream ids (`<ms>-<seq>`) numerically: negative, zero or positive like a comparator. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = parts(a);
  const [bm, bs] = parts(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

/** The wall-clock milliseconds Redis stamped on an entry id. */
export function streamIdMs(id: string): number {
  return Number(parts(id)[0]);
}
