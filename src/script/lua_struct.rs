//! The `struct` library scripts see: Roberto Ierusalimschy's struct
//! (`pack`, `unpack`, `size`) as Valkey bundles it, with Redis' fixes: the
//! size digits stop at "integral size overflow", integers are capped at 32
//! bytes, `unpack` checks every read against the data and its offset
//! against 1.
//!
//! Formats: `>` big endian, `<` little endian, `![n]` maximum alignment
//! (default 8), `x` a zero byte, `b/B` `h/H` `l/L` `T` `i/I[n]` signed and
//! unsigned integers of 1, 2, 8, 8 and n (default 4) bytes, `c[n]` n chars
//! (`c0`: the whole string when packing, the previous result as the length
//! when unpacking), `s` a zero-terminated string, `f` float, `d` double,
//! spaces ignored; the format ends at its first NUL, as the C string did.
//! Numbers are converted to integers the way the x86-64 build of the C code
//! does (out-of-range values included), so packed bytes match Valkey's.
//!
//! As in `bit`, these are Lua C functions over `mlua::ffi` so errors are the
//! library's own Lua strings; output is built in a `luaL_Buffer` and results
//! go straight to the Lua stack, so no Rust value with a destructor is alive
//! when Lua raises (it does so with `longjmp`).

use std::ffi::{c_char, c_int};
use std::mem::MaybeUninit;
use std::process::abort;

use mlua::ffi::{self, lua_State};
use mlua::{Lua, Table};

/// Largest `i`/`I` size in bytes.
const MAX_INT_SIZE: c_int = 32;
/// `!` without a number: the alignment of a double on x86-64.
const MAX_ALIGN: c_int = 8;
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// The library's functions in registration order (`pairs` order: see `bit`).
const FUNCS: [(&str, ffi::lua_CFunction); 3] = [("pack", pack), ("unpack", unpack), ("size", size)];

/// Builds the `struct` table (the engine installs it as a read-only global).
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let table = lua.create_table_with_capacity(0, FUNCS.len())?;
    for (name, func) in FUNCS {
        // SAFETY: each function follows the Lua C API protocol (see the
        // module header) and touches only its own arguments.
        table.raw_set(name, unsafe { lua.create_c_function(func)? })?;
    }
    Ok(table)
}

/// Endianness and maximum alignment, changed by `<`, `>` and `!`.
struct Header {
    little: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            little: cfg!(target_endian = "little"),
            align: 1,
        }
    }
}

/// Raises `msg` with the caller's position, as luaL_error does.
unsafe fn raise(state: *mut lua_State, msg: *const c_char) -> ! {
    ffi::luaL_error(state, c"%s".as_ptr(), msg);
    // luaL_error does not return.
    abort()
}

/// Raises "bad argument #narg to 'f' (msg)".
unsafe fn arg_error(state: *mut lua_State, narg: c_int, msg: *const c_char) -> ! {
    ffi::luaL_argerror(state, narg, msg);
    abort()
}

/// Argument `idx` as a format: a string (or number) up to its first NUL.
unsafe fn check_format<'a>(state: *mut lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0;
    let ptr = ffi::luaL_checklstring(state, idx, &mut len);
    let bytes = std::slice::from_raw_parts(ptr.cast::<u8>(), len);
    bytes.split(|&byte| byte == 0).next().unwrap_or_default()
}

/// The decimal digits at `fmt[*pos..]`, or `default` when there are none;
/// more than fits an int is an error (Redis' fix for CVE-2020-14147).
unsafe fn getnum(state: *mut lua_State, fmt: &[u8], pos: &mut usize, default: c_int) -> c_int {
    if !fmt.get(*pos).is_some_and(u8::is_ascii_digit) {
        return default;
    }
    let mut value: c_int = 0;
    while let Some(&digit) = fmt.get(*pos).filter(|d| d.is_ascii_digit()) {
        let digit = c_int::from(digit - b'0');
        if value > c_int::MAX / 10 || value * 10 > c_int::MAX - digit {
            raise(state, c"integral size overflow".as_ptr());
        }
        value = value * 10 + digit;
        *pos += 1;
    }
    value
}

/// The size in bytes of option `opt`, reading its digits; 0 for options
/// that take no room (and for unknown ones, which fail later).
unsafe fn optsize(state: *mut lua_State, opt: u8, fmt: &[u8], pos: &mut usize) -> usize {
    match opt {
        b'B' | b'b' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'x' => 1,
        // getnum never returns a negative number.
        b'c' => getnum(state, fmt, pos, 1) as usize,
        b'i' | b'I' => {
            let size = getnum(state, fmt, pos, 4);
            if size > MAX_INT_SIZE {
                ffi::luaL_error(
                    state,
                    c"integral size %d is larger than limit of %d".as_ptr(),
                    size,
                    MAX_INT_SIZE,
                );
            }
            size as usize
        }
        _ => 0,
    }
}

/// Padding before an item of `size` bytes at offset `len`: items align to
/// their size, capped by the `!` alignment; chars never align.
fn gettoalign(len: usize, header: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    // align >= 1, so size >= 1 here.
    let size = size.min(header.align);
    (size - (len & (size - 1))) & (size - 1)
}

/// The options that change the header (and spaces); anything else is an
/// invalid option.
unsafe fn controloptions(
    state: *mut lua_State,
    opt: u8,
    fmt: &[u8],
    pos: &mut usize,
    header: &mut Header,
) {
    match opt {
        b' ' => {}
        b'>' => header.little = false,
        b'<' => header.little = true,
        b'!' => {
            let align = getnum(state, fmt, pos, MAX_ALIGN);
            if align <= 0 || align & (align - 1) != 0 {
                ffi::luaL_error(state, c"alignment %d is not a power of 2".as_ptr(), align);
            }
            header.align = align as usize;
        }
        _ => {
            // The C code's `int opt` came from a (signed) char.
            let opt = c_int::from(opt as c_char);
            let msg = ffi::lua_pushfstring(state, c"invalid format option '%c'".as_ptr(), opt);
            arg_error(state, 1, msg);
        }
    }
}

