//! `cmsgpack` checked against Valkey 9.1: each case is a script and the
//! reply the real server gave (captured with EVAL after SCRIPT FLUSH), in the
//! canonical text form of the shared harness in `cjson::tests`.

use crate::script::cjson::tests::{check_cases, run_script, script_lua};

#[test]
fn matches_valkey() {
    check_cases(CASES);
}

#[test]
fn huge_header_counts_fail_without_allocating() {
    let lua = script_lua();
    for header in [
        "\\221\\255\\255\\255\\255",
        "\\223\\255\\255\\255\\255",
        "\\219\\255\\255\\255\\255",
    ] {
        let script =
            format!("return {{pcall(cmsgpack.unpack, '{header}' .. string.rep('\\1', 100))}}");
        assert_eq!(
            run_script(&lua, &script),
            "[(nil), Missing bytes in input.]",
            "{header}"
        );
    }
}

#[test]
fn deep_nesting_does_not_overflow_the_native_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let lua = script_lua();
            let arrays = "return {pcall(cmsgpack.unpack, string.rep('\\145', 100000))}";
            let maps = "return {pcall(cmsgpack.unpack, string.rep('\\129\\1', 100000))}";
            (run_script(&lua, arrays), run_script(&lua, maps))
        })
        .expect("spawn");
    let (arrays, maps) = handle.join().expect("no overflow");
    assert_eq!(
        arrays,
        "[(nil), stack overflow (in function mp_decode_to_lua_array)]"
    );
    assert_eq!(
        maps,
        "[(nil), stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)]"
    );
}

