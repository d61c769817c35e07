/**
 * Per-key concurrency with fairness (`limits set CAP --per-key K`, a task's `concurrencyKey`):
 * at most K tasks of one key run at once over every agent and shard, and a key's waiting tasks
 * are parked in a list of its own, so a key with 10,000 tasks waiting holds K slots, not the queue.
 *
 * Redis keys, all under the deployment's hash tag (one Cluster slot, so each script is atomic):
 * - `<base>:run:<key>`   ZSET job ref → lease expiry (ms): the slots of the key, held or reserved
 * - `<base>:park:<key>`  LIST of job refs parked, oldest first
 * - `<base>:leases`      ZSET `<key>|<ref>` → lease expiry: every slot, for the sweep
 * - `<base>:parked`      SET of keys with parked tasks
 * where `<base>` is `<agentq key>:keyslots:<capability>` and a job ref is `<shard>:<jobId>`.
 *
 * A claimed task enters (`enterKeySlot`): it takes a slot, or keeps the one it holds (a task
 * BullMQ took back from a crashed agent, or one a freed slot was handed to), or is parked. A task
 * that ends leaves (`leaveKeySlot`): its slot goes straight to the key's oldest parked task, which
 * the caller promotes. A slot's lease is renewed while its task runs (`renewKeySlots`); a lease
 * that ran out (an agent killed with -9) frees the slot at the next sweep (`sweepKeySlots`), which
 * also fills slots a raised limit added. The limit is read from the limits hash at every call, so
 * a change holds from the next claim on.
 */
import type { RedisConnection } from './connection';

/** A task's place among its key's slots. */
export type KeySlotEntry = 'run' | 'parked' | 'unlimited';

/** A parked task a freed slot was handed to: the caller promotes its delayed job. */
export interface HandedSlot {
  key: string;
  shard: number;
  jobId: string;
}

// Shared Lua: the capability's per-key limit (nil: none) and the filling of a key's free slots.
const COMMON = `
local function perKeyLimit(limitsKey, capability)
  local raw = redis.call('HGET', limitsKey, capability)
  if not raw then return nil end
  local limits = cjson.decode(raw)
  if type(limits['perKey']) == 'number' then return limits['perKey'] end
  return nil
end
local function hold(base, key, ref, expiry)
  redis.call('ZADD', base .. ':run:' .. key, expiry, ref)
  redis.call('ZADD', base .. ':leases', expiry, key .. '|' .. ref)
end
local function drop(base, key, ref)
  redis.call('ZREM', base .. ':run:' .. key, ref)
  redis.call('ZREM', base .. ':leases', key .. '|' .. ref)
end
-- Hands the key's free slots to its oldest parked tasks (all of them when the limit is gone).
local function fill(base, key, limit, expiry, out)
  local run = base .. ':run:' .. key
  local park = base .. ':park:' .. key
  while redis.call('LLEN', park) > 0 and (limit == nil or redis.call('ZCARD', run) < limit) do
    local ref = redis.call('LPOP', park)
    if limit ~= nil then hold(base, key, ref, expiry) end
    table.insert(out, key .. '|' .. ref)
    if #out >= 1000 then return end
  end
  if redis.call('LLEN', park) == 0 then redis.call('SREM', base .. ':parked', key) end
end
`;

/**
 * Enter: KEYS[1] limits hash; ARGV base, capability, key, ref, now, leaseMs.
 * Returns 1 run (slot held), 0 parked, 2 no per-key limit (nothing held).
 */
const ENTER_LUA = `${COMMON}
local base, key, ref = ARGV[1], ARGV[3], ARGV[4]
local limit = perKeyLimit(KEYS[1], ARGV[2])
if limit == nil then return 2 end
local now = tonumber(ARGV[5])
local run = base .. ':run:' .. key
for _, stale in ipairs(redis.call('ZRANGEBYSCORE', run, '-inf', now)) do
  if stale ~= ref then drop(base, key, stale) end
end
if redis.call('ZSCORE', run, ref) or redis.call('ZCARD', run) < limit then
  hold(base, key, ref, now + tonumber(ARGV[6]))
  return 1
end
redis.call('RPUSH', base .. ':park:' .. key, ref)
redis.call('SADD', base .. ':parked', key)
return 0
`;

/**
 * Leave: KEYS[1] limits hash; ARGV base, capability, key, ref, now, leaseMs. Returns the
 * `<key>|<ref>` of each parked task handed a slot.
 */
const LEAVE_LUA = `${COMMON}
local base, key, ref = ARGV[1], ARGV[3], ARGV[4]
drop(base, key, ref)
local out = {}
fill(base, key, perKeyLimit(KEYS[1], ARGV[2]), tonumber(ARGV[5]) + tonumber(ARGV[6]), out)
return out
`;

/** Renew: ARGV base, expiry, then key, ref pairs. Only slots still held are renewed. */
const RENEW_LUA = `
local base, expiry = ARGV[1], tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  local key, ref = ARGV[i], ARGV[i + 1]
  if redis.call('ZSCORE', base .. ':run:' .. key, ref) then
    redis.call('ZADD', base .. ':run:' .. key, expiry, ref)
    redis.call('ZADD', base .. ':leases', expiry, key .. '|' .. ref)
  end
end
return 1
`;

/**
 * Sweep: KEYS[1] limits hash; ARGV base, capability, now, leaseMs. Frees the slots whose lease ran
 * out, then fills every parked key's free slots. Returns the `<key>|<ref>` handed a slot.
 */