/// C's conversion of a double to a 64-bit integer on x86-64 (cvttsd2si):
/// truncation, and 2^63 as the answer for NaN and anything out of range.
fn c_double_to_i64(n: f64) -> i64 {
    if (-TWO_POW_63..TWO_POW_63).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// C's conversion of a double to an unsigned 64-bit integer as gcc emits it
/// on x86-64: below 2^63 (or NaN) the signed conversion, else the signed
/// conversion of n - 2^63 with the top bit flipped (so 2^64 and up give 0).
fn c_double_to_u64(n: f64) -> u64 {
    if n >= TWO_POW_63 {
        (c_double_to_i64(n - TWO_POW_63) as u64) ^ (1 << 63)
    } else {
        c_double_to_i64(n) as u64
    }
}

/// Packs argument `arg` as an integer of `size` bytes: negative numbers
/// through a signed conversion, the rest through an unsigned one; bytes
/// past the eighth are zero.
unsafe fn put_integer(
    state: *mut lua_State,
    buffer: *mut ffi::luaL_Buffer,
    arg: c_int,
    little: bool,
    size: usize,
) {
    let n = ffi::luaL_checknumber(state, arg);
    let mut value = if n < 0.0 {
        c_double_to_i64(n) as u64
    } else {
        c_double_to_u64(n)
    };
    let mut bytes = [0u8; MAX_INT_SIZE as usize];
    let field = bytes.get_mut(..size).unwrap_or_default();
    let mut emit = |slot: &mut u8| {
        *slot = value as u8;
        value >>= 8;
    };
    if little {
        field.iter_mut().for_each(&mut emit);
    } else {
        field.iter_mut().rev().for_each(&mut emit);
    }
    ffi::luaL_addlstring(buffer, field.as_ptr().cast(), field.len());
}

unsafe fn add_bytes(buffer: *mut ffi::luaL_Buffer, bytes: &[u8]) {
    ffi::luaL_addlstring(buffer, bytes.as_ptr().cast(), bytes.len());
}

/// `struct.pack(fmt, ...)`: the arguments packed into a string.
unsafe extern "C-unwind" fn pack(state: *mut lua_State) -> c_int {
    let fmt = check_format(state, 1);
    let mut header = Header::default();
    let mut arg: c_int = 2;
    let mut total: usize = 0;
    // As in the C code, a nil separates the arguments from the buffer's
    // pieces, so a missing argument reads as nil ("got nil").
    ffi::lua_pushnil(state);
    let mut storage = MaybeUninit::<ffi::luaL_Buffer>::uninit();
    let buffer = storage.as_mut_ptr();
    ffi::luaL_buffinit(state, buffer);
    let mut pos = 0;
    while let Some(&opt) = fmt.get(pos) {
        pos += 1;
        let mut size = optsize(state, opt, fmt, &mut pos);
        let padding = gettoalign(total, &header, opt, size);
        total = total.wrapping_add(padding);
        for _ in 0..padding {
            ffi::luaL_addchar(buffer, 0);
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                put_integer(state, buffer, arg, header.little, size);
                arg = arg.saturating_add(1);
            }
            b'x' => ffi::luaL_addchar(buffer, 0),
            b'f' => {
                let f = ffi::luaL_checknumber(state, arg) as f32;
                arg = arg.saturating_add(1);
                add_bytes(
                    buffer,
                    &if header.little {
                        f.to_le_bytes()
                    } else {
                        f.to_be_bytes()
                    },
                );
            }
            b'd' => {
                let d = ffi::luaL_checknumber(state, arg);
                arg = arg.saturating_add(1);
                add_bytes(
                    buffer,
                    &if header.little {
                        d.to_le_bytes()
                    } else {
                        d.to_be_bytes()
                    },
                );
            }
            b'c' | b's' => {
                let mut len = 0;
                let s = ffi::luaL_checklstring(state, arg, &mut len);
                arg = arg.saturating_add(1);
                if size == 0 {
                    size = len;
                }
                if len < size {
                    // The C code reports the argument after the string.
                    arg_error(state, arg, c"string too short".as_ptr());
                }
                ffi::luaL_addlstring(buffer, s, size);
                if opt == b's' {
                    ffi::luaL_addchar(buffer, 0);
                    size += 1;
                }
            }
            _ => controloptions(state, opt, fmt, &mut pos, &mut header),
        }
        total = total.wrapping_add(size);
    }
    ffi::luaL_pushresult(buffer);
    1
}

/// An integer of `bytes.len()` bytes; a signed one is sign-extended from
/// its top bit (the shift is taken mod 64, as x86 does, for the sizes
/// beyond 8 bytes and for 0).
fn get_integer(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let fold = |acc: u64, &byte: &u8| (acc << 8) | u64::from(byte);
    let value = if little {
        bytes.iter().rev().fold(0, fold)
    } else {
        bytes.iter().fold(0, fold)
    };
    if !signed {
        return value as f64;
    }
    let shift = (bytes.len() as u32).wrapping_mul(8).wrapping_sub(1) & 63;
    let mask = u64::MAX << shift;
    let value = if value & mask != 0 {
        value | mask
    } else {
        value
    };
    value as i64 as f64
}

/// `data[pos..pos + size]`, or the "data string too short" error.
unsafe fn field(state: *mut lua_State, data: &[u8], pos: usize, size: usize) -> &[u8] {
    match data.len().checked_sub(size) {
        Some(room) if pos <= room => data.get(pos..pos + size).unwrap_or_default(),
        _ => arg_error(state, 2, c"data string too short".as_ptr()),
    }
}

