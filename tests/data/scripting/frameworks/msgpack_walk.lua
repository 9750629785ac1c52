-- Unpack every msgpack value in ARGV[1] and list each leaf as
-- "value#/path=type:value", keys in sorted order.
local values = {cmsgpack.unpack(ARGV[1])}
local out = {}
local function walk(path, v)
  if type(v) == 'table' then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) < type(b)
    end)
    if #keys == 0 then out[#out + 1] = path .. '={}' end
    for _, k in ipairs(keys) do walk(path .. '/' .. type(k):sub(1, 1) .. tostring(k), v[k]) end
  else
    out[#out + 1] = path .. '=' .. type(v) .. ':' .. tostring(v)
  end
end
for i = 1, select('#', cmsgpack.unpack(ARGV[1])) do
  walk(tostring(i), values[i])
end
return out
