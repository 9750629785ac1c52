-- For each key: its owner (or false) and whether its ttl lies in
-- (ARGV[1], ARGV[2]] ms. Replies a nested array; ttl values themselves
-- depend on the clock and are not returned.
local out = {}
for i, key in ipairs(KEYS) do
  local ttl = redis.call('PTTL', key)
  out[i] = {key, redis.call('GET', key), ttl > tonumber(ARGV[1]) and ttl <= tonumber(ARGV[2])}
end
return out
