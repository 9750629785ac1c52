-- cjson.decode of each ARGV: "<type>:<re-encoded or tostring>" or
-- "error: <message>".
local out = {}
for i, text in ipairs(ARGV) do
  local ok, v = pcall(cjson.decode, text)
  if not ok then
    out[i] = 'error: ' .. tostring(v)
  elseif type(v) == 'table' then
    out[i] = 'table:' .. cjson.encode(v)
  elseif v == cjson.null then
    out[i] = 'null'
  else
    out[i] = type(v) .. ':' .. tostring(v)
  end
end
return out
