-- Token bucket (rate-limiter-flexible style) kept in a hash.
-- KEYS[1] bucket hash
-- ARGV[1] now (ms)   ARGV[2] capacity   ARGV[3] refill per second
-- ARGV[4] tokens wanted
local now, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local rate, wanted = tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - ts) * rate / 1000)
local allowed = tokens >= wanted
if allowed then
  tokens = tokens - wanted
end
redis.call('HMSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000))
-- A Lua number reply is truncated to an integer; the exact value goes back
-- as text (tostring) and as it was stored (HGET).
return {allowed, tokens, tostring(tokens), redis.call('HGET', KEYS[1], 'tokens')}