const SWEEP_LUA = `${COMMON}
local base, now = ARGV[1], tonumber(ARGV[3])
for _, member in ipairs(redis.call('ZRANGEBYSCORE', base .. ':leases', '-inf', now, 'LIMIT', 0, 1000)) do
  local bar = string.find(member, '|', 1, true)
  drop(base, string.sub(member, 1, bar - 1), string.sub(member, bar + 1))
end
local limit = perKeyLimit(KEYS[1], ARGV[2])
local out = {}
for _, key in ipairs(redis.call('SMEMBERS', base .. ':parked')) do
  fill(base, key, limit, now + tonumber(ARGV[4]), out)
  if #out >= 1000 then break end
end
return out
`;

/** Counts: ARGV base. Returns { slots held, keys holding, tasks parked, keys parked }. */
const COUNT_LUA = `
local base = ARGV[1]
local held = redis.call('ZCARD', base .. ':leases')
local keys = {}
local holding = 0
for _, member in ipairs(redis.call('ZRANGE', base .. ':leases', 0, -1)) do
  local key = string.sub(member, 1, string.find(member, '|', 1, true) - 1)
  if not keys[key] then keys[key] = true; holding = holding + 1 end
end
local parked = 0
local parkedKeys = redis.call('SMEMBERS', base .. ':parked')
for _, key in ipairs(parkedKeys) do parked = parked + redis.call('LLEN', base .. ':park:' .. key) end
return { held, holding, parked, #parkedKeys }
`;

type KeySlotsClient = RedisConnection & {
  agentqKeyEnter(...args: Array<string | number>): Promise<number>;
  agentqKeyLeave(...args: Array<string | number>): Promise<string[]>;
  agentqKeyRenew(...args: Array<string | number>): Promise<number>;
  agentqKeySweep(...args: Array<string | number>): Promise<string[]>;
  agentqKeyCount(...args: Array<string | number>): Promise<number[]>;
};

const defined = new WeakSet<object>();

function slotsClient(client: RedisConnection): KeySlotsClient {
  if (!defined.has(client)) {
    client.defineCommand('agentqKeyEnter', { lua: ENTER_LUA, numberOfKeys: 1 });
    client.defineCommand('agentqKeyLeave', { lua: LEAVE_LUA, numberOfKeys: 1 });
    client.defineCommand('agentqKeyRenew', { lua: RENEW_LUA, numberOfKeys: 0 });
    client.defineCommand('agentqKeySweep', { lua: SWEEP_LUA, numberOfKeys: 1 });
    client.defineCommand('agentqKeyCount', { lua: COUNT_LUA, numberOfKeys: 0 });
    defined.add(client);
  }
  return client as KeySlotsClient;
}

/** Where a capability's slots live: the limits hash and the capability's base key. */
export interface KeySlotsPlace {
  client: RedisConnection;
  limitsKey: string;
  base: string;
  capability: string;
}

export function jobRef(shard: number, jobId: string): string {
  return `${shard}:${jobId}`;
}

/** `<key>|<shard>:<jobId>` (keys hold no `|`, shards no `:`) → its parts. */
function handed(members: string[]): HandedSlot[] {
  return members.map((member) => {
    const bar = member.indexOf('|');
    const ref = member.slice(bar + 1);
    const colon = ref.indexOf(':');
    return {
      key: member.slice(0, bar),
      shard: Number(ref.slice(0, colon)),
      jobId: ref.slice(colon + 1),
    };
  });
}

export async function enterKeySlot(
  place: KeySlotsPlace,
  key: string,
  ref: string,
  leaseMs: number,
  now = Date.now(),
): Promise<KeySlotEntry> {
  const { client, limitsKey, base, capability } = place;
  const entered = await slotsClient(client).agentqKeyEnter(
    limitsKey,
    base,
    capability,
    key,
    ref,
    now,
    leaseMs,
  );
  return entered === 1 ? 'run' : entered === 0 ? 'parked' : 'unlimited';
}

export async function leaveKeySlot(
  place: KeySlotsPlace,
  key: string,
  ref: string,
  leaseMs: number,
  now = Date.now(),
): Promise<HandedSlot[]> {
  const { client, limitsKey, base, capability } = place;
  return handed(
    await slotsClient(client).agentqKeyLeave(limitsKey, base, capability, key, ref, now, leaseMs),
  );
}

export async function renewKeySlots(
  place: KeySlotsPlace,
  held: ReadonlyArray<[key: string, ref: string]>,
  leaseMs: number,
  now = Date.now(),
): Promise<void> {
  if (held.length === 0) return;
  await slotsClient(place.client).agentqKeyRenew(place.base, now + leaseMs, ...held.flat());
}

export async function sweepKeySlots(
  place: KeySlotsPlace,
  leaseMs: number,
  now = Date.now(),
): Promise<HandedSlot[]> {
  const { client, limitsKey, base, capability } = place;
  return handed(
    await slotsClient(client).agentqKeySweep(limitsKey, base, capability, now, leaseMs),
  );
}

export interface KeySlotCounts {
  /** Slots held or handed over, over every key. */
  running: number;
  /** Keys holding at least one slot. */
  keysRunning: number;
  /** Tasks parked, waiting for a slot of their key. */
  parked: number;
  /** Keys with parked tasks. */
  keysParked: number;
}

export async function countKeySlots(place: KeySlotsPlace): Promise<KeySlotCounts> {
  const [running, keysRunning, parked, keysParked] = await slotsClient(place.client).agentqKeyCount(
    place.base,
  );
  return {
    running: running ?? 0,
    keysRunning: keysRunning ?? 0,
    parked: parked ?? 0,
    keysParked: keysParked ?? 0,
  };
}

/** The slots of `capability` in a deployment. */
export function keySlotsPlace(
  coordinator: { client: RedisConnection; key(...parts: string[]): string },
  capability: string,
): KeySlotsPlace {
  return {
    client: coordinator.client,
    limitsKey: coordinator.key('limits'),
    base: coordinator.key('keyslots', capability),
    capability,
  };
}
