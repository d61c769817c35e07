/**
 * The Lua of goal budgets (see goal-budget.ts). Each script is one atomic step on a goal's budget
 * record, a hash:
 *
 * ```
 * b_tokens b_costUsd b_wallMs   the budget (a field absent: no limit on that)
 * u_tokens u_costUsd u_wallMs   use so far
 * state                         ACTIVE | PAUSED
 * level                         '' | soft | hard: the highest crossing already announced
 * rev                           bumped by every change; SQL keeps the copy of the highest
 * running                       tasks running when the budget paused the goal
 * ```
 *
 * beside it `…:running` and `…:held` (sets of job references) and, for the whole deployment, the
 * outbox stream of goal events and the `dirty` hash (goal id → rev) the mirror leader copies to
 * SQL. Every key is under the deployment's hash tag: one slot.
 */

/** Shared helpers: the budget ratio (0 without a budget) and the outbox entry. */
const PRELUDE = `
local function num(h, f) return tonumber(redis.call('HGET', h, f) or '0') or 0 end
local function ratio(h)
  local r = 0
  for _, d in ipairs({'tokens', 'costUsd', 'wallMs'}) do
    local b = redis.call('HGET', h, 'b_' .. d)
    if b then
      local v = num(h, 'u_' .. d) / tonumber(b)
      if v > r then r = v end
    end
  end
  return r
end
local function ensure(h)
  if redis.call('EXISTS', h) == 0 then
    redis.call('HSET', h, 'state', 'ACTIVE', 'level', '', 'rev', 0)
  end
end
local function bump(h, dirty, goal)
  local rev = redis.call('HINCRBY', h, 'rev', 1)
  redis.call('HSET', dirty, goal, rev)
  return rev
end
local function announce(h, outbox, goal, rev, event, level, task, actor, at)
  local f = {'goal', goal, 'rev', rev, 'event', event, 'level', level, 'task', task,
    'actor', actor, 'at', at, 'state', redis.call('HGET', h, 'state'),
    'running', redis.call('HGET', h, 'running') or ''}
  for _, d in ipairs({'tokens', 'costUsd', 'wallMs'}) do
    table.insert(f, 'b_' .. d); table.insert(f, redis.call('HGET', h, 'b_' .. d) or '')
    table.insert(f, 'u_' .. d); table.insert(f, redis.call('HGET', h, 'u_' .. d) or '0')
  end
  redis.call('XADD', outbox, 'MAXLEN', '~', 100000, '*', unpack(f))
end
`;

/**
 * Adds a use delta, settles a finished run, announces a crossing.
 * KEYS: budget hash, running set, outbox, dirty, the goal's record (compiler.ts).
 * ARGV: goal id, tokens, costUsd, wallMs, run ref to settle ('' none), task id, now (ms).
 * Output: { crossed level ('' | soft | hard), rev, state }; rev 0 when Redis knows no such goal
 * (a late report after retention removed it: nothing is written).
 */
export const ADD_USAGE = `${PRELUDE}
local h = KEYS[1]
if redis.call('EXISTS', h) == 0 and redis.call('EXISTS', KEYS[5]) == 0 then
  return {'', 0, 'ACTIVE'}
end
ensure(h)
for i, d in ipairs({'tokens', 'costUsd', 'wallMs'}) do
  local v = tonumber(ARGV[i + 1])
  if v and v > 0 then redis.call('HINCRBYFLOAT', h, 'u_' .. d, ARGV[i + 1]) end
end
if ARGV[5] ~= '' then redis.call('SREM', KEYS[2], ARGV[5]) end
local rev = bump(h, KEYS[4], ARGV[1])
local r = ratio(h)
local level = redis.call('HGET', h, 'level') or ''
local crossed = ''
if r >= 1 and level ~= 'hard' then
  crossed = 'hard'
  redis.call('HSET', h, 'level', 'hard')
  if redis.call('HGET', h, 'state') ~= 'PAUSED' then
    redis.call('HSET', h, 'state', 'PAUSED', 'paused_by', 'budget',
      'running', redis.call('SCARD', KEYS[2]))
  end
elseif r >= 0.8 and level == '' then
  crossed = 'soft'
  redis.call('HSET', h, 'level', 'soft')
end
if crossed ~= '' then announce(h, KEYS[3], ARGV[1], rev, 'budget', crossed, ARGV[6], '', ARGV[7]) end
return {crossed, rev, redis.call('HGET', h, 'state')}
`;

