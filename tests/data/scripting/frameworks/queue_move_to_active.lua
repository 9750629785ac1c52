-- Job queue, take the next job for a worker (BullMQ style).
-- KEYS[1] wait   KEYS[2] active   KEYS[3] delayed zset   KEYS[4] limiter
-- KEYS[5] events list
-- ARGV[1] job key prefix   ARGV[2] lock token   ARGV[3] lock duration (ms)
-- ARGV[4] now (ms)         ARGV[5] msgpack limiter {max, duration} or ''
local prefix, token = ARGV[1], ARGV[2]
local lock_ms, now = tonumber(ARGV[3]), tonumber(ARGV[4])

-- Promote every delayed job that is due, oldest first.
local promoted = 0
local due = redis.call('ZRANGEBYSCORE', KEYS[3], 0, (now + 1) * 0x1000 - 1,
  'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('LPUSH', KEYS[1], id)
  redis.call('HSET', prefix .. id, 'delay', 0)
  redis.call('RPUSH', KEYS[5], cmsgpack.pack({'waiting', id, 'delayed'}))
  promoted = promoted + 1
end

if ARGV[5] ~= '' then
  local limiter = cmsgpack.unpack(ARGV[5])
  local taken = redis.call('INCR', KEYS[4])
  if taken == 1 then
    redis.call('PEXPIRE', KEYS[4], limiter.duration)
  end
  if taken > limiter.max then
    local ttl = redis.call('PTTL', KEYS[4])
    return {0, promoted, 'rate-limited', ttl > 0 and ttl <= limiter.duration}
  end
end

local id = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
if not id then
  local next_due = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if next_due[2] then
    return {0, promoted, 'delayed', math.floor(tonumber(next_due[2]) / 0x1000)}
  end
  return {0, promoted, 'empty'}
end

local job_key = prefix .. id
redis.call('SET', job_key .. ':lock', token, 'PX', lock_ms)
redis.call('HSET', job_key, 'processedOn', now)
redis.call('HINCRBY', job_key, 'attemptsStarted', 1)
redis.call('RPUSH', KEYS[5], cmsgpack.pack({'active', id}))
return {1, promoted, id, redis.call('HGETALL', job_key)}
