// Lua run atomically inside Redis: every state change of a workspace is one script, so a crash
// of pool-manager can never leave a half-claimed container or a port held by nobody.

/**
 * Prepended to every mutating script. The last ARGV is the caller's fencing token (its epoch, see
 * ACQUIRE_EPOCH): a token lower than the highest seen for this host means a newer pool-manager took
 * over, and the script refuses before writing anything. A higher one is recorded, so the epoch also
 * comes back after Redis lost it (the first writer re-establishes it; a stale one cannot go lower).
 */
export const FENCE = `
local fence = tonumber(ARGV[#ARGV])
local heldFence = tonumber(redis.call('GET', ARGV[1] .. 'epoch') or '0')
if fence < heldFence then return redis.error_reply('BERTH_FENCED a newer pool-manager holds this host') end
if fence > heldFence then redis.call('SET', ARGV[1] .. 'epoch', ARGV[#ARGV]) end
`;

/**
 * A new epoch for a starting pool-manager: above every epoch this host has seen, and at least the
 * wall clock in ms (ARGV[2]), so it still rises after Redis lost the key.
 */
export const ACQUIRE_EPOCH = `
local key = ARGV[1] .. 'epoch'
local e = math.max(tonumber(redis.call('GET', key) or '0') + 1, tonumber(ARGV[2]))
local s = string.format('%d', e)
redis.call('SET', key, s)
return s
`;

/** Writes a record rebuilt from Docker labels (ARGV[3..n-1]: field, value pairs). */
export const RESTORE = `
local prefix, id = ARGV[1], ARGV[2]
local fields = {}
for i = 3, #ARGV - 1 do table.insert(fields, ARGV[i]) end
redis.call('HSET', prefix .. 'ws:' .. id, unpack(fields))
redis.call('SADD', prefix .. 'all', id)
return 1
`;

/**
 * The reconcile lock (ARGV[2] token, ARGV[3] ttl ms), held as `<epoch>:<token>`. A lock left by an
 * older epoch (a predecessor killed mid-reconcile) is taken over at once instead of after its TTL:
 * that holder is fenced out anyway.
 */
export const TRY_LOCK = `
local key = ARGV[1] .. 'reconcile-lock'
local cur = redis.call('GET', key)
if cur then
  local holder = tonumber(string.match(cur, '^(%d+):') or '0')
  if holder >= fence then return 0 end
end
redis.call('SET', key, ARGV[#ARGV] .. ':' .. ARGV[2], 'PX', tonumber(ARGV[3]))
return 1
`;

/** Registers a workspace (state creating), reserving capacity and host ports in the same step. */
export const RESERVE = `
local prefix, id, requestId, owner, name = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, reqTtl, maxCount, maxMem, mem = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local lo, hi, offset = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local pool, image, volumeName = ARGV[14], ARGV[15], ARGV[16]
local containerPorts = cjson.decode(ARGV[17])
if requestId ~= '' then
  local existing = redis.call('GET', prefix .. 'req:' .. requestId)
  if existing then return {'existing', existing} end
end
if name ~= '' and redis.call('HEXISTS', prefix .. 'names', owner .. ':' .. name) == 1 then return {'name_conflict', ''} end
local count = tonumber(redis.call('HGET', prefix .. 'capacity', 'count') or '0')
local used = tonumber(redis.call('HGET', prefix .. 'capacity', 'memoryMb') or '0')
if count + 1 > maxCount or used + mem > maxMem then return {'capacity', ''} end
local range = hi - lo + 1
local got, portsJson = {}, {}
local i = 0
while #got < #containerPorts and i < range do
  local port = lo + ((offset + i) % range)
  if redis.call('HSETNX', prefix .. 'ports', port, id) == 1 then table.insert(got, port) end
  i = i + 1
end
if #got < #containerPorts then
  for _, port in ipairs(got) do redis.call('HDEL', prefix .. 'ports', port) end
  return {'ports', ''}
end
for n, cp in ipairs(containerPorts) do table.insert(portsJson, '"' .. cp .. '":' .. got[n]) end
redis.call('HINCRBY', prefix .. 'capacity', 'count', 1)
redis.call('HINCRBY', prefix .. 'capacity', 'memoryMb', mem)
redis.call('HSET', prefix .. 'ws:' .. id, 'id', id, 'ref', '', 'pool', pool, 'image', image, 'state', 'creating',
  'owner', owner, 'name', name, 'requestId', requestId, 'ports', '{' .. table.concat(portsJson, ',') .. '}',
  'memoryMb', mem, 'volumeName', volumeName, 'createdAt', now, 'claimedAt', 0, 'lastActiveAt', 0)
redis.call('SADD', prefix .. 'all', id)
if requestId ~= '' then redis.call('SET', prefix .. 'req:' .. requestId, id, 'EX', reqTtl) end
if name ~= '' then redis.call('HSET', prefix .. 'names', owner .. ':' .. name, id) end
return {'reserved', id}
`;

