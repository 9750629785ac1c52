-- Job queue, finish an active job (BullMQ style): completed, failed, or
-- back to wait/delayed for another attempt. Replies a JSON document.
-- KEYS[1] active   KEYS[2] completed zset   KEYS[3] failed zset
-- KEYS[4] wait     KEYS[5] delayed zset     KEYS[6] events list
-- ARGV[1] job key prefix   ARGV[2] job id   ARGV[3] lock token
-- ARGV[4] now (ms)   ARGV[5] 'completed' or 'failed'
-- ARGV[6] return value (JSON) or failure reason
-- ARGV[7] msgpack {keepCompleted, backoff}
local prefix, id, token = ARGV[1], ARGV[2], ARGV[3]
local now, target = tonumber(ARGV[4]), ARGV[5]
local opts = cmsgpack.unpack(ARGV[7])
local job_key = prefix .. id
local lock_key = job_key .. ':lock'

-- Objects are written with sorted keys so that the text does not depend on
-- the order pairs() visits a table in.
local function encode_sorted(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    if type(v) == 'table' and next(v) ~= nil and v[1] == nil then
      v = encode_sorted(v)
    else
      v = cjson.encode(v)
    end
    parts[#parts + 1] = cjson.encode(k) .. ':' .. v
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

if redis.call('EXISTS', job_key) == 0 then
  return cjson.encode({'error', -1, 'missing job'})
end
local owner = redis.call('GET', lock_key)
if not owner then
  return cjson.encode({'error', -2, 'missing lock'})
end
if owner ~= token then
  return redis.error_reply('LOCKMISMATCH job ' .. id .. ' is locked by another worker')
end
redis.call('DEL', lock_key)
if redis.call('LREM', KEYS[1], -1, id) == 0 then
  return cjson.encode({'error', -3, 'not active'})
end

local made = redis.call('HINCRBY', job_key, 'attemptsMade', 1)
local result = {id = id, attemptsMade = made, finishedOn = now}
if target == 'completed' then
  local value = cjson.decode(ARGV[6])
  redis.call('HSET', job_key, 'returnvalue', ARGV[6], 'finishedOn', now)
  redis.call('ZADD', KEYS[2], now, id)
  local keep = tonumber(opts.keepCompleted)
  if keep then
    local old = redis.call('ZRANGE', KEYS[2], 0, -keep - 1)
    for _, old_id in ipairs(old) do
      redis.call('DEL', prefix .. old_id)
    end
    if #old > 0 then
      redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -keep - 1)
    end
    result.removed = old
  end
  result.status = 'completed'
  result.returnvalue = value
else
  local attempts = tonumber(redis.call('HGET', job_key, 'attempts'))
  if made < attempts then
    local backoff = (opts.backoff or 0) * 2 ^ (made - 1)
    if backoff > 0 then
      redis.call('ZADD', KEYS[5], (now + backoff) * 0x1000, id)
      result.status = 'delayed'
      result.retryAt = now + backoff
    else
      redis.call('RPUSH', KEYS[4], id)
      result.status = 'waiting'
    end
  else
    redis.call('HSET', job_key, 'failedReason', ARGV[6], 'finishedOn', now)
    redis.call('ZADD', KEYS[3], now, id)
    result.status = 'failed'
    result.reason = ARGV[6]
  end
end
redis.call('RPUSH', KEYS[6], cmsgpack.pack({result.status, id}))
return encode_sorted(result)
