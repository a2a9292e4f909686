// Pause and resume move a workspace's memory out of and back into the host budget in the same
// atomic step as its state, so the budget never counts a paused workspace nor misses a running one.
// Both are prefixed with FENCE (state/lua.ts): the last ARGV is the caller's epoch.

/**
 * claimed → paused (ARGV: prefix, id, owner, now). Its memory leaves the budget (the record's
 * memoryMb becomes 0, so rebuild and release need no change); its ports, name and count stay.
 */
export const PAUSE = `
local prefix, id = ARGV[1], ARGV[2]
local key = prefix .. 'ws:' .. id
local st = redis.call('HMGET', key, 'state', 'owner', 'memoryMb')
if st[1] ~= 'claimed' or st[2] ~= ARGV[3] then return 0 end
local mem = tonumber(st[3] or '0')
redis.call('HSET', key, 'state', 'paused', 'pausedAt', ARGV[4], 'pausedMemoryMb', mem, 'memoryMb', 0)
redis.call('HINCRBY', prefix .. 'capacity', 'memoryMb', 0 - mem)
redis.call('ZREM', prefix .. 'claimed', id)
return 1
`;

/**
 * paused → claimed (ARGV: prefix, id, owner, now, maxMemoryMb, force). Its memory is taken back
 * into the budget, refused ('capacity') when it no longer fits unless `force` is '1' (undoing a
 * pause that failed). Active from now, for the idle reaper.
 */
export const RESUME = `
local prefix, id = ARGV[1], ARGV[2]
local key = prefix .. 'ws:' .. id
local st = redis.call('HMGET', key, 'state', 'owner', 'pausedMemoryMb')
if st[1] ~= 'paused' or st[2] ~= ARGV[3] then return 'state' end
local mem = tonumber(st[3] or '0')
local used = tonumber(redis.call('HGET', prefix .. 'capacity', 'memoryMb') or '0')
if ARGV[6] ~= '1' and used + mem > tonumber(ARGV[5]) then return 'capacity' end
redis.call('HSET', key, 'state', 'claimed', 'memoryMb', mem, 'lastActiveAt', ARGV[4])
redis.call('HDEL', key, 'pausedAt', 'pausedMemoryMb')
redis.call('HINCRBY', prefix .. 'capacity', 'memoryMb', mem)
redis.call('ZADD', prefix .. 'claimed', tonumber(ARGV[4]), id)
return 'resumed'
`;

/** A workspace's pause settings (KEYS[1] record; ARGV pairs), only while it is claimed or paused. */
export const SET_PAUSE_SETTINGS = `
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'claimed' and state ~= 'paused' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`;
