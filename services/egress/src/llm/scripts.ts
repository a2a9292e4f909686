// Lua for the LLM key and limit state (see key-store.ts, limiter.ts). Every key is under
// berth:llm: (egress's Redis ACL). Keys are built inside the scripts from ids found on the way
// (one round trip per call), so this needs a single Redis, not a cluster. Time comes from Redis
// (TIME), so several egress processes agree on minutes and UTC days. Money is integer nano-USD.
const P = "local P = 'berth:llm:'\n";

/** Removes a workspace's current key: tombstone (1 day) so a sync cannot re-add it; usage kept for usageTtl. */
const DROP = `
local function drop(ws, usageTtl)
  local hash = redis.call('GET', P..'ws:'..ws)
  if not hash then return 0 end
  local host = redis.call('HGET', P..'key:'..hash, 'host')
  redis.call('DEL', P..'key:'..hash, P..'ws:'..ws)
  redis.call('SET', P..'revoked:'..hash, '1', 'EX', 86400)
  if host then redis.call('SREM', P..'host:'..host, ws) end
  redis.call('EXPIRE', P..'usage:'..ws, usageTtl)
  return 1
end
`;

/** Makes `hash` the workspace's only key (an earlier different key is dropped). */
const PUT = `
local function put(ws, owner, host, hash, created, rpm, tpd, spend, usageTtl)
  local cur = redis.call('GET', P..'ws:'..ws)
  if cur and cur ~= hash then drop(ws, usageTtl) end
  if cur == hash then
    local oldHost = redis.call('HGET', P..'key:'..hash, 'host')
    if oldHost and oldHost ~= host then redis.call('SREM', P..'host:'..oldHost, ws) end
  end
  redis.call('HSET', P..'key:'..hash, 'ws', ws, 'owner', owner, 'host', host, 'created', created, 'rpm', rpm, 'tpd', tpd, 'spend', spend)
  redis.call('SET', P..'ws:'..ws, hash)
  redis.call('SADD', P..'host:'..host, ws)
  redis.call('DEL', P..'revoked:'..hash)
  redis.call('PERSIST', P..'usage:'..ws)
end
`;

const NOW = `
local t = redis.call('TIME')
local sec = tonumber(t[1])
local nowMs = sec * 1000 + math.floor(tonumber(t[2]) / 1000)
local day = math.floor(sec / 86400)
`;

/** ARGV: ws, owner, host, hash, rpm, tpd, spendNano, usageTtl. */
const REGISTER =
  P +
  DROP +
  PUT +
  NOW +
  `
put(ARGV[1], ARGV[2], ARGV[3], ARGV[4], nowMs, ARGV[5], ARGV[6], ARGV[7], ARGV[8])
return 1
`;

/** ARGV: ws, usageTtl. 1 if a key was active. */
const REVOKE = P + DROP + 'return drop(ARGV[1], ARGV[2])\n';

/**
 * ARGV: host, asOf, usageTtl, then (ws, owner, hash, rpm, tpd, spendNano) per key. Drops the host's
 * keys created before asOf that are not listed; adds listed keys that are neither present nor
 * revoked (a workspace's key created after asOf is newer than the list and kept). {added, removed}.
 */
const SYNC =
  P +
  DROP +
  PUT +
  NOW +
  `
local host, asOf, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local listed = {}
for i = 4, #ARGV, 6 do listed[ARGV[i]] = true end
local added, removed = 0, 0
local function createdOf(hash) return tonumber(redis.call('HGET', P..'key:'..hash, 'created') or '0') end
for _, ws in ipairs(redis.call('SMEMBERS', P..'host:'..host)) do
  if not listed[ws] then
    local hash = redis.call('GET', P..'ws:'..ws)
    if not hash then redis.call('SREM', P..'host:'..host, ws)
    elseif createdOf(hash) < asOf then removed = removed + drop(ws, ttl) end
  end
end
for i = 4, #ARGV, 6 do
  local ws, owner, hash = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local cur = redis.call('GET', P..'ws:'..ws)
  if cur ~= hash and redis.call('EXISTS', P..'revoked:'..hash) == 0 and (not cur or createdOf(cur) < asOf) then
    put(ws, owner, host, hash, nowMs, ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ttl)
    added = added + 1
  end
end
return {added, removed}
`;