/**
 * Pops the oldest warm workspace of a pool and claims it for a caller, idempotently per requestId.
 * ARGV[8], when not empty, is the body hash the requestId is bound to first (as
 * WorkspaceStore.bindRequestBody, in the same round trip).
 */
export const CLAIM_WARM = `
local prefix, pool, requestId, owner, name = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, reqTtl = tonumber(ARGV[6]), tonumber(ARGV[7])
local bodyHash = ARGV[8]
if bodyHash ~= '' and not redis.call('SET', prefix .. 'req-body:' .. requestId, bodyHash, 'EX', reqTtl, 'NX')
  and redis.call('GET', prefix .. 'req-body:' .. requestId) ~= bodyHash then return {'body_mismatch', ''} end
local existing = redis.call('GET', prefix .. 'req:' .. requestId)
if existing then return {'existing', existing} end
if name ~= '' and redis.call('HEXISTS', prefix .. 'names', owner .. ':' .. name) == 1 then return {'name_conflict', ''} end
local id = redis.call('LPOP', prefix .. 'pool:' .. pool .. ':warm')
while id do
  if redis.call('HGET', prefix .. 'ws:' .. id, 'state') == 'warm' then break end
  id = redis.call('LPOP', prefix .. 'pool:' .. pool .. ':warm')
end
if not id then return {'empty', ''} end
redis.call('HSET', prefix .. 'ws:' .. id, 'state', 'claimed', 'owner', owner, 'name', name, 'requestId', requestId,
  'claimedAt', now, 'lastActiveAt', now)
redis.call('ZADD', prefix .. 'claimed', now, id)
redis.call('SET', prefix .. 'req:' .. requestId, id, 'EX', reqTtl)
if name ~= '' then redis.call('HSET', prefix .. 'names', owner .. ':' .. name, id) end
local reply = {'claimed', id}
for _, v in ipairs(redis.call('HGETALL', prefix .. 'ws:' .. id)) do table.insert(reply, v) end
return reply
`;

/**
 * creating → warm (into the pool's list) or → claimed (a cold create for a caller). Two parties may
 * mark the same container ready: its creator, and reconcile resuming a create it took for abandoned.
 * Whoever comes second is told 1 too when the record is ready with that very container (same ref):
 * the container may be handed out already, so its creator must not take it for a failed create.
 */
export const MARK_READY = `
local prefix, id, ref, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local key = prefix .. 'ws:' .. id
local state = redis.call('HGET', key, 'state')
if state ~= 'creating' then
  if (state == 'warm' or state == 'claimed') and redis.call('HGET', key, 'ref') == ref then return 1 end
  return 0
end
if redis.call('HGET', key, 'requestId') == '' then
  redis.call('HSET', key, 'state', 'warm', 'ref', ref)
  redis.call('RPUSH', prefix .. 'pool:' .. redis.call('HGET', key, 'pool') .. ':warm', id)
else
  redis.call('HSET', key, 'state', 'claimed', 'ref', ref, 'claimedAt', now, 'lastActiveAt', now)
  redis.call('ZADD', prefix .. 'claimed', now, id)
end
return 1
`;

/**
 * Marks a workspace as stopping so it can no longer be claimed or used. With ARGV[3], only if it
 * is still in that state (reconcile acts on a snapshot that may be stale by now).
 */
export const BEGIN_STOP = `
local key = ARGV[1] .. 'ws:' .. ARGV[2]
local state = redis.call('HGET', key, 'state')
if not state then return 0 end
if ARGV[3] ~= '' and state ~= ARGV[3] then return 0 end
redis.call('HSET', key, 'state', 'stopping')
redis.call('LREM', ARGV[1] .. 'pool:' .. redis.call('HGET', key, 'pool') .. ':warm', 0, ARGV[2])
redis.call('ZREM', ARGV[1] .. 'claimed', ARGV[2])
return 1
`;