/**
 * Before a task of the goal starts: held when the goal is PAUSED, else counted as running.
 * KEYS: budget hash, running set, held set. ARGV: run ref.
 * Output: 0 the goal has no budget record, 1 run, 2 held.
 */
export const GATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'state') == 'PAUSED' then
  redis.call('SADD', KEYS[3], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[1])
  return 2
end
redis.call('SADD', KEYS[2], ARGV[1])
return 1
`;

/**
 * Pause or resume by hand. KEYS: budget hash, outbox, dirty.
 * ARGV: goal id, PAUSED | ACTIVE, actor, now (ms).
 * Output: { 'ok' | 'same', rev }.
 */
export const SET_STATE = `${PRELUDE}
local h = KEYS[1]
ensure(h)
if redis.call('HGET', h, 'state') == ARGV[2] then return {'same', num(h, 'rev')} end
redis.call('HSET', h, 'state', ARGV[2])
if ARGV[2] == 'PAUSED' then redis.call('HSET', h, 'paused_by', 'hand')
else redis.call('HDEL', h, 'paused_by', 'running') end
local rev = bump(h, KEYS[3], ARGV[1])
announce(h, KEYS[2], ARGV[1], rev, ARGV[2] == 'PAUSED' and 'paused' or 'resumed', '', '', ARGV[3], ARGV[4])
return {'ok', rev}
`;

/**
 * Sets budget fields; a value below what is used already is refused with nothing changed. A goal
 * its budget paused resumes when it is under its budget again (one paused by hand stays paused). KEYS: budget hash, outbox, dirty.
 * ARGV: goal id, tokens, costUsd, wallMs ('' keeps a field), actor, now (ms).
 * Output: { 'ok', rev, state } or { 'below', field, used }.
 */
export const SET_BUDGET = `${PRELUDE}
local h = KEYS[1]
ensure(h)
for i, d in ipairs({'tokens', 'costUsd', 'wallMs'}) do
  local v = tonumber(ARGV[i + 1])
  if v and v < num(h, 'u_' .. d) then return {'below', d, tostring(num(h, 'u_' .. d))} end
end
for i, d in ipairs({'tokens', 'costUsd', 'wallMs'}) do
  if ARGV[i + 1] ~= '' then redis.call('HSET', h, 'b_' .. d, ARGV[i + 1]) end
end
local r = ratio(h)
redis.call('HSET', h, 'level', r >= 1 and 'hard' or (r >= 0.8 and 'soft' or ''))
if r < 1 and redis.call('HGET', h, 'state') == 'PAUSED' and redis.call('HGET', h, 'paused_by') ~= 'hand' then
  redis.call('HSET', h, 'state', 'ACTIVE')
  redis.call('HDEL', h, 'paused_by', 'running')
end
local rev = bump(h, KEYS[3], ARGV[1])
announce(h, KEYS[2], ARGV[1], rev, 'budget_set', '', '', ARGV[5], ARGV[6])
return {'ok', rev, redis.call('HGET', h, 'state')}
`;

/**
 * Writes a budget record only when there is none (a new goal, or `agentq recover` after Redis
 * lost it). KEYS: budget hash. ARGV: field/value pairs. Output: 1 written, 0 one was there.
 */
export const CREATE_IF_ABSENT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`;

/**
 * Forgets a dirty mark unless the goal changed again since it was read.
 * KEYS: dirty. ARGV: goal id, rev read. Output: 1 forgotten, 0 kept.
 */
export const CLEAR_DIRTY = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
`;