/**
 * ARGV: hash, ownerRpm, ownerTpd, ownerSpendNano. Looks the key up, checks today's tokens and
 * spend (workspace, then owner), then takes one request from both GCRA buckets (burst = the
 * per-minute number) or from neither.
 * Reply: {0} unknown key; {1, ws, owner}; {2, ws, owner, reason, scope, retryAfterSeconds, limit}.
 */
const ADMIT =
  P +
  NOW +
  `
local rec = redis.call('HMGET', P..'key:'..ARGV[1], 'ws', 'owner', 'rpm', 'tpd', 'spend')
if not rec[1] then return {0} end
local ws, owner = rec[1], rec[2]
local toMidnight = 86400 - (sec % 86400)
local scopes = {
  {'workspace', P..'day:'..day..':ws:'..ws, P..'rate:ws:'..ws, tonumber(rec[3]), tonumber(rec[4]), tonumber(rec[5])},
  {'owner', P..'day:'..day..':owner:'..owner, P..'rate:owner:'..owner, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])},
}
for _, s in ipairs(scopes) do
  local v = redis.call('HMGET', s[2], 'tok', 'nusd')
  if tonumber(v[1] or '0') >= s[5] then return {2, ws, owner, 'tokens', s[1], toMidnight, s[5]} end
  if s[6] > 0 and tonumber(v[2] or '0') >= s[6] then return {2, ws, owner, 'spend', s[1], toMidnight, s[6]} end
end
local next = {}
for i, s in ipairs(scopes) do
  local T = 60000 / s[4]
  local tau = T * (s[4] - 1)
  local tat = tonumber(redis.call('GET', s[3]) or '0')
  if tat < nowMs then tat = nowMs end
  if tat - nowMs > tau then
    local wait = math.max(1, math.ceil((tat - tau - nowMs) / 1000))
    return {2, ws, owner, 'requests', s[1], wait, s[4]}
  end
  next[i] = tat + T
end
for i, s in ipairs(scopes) do
  redis.call('SET', s[3], string.format('%.3f', next[i]), 'PX', math.ceil(next[i] - nowMs) + 1000)
end
return {1, ws, owner}
`;

/** ARGV: ws, owner, provider, input, output, nanoUsd, answered (1/0), usageTtl. Adds one call's usage. */
const RECORD =
  P +
  NOW +
  `
local ws, owner, provider = ARGV[1], ARGV[2], ARGV[3]
local input, output, nusd = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
for _, k in ipairs({P..'day:'..day..':ws:'..ws, P..'day:'..day..':owner:'..owner}) do
  redis.call('HINCRBY', k, 'tok', input + output)
  redis.call('HINCRBY', k, 'nusd', nusd)
  redis.call('EXPIRE', k, 172800)
end
local u = P..'usage:'..ws
for _, pre in ipairs({'', provider..':'}) do
  if ARGV[7] == '1' then redis.call('HINCRBY', u, pre..'requests', 1) end
  redis.call('HINCRBY', u, pre..'in', input)
  redis.call('HINCRBY', u, pre..'out', output)
  redis.call('HINCRBY', u, pre..'nusd', nusd)
end
if redis.call('EXISTS', P..'ws:'..ws) == 0 then redis.call('EXPIRE', u, ARGV[8]) end
return 1
`;

/** ARGV: ws. Reply: {limits or {}, today {tok, nusd}, usage hash as a flat list}. */
const USAGE =
  P +
  NOW +
  `
local ws = ARGV[1]
local hash = redis.call('GET', P..'ws:'..ws)
local limits = {}
if hash then limits = redis.call('HMGET', P..'key:'..hash, 'rpm', 'tpd', 'spend') end
local today = redis.call('HMGET', P..'day:'..day..':ws:'..ws, 'tok', 'nusd')
return {limits, {today[1] or '0', today[2] or '0'}, redis.call('HGETALL', P..'usage:'..ws)}
`;

export const LLM_SCRIPTS = {
  berthLlmRegister: REGISTER,
  berthLlmRevoke: REVOKE,
  berthLlmSync: SYNC,
  berthLlmAdmit: ADMIT,
  berthLlmRecord: RECORD,
  berthLlmUsage: USAGE,
};
