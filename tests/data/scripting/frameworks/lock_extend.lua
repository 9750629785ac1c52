-- Extend (redlock style): set a new ttl on every key, only if all of them
-- are still held by ARGV[1].   ARGV[2] new ttl (ms)
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) ~= ARGV[1] then
    return 0
  end
end
for _, key in ipairs(KEYS) do
  redis.call('PEXPIRE', key, ARGV[2])
end
return #KEYS