/// `struct.unpack(fmt, data [, init])`: the values read from `data` from
/// 1-based offset `init`, then the offset after the last one.
unsafe extern "C-unwind" fn unpack(state: *mut lua_State) -> c_int {
    let fmt = check_format(state, 1);
    let mut len = 0;
    let data = ffi::luaL_checklstring(state, 2, &mut len);
    let data = std::slice::from_raw_parts(data.cast::<u8>(), len);
    // A negative offset wraps to a huge one and fails the bounds check.
    let mut pos = ffi::luaL_optinteger(state, 3, 1) as usize;
    if pos == 0 {
        arg_error(state, 3, c"offset must be 1 or greater".as_ptr());
    }
    pos -= 1;
    let mut results: c_int = 0;
    let mut header = Header::default();
    let mut at = 0;
    while let Some(&opt) = fmt.get(at) {
        at += 1;
        let mut size = optsize(state, opt, fmt, &mut at);
        pos = pos.wrapping_add(gettoalign(pos, &header, opt, size));
        let bytes = field(state, data, pos, size);
        // Room for this item and the final offset.
        ffi::luaL_checkstack_(state, 2, c"too many results".as_ptr());
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let value = get_integer(bytes, header.little, opt.is_ascii_lowercase());
                ffi::lua_pushnumber(state, value);
                results += 1;
            }
            b'x' => {}
            b'f' => {
                let raw: [u8; 4] = bytes.try_into().unwrap_or_default();
                let f = if header.little {
                    f32::from_le_bytes(raw)
                } else {
                    f32::from_be_bytes(raw)
                };
                ffi::lua_pushnumber(state, f64::from(f));
                results += 1;
            }
            b'd' => {
                let raw: [u8; 8] = bytes.try_into().unwrap_or_default();
                let d = if header.little {
                    f64::from_le_bytes(raw)
                } else {
                    f64::from_be_bytes(raw)
                };
                ffi::lua_pushnumber(state, d);
                results += 1;
            }
            b'c' => {
                let mut chars = bytes;
                if size == 0 {
                    // `c0`: the previous result (a number, or a string Lua
                    // reads as one) is the length, and it is consumed.
                    if results == 0 || ffi::lua_isnumber(state, -1) == 0 {
                        raise(state, c"format 'c0' needs a previous size".as_ptr());
                    }
                    size = c_double_to_u64(ffi::lua_tonumber(state, -1)) as usize;
                    ffi::lua_pop(state, 1);
                    results -= 1;
                    chars = field(state, data, pos, size);
                }
                ffi::lua_pushlstring(state, chars.as_ptr().cast(), chars.len());
                results += 1;
            }
            b's' => {
                // `field` checked pos <= len.
                let rest = data.get(pos..).unwrap_or_default();
                let Some(end) = memchr::memchr(0, rest) else {
                    raise(state, c"unfinished string in data".as_ptr());
                };
                let string = rest.get(..end).unwrap_or_default();
                ffi::lua_pushlstring(state, string.as_ptr().cast(), string.len());
                size = end + 1;
                results += 1;
            }
            _ => controloptions(state, opt, fmt, &mut at, &mut header),
        }
        pos = pos.wrapping_add(size);
    }
    // size_t to lua_Integer, as the C code converts it.
    ffi::lua_pushinteger(state, pos.wrapping_add(1) as ffi::lua_Integer);
    results + 1
}

