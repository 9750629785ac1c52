-- Job queue, add a job (BullMQ style).
-- KEYS[1] wait list      KEYS[2] delayed zset   KEYS[3] id counter
-- KEYS[4] events list    KEYS[5] queue meta hash
-- ARGV[1] job key prefix ARGV[2] msgpack options {jobId, delay, attempts,
-- timestamp, lifo}       ARGV[3] job name       ARGV[4] job data (JSON text)
local prefix = ARGV[1]
local opts = cmsgpack.unpack(ARGV[2])
local job_id = opts.jobId
if job_id == nil or job_id == '' then
  job_id = tostring(redis.call('INCR', KEYS[3]))
end
local job_key = prefix .. job_id

local function event(...)
  redis.call('RPUSH', KEYS[4], cmsgpack.pack({...}))
  local max_events = tonumber(redis.call('HGET', KEYS[5], 'maxEvents') or 100)
  redis.call('LTRIM', KEYS[4], -max_events, -1)
end

if redis.call('EXISTS', job_key) == 1 then
  event('duplicated', job_id)
  return {job_id, 0}
end

-- The payload must be JSON: fail before touching the queue if it is not.
local ok, data = pcall(cjson.decode, ARGV[4])
if not ok then
  return redis.error_reply('ERR job data is not JSON: ' .. data)
end

local ts = tonumber(opts.timestamp)
local delay = tonumber(opts.delay) or 0
local attempts = tonumber(opts.attempts) or 1
redis.call('HSET', job_key, 'name', ARGV[3], 'data', ARGV[4],
  'timestamp', ts, 'delay', delay, 'attempts', attempts, 'attemptsMade', 0)

if delay > 0 then
  -- Score: due time in ms, times 4096, plus a per-job tie breaker.
  local due = ts + delay
  local score = due * 0x1000 + bit.band(tonumber(job_id) or 0, 0xfff)
  redis.call('ZADD', KEYS[2], score, job_id)
  event('delayed', job_id, due)
  return {job_id, 2}
end

if redis.call('HEXISTS', KEYS[5], 'paused') == 1 then
  event('waiting-paused', job_id)
elseif opts.lifo then
  redis.call('RPUSH', KEYS[1], job_id)
  event('waiting', job_id)
else
  redis.call('LPUSH', KEYS[1], job_id)
  event('waiting', job_id)
end
redis.call('PUBLISH', prefix .. 'added', job_id)
return {job_id, 1}