/** Forgets a workspace whose container is gone: frees its ports, name, capacity and record. */
export const RELEASE = `
local prefix, id = ARGV[1], ARGV[2]
local key = prefix .. 'ws:' .. id
local h = redis.call('HGETALL', key)
if #h == 0 then return 0 end
local r = {}
for i = 1, #h, 2 do r[h[i]] = h[i + 1] end
for _, port in pairs(cjson.decode(r.ports or '{}')) do
  if redis.call('HGET', prefix .. 'ports', port) == id then redis.call('HDEL', prefix .. 'ports', port) end
end
local nameField = (r.owner or '') .. ':' .. (r.name or '')
if r.name and r.name ~= '' and redis.call('HGET', prefix .. 'names', nameField) == id then
  redis.call('HDEL', prefix .. 'names', nameField)
end
-- The container is gone: a later request with the same key starts afresh instead of waiting for it.
if r.requestId and r.requestId ~= '' and redis.call('GET', prefix .. 'req:' .. r.requestId) == id then
  redis.call('DEL', prefix .. 'req:' .. r.requestId)
end
redis.call('HINCRBY', prefix .. 'capacity', 'count', -1)
-- 0 - x, not -x: Lua's -0 reaches Redis as "-0", which HINCRBY refuses (a paused record holds 0).
redis.call('HINCRBY', prefix .. 'capacity', 'memoryMb', 0 - tonumber(r.memoryMb or '0'))
redis.call('LREM', prefix .. 'pool:' .. (r.pool or '') .. ':warm', 0, id)
redis.call('ZREM', prefix .. 'claimed', id)
redis.call('SREM', prefix .. 'all', id)
redis.call('DEL', key)
return 1
`;

/** Recomputes every derived structure (ports, capacity, warm lists, claimed set, names) from the records. */
export const REBUILD = `
local prefix = ARGV[1]
for _, pool in ipairs(cjson.decode(ARGV[2])) do redis.call('DEL', prefix .. 'pool:' .. pool .. ':warm') end
redis.call('DEL', prefix .. 'ports', prefix .. 'capacity', prefix .. 'claimed', prefix .. 'names')
local count, mem = 0, 0
for _, id in ipairs(redis.call('SMEMBERS', prefix .. 'all')) do
  local h = redis.call('HGETALL', prefix .. 'ws:' .. id)
  if #h == 0 then
    redis.call('SREM', prefix .. 'all', id)
  else
    local r = {}
    for i = 1, #h, 2 do r[h[i]] = h[i + 1] end
    count = count + 1
    mem = mem + tonumber(r.memoryMb or '0')
    for _, port in pairs(cjson.decode(r.ports or '{}')) do redis.call('HSET', prefix .. 'ports', port, id) end
    if r.state == 'warm' then redis.call('RPUSH', prefix .. 'pool:' .. r.pool .. ':warm', id) end
    if r.state == 'claimed' then redis.call('ZADD', prefix .. 'claimed', tonumber(r.lastActiveAt or '0'), id) end
    if r.name and r.name ~= '' then redis.call('HSET', prefix .. 'names', r.owner .. ':' .. r.name, id) end
  end
end
redis.call('HSET', prefix .. 'capacity', 'count', count, 'memoryMb', mem)
return count
`;

/**
 * Puts back claims a restarted Redis lost (ARGV[2]: JSON list of {id, ref, requestId, owner, name,
 * at} this pool-manager acknowledged; ARGV[3]: request TTL s): a record that is warm again with the
 * same container is claimed for that caller and request as before. Returns how many.
 */
export const REASSERT_CLAIMS = `
local prefix, reqTtl = ARGV[1], tonumber(ARGV[3])
local n = 0
for _, c in ipairs(cjson.decode(ARGV[2])) do
  local key = prefix .. 'ws:' .. c.id
  if redis.call('HGET', key, 'state') == 'warm' and redis.call('HGET', key, 'ref') == c.ref then
    redis.call('LREM', prefix .. 'pool:' .. redis.call('HGET', key, 'pool') .. ':warm', 0, c.id)
    redis.call('HSET', key, 'state', 'claimed', 'owner', c.owner, 'name', c.name, 'requestId', c.requestId,
      'claimedAt', c.at, 'lastActiveAt', c.at)
    redis.call('ZADD', prefix .. 'claimed', c.at, c.id)
    redis.call('SET', prefix .. 'req:' .. c.requestId, c.id, 'EX', reqTtl)
    if c.name ~= '' then redis.call('HSET', prefix .. 'names', c.owner .. ':' .. c.name, c.id) end
    n = n + 1
  end
end
return n
`;
