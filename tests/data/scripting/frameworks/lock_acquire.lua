-- Multi-resource lock (redlock style): all of KEYS or none.
-- ARGV[1] owner token   ARGV[2] ttl (ms)
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    return 0
  end
end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2])
end
return #KEYS
