/**
 * The live-agent directory: one hash field per agent id, holding that agent's last heartbeat.
 * An id belongs to one process at a time. A process claims it at start and is refused while
 * another process holds it alive; afterwards it only ever writes (heartbeats) or deletes
 * (leaving) the entry that carries its own `instance` token, so a second process can never make
 * `agentq agents` flip between two owners.
 *
 * "Alive" means: the last heartbeat is at most three heartbeat intervals old (6 s by default),
 * and, when the holder ran on this host, its pid is still running (so a worker restarted right
 * after a kill -9 on the same host starts at once; on another host it waits out the 6 s).
 */
import { hostname } from 'node:os';
import type { AgentInfo } from '../entities/task-model';
import { InputError } from '../errors';
import type { RedisConnection } from './connection';

/** An agent's heartbeat entry; it is live while `lastSeenAt` is within 3 heartbeats. */
export interface AgentHeartbeat extends AgentInfo {
  heartbeatMs: number;
  /** The process that holds the id (random per agent start); absent in hand-written entries. */
  instance?: string;
}

/** A second process asked for an agent id a live process holds. */
export class DuplicateAgentError extends InputError {
  constructor(
    readonly agentId: string,
    readonly holder: { host: string; pid: number; heartbeatAgeMs: number },
  ) {
    super(
      `'${agentId}' is already taken by a live agent (pid ${holder.pid} on ${holder.host}, ` +
        `last heartbeat ${(holder.heartbeatAgeMs / 1000).toFixed(1)} s ago); ` +
        'stop that one first or give this one another id (--id)',
      'agentId',
      'duplicate_agent',
    );
  }
}

/** Writes the entry only when it is still the one read (`''`: none). 1 when written. */
const REPLACE = `local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if current ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;

/** Heartbeat: writes unless the entry belongs to another instance. 1 when written. */
const BEAT = `local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and not string.find(current, ARGV[2], 1, true) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;

/** Deletes the entries given as (id, entry) pairs that are still exactly those entries. */
const FORGET = `local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    n = n + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return n`;

export function heartbeatAge(beat: AgentHeartbeat, now: number): number {
  return now - new Date(beat.lastSeenAt).getTime();
}

/** Live for every reader: a heartbeat within three intervals. */
export function isLive(beat: AgentHeartbeat, now: number): boolean {
  return heartbeatAge(beat, now) <= 3 * beat.heartbeatMs;
}

function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Holds its id: live, and (on this host) its process still runs. */
export function holdsId(beat: AgentHeartbeat, now: number): boolean {
  if (!isLive(beat, now)) return false;
  return beat.host !== hostname() || pidRunning(beat.pid);
}

/** The token that marks an entry as this instance's, as it appears in the JSON. */
function mark(instance: string): string {
  return `"instance":${JSON.stringify(instance)}`;
}

/** Throws `DuplicateAgentError` when the entry `raw` is held alive by another instance. */
function refuseHeld(agentId: string, raw: string, instance?: string): void {
  if (!raw) return;
  const holder = JSON.parse(raw) as AgentHeartbeat;
  const now = Date.now();
  if (holder.instance === instance || !holdsId(holder, now)) return;
  throw new DuplicateAgentError(agentId, {
    host: holder.host,
    pid: holder.pid,
    heartbeatAgeMs: Math.max(0, heartbeatAge(holder, now)),
  });
}

/**
 * `DuplicateAgentError` when a live process holds `agentId` now: a check before work that must
 * not happen under a taken id (pruning that id's worktrees); the claim itself is `claimAgentId`.
 */
export async function assertIdFree(
  client: RedisConnection,
  key: string,
  agentId: string,
): Promise<void> {
  refuseHeld(agentId, (await client.hget(key, agentId)) ?? '');
}

/** Claims `beat.id` for `beat.instance`; `DuplicateAgentError` when a live process holds it. */
export async function claimAgentId(
  client: RedisConnection,
  key: string,
  beat: AgentHeartbeat & { instance: string },
): Promise<void> {
  // Each round reads the entry and replaces it only if unchanged; a lost race reads again.
  for (let round = 0; round < 5; round++) {
    const current = (await client.hget(key, beat.id)) ?? '';
    refuseHeld(beat.id, current, beat.instance);
    const replaced = await client.eval(REPLACE, 1, key, beat.id, current, JSON.stringify(beat));
    if (Number(replaced) === 1) return;
  }
  throw new Error(`agent id '${beat.id}': the directory entry kept changing while claiming it`);
}

/** Writes a heartbeat; false when another instance holds the id now (this one was replaced). */
export async function writeHeartbeat(
  client: RedisConnection,
  key: string,
  beat: AgentHeartbeat,
): Promise<boolean> {
  if (beat.instance === undefined) {
    await client.hset(key, beat.id, JSON.stringify(beat));
    return true;
  }
  const written = await client.eval(
    BEAT,
    1,
    key,
    beat.id,
    mark(beat.instance),
    JSON.stringify(beat),
  );
  return Number(written) === 1;
}

/** Removes the entry of `agentId`: any entry, or with `instance` only that instance's. */
export async function removeEntry(
  client: RedisConnection,
  key: string,
  agentId: string,
  instance?: string,
): Promise<void> {
  if (instance === undefined) {
    await client.hdel(key, agentId);
    return;
  }
  const current = await client.hget(key, agentId);
  if (current?.includes(mark(instance))) await client.eval(FORGET, 1, key, agentId, current);
}

/** Live agents sorted by id; entries past three heartbeats are deleted (unless rewritten since). */
export async function readLiveAgents(
  client: RedisConnection,
  key: string,
  now: number,
): Promise<AgentInfo[]> {
  const entries = await client.hgetall(key);
  const live: AgentInfo[] = [];
  const dead: string[] = [];
  for (const [id, raw] of Object.entries(entries)) {
    const beat = JSON.parse(raw) as AgentHeartbeat;
    if (!isLive(beat, now)) {
      dead.push(id, raw);
      continue;
    }
    const info: AgentHeartbeat = {
      ...beat,
      lastSeenAt: new Date(beat.lastSeenAt),
      startedAt: new Date(beat.startedAt),
    };
    // The instance token is the directory's own bookkeeping, not part of what readers see.
    delete info.instance;
    live.push(info);
  }
  // Tidy up: an agent that missed three heartbeats is gone (crashed or cut off).
  if (dead.length > 0) await client.eval(FORGET, 1, key, ...dead);
  return live.sort((a, b) => a.id.localeCompare(b.id));
}
