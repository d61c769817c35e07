/**
 * The events streams the mirror reads: `<bullPrefix(shard)>:<queue>:events` for every capability
 * queue, `_approvals` (approval tasks) and `_goals`, on every shard; plus XREAD and XINFO STREAM decoded into plain values.
 */
import { Cluster } from 'ioredis';
import type { RedisConnection } from '../queues/connection';
import { APPROVALS_QUEUE, GOALS_QUEUE } from '../queues/names';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import type { StreamEntry } from './mirror-events';

export interface EventsStream {
  key: string;
  queue: string;
  shard: number;
}

/** The streams of one shard: one XREAD reads them all (one hash tag, one cluster slot). */
export async function listStreams(
  coordinator: RedisCoordinator,
  shard: number,
): Promise<EventsStream[]> {
  const queues = [...(await coordinator.capabilities()), APPROVALS_QUEUE, GOALS_QUEUE];
  return queues.map((queue) => ({
    key: `${coordinator.bullPrefix(shard)}:${queue}:events`,
    queue,
    shard,
  }));
}

type RawStreams = Array<[string, Array<[string, string[]]>]> | null;

function fieldsOf(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return fields;
}

/** The hash tag of a key (`{agentq.s1}` of `{agentq.s1}:dev:events`); the key itself without one. */
function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/**
 * XREAD COUNT … [BLOCK …] STREAMS …; entries by stream key, in order. On a Redis Cluster one
 * XREAD may only name keys of one slot, and each shard is a hash tag of its own: there the read
 * is one XREAD per shard, run side by side (each node blocks on its own connection).
 */
export async function readStreams(
  client: RedisConnection,
  ids: ReadonlyMap<string, string>,
  count: number,
  blockMs: number,
): Promise<Map<string, StreamEntry[]>> {
  const groups = new Map<string, string[]>();
  for (const key of ids.keys()) {
    const tag = client instanceof Cluster ? hashTagOf(key) : '';
    groups.set(tag, [...(groups.get(tag) ?? []), key]);
  }
  const out = new Map<string, StreamEntry[]>();
  const reads = await Promise.all(
    [...groups.values()].map((keys) => readGroup(client, keys, ids, count, blockMs)),
  );
  for (const read of reads) for (const [key, entries] of read) out.set(key, entries);
  return out;
}

async function readGroup(
  client: RedisConnection,
  keys: string[],
  ids: ReadonlyMap<string, string>,
  count: number,
  blockMs: number,
): Promise<Map<string, StreamEntry[]>> {
  const raw = (await client.call(
    'XREAD',
    'COUNT',
    String(count),
    'BLOCK',
    String(blockMs),
    'STREAMS',
    ...keys,
    ...keys.map((k) => ids.get(k)!),
  )) as RawStreams;
  const out = new Map<string, StreamEntry[]>();
  for (const [key, entries] of raw ?? []) {
    out.set(
      key,
      entries.map(([id, flat]) => ({ id, fields: fieldsOf(flat) })),
    );
  }
  return out;
}

export interface StreamInfo {
  exists: boolean;
  lastId: string;
  /** The highest id removed by XDEL (Redis ≥ 7; trimming does not move it); '0-0' when none. */
  maxDeletedId: string;
  /** The oldest entry still in the stream; null when it is empty. */
  firstId: string | null;
  length: number;
  /** Entries ever added (Redis ≥ 7; `length` on older servers). */
  entriesAdded: number;
}

export async function streamInfo(client: RedisConnection, key: string): Promise<StreamInfo> {
  let raw: unknown[];
  try {
    raw = (await client.call('XINFO', 'STREAM', key)) as unknown[];
  } catch {
    return {
      exists: false,
      lastId: '0-0',
      maxDeletedId: '0-0',
      firstId: null,
      length: 0,
      entriesAdded: 0,
    };
  }
  const info = new Map<string, unknown>();
  for (let i = 0; i + 1 < raw.length; i += 2) info.set(String(raw[i]), raw[i + 1]);
  const first = info.get('first-entry') as [string, string[]] | null | undefined;
  return {
    exists: true,
    lastId: String(info.get('last-generated-id') ?? '0-0'),
    maxDeletedId: String(info.get('max-deleted-entry-id') ?? '0-0'),
    firstId: first ? first[0] : null,
    length: Number(info.get('length') ?? 0),
    entriesAdded: Number(info.get('entries-added') ?? info.get('length') ?? 0),
  };
}
