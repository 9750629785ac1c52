//! The `bit` library scripts see: LuaBitOp 1.0.2 (`tobit`, `tohex`, `bnot`,
//! `band`, `bor`, `bxor`, `lshift`, `rshift`, `arshift`, `rol`, `ror`,
//! `bswap`), the one Valkey bundles.
//!
//! The functions are Lua C functions over `mlua::ffi` rather than mlua
//! closures: their errors must be plain Lua strings raised by `luaL_argerror`
//! ("bad argument #1 to 'tohex' (number expected, got string)", with the
//! caller's name and position) exactly as Valkey's, and a Rust callback's
//! error would reach the script as a userdata. Lua raises errors with
//! `longjmp`, so no value with a destructor is ever alive in these functions.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};
use mlua::{Lua, Table};

/// 2^52 + 2^51: adding it to a double leaves the integer nearest to it (ties
/// to even) in the low mantissa bits, which is how LuaBitOp reduces any
/// number to 32 bits.
const NORMALIZER: f64 = 6_755_399_441_055_744.0;

/// The library's functions in LuaBitOp's registration order. `pairs(bit)`
/// still walks them in another order than Valkey's: its Lua hashes strings
/// with murmur32, the vendored Lua 5.1.5 with Lua's own hash.
const FUNCS: [(&str, ffi::lua_CFunction); 12] = [
    ("tobit", tobit),
    ("bnot", bnot),
    ("band", band),
    ("bor", bor),
    ("bxor", bxor),
    ("lshift", lshift),
    ("rshift", rshift),
    ("arshift", arshift),
    ("rol", rol),
    ("ror", ror),
    ("bswap", bswap),
    ("tohex", tohex),
];

/// Builds the `bit` table (the engine installs it as a read-only global).
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let table = lua.create_table_with_capacity(0, FUNCS.len())?;
    for (name, func) in FUNCS {
        // SAFETY: each function follows the Lua C API protocol (see the
        // module header) and touches only its own arguments.
        table.raw_set(name, unsafe { lua.create_c_function(func)? })?;
    }
    Ok(table)
}

/// Argument `idx` reduced to 32 bits; a non-number raises Lua's type error.
/// Numeric strings count as numbers, as `lua_tonumber` converts them.
unsafe fn barg(state: *mut lua_State, idx: c_int) -> u32 {
    let n = ffi::lua_tonumber(state, idx);
    // Truncation to the low word is the point.
    let b = (n + NORMALIZER).to_bits() as u32;
    if b == 0 && ffi::lua_isnumber(state, idx) == 0 {
        ffi::luaL_typerror(state, idx, c"number".as_ptr());
    }
    b
}

/// Pushes `b` as a signed 32-bit number, LuaBitOp's result convention.
unsafe fn push(state: *mut lua_State, b: u32) -> c_int {
    ffi::lua_pushnumber(state, f64::from(b as i32));
    1
}

unsafe extern "C-unwind" fn tobit(state: *mut lua_State) -> c_int {
    let b = barg(state, 1);
    push(state, b)
}

unsafe extern "C-unwind" fn bnot(state: *mut lua_State) -> c_int {
    let b = barg(state, 1);
    push(state, !b)
}

/// The variadic operations read argument 1 first, then the rest from the
/// last down, so a bad argument is reported in LuaBitOp's order.
unsafe fn fold(state: *mut lua_State, op: fn(u32, u32) -> u32) -> c_int {
    let mut b = barg(state, 1);
    let mut idx = ffi::lua_gettop(state);
    while idx > 1 {
        b = op(b, barg(state, idx));
        idx -= 1;
    }
    push(state, b)
}

unsafe extern "C-unwind" fn band(state: *mut lua_State) -> c_int {
    fold(state, |a, b| a & b)
}

unsafe extern "C-unwind" fn bor(state: *mut lua_State) -> c_int {
    fold(state, |a, b| a | b)
}

unsafe extern "C-unwind" fn bxor(state: *mut lua_State) -> c_int {
    fold(state, |a, b| a ^ b)
}

/// The shift count is the second argument's low five bits.
unsafe fn shift(state: *mut lua_State, op: fn(u32, u32) -> u32) -> c_int {
    let b = barg(state, 1);
    let n = barg(state, 2) & 31;
    push(state, op(b, n))
}

unsafe extern "C-unwind" fn lshift(state: *mut lua_State) -> c_int {
    shift(state, |b, n| b << n)
}

unsafe extern "C-unwind" fn rshift(state: *mut lua_State) -> c_int {
    shift(state, |b, n| b >> n)
}

