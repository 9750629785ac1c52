-- cmsgpack.pack of mixed values, replied as hex; round trips through
-- cmsgpack.unpack, unpack_one and unpack_limit.
local function hex(s)
  return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end))
end
local out = {}
local function add(v) out[#out + 1] = v end
add(hex(cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536, 2 ^ 32, 2 ^ 53)))
add(hex(cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2 ^ 31, -2 ^ 31 - 1, -2 ^ 53)))
add(hex(cmsgpack.pack(0.5, 0.1, -1.5, 1e300, 1 / 0, -1 / 0, 3.25)))
add(hex(cmsgpack.pack(true, false, nil)))
add(hex(cmsgpack.pack('', 'a', string.rep('x', 31), string.rep('y', 32))))
add(hex(cmsgpack.pack(string.rep('z', 255))):sub(1, 10))
add(hex(cmsgpack.pack(string.rep('z', 256))):sub(1, 10))
add(hex(cmsgpack.pack(string.rep('z', 65536))):sub(1, 14))
add(hex(cmsgpack.pack({}, {1, 2, 3}, {{1}, {2, {3}}}, {k = 'v'}, {[1] = 'a', [3] = 'c'})))
local sixteen = {}
for i = 1, 16 do sixteen[i] = i end
add(hex(cmsgpack.pack(sixteen)))
add(hex(cmsgpack.pack({[1.5] = true})))
add(hex(cmsgpack.pack({[0] = 'zero'})))
-- Round trips.
local t = cmsgpack.unpack(cmsgpack.pack({1, 'two', {3, true}, {x = {y = 'z'}}, 2.5}))
add({t[1], t[2], {t[3][1], t[3][2]}, t[4].x.y, tostring(t[5])})
add({select('#', cmsgpack.unpack(cmsgpack.pack(1, 'b', {3})))})
local packed = cmsgpack.pack(10, 20, 30)
add({cmsgpack.unpack_one(packed)})
add({cmsgpack.unpack_one(packed, 1)})
add({cmsgpack.unpack_limit(packed, 2)})
add({cmsgpack.unpack_limit(packed, 2, 2)})
add({cmsgpack.unpack_limit(packed, 0)})
add({cmsgpack.unpack_one(packed, 3)})
local ok, err = pcall(cmsgpack.unpack, '\145')
add({tostring(ok), tostring(err)})
ok, err = pcall(cmsgpack.unpack, '\193')
add({tostring(ok), tostring(err)})
ok, err = pcall(cmsgpack.pack)
add({tostring(ok), tostring(err)})
ok, err = pcall(cmsgpack.unpack, '')
add({tostring(ok), tostring(err)})
return out