/// `struct.size(fmt)`: the packed size of a fixed-size format. Unknown
/// letters and digits count as nothing here; other unknown bytes are errors.
unsafe extern "C-unwind" fn size(state: *mut lua_State) -> c_int {
    let fmt = check_format(state, 1);
    let mut header = Header::default();
    let mut pos: usize = 0;
    let mut at = 0;
    while let Some(&opt) = fmt.get(at) {
        at += 1;
        let size = optsize(state, opt, fmt, &mut at);
        pos = pos.wrapping_add(gettoalign(pos, &header, opt, size));
        if opt == b's' {
            arg_error(state, 1, c"option 's' has no fixed size".as_ptr());
        } else if opt == b'c' && size == 0 {
            arg_error(state, 1, c"option 'c0' has no fixed size".as_ptr());
        }
        if !opt.is_ascii_alphanumeric() {
            controloptions(state, opt, fmt, &mut at, &mut header);
        }
        pos = pos.wrapping_add(size);
    }
    ffi::lua_pushinteger(state, pos as ffi::lua_Integer);
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::bit::transcript;

    /// Captured from Valkey 9.1.2 (`EVAL` of the wrapped snippet).
    const CASES: &[(&str, &str)] = &[
        (
            r#"local t = {} for k in pairs(struct) do t[#t+1] = k end table.sort(t) return table.concat(t, ',')"#,
            r#"s:pack,size,unpack"#,
        ),
        (
            r#"return struct.pack('b', 1), struct.pack('b', -1), struct.pack('B', 255), struct.pack('B', 256), struct.pack('b', 128), struct.pack('b', -129)"#,
            r#"x:01 x:ff x:ff x:00 x:80 x:7f"#,
        ),
        (
            r#"return struct.pack('<h', 0x1234), struct.pack('>h', 0x1234), struct.pack('h', -2), struct.pack('>H', 65535), struct.pack('<H', 65536 + 7)"#,
            r#"x:3412 x:1234 x:feff x:ffff x:0700"#,
        ),
        (
            r#"return struct.pack('<l', 1), struct.pack('>l', -1), struct.pack('<L', 2^40 + 3), struct.pack('>L', 2^63), struct.pack('<T', 5), struct.pack('>T', 2^33)"#,
            r#"x:0100000000000000 x:ffffffffffffffff x:0300000000010000 x:8000000000000000 x:0500000000000000 x:0000000200000000"#,
        ),
        (
            r#"return struct.pack('<i', 1), struct.pack('>i', -2), struct.pack('<I', 2^32 + 9), struct.pack('>I', 3e9), struct.pack('<i', 3e9), struct.pack('>i', -3e9)"#,
            r#"x:01000000 x:fffffffe x:09000000 x:b2d05e00 x:005ed0b2 x:4d2fa200"#,
        ),
        (
            r#"return struct.pack('<i1', 300), struct.pack('>i2', -300), struct.pack('<i3', 0x123456), struct.pack('>i3', -1), struct.pack('<i5', 2^33 + 1), struct.pack('>i7', -2), struct.pack('<i8', -1)"#,
            r#"s:, x:fed4 x:563412 x:ffffff x:0100000002 x:fffffffffffffe x:ffffffffffffffff"#,
        ),
        (
            r#"return struct.pack('<i16', -1), struct.pack('>i16', -2), struct.pack('<I16', 2^64 - 2^12), struct.pack('>i9', 1)"#,
            r#"x:ffffffffffffffff0000000000000000 x:0000000000000000fffffffffffffffe x:00f0ffffffffffff0000000000000000 x:000000000000000001"#,
        ),
        (
            r#"return struct.pack('<i32', -1), struct.pack('>I32', 7)"#,
            r#"x:ffffffffffffffff000000000000000000000000000000000000000000000000 x:0000000000000000000000000000000000000000000000000000000000000007"#,
        ),
        (
            r#"return struct.pack('i33', 1)"#,
            r#"ERR user_script:3: integral size 33 is larger than limit of 32"#,
        ),
        (
            r#"return struct.pack('I40', 1)"#,
            r#"ERR user_script:3: integral size 40 is larger than limit of 32"#,
        ),
        (
            r#"return struct.pack('<i0', 5), struct.pack('>I0', 5), struct.pack('i0 b', 1, 2)"#,
            r#"s: s: x:02"#,
        ),
        (
            r#"return struct.pack('i99999999999', 1)"#,
            r#"ERR user_script:3: integral size overflow"#,
        ),
        (
            r#"return struct.pack('i2147483647', 1)"#,
            r#"ERR user_script:3: integral size 2147483647 is larger than limit of 32"#,
        ),
        (
            r#"return struct.pack('i2147483648', 1)"#,
            r#"ERR user_script:3: integral size overflow"#,
        ),
        (
            r#"return struct.pack('c99999999999', 'a')"#,
            r#"ERR user_script:3: integral size overflow"#,
        ),
        (
            r#"return struct.pack('!99999999999 b', 1)"#,
            r#"ERR user_script:3: integral size overflow"#,
        ),
        (
            r#"return struct.pack('<L', 2^64), struct.pack('<L', 2^70), struct.pack('<L', 1/0), struct.pack('<L', -1/0), struct.pack('<L', 0/0), struct.pack('<l', -2^70), struct.pack('<L', -2^63)"#,
            r#"x:0000000000000000 x:0000000000000000 x:0000000000000000 x:0000000000000080 x:0000000000000080 x:0000000000000080 x:0000000000000080"#,
        ),
        (
            r#"return struct.pack('<L', 2^63 + 2^20), struct.pack('<l', 2^64 - 2^11), struct.pack('<L', -0.5), struct.pack('<l', -1.5), struct.pack('<l', 1.9), struct.pack('<b', -0.9), struct.pack('<B', 255.9)"#,
            r#"x:0000100000000080 x:00f8ffffffffffff x:0000000000000000 x:ffffffffffffffff x:0100000000000000 x:00 x:ff"#,
        ),
        (
            r#"return struct.pack('<I', '12'), struct.pack('<b', '0x10'), struct.pack('>h', ' 7 ')"#,
            r#"x:0c000000 x:10 x:0007"#,
        ),
        (
            r#"return struct.pack('<f', 1.5), struct.pack('>f', 1.5), struct.pack('<d', 1.5), struct.pack('>d', -2.25), struct.pack('<f', 1/0), struct.pack('<f', 1e300), struct.pack('<d', 0/0)"#,
            r#"x:0000c03f x:3fc00000 x:000000000000f83f x:c002000000000000 x:0000807f x:0000807f x:000000000000f8ff"#,
        ),
        (
            r#"return struct.pack('<f', 0.1), struct.pack('>d', 0.1), struct.pack('f', '2.5'), struct.pack('d', -0.0)"#,
            r#"x:cdcccc3d x:3fb999999999999a x:00002040 x:0000000000000080"#,
        ),
        (
            r#"return struct.pack('x'), struct.pack('xx'), struct.pack('bxb', 1, 2), struct.pack('b x', 1)"#,
            r#"x:00 x:0000 x:010002 x:0100"#,
        ),
        (
            r#"return struct.pack('x3')"#,
            r#"ERR user_script:3: bad argument #1 to 'pack' (invalid format option '3')"#,
        ),
        (
            r#"return struct.pack('c5', 'hello'), struct.pack('c3', 'hello'), struct.pack('c0', 'hello'), struct.pack('c', 'hello'), struct.pack('c0', ''), struct.pack('c1c2', 'ab', 'cd')"#,
            r#"s:hello s:hel s:hello s:h s: s:acd"#,
        ),
        (
            r#"return struct.pack('c10', 'hi')"#,
            r#"ERR user_script:3: bad argument #3 to 'pack' (string too short)"#,
        ),
        (
            r#"return struct.pack('b c10', 1, 'hi')"#,
            r#"ERR user_script:3: bad argument #4 to 'pack' (string too short)"#,
        ),
        (
            r#"return struct.pack('s', 'hi'), struct.pack('s', ''), struct.pack('s', 'a\0b'), struct.pack('ss', 'x', 'yz'), struct.pack('s', 12)"#,
            r#"x:686900 x:00 x:61006200 x:7800797a00 x:313200"#,
        ),
        (
            r#"return struct.pack('c0', 12.5), struct.pack('c2', 123)"#,
            r#"s:12.5 s:12"#,
        ),
        (
            r#"return struct.pack('!4 b i', 1, 2), struct.pack('!4 b h', 1, 2), struct.pack('! b d', 1, 2), struct.pack('!2 b i', 1, 2), struct.pack('!16 b d', 1, 2), struct.pack('!8 b i8', 1, 2)"#,
            r#"x:0100000002000000 x:01000200 x:01000000000000000000000000000040 x:010002000000 x:01000000000000000000000000000040 x:01000000000000000200000000000000"#,
        ),
        (
            r#"return struct.pack('!4 b f', 1, 2), struct.pack('!4 b c3', 1, 'abc'), struct.pack('!4 b s', 1, 'a'), struct.pack('!4 b x', 1), struct.pack('!8 b i3', 1, 2), struct.pack('!8 b b b i3', 1, 2, 3, 4), struct.pack('!4 b i5', 1, 2), struct.pack('!8 b i6', 1, 2)"#,
            r#"x:0100000000000040 x:01616263 x:016100 x:0100 x:010000020000 x:010203040000 x:010000000200000000 x:010000000000020000000000"#,
        ),
        (
            r#"return struct.pack('!1 b i', 1, 2), struct.pack('b !4 i', 1, 2), struct.pack('!4 b !1 i', 1, 2), struct.pack('<!4 b >i', 1, 2)"#,
            r#"x:0102000000 x:0100000002000000 x:0102000000 x:0100000000000002"#,
        ),
        (
            r#"return struct.pack('!3 b', 1)"#,
            r#"ERR user_script:3: alignment 3 is not a power of 2"#,
        ),
        (
            r#"return struct.pack('!0 b', 1)"#,
            r#"ERR user_script:3: alignment 0 is not a power of 2"#,
        ),
        (
            r#"return struct.pack('!12 b', 1)"#,
            r#"ERR user_script:3: alignment 12 is not a power of 2"#,
        ),
        (
            r#"return struct.pack('z', 1)"#,
            r#"ERR user_script:3: bad argument #1 to 'pack' (invalid format option 'z')"#,
        ),
        (
            r#"return struct.pack('b z', 1, 2)"#,
            r#"ERR user_script:3: bad argument #1 to 'pack' (invalid format option 'z')"#,
        ),
        (
            r#"return struct.pack('5', 1)"#,
            r#"ERR user_script:3: bad argument #1 to 'pack' (invalid format option '5')"#,
        ),
        (
            r#"return struct.pack('b\0b', 1, 2), struct.pack(''), struct.pack('  '), struct.pack('<>'), struct.pack(' < b > h ', 1, 2)"#,
            r#"x:01 s: s: s: x:010002"#,
        ),
        (
            r#"return struct.pack('b')"#,
            r#"ERR user_script:3: bad argument #2 to 'pack' (number expected, got nil)"#,
        ),
        (
            r#"return struct.pack('bbb', 1)"#,
            r#"ERR user_script:3: bad argument #3 to 'pack' (number expected, got nil)"#,
        ),
        (
            r#"return struct.pack('b', 'x')"#,
            r#"ERR user_script:3: bad argument #2 to 'pack' (number expected, got string)"#,
        ),
        (
            r#"return struct.pack('b', {})"#,
            r#"ERR user_script:3: bad argument #2 to 'pack' (number expected, got table)"#,
        ),
        (
            r#"return struct.pack('f', 'x')"#,
            r#"ERR user_script:3: bad argument #2 to 'pack' (number expected, got string)"#,
        ),
        (
            r#"return struct.pack('d')"#,
            r#"ERR user_script:3: bad argument #2 to 'pack' (number expected, got nil)"#,
        ),
        (
            r#"return struct.pack('c2')"#,
            r#"ERR user_script:3: bad argument #2 to 'pack' (string expected, got nil)"#,
        ),
        (
            r#"return struct.pack('s', {})"#,
            r#"ERR user_script:3: bad argument #2 to 'pack' (string expected, got table)"#,
        ),
        (
            r#"return struct.pack('s', nil)"#,
            r#"ERR user_script:3: bad argument #2 to 'pack' (string expected, got nil)"#,
        ),
        (
            r#"return struct.pack(nil)"#,
            r#"ERR user_script:3: bad argument #1 to 'pack' (string expected, got nil)"#,
        ),
        (
            r#"return struct.pack()"#,
            r#"ERR user_script:3: bad argument #1 to 'pack' (string expected, got no value)"#,
        ),
        (
            r#"return struct.pack({})"#,
            r#"ERR user_script:3: bad argument #1 to 'pack' (string expected, got table)"#,
        ),
        (
            r#"return struct.pack(12, 1)"#,
            r#"ERR user_script:3: bad argument #1 to 'pack' (invalid format option '1')"#,
        ),
        (
            r#"return struct.pack(1, 2)"#,
            r#"ERR user_script:3: bad argument #1 to 'pack' (invalid format option '1')"#,
        ),
        (
            r#"return pcall(struct.pack, 'b', 'x')"#,
            r#"boolean:false s:bad argument #2 to '?' (number expected, got string)"#,
        ),
        (
            r#"local p = struct.pack return p('q')"#,
            r#"ERR user_script:3: bad argument #1 to 'p' (invalid format option 'q')"#,
        ),
        (
            r#"return #struct.pack('c0', string.rep('a', 20000)), #struct.pack(string.rep('b', 7000), unpack((function() local t = {} for i = 1, 7000 do t[i] = i end return t end)()))"#,
            r#"number:20000 number:7000"#,
        ),
        (
            r#"return #struct.pack(string.rep('x', 30000))"#,
            r#"number:30000"#,
        ),
        (
            r#"return #struct.pack('c0c0s', string.rep('a', 9000), string.rep('b', 9000), string.rep('c', 9000))"#,
            r#"number:27001"#,
        ),
        (
            r#"return struct.pack('c0c0', string.rep('a', 10000))"#,
            r#"ERR user_script:3: bad argument #3 to 'pack' (string expected, got nil)"#,
        ),
        (
            r#"return struct.unpack('b', '\255'), struct.unpack('B', '\255'), struct.unpack('<h', '\255\127'), struct.unpack('>h', '\255\127'), struct.unpack('<H', '\254\255')"#,
            r#"number:-1 number:255 number:32767 number:-129 number:65534 number:3"#,
        ),
        (
            r#"return struct.unpack('<l', '\255\255\255\255\255\255\255\255'), struct.unpack('<L', '\255\255\255\255\255\255\255\255'), struct.unpack('>L', '\0\0\0\0\0\0\1\0'), struct.unpack('>T', '\0\0\0\0\0\0\1\0')"#,
            r#"number:-1 number:1.844674407371e+19 number:256 number:256 number:9"#,
        ),
        (
            r#"return struct.unpack('<i', '\1\0\0\128'), struct.unpack('<I', '\1\0\0\128'), struct.unpack('>i', '\255\255\255\254'), struct.unpack('<i3', '\255\255\255'), struct.unpack('<I3', '\255\255\255'), struct.unpack('>i3', '\128\0\0')"#,
            r#"number:-2147483647 number:2147483649 number:-2 number:-1 number:16777215 number:-8388608 number:4"#,
        ),
        (
            r#"return struct.unpack('<i16', string.rep('\255', 16)), struct.unpack('<I16', string.rep('\255', 16)), struct.unpack('>i16', string.rep('\0', 15) .. '\5'), struct.unpack('<i16', '\5' .. string.rep('\0', 15)), struct.unpack('<i9', string.rep('\0', 8) .. '\128')"#,
            r#"number:-1 number:1.844674407371e+19 number:5 number:5 number:0 number:10"#,
        ),
        (
            r#"return struct.unpack('<i12', '\1\2\3\4\5\6\7\8\9\10\11\12'), struct.unpack('>I12', '\1\2\3\4\5\6\7\8\9\10\11\12'), struct.unpack('>i32', string.rep('\0', 31) .. '\7'), struct.unpack('<i32', string.rep('\0', 31) .. '\128')"#,
            r#"number:-2080177663 number:3.6198455114269e+17 number:7 number:0 number:33"#,
        ),
        (
            r#"return struct.unpack('<i0', ''), struct.unpack('<I0', 'abc'), struct.unpack('i0 b', '\9')"#,
            r#"number:0 number:0 number:0 number:9 number:2"#,
        ),
        (
            r#"return struct.unpack('<i8', '\0\0\0\0\0\0\0\128'), struct.unpack('<I8', '\0\0\0\0\0\0\0\128'), struct.unpack('<I8', '\255\255\255\255\255\255\31\0'), struct.unpack('<i7', '\255\255\255\255\255\255\127'), struct.unpack('<i5', '\0\0\0\0\128')"#,
            r#"number:-9.2233720368548e+18 number:9.2233720368548e+18 number:9.007199254741e+15 number:3.6028797018964e+16 number:-549755813888 number:6"#,
        ),
        (
            r#"return struct.unpack('<f', struct.pack('<f', 1.5)), struct.unpack('>f', struct.pack('>f', 0.1)), struct.unpack('<d', struct.pack('<d', 0.1)), struct.unpack('>d', struct.pack('>d', -1e300)), struct.unpack('<f', struct.pack('<f', 1e300)), struct.unpack('<f', '\0\0\192\127')"#,
            r#"number:1.5 number:0.10000000149012 number:0.1 number:-1e+300 number:inf number:nan number:5"#,
        ),
        (
            r#"return struct.unpack('x', 'a'), struct.unpack('xb', '\1\2'), struct.unpack('b x b', '\1\2\3')"#,
            r#"number:2 number:2 number:1 number:3 number:4"#,
        ),
        (
            r#"return struct.unpack('c5', 'hello world')"#,
            r#"s:hello number:6"#,
        ),
        (
            r#"return struct.unpack('c0', 'abc', 1)"#,
            r#"ERR user_script:3: format 'c0' needs a previous size"#,
        ),
        (
            r#"return struct.unpack('b c0', '\3abcdef')"#,
            r#"s:abc number:5"#,
        ),
        (
            r#"return struct.unpack('B c0 b', '\2ab\7')"#,
            r#"s:ab number:7 number:5"#,
        ),
        (
            r#"return struct.unpack('c1 c0', '2abc')"#,
            r#"s:ab number:4"#,
        ),
        (
            r#"return struct.unpack('c3 c0', '0x2abc')"#,
            r#"s:ab number:6"#,
        ),
        (
            r#"return struct.unpack('c3 c0', ' 2 abc')"#,
            r#"s:ab number:6"#,
        ),
        (r#"return struct.unpack('b c0', '\0xyz')"#, r#"s: number:2"#),
        (
            r#"return struct.unpack('c0', 'abc')"#,
            r#"ERR user_script:3: format 'c0' needs a previous size"#,
        ),
        (
            r#"return struct.unpack('c1 c0', 'zabc')"#,
            r#"ERR user_script:3: format 'c0' needs a previous size"#,
        ),
        (
            r#"return struct.unpack('b c0', '\255abc')"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('b c0', '\9abc')"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('d c0', struct.pack('d c0', 0/0, ''))"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('d c0', struct.pack('d', 2.9) .. 'abcdef')"#,
            r#"s:ab number:11"#,
        ),
        (
            r#"return struct.unpack('d c0', struct.pack('d', 1/0) .. 'abcdef')"#,
            r#"s: number:9"#,
        ),
        (
            r#"return struct.unpack('d c0', struct.pack('d', -0.5) .. 'abcdef')"#,
            r#"s: number:9"#,
        ),
        (
            r#"return struct.unpack('x c0', 'ab')"#,
            r#"ERR user_script:3: format 'c0' needs a previous size"#,
        ),
        (
            r#"return struct.unpack('s', 'hi\0rest'), struct.unpack('s s', 'a\0\0'), struct.unpack('s b', 'x\0\5')"#,
            r#"s:hi s:a s:x number:5 number:4"#,
        ),
        (
            r#"return struct.unpack('s', 'abc')"#,
            r#"ERR user_script:3: unfinished string in data"#,
        ),
        (
            r#"return struct.unpack('s', '')"#,
            r#"ERR user_script:3: unfinished string in data"#,
        ),
        (
            r#"return struct.unpack('b', '')"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('i', 'abc')"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('c4', 'abc')"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('c2000000000', 'abc')"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('b b', '\1')"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('x', '')"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('d', '1234567')"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('b', 'abc', 2), struct.unpack('b', 'abc', 3), struct.unpack('b', 'abc', 1.9), struct.unpack('b', 'abc', '2'), struct.unpack('b', 'abc', nil)"#,
            r#"number:98 number:99 number:97 number:98 number:97 number:2"#,
        ),
        (
            r#"return struct.unpack('', 'abc', 4), struct.unpack('c3', 'abc', 1), struct.unpack('x', 'abc', 3)"#,
            r#"number:4 s:abc number:4"#,
        ),
        (
            r#"return struct.unpack('b', 'abc', 4)"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('b', 'abc', 100)"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('b', 'abc', 0)"#,
            r#"ERR user_script:3: bad argument #3 to 'unpack' (offset must be 1 or greater)"#,
        ),
        (
            r#"return struct.unpack('b', 'abc', -1)"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('b', 'abc', 0.5)"#,
            r#"ERR user_script:3: bad argument #3 to 'unpack' (offset must be 1 or greater)"#,
        ),
        (
            r#"return struct.unpack('b', 'abc', 2^64)"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('b', 'abc', -2^63)"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('b', 'abc', 'x')"#,
            r#"ERR user_script:3: bad argument #3 to 'unpack' (number expected, got string)"#,
        ),
        (
            r#"return struct.unpack('b', 'abc', {})"#,
            r#"ERR user_script:3: bad argument #3 to 'unpack' (number expected, got table)"#,
        ),
        (
            r#"return struct.unpack('!4 b i', '\1\0\0\0\2\0\0\0'), struct.unpack('!4 b i', '\1\0\0\0\2\0\0\0', 1), struct.unpack('!8 b d', struct.pack('!8 b d', 1, 2.5)), struct.unpack('!4 b i3', '\1\0\0\0\2\0\0'), struct.unpack('!2 b h', '\1\0\2\0', 2)"#,
            r#"number:1 number:1 number:1 number:1 number:0 number:2 number:5"#,
        ),
        (
            r#"return struct.unpack('!4 b i', '\1\0\0')"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (data string too short)"#,
        ),
        (
            r#"return struct.unpack('!4 i', '\1\0\0\0\1\0\0\0\3\0\0\0', 2)"#,
            r#"number:1 number:9"#,
        ),
        (
            r#"return struct.unpack('z', 'a')"#,
            r#"ERR user_script:3: bad argument #1 to 'unpack' (invalid format option 'z')"#,
        ),
        (
            r#"return struct.unpack('!3', 'a')"#,
            r#"ERR user_script:3: alignment 3 is not a power of 2"#,
        ),
        (
            r#"return struct.unpack('i33', 'a')"#,
            r#"ERR user_script:3: integral size 33 is larger than limit of 32"#,
        ),
        (
            r#"return struct.unpack('i99999999999', 'a')"#,
            r#"ERR user_script:3: integral size overflow"#,
        ),
        (
            r#"return struct.unpack('b\0b', '\1\2'), struct.unpack('', 'abc'), struct.unpack('', ''), struct.unpack(' ', 'abc', 3)"#,
            r#"number:1 number:1 number:1 number:3"#,
        ),
        (r#"return struct.unpack('', '', 2)"#, r#"number:2"#),
        (
            r#"return struct.unpack('', 'abc', -5), struct.unpack('', '', 2^64), struct.unpack('', '', 2^53)"#,
            r#"number:-5 number:-9.2233720368548e+18 number:9.007199254741e+15"#,
        ),
        (
            r#"return struct.unpack(' b', '\1\2', '0x2'), struct.unpack('T', string.rep('\255', 8))"#,
            r#"number:2 number:1.844674407371e+19 number:9"#,
        ),
        (
            r#"return struct.unpack('b')"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (string expected, got no value)"#,
        ),
        (
            r#"return struct.unpack(nil, 'a')"#,
            r#"ERR user_script:3: bad argument #1 to 'unpack' (string expected, got nil)"#,
        ),
        (
            r#"return struct.unpack('b', {})"#,
            r#"ERR user_script:3: bad argument #2 to 'unpack' (string expected, got table)"#,
        ),
        (
            r#"return struct.unpack('b', 12), struct.unpack('c2', 12.5), struct.unpack(5, '5')"#,
            r#"ERR user_script:3: bad argument #1 to 'unpack' (invalid format option '5')"#,
        ),
        (
            r#"return pcall(struct.unpack, 'b', '')"#,
            r#"boolean:false s:bad argument #2 to '?' (data string too short)"#,
        ),
        (
            r#"return select('#', struct.unpack(string.rep('b', 7990), string.rep('\1', 7990)))"#,
            r#"number:7991"#,
        ),
        (
            r#"return select('#', struct.unpack(string.rep('b', 7995), string.rep('\1', 7995)))"#,
            r#"number:7996"#,
        ),
        (
            r#"return select('#', struct.unpack(string.rep('b', 7996), string.rep('\1', 7996)))"#,
            r#"number:7997"#,
        ),
        (
            r#"return select('#', struct.unpack(string.rep('b', 7997), string.rep('\1', 7997)))"#,
            r#"number:7998"#,
        ),
        (
            r#"return select('#', struct.unpack(string.rep('b', 7998), string.rep('\1', 7998)))"#,
            r#"ERR user_script:3: stack overflow (too many results)"#,
        ),
        (
            r#"return select('#', struct.unpack(string.rep('b', 9000), string.rep('\1', 9000)))"#,
            r#"ERR user_script:3: stack overflow (too many results)"#,
        ),
        (
            r#"return select('#', struct.unpack(string.rep('x', 9000), string.rep('\1', 9000)))"#,
            r#"number:1"#,
        ),
        (
            r#"return struct.size('b'), struct.size('B'), struct.size('h'), struct.size('H'), struct.size('l'), struct.size('L'), struct.size('T'), struct.size('i'), struct.size('I'), struct.size('f'), struct.size('d')"#,
            r#"number:1 number:1 number:2 number:2 number:8 number:8 number:8 number:4 number:4 number:4 number:8"#,
        ),
        (
            r#"return struct.size('i1'), struct.size('i3'), struct.size('i16'), struct.size('I32'), struct.size('i0'), struct.size('x'), struct.size('xxx'), struct.size('c7'), struct.size('c'), struct.size(''), struct.size(' < > ')"#,
            r#"number:1 number:3 number:16 number:32 number:0 number:1 number:3 number:7 number:1 number:0 number:0"#,
        ),
        (
            r#"return struct.size('!4 b i'), struct.size('! b d'), struct.size('!2 b i'), struct.size('!8 b i3'), struct.size('!4 b c3 i'), struct.size('b\0i'), struct.size('!16 b d b')"#,
            r#"number:8 number:16 number:6 number:6 number:8 number:1 number:17"#,
        ),
        (
            r#"return struct.size('z'), struct.size('b z'), struct.size('5'), struct.size('bQi'), struct.size('Z'), struct.size('y9')"#,
            r#"number:0 number:1 number:0 number:5 number:0 number:0"#,
        ),
        (
            r#"return struct.size('s')"#,
            r#"ERR user_script:3: bad argument #1 to 'size' (option 's' has no fixed size)"#,
        ),
        (
            r#"return struct.size('c0')"#,
            r#"ERR user_script:3: bad argument #1 to 'size' (option 'c0' has no fixed size)"#,
        ),
        (
            r#"return struct.size('b c0')"#,
            r#"ERR user_script:3: bad argument #1 to 'size' (option 'c0' has no fixed size)"#,
        ),
        (
            r#"return struct.size('#')"#,
            r#"ERR user_script:3: bad argument #1 to 'size' (invalid format option '#')"#,
        ),
        (
            r#"return struct.size('!3')"#,
            r#"ERR user_script:3: alignment 3 is not a power of 2"#,
        ),
        (
            r#"return struct.size('i33')"#,
            r#"ERR user_script:3: integral size 33 is larger than limit of 32"#,
        ),
        (
            r#"return struct.size('i99999999999')"#,
            r#"ERR user_script:3: integral size overflow"#,
        ),
        (
            r#"return struct.size()"#,
            r#"ERR user_script:3: bad argument #1 to 'size' (string expected, got no value)"#,
        ),
        (
            r#"return struct.size(nil)"#,
            r#"ERR user_script:3: bad argument #1 to 'size' (string expected, got nil)"#,
        ),
        (r#"return struct.size(7)"#, r#"number:0"#),
        (
            r#"return struct.unpack('>i', struct.pack('>i', -123456)), struct.unpack('<d', struct.pack('<d', math.pi)), struct.unpack('s b', struct.pack('s b', 'key', 9))"#,
            r#"number:-123456 number:3.1415926535898 s:key number:9 number:6"#,
        ),
    ];

    #[test]
    fn matches_valkey_transcript() {
        transcript::check(CASES);
    }

    #[test]
    fn double_conversions_follow_x86_64() {
        assert_eq!(c_double_to_i64(-1.9), -1);
        assert_eq!(c_double_to_i64(f64::NAN), i64::MIN);
        assert_eq!(c_double_to_i64(-1e30), i64::MIN);
        assert_eq!(c_double_to_u64(f64::NAN), 1 << 63);
        assert_eq!(c_double_to_u64(f64::INFINITY), 0);
        assert_eq!(c_double_to_u64(18446744073709551616.0), 0);
        assert_eq!(c_double_to_u64(TWO_POW_63 + 2048.0), (1 << 63) + 2048);
        assert_eq!(c_double_to_u64(-0.5), 0);
        assert_eq!(c_double_to_u64(-1.0), u64::MAX);
    }

    /// Hostile sizes and offsets end in a Lua error, never a panic or an
    /// allocation of the requested size.
    #[test]
    fn hostile_input_is_an_error() {
        let lua = transcript::lua();
        for snippet in [
            "return struct.unpack('c2147483647', 'x')",
            "return struct.unpack('i32 c0', string.rep('\\255', 40))",
            "return struct.unpack('b', 'x', -9007199254740992)",
            "return struct.unpack('!8 d', 'x', 2^62)",
            "return struct.pack('c2147483647', 'x')",
            "return struct.size(string.rep('c2147483647', 100))",
        ] {
            let got = transcript::run(&lua, snippet);
            assert!(
                got.starts_with("ERR ") || got.starts_with("number:"),
                "{snippet}: {got}"
            );
        }
    }
}
