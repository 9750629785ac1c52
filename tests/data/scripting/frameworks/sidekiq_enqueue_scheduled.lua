-- Scheduled-job poller (Sidekiq style): move every job whose time has come
-- from a schedule zset to its queue list, one at a time.
-- KEYS[1] schedule (or retry) zset   ARGV[1] now (seconds, may be fractional)
-- ARGV[2] queue key prefix
local moved = {}
while true do
  local jobs = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'limit', 0, 1)
  local job = jobs[1]
  if not job then break end
  -- Another poller may have taken it between the two calls (not in a
  -- script, but the client-side version of this loop has the race).
  if redis.call('zrem', KEYS[1], job) == 1 then
    local payload = cjson.decode(job)
    local queue = payload['queue'] or 'default'
    redis.call('sadd', ARGV[2] .. 'queues', queue)
    redis.call('lpush', ARGV[2] .. 'queue:' .. queue, job)
    moved[#moved + 1] = payload['jid']
  end
end
return moved