unsafe extern "C-unwind" fn arshift(state: *mut lua_State) -> c_int {
    shift(state, |b, n| ((b as i32) >> n) as u32)
}

unsafe extern "C-unwind" fn rol(state: *mut lua_State) -> c_int {
    shift(state, u32::rotate_left)
}

unsafe extern "C-unwind" fn ror(state: *mut lua_State) -> c_int {
    shift(state, u32::rotate_right)
}

unsafe extern "C-unwind" fn bswap(state: *mut lua_State) -> c_int {
    let b = barg(state, 1);
    push(state, b.swap_bytes())
}

/// `tohex(x [, n])`: the low |n| hex digits of x (default 8, at most 8),
/// upper case when n is negative.
unsafe extern "C-unwind" fn tohex(state: *mut lua_State) -> c_int {
    let mut b = barg(state, 1);
    let mut n = if ffi::lua_isnone(state, 2) != 0 {
        8
    } else {
        barg(state, 2) as i32
    };
    // -i32::MIN does not exist; LuaBitOp clamps it first (the "lua
    // bit.tohex bug" test: tohex(65535, -2147483648) is "0000FFFF").
    if n == i32::MIN {
        n = i32::MIN + 1;
    }
    let digits: &[u8; 16] = if n < 0 {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let len = n.unsigned_abs().min(8) as usize;
    let mut buf = [0u8; 8];
    let field = buf.get_mut(..len).unwrap_or_default();
    for slot in field.iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    ffi::lua_pushlstring(state, field.as_ptr().cast(), field.len());
    1
}

/// Runs snippets the way the Valkey transcripts were captured: one Lua
/// state with `bit`, `struct` and Valkey's `math.random`, the snippet inside
/// a `pcall` in a chunk named `@user_script` (so error positions read
/// `user_script:3:` as in Valkey), every result rendered by type.
#[cfg(test)]
pub(crate) mod transcript {
    use mlua::Lua;

    /// One line, so the snippet sits on line 3 on both sides. Strings with
    /// bytes outside printable ASCII are shown in hex (`x:`), others as is.
    const PRELUDE: &str = "local function hex(s) return (string.gsub(s, '.', function(c) return \
        string.format('%02x', string.byte(c)) end)) end local function pk(...) return {n = \
        select('#', ...), ...} end local function show(...) local t = {} for i = 1, select('#', \
        ...) do local v = select(i, ...) if type(v) == 'string' then if v:find('[^%w%p ]') then \
        t[#t+1] = 'x:' .. hex(v) else t[#t+1] = 's:' .. v end else t[#t+1] = type(v) .. ':' .. \
        tostring(v) end end return table.concat(t, ' ') end";

    /// A Lua state with the three libraries installed as Valkey has them.
    pub(crate) fn lua() -> Lua {
        let lua = Lua::new();
        let globals = lua.globals();
        globals.set("bit", super::open(&lua).unwrap()).unwrap();
        let lib = crate::script::lua_struct::open(&lua).unwrap();
        globals.set("struct", lib).unwrap();
        let math: mlua::Table = globals.get("math").unwrap();
        crate::script::random::install(&lua, &math).unwrap();
        lua
    }

    /// The rendered results of `snippet`, or `ERR <message>`.
    pub(crate) fn run(lua: &Lua, snippet: &str) -> String {
        let source = format!(
            "{PRELUDE}\nlocal r = pk(pcall(function()\n{snippet}\nend))\nif r[1] then return \
             show(unpack(r, 2, r.n)) else return 'ERR ' .. tostring(r[2]) end"
        );
        lua.load(source).set_name("@user_script").eval().unwrap()
    }

    /// Every (snippet, what Valkey 9.1 answered) pair must match.
    pub(crate) fn check(cases: &[(&str, &str)]) {
        let lua = lua();
        let mismatches: Vec<String> = cases
            .iter()
            .filter_map(|(snippet, expected)| {
                let got = run(&lua, snippet);
                (got != *expected)
                    .then(|| format!("{snippet}\n  valkey: {expected}\n  ours:   {got}"))
            })
            .collect();
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::transcript;

    /// Captured from Valkey 9.1.2 (`EVAL` of the wrapped snippet).
    const CASES: &[(&str, &str)] = &[
        (
            r#"local t = {} for k in pairs(bit) do t[#t+1] = k end table.sort(t) return table.concat(t, ',')"#,
            r#"s:arshift,band,bnot,bor,bswap,bxor,lshift,rol,ror,rshift,tobit,tohex"#,
        ),
        (
            r#"local n = 0 for k, v in pairs(bit) do n = n + 1 assert(type(v) == 'function') end return n"#,
            r#"number:12"#,
        ),
        (
            r#"return bit.tobit(0), bit.tobit(1), bit.tobit(-1), bit.tobit(2^31), bit.tobit(2^32), bit.tobit(2^32 + 1), bit.tobit(-2^31 - 1)"#,
            r#"number:0 number:1 number:-1 number:-2147483648 number:0 number:1 number:2147483647"#,
        ),
        (
            r#"return bit.tobit(0.5), bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-0.5), bit.tobit(-1.5), bit.tobit(-2.5), bit.tobit(3.49), bit.tobit(3.51)"#,
            r#"number:0 number:2 number:2 number:0 number:-2 number:-2 number:3 number:4"#,
        ),
        (
            r#"return bit.tobit(2^52), bit.tobit(2^52 + 3), bit.tobit(2^53), bit.tobit(2^53 + 2), bit.tobit(2^60 + 2^40 + 7), bit.tobit(1e20), bit.tobit(-1e20)"#,
            r#"number:0 number:2 number:0 number:1 number:0 number:2025163840 number:2025163840"#,
        ),
        (
            r#"return bit.tobit(1/0), bit.tobit(-1/0), bit.tobit(0/0), bit.tobit(-0.0), bit.tobit(1e-300), bit.tobit(2^51), bit.tobit(-2^51), bit.tobit(2^51 + 0.5)"#,
            r#"number:0 number:0 number:0 number:0 number:0 number:0 number:0 number:0"#,
        ),
        (
            r#"return bit.tobit(0xffffffff), bit.tobit(1437217655), bit.tobit(4294967296 * 3 + 5), bit.tobit(-4294967296 * 3 - 5)"#,
            r#"number:-1 number:1437217655 number:5 number:-5"#,
        ),
        (
            r#"return bit.tobit('10'), bit.tobit('0x10'), bit.tobit(' 12 '), bit.tobit('1e3'), bit.tobit('-7'), bit.tobit('0')"#,
            r#"number:10 number:16 number:12 number:1000 number:-7 number:0"#,
        ),
        (
            r#"return bit.tobit('abc')"#,
            r#"ERR user_script:3: bad argument #1 to 'tobit' (number expected, got string)"#,
        ),
        (
            r#"return bit.tobit('')"#,
            r#"ERR user_script:3: bad argument #1 to 'tobit' (number expected, got string)"#,
        ),
        (
            r#"return bit.tobit(nil)"#,
            r#"ERR user_script:3: bad argument #1 to 'tobit' (number expected, got nil)"#,
        ),
        (
            r#"return bit.tobit()"#,
            r#"ERR user_script:3: bad argument #1 to 'tobit' (number expected, got no value)"#,
        ),
        (
            r#"return bit.tobit({})"#,
            r#"ERR user_script:3: bad argument #1 to 'tobit' (number expected, got table)"#,
        ),
        (
            r#"return bit.tobit(true)"#,
            r#"ERR user_script:3: bad argument #1 to 'tobit' (number expected, got boolean)"#,
        ),
        (
            r#"return bit.tobit(tostring)"#,
            r#"ERR user_script:3: bad argument #1 to 'tobit' (number expected, got function)"#,
        ),
        (r#"return bit.tobit(1, 'ignored')"#, r#"number:1"#),
        (
            r#"return pcall(bit.tobit, 'x')"#,
            r#"boolean:false s:bad argument #1 to '?' (number expected, got string)"#,
        ),
        (
            r#"local f = bit.tobit return f('x')"#,
            r#"ERR user_script:3: bad argument #1 to 'f' (number expected, got string)"#,
        ),
        (
            r#"return bit.tohex(1), bit.tohex(255), bit.tohex(-1), bit.tohex(0), bit.tohex(0x7fffffff), bit.tohex(-2^31)"#,
            r#"s:00000001 s:000000ff s:ffffffff s:00000000 s:7fffffff s:80000000"#,
        ),
        (
            r#"return bit.tohex(0x1234abcd, 4), bit.tohex(0x1234abcd, -4), bit.tohex(0x1234abcd, 0), bit.tohex(0x1234abcd, 1), bit.tohex(0x1234abcd, -1)"#,
            r#"s:abcd s:ABCD s: s:d s:D"#,
        ),
        (
            r#"return bit.tohex(0x1234abcd, 8), bit.tohex(0x1234abcd, -8), bit.tohex(0x1234abcd, 9), bit.tohex(0x1234abcd, 100), bit.tohex(0x1234abcd, -100)"#,
            r#"s:1234abcd s:1234ABCD s:1234abcd s:1234abcd s:1234ABCD"#,
        ),
        (
            r#"return bit.tohex(0x1234abcd, 2^31), bit.tohex(0x1234abcd, -2^31), bit.tohex(0x1234abcd, 2^31 - 1), bit.tohex(0x1234abcd, 2^32 + 3), bit.tohex(0x1234abcd, 1.5), bit.tohex(0x1234abcd, '3')"#,
            r#"s:1234ABCD s:1234ABCD s:1234abcd s:bcd s:cd s:bcd"#,
        ),
        (r#"return bit.tohex(65535, -2147483648)"#, r#"s:0000FFFF"#),
        (
            r#"return bit.tohex(-1, -3), bit.tohex(2^40 + 0xabc), bit.tohex('255'), bit.tohex(0xfedcba98, -7)"#,
            r#"s:FFF s:00000abc s:000000ff s:EDCBA98"#,
        ),
        (
            r#"return bit.tohex(1, 'a')"#,
            r#"ERR user_script:3: bad argument #2 to 'tohex' (number expected, got string)"#,
        ),
        (
            r#"return bit.tohex(1, nil)"#,
            r#"ERR user_script:3: bad argument #2 to 'tohex' (number expected, got nil)"#,
        ),
        (
            r#"return bit.tohex('z', 'a')"#,
            r#"ERR user_script:3: bad argument #1 to 'tohex' (number expected, got string)"#,
        ),
        (
            r#"return bit.tohex()"#,
            r#"ERR user_script:3: bad argument #1 to 'tohex' (number expected, got no value)"#,
        ),
        (
            r#"return bit.bnot(0), bit.bnot(-1), bit.bnot(5), bit.bnot(2^32), bit.bnot('7'), bit.bnot(0x7fffffff)"#,
            r#"number:-1 number:0 number:-6 number:-1 number:-8 number:-2147483648"#,
        ),
        (
            r#"return bit.bnot('x')"#,
            r#"ERR user_script:3: bad argument #1 to 'bnot' (number expected, got string)"#,
        ),
        (
            r#"return bit.bnot()"#,
            r#"ERR user_script:3: bad argument #1 to 'bnot' (number expected, got no value)"#,
        ),
        (
            r#"return bit.band(1), bit.bor(1), bit.bxor(1), bit.band(0xff, 0x0f), bit.bor(0xf0, 0x0f), bit.bxor(0xff, 0x0f)"#,
            r#"number:1 number:1 number:1 number:15 number:255 number:240"#,
        ),
        (
            r#"return bit.band(-1, 2^32 + 5), bit.bor(1, 2, 4, 8, 16, 32, 64, 128), bit.bxor(1, 2, 3), bit.band(0xffff, 0xff0, 0xf00), bit.bor(-2^31, 1), bit.bxor(-1, -1)"#,
            r#"number:5 number:255 number:0 number:3840 number:-2147483647 number:0"#,
        ),
        (
            r#"return bit.band(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31)"#,
            r#"number:0"#,
        ),
        (r#"return bit.bor('1', '2', 4.7)"#, r#"number:7"#),
        (
            r#"return bit.band()"#,
            r#"ERR user_script:3: bad argument #1 to 'band' (number expected, got no value)"#,
        ),
        (
            r#"return bit.bor()"#,
            r#"ERR user_script:3: bad argument #1 to 'bor' (number expected, got no value)"#,
        ),
        (
            r#"return bit.bxor()"#,
            r#"ERR user_script:3: bad argument #1 to 'bxor' (number expected, got no value)"#,
        ),
        (
            r#"return bit.band('a')"#,
            r#"ERR user_script:3: bad argument #1 to 'band' (number expected, got string)"#,
        ),
        (
            r#"return bit.band(1, 'a', 'b')"#,
            r#"ERR user_script:3: bad argument #3 to 'band' (number expected, got string)"#,
        ),
        (
            r#"return bit.bor(1, 2, nil)"#,
            r#"ERR user_script:3: bad argument #3 to 'bor' (number expected, got nil)"#,
        ),
        (
            r#"return bit.bxor(nil, 2, 3)"#,
            r#"ERR user_script:3: bad argument #1 to 'bxor' (number expected, got nil)"#,
        ),
        (
            r#"return bit.band(1, {}, 3)"#,
            r#"ERR user_script:3: bad argument #2 to 'band' (number expected, got table)"#,
        ),
        (
            r#"return pcall(bit.band, 1, 'x')"#,
            r#"boolean:false s:bad argument #2 to '?' (number expected, got string)"#,
        ),
        (
            r#"return bit.lshift(1, 0), bit.lshift(1, 1), bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33), bit.lshift(1, -1), bit.lshift(3, 30), bit.lshift(-1, 4)"#,
            r#"number:1 number:2 number:-2147483648 number:1 number:2 number:-2147483648 number:-1073741824 number:-16"#,
        ),
        (
            r#"return bit.rshift(-1, 1), bit.rshift(-1, 31), bit.rshift(-1, 0), bit.rshift(256, 4), bit.rshift(1, 32), bit.rshift(-256, -28), bit.rshift(0x80000000, 31)"#,
            r#"number:2147483647 number:1 number:-1 number:16 number:1 number:268435440 number:1"#,
        ),
        (
            r#"return bit.arshift(-256, 4), bit.arshift(-1, 31), bit.arshift(256, 4), bit.arshift(-2^31, 1), bit.arshift(-2^31, 31), bit.arshift(0x7fffffff, 32), bit.arshift(-8, 2)"#,
            r#"number:-16 number:-1 number:16 number:-1073741824 number:-1 number:2147483647 number:-2"#,
        ),
        (
            r#"return bit.rol(0x12345678, 4), bit.rol(0x12345678, 0), bit.rol(0x12345678, 32), bit.rol(0x12345678, 36), bit.rol(-1, 7), bit.rol(0x80000000, 1), bit.rol(1, -1)"#,
            r#"number:591751041 number:305419896 number:305419896 number:591751041 number:-1 number:1 number:-2147483648"#,
        ),
        (
            r#"return bit.ror(0x12345678, 4), bit.ror(0x12345678, 0), bit.ror(0x12345678, 32), bit.ror(0x12345678, 36), bit.ror(1, 1), bit.ror(1, -1), bit.ror(0x87654321, 12)"#,
            r#"number:-2128394905 number:305419896 number:305419896 number:-2128394905 number:-2147483648 number:2 number:840463956"#,
        ),
        (
            r#"return bit.lshift(1.5, 2.7), bit.rshift('16', '2'), bit.lshift(2^32 + 1, 2), bit.arshift(1e20, 3), bit.rol(0/0, 3)"#,
            r#"number:16 number:4 number:4 number:253145480 number:0"#,
        ),
        (
            r#"return bit.lshift(1)"#,
            r#"ERR user_script:3: bad argument #2 to 'lshift' (number expected, got no value)"#,
        ),
        (
            r#"return bit.rshift('a', 1)"#,
            r#"ERR user_script:3: bad argument #1 to 'rshift' (number expected, got string)"#,
        ),
        (
            r#"return bit.arshift(1, 'b')"#,
            r#"ERR user_script:3: bad argument #2 to 'arshift' (number expected, got string)"#,
        ),
        (
            r#"return bit.rol()"#,
            r#"ERR user_script:3: bad argument #1 to 'rol' (number expected, got no value)"#,
        ),
        (
            r#"return bit.ror(1, {})"#,
            r#"ERR user_script:3: bad argument #2 to 'ror' (number expected, got table)"#,
        ),
        (
            r#"return bit.bswap(0x12345678), bit.bswap(-1), bit.bswap(0x80), bit.bswap(0), bit.bswap(0x01020304), bit.bswap(2^31)"#,
            r#"number:2018915346 number:-1 number:-2147483648 number:0 number:67305985 number:128"#,
        ),
        (
            r#"return bit.bswap('x')"#,
            r#"ERR user_script:3: bad argument #1 to 'bswap' (number expected, got string)"#,
        ),
        (
            r#"return bit.bswap()"#,
            r#"ERR user_script:3: bad argument #1 to 'bswap' (number expected, got no value)"#,
        ),
        (
            r#"return bit.tohex(bit.bswap(0xdeadbeef)), bit.tohex(bit.band(bit.bnot(0), 0xff00ff00), -8)"#,
            r#"s:efbeadde s:FF00FF00"#,
        ),
        (
            r#"return type(bit), bit.tobit == bit.tobit, type(bit.tohex)"#,
            r#"s:table boolean:true s:function"#,
        ),
    ];

    #[test]
    fn matches_valkey_transcript() {
        transcript::check(CASES);
    }

    /// The minimal bitop check and the tohex regression of Valkey's
    /// unit/scripting.tcl.
    #[test]
    fn scripting_tcl_snippets() {
        let lua = transcript::lua();
        let minimal = "assert(bit.tobit(1) == 1); assert(bit.band(1) == 1); \
                       assert(bit.bxor(1,2) == 3); assert(bit.bor(1,2,4,8,16,32,64,128) == 255)";
        assert_eq!(transcript::run(&lua, minimal), "");
        assert_eq!(
            transcript::run(&lua, "return bit.tohex(65535, -2147483648)"),
            "s:0000FFFF"
        );
    }
}