/// (script, reply captured from Valkey 9.1)
const CASES: &[(&str, &str)] = &[
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack(0.1))"###,
        r###"cb3fb999999999999a"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack(-1099511627776))"###,
        r###"d3ffffff0000000000"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, 2^53, 2^63-1024, 2^63, 2^64))"###,
        r###"00017fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000cf0020000000000000cf7ffffffffffffc00ca5f000000ca5f800000"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31-1, -2^63, -2^63-2048, -2^64))"###,
        r###"ffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffffd38000000000000000cbc3e0000000000001cadf800000"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack(0.5, 1.5, -0.0, 1/0, -1/0, 0/0, 1e300, 3.4e38, 1e-45, 0.1, 2^-149))"###,
        r###"ca3f000000ca3fc0000000caff800000ca7f800000cbfff8000000000000cb7e37e43c8800759ccb47eff933c78cdfadcb3696d601ad376ab9cb3fb999999999999aca00000001"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack(true, false, nil, cjson.null, function() end, coroutine.create(function() end)))"###,
        r###"c3c2c0c0c0c0"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack('', 'a', string.rep('x', 31))):sub(1, 20) .. '/' .. #cmsgpack.pack(string.rep('x', 31))"###,
        r###"a0a161bf787878787878/32"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return {hex(cmsgpack.pack(string.rep('x', 32)):sub(1,3)), hex(cmsgpack.pack(string.rep('x', 255)):sub(1,3)), hex(cmsgpack.pack(string.rep('x', 256)):sub(1,4)), hex(cmsgpack.pack(string.rep('x', 65535)):sub(1,4)), hex(cmsgpack.pack(string.rep('x', 65536)):sub(1,6))}"###,
        r###"[d92078, d9ff78, da010078, daffff78, db0001000078]"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack('a\0b\255'))"###,
        r###"a4610062ff"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack({}, {1,2,3}, {a=1}, {[1]=1,[3]=3}, {[0]=1}, {[1.5]=1}, {[-1]=2}))"###,
        r###"909301020381a16101820101030381000181ca3fc000000181ff02"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end local t = {} for i=1,16 do t[i]=i end local u = {} for i=1,65536 do u[i]=0 end return {hex(cmsgpack.pack(t)), hex(cmsgpack.pack(u):sub(1,6))}"###,
        r###"[dc00100102030405060708090a0b0c0d0e0f10, dd0001000000]"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end local t = {} for i=1,16 do t['k'..i]=i end local u = {} for i=1,65536 do u['k'..i]=0 end return {hex(cmsgpack.pack(t):sub(1,3)), hex(cmsgpack.pack(u):sub(1,6))}"###,
        r###"[de0010, df00010000a6]"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack({[{1}]={2}, [true]=false}))"###,
        r###"8291019102c3c2"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack({[2^31]=1}))"###,
        r###"81ce8000000001"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack({[1]=1,[2^31-1]=1}))"###,
        r###"820101ce7fffffff01"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack(setmetatable({1,2}, {__index=function(t,k) return 'z' end})))"###,
        r###"920102"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end local t = {1,2,3} t[2] = nil return hex(cmsgpack.pack(t))"###,
        r###"8201010303"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end local a = {x=nil,y=5} local b = {x=a} a['x'] = b return hex(cmsgpack.pack(a))"###,
        r###"82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end local t = {} t[1] = t return hex(cmsgpack.pack(t))"###,
        r###"91919191919191919191919191919191c0"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end local t = {} t[t] = 1 return hex(cmsgpack.pack(t))"###,
        r###"81818181818181818181818181818181c001010101010101010101010101010101"###,
    ),
    (
        r###"return cmsgpack.pack()"###,
        r###"ERR:user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"###,
    ),
    (
        r###"return {pcall(cmsgpack.pack)}"###,
        r###"[(nil), bad argument #0 to '?' (MessagePack pack needs input.)]"###,
    ),
    (
        r###"local t = {} for i=1,4001 do t[i]=i end return {pcall(cmsgpack.pack, unpack(t))}"###,
        r###"[(nil), bad argument #0 to '?' (Too many arguments for MessagePack pack.)]"###,
    ),
    (
        r###"local t = {} for i=1,4000 do t[i]=i end return #cmsgpack.pack(unpack(t))"###,
        r###"(integer) 11618"###,
    ),
    (
        r###"local t = {} for i=1,4000 do t[i]=i end t[4000] = {{{1}}} return {pcall(cmsgpack.pack, unpack(t))}"###,
        r###"[(nil), stack overflow (in function table_is_an_array)]"###,
    ),
    (
        r###"local t = {} for i=1,4000 do t[i]=i end t[4000] = {a={b={1}}} return {pcall(cmsgpack.pack, unpack(t))}"###,
        r###"[(nil), stack overflow (in function table_is_an_array)]"###,
    ),
    (
        r###"local t = {} for i=1,3998 do t[i]=i end t[3998] = {a={b={1}}} return {pcall(cmsgpack.pack, unpack(t))}"###,
        r###"[(nil), stack overflow (in function mp_encode_lua_table_as_map)]"###,
    ),
    (
        r###"return {cmsgpack.unpack(cmsgpack.pack(1, 'a', true, 2.5, -7))}"###,
        r###"[(integer) 1, a, (integer) 1, (integer) 2, (integer) -7]"###,
    ),
    (
        r###"return select('#', cmsgpack.unpack(''))"###,
        r###"(integer) 0"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack)}"###,
        r###"[(nil), bad argument #1 to '?' (string expected, got no value)]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, {})}"###,
        r###"[(nil), bad argument #1 to '?' (string expected, got table)]"###,
    ),
    (
        r###"return {cmsgpack.unpack(12)}"###,
        r###"[(integer) 49, (integer) 50]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\192\1')}"###,
        r###"[(integer) 1]"###,
    ),
    (
        r###"return select('#', cmsgpack.unpack('\192\192\1'))"###,
        r###"(integer) 3"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\193')}"###,
        r###"[(nil), Bad data format in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\196\1a')}"###,
        r###"[(nil), Bad data format in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\199\1\1a')}"###,
        r###"[(nil), Bad data format in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\205\1')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\217\5abc')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\219\255\255\255\255abc')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\221\255\255\255\255\1')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\223\255\255\255\255\1\1')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\147\1\2')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\129\192\1')}"###,
        r###"[(nil), table index is nil]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\129\202\127\192\0\0\1')}"###,
        r###"[(nil), table index is NaN]"###,
    ),
    (
        r###"return {pcall(function() local x = cmsgpack.unpack('\129\192\1') return x end)}"###,
        r###"[(nil), table index is nil]"###,
    ),
    (
        r###"return {pcall(function() local x = cmsgpack.unpack('\193') return x end)}"###,
        r###"[(nil), user_script:1: Bad data format in input.]"###,
    ),
    (
        r###"return {cmsgpack.unpack('\204\200\208\200\205\1\0\209\255\56\206\255\255\255\255\210\128\0\0\0')}"###,
        r###"[(integer) 200, (integer) -56, (integer) 256, (integer) -200, (integer) 4294967295, (integer) -2147483648]"###,
    ),
    (
        r###"return {cmsgpack.unpack('\207\255\255\255\255\255\255\255\255\207\0\0\0\1\0\0\0\0\211\255\255\255\255\255\255\255\254')}"###,
        r###"[(integer) -1, (integer) 4294967296, (integer) -2]"###,
    ),
    (
        r###"return {tostring(cmsgpack.unpack('\207\127\255\255\255\255\255\255\255')), tostring(cmsgpack.unpack('\211\128\0\0\0\0\0\0\0')), tostring(cmsgpack.unpack('\207\0\31\255\255\255\255\255\255'))}"###,
        r###"[9.2233720368548e+18, -9.2233720368548e+18, 9.007199254741e+15]"###,
    ),
    (
        r###"return {tostring(cmsgpack.unpack('\202\63\192\0\0')), tostring(cmsgpack.unpack('\203\63\185\153\153\153\153\153\154')), tostring(cmsgpack.unpack('\202\127\192\0\0')), tostring(cmsgpack.unpack('\202\255\128\0\0'))}"###,
        r###"[1.5, 0.1, nan, -inf]"###,
    ),
    (
        r###"return {cmsgpack.unpack('\127\224\255\160\161a\217\1b\218\0\1c\219\0\0\0\1d')}"###,
        r###"[(integer) 127, (integer) -32, (integer) -1, , a, b, c, d]"###,
    ),
    (
        r###"local t = cmsgpack.unpack('\146\1\146\2\192') return {#t, t[1], #t[2], t[2][1], tostring(t[2][2])}"###,
        r###"[(integer) 2, (integer) 1, (integer) 1, (integer) 2, nil]"###,
    ),
    (
        r###"local t = cmsgpack.unpack('\130\161a\1\161b\145\2') return {t.a, t.b[1]}"###,
        r###"[(integer) 1, (integer) 2]"###,
    ),
    (
        r###"local t = cmsgpack.unpack('\220\0\2\1\2\222\0\1\161a\1') return {t[1], t[2]}"###,
        r###"[(integer) 1, (integer) 2]"###,
    ),
    (
        r###"return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3))}"###,
        r###"[(integer) 1, (integer) 1]"###,
    ),
    (
        r###"return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), 2)}"###,
        r###"[(integer) -1, (integer) 3]"###,
    ),
    (
        r###"return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), 3)}"###,
        r###"[(integer) -1]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_one, cmsgpack.pack(1,2,3), 4)}"###,
        r###"[(nil), Start offset 4 greater than input length 3.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_one, cmsgpack.pack(1,2,3), -1)}"###,
        r###"[(nil), Invalid request to unpack with offset of -1 and limit of 3.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_one, cmsgpack.pack(1,2,3), 'x')}"###,
        r###"[(nil), bad argument #2 to '?' (number expected, got string)]"###,
    ),
    (
        r###"return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), '1')}"###,
        r###"[(integer) 2, (integer) 2]"###,
    ),
    (
        r###"return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), 1.9)}"###,
        r###"[(integer) 2, (integer) 2]"###,
    ),
    (
        r###"return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), nil)}"###,
        r###"[(integer) 1, (integer) 1]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_one)}"###,
        r###"[(nil), bad argument #1 to '?' (string expected, got no value)]"###,
    ),
    (
        r###"return {cmsgpack.unpack_one('')}"###,
        r###"[(integer) -1]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_one, '\205\1')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2)}"###,
        r###"[(integer) 2, (integer) 1, (integer) 2]"###,
    ),
    (
        r###"return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2, 1)}"###,
        r###"[(integer) -1, (integer) 2, (integer) 3]"###,
    ),
    (
        r###"return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 5, 1)}"###,
        r###"[(integer) -1, (integer) 2, (integer) 3]"###,
    ),
    (
        r###"return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 0)}"###,
        r###"[(integer) 1, (integer) 2, (integer) 3]"###,
    ),
    (
        r###"return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 0, 0)}"###,
        r###"[(integer) 1, (integer) 2, (integer) 3]"###,
    ),
    (
        r###"return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 0, 1)}"###,
        r###"[(integer) 1]"###,
    ),
    (
        r###"return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 0, 3)}"###,
        r###"[(integer) -1]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit, cmsgpack.pack(1,2,3), -1)}"###,
        r###"[(nil), Invalid request to unpack with offset of 0 and limit of 3.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit, cmsgpack.pack(1,2,3), 1, -5)}"###,
        r###"[(nil), Invalid request to unpack with offset of -5 and limit of 3.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit, cmsgpack.pack(1,2,3), 1, 2^32+5)}"###,
        r###"[(nil), Start offset 5 greater than input length 3.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit, cmsgpack.pack(1,2,3), 2^32)}"###,
        r###"[(integer) 1, (integer) -1, (integer) 1, (integer) 2, (integer) 3]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit, cmsgpack.pack(1,2,3), -2^32)}"###,
        r###"[(nil), Invalid request to unpack with offset of 0 and limit of 3.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit, cmsgpack.pack(1,2,3))}"###,
        r###"[(nil), bad argument #2 to '?' (number expected, got no value)]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit, cmsgpack.pack(1,2,3), {})}"###,
        r###"[(nil), bad argument #2 to '?' (number expected, got table)]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit)}"###,
        r###"[(nil), bad argument #2 to '?' (number expected, got no value)]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit, nil, 1)}"###,
        r###"[(nil), bad argument #1 to '?' (string expected, got nil)]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit, cmsgpack.pack(1,2,3), 1, 'z')}"###,
        r###"[(nil), bad argument #3 to '?' (number expected, got string)]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit, cmsgpack.pack(1,2,3), 1, 1, 5)}"###,
        r###"[(integer) 1, (integer) 2, (integer) 2]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_one, cmsgpack.pack(1,2,3), 1, 5)}"###,
        r###"[(integer) 1, (integer) 2, (integer) 2]"###,
    ),
    (
        r###"local t = {} for i=1,7999 do t[i]=i end local s = cmsgpack.pack(unpack(t, 1, 3999)) .. cmsgpack.pack(unpack(t, 4000, 7999)) return select('#', cmsgpack.unpack(s))"###,
        r###"(integer) 7999"###,
    ),
    (
        r###"local t = {} for i=1,8000 do t[i]=i end local s = cmsgpack.pack(unpack(t, 1, 4000)) .. cmsgpack.pack(unpack(t, 4001, 8000)) return {pcall(cmsgpack.unpack, s)}"###,
        r###"[(nil), stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)]"###,
    ),
    (
        r###"local t = {} for i=1,7999 do t[i]=i end local s = cmsgpack.pack(unpack(t, 1, 3999)) .. cmsgpack.pack(unpack(t, 4000, 7999)) return {pcall(cmsgpack.unpack_limit, s, 8000)}"###,
        r###"[(nil), stack overflow (in function mp_unpack_full)]"###,
    ),
    (
        r###"local t = {} for i=1,7998 do t[i]=i end local s = cmsgpack.pack(unpack(t, 1, 3999)) .. cmsgpack.pack(unpack(t, 4000, 7998)) return select('#', cmsgpack.unpack_limit(s, 8000))"###,
        r###"(integer) 7999"###,
    ),
    (
        r###"local t = {} for i=1,7997 do t[i]=i end local s = cmsgpack.pack(unpack(t, 1, 3999)) .. cmsgpack.pack(unpack(t, 4000, 7997)) .. '\145\1' return {pcall(cmsgpack.unpack, s)}"###,
        r###"[(nil), stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)]"###,
    ),
    (
        r###"local t = {} for i=1,7996 do t[i]=i end local s = cmsgpack.pack(unpack(t, 1, 3999)) .. cmsgpack.pack(unpack(t, 4000, 7996)) .. '\145\1' return select('#', cmsgpack.unpack(s))"###,
        r###"(integer) 7997"###,
    ),
    (
        r###"local t = {} for i=1,7996 do t[i]=i end local s = cmsgpack.pack(unpack(t, 1, 3999)) .. cmsgpack.pack(unpack(t, 4000, 7996)) .. '\129\1\1' return select('#', cmsgpack.unpack(s))"###,
        r###"(integer) 7997"###,
    ),
    (
        r###"local t = {} for i=1,7995 do t[i]=i end local s = cmsgpack.pack(unpack(t, 1, 3999)) .. cmsgpack.pack(unpack(t, 4000, 7995)) .. '\129\1\1' return select('#', cmsgpack.unpack(s))"###,
        r###"(integer) 7996"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, string.rep('\145', 10000))}"###,
        r###"[(nil), stack overflow (in function mp_decode_to_lua_array)]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, string.rep('\145', 10000) .. '\1')}"###,
        r###"[(nil), stack overflow (in function mp_decode_to_lua_array)]"###,
    ),
    (
        r###"return {pcall(function() return type(cmsgpack.unpack(string.rep('\145', 3998) .. '\1')) end)}"###,
        r###"[(integer) 1, table]"###,
    ),
    (
        r###"local t = cmsgpack.unpack(string.rep('\145', 3997) .. '\1') local d = 0 while type(t) == 'table' do t = t[1] d = d + 1 end return d"###,
        r###"(integer) 3997"###,
    ),
    (
        r###"return {pcall(function() return type(cmsgpack.unpack(string.rep('\129\1', 5000) .. '\1')) end)}"###,
        r###"[(nil), user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)]"###,
    ),
    (
        r###"return {pcall(function() return type(cmsgpack.unpack(string.rep('\129\145', 5000) .. '\1')) end)}"###,
        r###"[(nil), user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)]"###,
    ),
    (
        r###"return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}"###,
        r###"[cmsgpack, lua-cmsgpack 0.4.0, Copyright (C) 2012, Redis Ltd., MessagePack C implementation for Lua]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\129\1')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\129')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\145')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\161')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\202\1\2')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\1\2\205')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_one, '\1\2\205', 2)}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"local t = cmsgpack.unpack('\132\1\161a\2\192\161b\1\161c\1') return {t[1], tostring(t[2]), t.b}"###,
        r###"[a, nil, (integer) 1]"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return {hex(cmsgpack.pack(1/0)), hex(cmsgpack.pack(-1/0)), hex(cmsgpack.pack(-0.0)), hex(cmsgpack.pack(0/0)), tostring(1/0), tostring(-0.0)}"###,
        r###"[ca7f800000, caff800000, 00, cbfff8000000000000, inf, 0]"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end local z = 0 return {hex(cmsgpack.pack(1/z)), hex(cmsgpack.pack(-1/z)), hex(cmsgpack.pack(-z)), hex(cmsgpack.pack(z/z)), hex(cmsgpack.pack(-(z/z)))}"###,
        r###"[ca7f800000, caff800000, 00, cbfff8000000000000, cb7ff8000000000000]"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end local t = {} for i=1,20 do t = {t} end local a = {} for i=1,20 do a = {k=a} end return {hex(cmsgpack.pack(t)), hex(cmsgpack.pack(a)), hex(cmsgpack.pack(1, t))}"###,
        r###"[91919191919191919191919191919191c0, 81a16b81a16b81a16b81a16b81a16b81a16b81a16b81a16b81a16b81a16b81a16b81a16b81a16b81a16b81a16b81a16bc0, 0191919191919191919191919191919191c0]"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack(string.rep('ab', 20), {'x', {y = 'z'}}, 3.25))"###,
        r###"d9286162616261626162616261626162616261626162616261626162616261626162616261626162616292a17881a179a17aca40500000"###,
    ),
    (
        r###"local encoded = cmsgpack.pack(0.1)
                local h = ""
                for i = 1, #encoded do
                    h = h .. string.format("%02x",string.byte(encoded,i))
                end
                return h"###,
        r###"cb3fb999999999999a"###,
    ),
    (
        r###"local encoded = cmsgpack.pack(-1099511627776)
                local h = ""
                for i = 1, #encoded do
                    h = h .. string.format("%02x",string.byte(encoded,i))
                end
                return h"###,
        r###"d3ffffff0000000000"###,
    ),
    (
        r###"                local str_lt_32 = string.rep("x", 30)
                local str_lt_255 = string.rep("x", 250)
                local str_lt_65535 = string.rep("x", 65530)
                local str_long = string.rep("x", 100000)
                local array_lt_15 = {1, 2, 3, 4, 5}
                local array_lt_65535 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}
                local array_big = {}
                for i=1, 100000 do
                    array_big[i] = i
                end
                local map_lt_15 = {a=1, b=2}
                local map_big = {}
                for i=1, 100000 do
                    map_big[tostring(i)] = i
                end
                local some_map = {
                    s1=str_lt_32,
                    s2=str_lt_255,
                    s3=str_lt_65535,
                    s4=str_long,
                    d1=0.1,
                    i1=1,
                    i2=250,
                    i3=65530,
                    i4=100000,
                    i5=2^40,
                    i6=-1,
                    i7=-120,
                    i8=-32000,
                    i9=-100000,
                    i10=-3147483648,
                    a1=array_lt_15,
                    a2=array_lt_65535,
                    a3=array_big,
                    m1=map_lt_15,
                    m2=map_big,
                    b1=false,
                    b2=true,
                    n=nil
                }
                local encoded = cmsgpack.pack(some_map)
                local decoded = cmsgpack.unpack(encoded)
                assert(table.concat(some_map) == table.concat(decoded))
                local offset, decoded_one = cmsgpack.unpack_one(encoded, 0)
                assert(table.concat(some_map) == table.concat(decoded_one))
                assert(offset == -1)

                local encoded_multiple = cmsgpack.pack(str_lt_32, str_lt_255, str_lt_65535, str_long)
                local offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, 0)
                assert(obj == str_lt_32)
                offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
                assert(obj == str_lt_255)
                offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
                assert(obj == str_lt_65535)
                offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
                assert(obj == str_long)
                assert(offset == -1)
                return {#encoded, decoded.i5, decoded.i10, decoded.a3[100000], decoded.m2['77'], decoded.s3 == str_lt_65535, tostring(decoded.d1), #encoded_multiple}"###,
        r###"[(integer) 1491977, (integer) 1099511627776, (integer) -3147483648, (integer) 100000, (integer) 77, (integer) 1, 0.1, (integer) 165821]"###,
    ),
    (
        r###"local a = {x=nil,y=5}
                local b = {x=a}
                a['x'] = b
                local encoded = cmsgpack.pack(a)
                local h = ""
                -- cmsgpack encodes to a depth of 16, but can't encode
                -- references, so the encoded object has a deep copy recursive
                -- depth of 16.
                for i = 1, #encoded do
                    h = h .. string.format("%02x",string.byte(encoded,i))
                end
                -- when unpacked, re.x.x != re because the unpack creates
                -- individual tables down to a depth of 16.
                -- (that's why the encoded output is so large)
                local re = cmsgpack.unpack(encoded)
                assert(re)
                assert(re.x)
                assert(re.x.x.y == re.y)
                assert(re.x.x.x.x.y == re.y)
                assert(re.x.x.x.x.x.x.y == re.y)
                assert(re.x.x.x.x.x.x.x.x.x.x.y == re.y)
                -- maximum working depth:
                assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.y == re.y)
                -- now the last x would be b above and has no y
                assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x)
                -- so, the final x.x is at the depth limit and was assigned nil
                assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x == nil)
                return {h, re.x.x.x.x.x.x.x.x.y == re.y, re.y == 5}"###,
        r###"[82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0, (integer) 1, (integer) 1]"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack({1, 2, nil, 4}))"###,
        r###"83010102020404"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end local t = {} t[1] = 1 t[2] = 2 t[4] = 4 t[3] = 3 return hex(cmsgpack.pack(t))"###,
        r###"9401020304"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack({[1]=true, [2.0]=false, ['3']=1}))"###,
        r###"8301c302c2a13301"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack(cmsgpack.unpack(cmsgpack.pack({a={b={c={1,2.5,'x'}}}}, 7))))"###,
        r###"81a16181a16281a1639301ca40200000a17807"###,
    ),
    (
        r###"return {cmsgpack.unpack('\144\128\145\144')}"###,
        r###"[[], [], [[]]]"###,
    ),
    (
        r###"local t = {cmsgpack.unpack('\144\128\145\144')} return {type(t[1]), type(t[2]), type(t[3]), type(t[3][1]), #t}"###,
        r###"[table, table, table, table, (integer) 3]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\130\1\1\2')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\130\1\1\2\1\3')}"###,
        r###"[(integer) 1, [(integer) 1, (integer) 1], (integer) 3]"###,
    ),
    (
        r###"local t = cmsgpack.unpack('\130\161a\192\161b\1') return {tostring(t.a), t.b}"###,
        r###"[nil, (integer) 1]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\198\0\0\0\1a')}"###,
        r###"[(nil), Bad data format in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\212\1\1')}"###,
        r###"[(nil), Bad data format in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\1\193\205')}"###,
        r###"[(nil), Bad data format in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\221\0\0\0\2\1')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\223\0\0\0\1\1')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\218\0')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\219\0\0\0')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\203\0\0\0\0\0\0\0')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\211\0\0\0\0\0\0\0')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\207\0')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\206\0\0\0')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\210\0\0\0')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\209\0')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\208')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\204')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\220\0')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, '\222\0')}"###,
        r###"[(nil), Missing bytes in input.]"###,
    ),
    (
        r###"return {cmsgpack.unpack('\220\0\0\222\0\0\221\0\0\0\0\223\0\0\0\0\217\0\218\0\0\219\0\0\0\0')}"###,
        r###"[[], [], [], [], , , ]"###,
    ),
    (
        r###"return {cmsgpack.unpack_limit('\1\2\3\4', 2, 1)}"###,
        r###"[(integer) 3, (integer) 2, (integer) 3]"###,
    ),
    (
        r###"return {cmsgpack.unpack_limit('\1\2\3\4', 2, 2)}"###,
        r###"[(integer) -1, (integer) 3, (integer) 4]"###,
    ),
    (
        r###"return {cmsgpack.unpack_one('\1\2\3\4', 4)}"###,
        r###"[(integer) -1]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack_limit, '\1\2', 1, '0x1')}"###,
        r###"[(integer) 1, (integer) -1, (integer) 2]"###,
    ),
    (
        r###"return {pcall(cmsgpack.unpack, 'abc', 1)}"###,
        r###"[(integer) 1, (integer) 97, (integer) 98, (integer) 99]"###,
    ),
    (
        r###"return {pcall(cmsgpack.pack, nil)}"###,
        r###"[(integer) 1, \xc0]"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return hex(cmsgpack.pack(nil, nil))"###,
        r###"c0c0"###,
    ),
    (
        r###"return {pcall(function() local x = cmsgpack.pack() return x end)}"###,
        r###"[(nil), user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)]"###,
    ),
    (
        r###"return {pcall(function() local x = cmsgpack.unpack_limit('a', 'b') return x end)}"###,
        r###"[(nil), user_script:1: bad argument #2 to 'unpack_limit' (number expected, got string)]"###,
    ),
    (
        r###"return {pcall(function() local x = cmsgpack.unpack_limit('\1', -1) return x end)}"###,
        r###"[(nil), user_script:1: Invalid request to unpack with offset of 0 and limit of 1.]"###,
    ),
    (
        r###"local t = cmsgpack.unpack(string.rep('\130\161a\1\161b', 2000) .. '\2') local d = 0 local sum = 0 while type(t) == 'table' do sum = sum + t.a d = d + 1 t = t.b end return {d, sum, t}"###,
        r###"[(integer) 2000, (integer) 2000, (integer) 2]"###,
    ),
    (
        r###"local t = cmsgpack.unpack(string.rep('\146\1', 3000) .. '\2') local d = 0 while type(t) == 'table' do d = d + t[1] t = t[2] end return {d, t}"###,
        r###"[(integer) 3000, (integer) 2]"###,
    ),
    (
        r###"local t = cmsgpack.unpack(string.rep('\130\1\146\192', 1500) .. '\1\2' .. string.rep('\2\3', 1500)) local n = 0 while type(t) == 'table' do n = n + 1 t = t[1][2] end return {n, t}"###,
        r###"[(integer) 1500, (integer) 1]"###,
    ),
    (
        r###"local s = string.rep('\192\1', 100) return {select('#', cmsgpack.unpack_limit(s, 150, 0)), select(150, cmsgpack.unpack_limit(s, 150, 0)), select(2, cmsgpack.unpack_limit(s, 150, 0)), select(3, cmsgpack.unpack_limit(s, 150, 0)), (cmsgpack.unpack_limit(s, 150, 0))}"###,
        r###"[(integer) 151]"###,
    ),
    (
        r###"local s = string.rep('\1', 100) .. string.rep('\192', 10) return {select('#', cmsgpack.unpack(s)), select('#', cmsgpack.unpack_limit(s, 70, 5)), (cmsgpack.unpack_limit(s, 70, 5)), select(71, cmsgpack.unpack_limit(s, 70, 5)), (cmsgpack.unpack_limit(s, 200, 5))}"###,
        r###"[(integer) 110, (integer) 71, (integer) 75, (integer) 1, (integer) -1]"###,
    ),
    (
        r###"local s = string.rep('\192', 100) return {select('#', cmsgpack.unpack(s)), select('#', cmsgpack.unpack_limit(s, 200, 1)), (cmsgpack.unpack_limit(s, 200, 1))}"###,
        r###"[(integer) 100, (integer) 100, (integer) -1]"###,
    ),
    (
        r###"local s = string.rep('\1', 64) return {select('#', cmsgpack.unpack_limit(s, 64, 0)), (cmsgpack.unpack_limit(s, 64, 0)), select('#', cmsgpack.unpack_limit(s, 63, 0)), (cmsgpack.unpack_limit(s, 63, 0)), select('#', cmsgpack.unpack(s)), select('#', cmsgpack.unpack(s .. '\2')), select(65, cmsgpack.unpack(s .. '\2'))}"###,
        r###"[(integer) 65, (integer) -1, (integer) 64, (integer) 63, (integer) 64, (integer) 65, (integer) 2]"###,
    ),
    (
        r###"local t = {} for i = 1, 5000 do t['k' .. i] = {i, 'v' .. i} end local p = cmsgpack.pack(t) local u = cmsgpack.unpack(p) local sum = 0 for k, v in pairs(u) do sum = sum + v[1] end return {#p, sum, u.k77[2]}"###,
        r###"[(integer) 77407, (integer) 12502500, v77]"###,
    ),
    (
        r###"local t = {} for i=1,3998 do t[i]=i end local m = {} for i=1,40 do m['k'..i] = i end m.z = {b={1}} t[3998] = m return {pcall(cmsgpack.pack, unpack(t))}"###,
        r###"[(nil), stack overflow (in function mp_encode_lua_table_as_map)]"###,
    ),
    (
        r###"local m = {} for i=1,40 do m['k'..i] = {i, {x=i}} end local u = cmsgpack.unpack(cmsgpack.pack(m)) local sum = 0 for k, v in pairs(u) do sum = sum + v[1] + v[2].x end return {#cmsgpack.pack(m), sum}"###,
        r###"[(integer) 394, (integer) 1640]"###,
    ),
];
