-- Decode a JSON document (ARGV[1]) and list every leaf as "path=type:value",
-- keys visited in sorted order so the reply does not depend on pairs().
local ok, doc = pcall(cjson.decode, ARGV[1])
if not ok then
  return redis.error_reply('BADJSON ' .. doc)
end
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
  elseif v == cjson.null then
    out[#out + 1] = path .. '=null'
  else
    out[#out + 1] = path .. '=' .. type(v) .. ':' .. tostring(v)
  end
end
walk('', doc)
return out
