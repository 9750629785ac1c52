-- cjson.encode of values frameworks build: every case replies its text or
-- "error: <message>". Objects have one key each, so no case depends on the
-- order pairs() visits keys in.
local cases = {
  function() return {1, 2, 3} end,
  function() return {} end,
  function() return {{}, {{}}, {{{}}}} end,
  function() return {job = {data = {items = {1, 'two', true, false, {id = 7}}}}} end,
  function() return {1.5, -0.25, 0.1, 1 / 3, 1e100, 2 ^ 53, -2 ^ 63, 123456789012345678, 1e-7, 100, -0} end,
  function() return 'quote " backslash \\ slash / tab \t nl \n cr \r ctl \1\31 del \127' end,
  function() return 'caf\195\169 \240\159\152\128 \255' end,
  function() return {cjson.null, false, cjson.null} end,
  function() return {[1] = 'a', [2] = 'b', [4] = 'd'} end,
  function() return {[3] = 'c'} end,
  function() return {[1] = 1, [100] = 2} end,
  function() return {[1.5] = 'x'} end,
  function() return {[7] = 'seven'} end,
  function() return {[-1] = 'neg'} end,
  function() return {f = function() end} end,
  function() return {0 / 0} end,
  function() return {1 / 0} end,
  function() return cjson.decode('[1,[2,[3,{"k":[4,null,{"z":{}}]}]]]') end,
  function() return cjson.decode('{"a":[]}') end,
  function()
    local t = {}
    local cur = t
    for _ = 1, 1001 do cur[1] = {} cur = cur[1] end
    return t
  end,
  function()
    local t = {}
    local cur = t
    for _ = 1, 999 do cur[1] = {} cur = cur[1] end
    return #cjson.encode(t)
  end,
}
local out = {}
for i, make in ipairs(cases) do
  local ok, text = pcall(function() return cjson.encode(make()) end)
  if ok then
    out[i] = text
  else
    out[i] = 'error: ' .. tostring(text)
  end
end
return out
