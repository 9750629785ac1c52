//! `server.call` and `server.pcall` as plain Lua C functions: the
//! arguments are read off the Lua stack into one reused buffer, and the
//! command's reply is pushed back onto the stack as it is parsed (the rules
//! are `convert`'s). Through mlua's typed callbacks every argument and every
//! piece of the reply went through an mlua `Value` with a registry slot of
//! its own, about 2,500 instructions of a two-command script's run.
//!
//! A Lua error (`server.call`'s error table, or running out of memory)
//! unwinds with `longjmp`, which must not cross a Rust frame that still owns
//! something to drop: the functions here hold only plain data while they
//! call into Lua, and the argument buffer lives in [`CallState`].

use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_int, c_void};
use std::rc::Rc;

use mlua::ffi::{self, lua_State};

use super::convert::{COUNTED, MAX_REPLY_DEPTH};
use super::engine::{push_number_arg, ArgvBuf, HostSlot};

/// What both functions need, reached through their first upvalue. The
/// engine owns it (boxed, so its address stays put) and outlives the Lua
/// state's use of it.
pub(super) struct CallState {
    pub(super) slot: Rc<HostSlot>,
    pub(super) resp: Rc<Cell<u8>>,
    /// Only touched by one call at a time: calls do not nest (a script's
    /// command cannot run a script), and the hook cannot run Lua code while
    /// a call is on the stack.
    buf: UnsafeCell<ArgvBuf>,
}

impl CallState {
    pub(super) fn new(slot: Rc<HostSlot>, resp: Rc<Cell<u8>>) -> Box<CallState> {
        Box::new(CallState {
            slot,
            resp,
            buf: UnsafeCell::new(ArgvBuf::default()),
        })
    }
}

const OUTSIDE: &[u8] = b"ERR redis.call/pcall can only be called inside a script invocation";
const NO_ARGS: &[u8] = b"ERR Please specify at least one argument for this call";
const BAD_ARG: &[u8] = b"ERR Command arguments must be strings or integers";
const BAD_REPLY: &[u8] = b"ERR internal error decoding a command reply";

/// Sets `table[name]` (the table at stack index 1 of an `exec_raw`) to
/// `server.call` (`raises`) or `server.pcall`, with `state` as upvalue.
///
/// # Safety
/// `l` is inside a protected call with the table at index 1 and room for
/// three more values; `state` outlives every use of the function.
pub(super) unsafe fn install(
    l: *mut lua_State,
    name: &std::ffi::CStr,
    state: *const CallState,
    raises: bool,
) {
    unsafe {
        ffi::lua_pushstring(l, name.as_ptr());
        ffi::lua_pushlightuserdata(l, state as *mut c_void);
        let f: ffi::lua_CFunction = if raises { call } else { pcall };
        ffi::lua_pushcclosure(l, f, 1);
        ffi::lua_rawset(l, 1);
    }
}

unsafe extern "C-unwind" fn call(l: *mut lua_State) -> c_int {
    // SAFETY: only ever installed by `install`, whose caller promised the
    // upvalue's lifetime.
    unsafe { run(l, true) }
}

unsafe extern "C-unwind" fn pcall(l: *mut lua_State) -> c_int {
    // SAFETY: as `call`.
    unsafe { run(l, false) }
}

/// How a call ended: the reply is on the stack top, or an error table is
/// there that `server.call` raises.
enum Outcome {
    Reply,
    Failed,
    /// Raised by both functions.
    Outside,
}

unsafe fn run(l: *mut lua_State, raises: bool) -> c_int {
    // SAFETY: the upvalue is the `CallState` `install` was given.
    let outcome = unsafe {
        let state = &*(ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *const CallState);
        call_command(l, state)
    };
    // Nothing owned is alive here: a raised error may unwind past this frame.
    match outcome {
        Outcome::Reply => 1,
        Outcome::Failed if !raises => 1,
        Outcome::Failed | Outcome::Outside => unsafe { ffi::lua_error(l) },
    }
}

/// Runs the command the arguments name and pushes what the script gets.
unsafe fn call_command(l: *mut lua_State, state: &CallState) -> Outcome {
    unsafe {
        let n = ffi::lua_gettop(l);
        // SAFETY: see `CallState::buf`; the borrow ends before any Lua
        // code could run again.
        let buf = &mut *state.buf.get();
        let read = read_args(l, n, buf);
        // The arguments are copied: their stack room (up to Lua's limit of
        // 8,000, with `unpack`) is the reply's now.
        ffi::lua_settop(l, 0);
        if let Err(msg) = read {
            return push_error(l, msg, false);
        }
        let resp = state.resp.get();
        // The reply stays in the host's buffer until its next call, which
        // cannot come before this one has pushed it: no Lua code runs while
        // it is parsed (the collector runs no finalizers a script can set).
        let reply = state.slot.with(|h| {
            let r = h.call(&buf.argv, resp);
            (r.as_ptr(), r.len())
        });
        // The arena's buffer is free again once no argument holds it.
        buf.argv.clear();
        let Some((ptr, len)) = reply else {
            push_error(l, OUTSIDE, false);
            return Outcome::Outside;
        };
        push_call_reply(l, std::slice::from_raw_parts(ptr, len))
    }
}

/// Pushes what `server.call` gives for the command reply `reply`: the
/// error table of an error reply (counted already), else the value.
unsafe fn push_call_reply(l: *mut lua_State, reply: &[u8]) -> Outcome {
    unsafe {
        if reply.first() == Some(&b'-') {
            let end = memchr::memchr(b'\r', reply).unwrap_or(reply.len());
            return push_error(l, &reply[1..end], true);
        }
        let mut pos = 0;
        if push_reply(l, reply, &mut pos, 0).is_none() {
            return push_error(l, BAD_REPLY, false);
        }
    }
    Outcome::Reply
}

/// The arguments at stack indexes 1..=n as a command line in `buf.argv`:
/// strings as they are, numbers as `push_number_arg` writes them.
unsafe fn read_args(l: *mut lua_State, n: c_int, buf: &mut ArgvBuf) -> Result<(), &'static [u8]> {
    if n < 1 {
        return Err(NO_ARGS);
    }
    buf.clear();
    for i in 1..=n {
        // SAFETY: `i` is a valid stack index.
        unsafe {
            match ffi::lua_type(l, i) {
                ffi::LUA_TSTRING => {
                    let mut len = 0usize;
                    let p = ffi::lua_tolstring(l, i, &mut len);
                    buf.arena
                        .extend_from_slice(std::slice::from_raw_parts(p.cast::<u8>(), len));
                }
                ffi::LUA_TNUMBER => push_number_arg(&mut buf.arena, ffi::lua_tonumber(l, i)),
                _ => return Err(BAD_ARG),
            }
        }
        buf.end_arg();
    }
    buf.finish();
    Ok(())
}

/// Pushes `{err = msg}` (with the already-counted mark when `counted`).
unsafe fn push_error(l: *mut lua_State, msg: &[u8], counted: bool) -> Outcome {
    unsafe {
        ffi::lua_createtable(l, 0, 2);
        push_bytes(l, msg);
        ffi::lua_setfield(l, -2, c"err".as_ptr());
        if counted {
            ffi::lua_pushboolean(l, 1);
            ffi::lua_setfield(l, -2, COUNTED_C.as_ptr());
        }
    }
    Outcome::Failed
}

/// `convert::COUNTED` as a C string.
const COUNTED_C: &std::ffi::CStr = c"ignore_error_stats_update";
const _: () = assert!(COUNTED.len() == COUNTED_C.count_bytes());

unsafe fn push_bytes(l: *mut lua_State, b: &[u8]) {
    // An empty slice's pointer may dangle: give Lua a real one.
    let p = if b.is_empty() {
        c"".as_ptr()
    } else {
        b.as_ptr().cast()
    };
    unsafe { ffi::lua_pushlstring_(l, p, b.len()) };
}

/// The line after the type byte at `*pos`, moving past its CRLF.
fn line<'a>(b: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let start = *pos + 1;
    let end = start + memchr::memchr(b'\r', b.get(start..)?)?;
    *pos = end + 2;
    Some(&b[start..end])
}

/// A length line: None for a malformed one, Some(None) for -1 (null).
fn len(b: &[u8], pos: &mut usize) -> Option<Option<usize>> {
    let n = crate::util::num::parse_i64(line(b, pos)?)?;
    Some(if n < 0 { None } else { Some(n as usize) })
}

/// `n` bytes of payload and their CRLF.
fn payload<'a>(b: &'a [u8], pos: &mut usize, n: usize) -> Option<&'a [u8]> {
    let end = pos.checked_add(n)?;
    let data = b.get(*pos..end)?;
    *pos = end + 2;
    Some(data)
}

/// Wraps the value on the stack top in `{key = value}`.
unsafe fn wrap(l: *mut lua_State, key: &std::ffi::CStr) {
    unsafe {
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_insert(l, -2);
        ffi::lua_setfield(l, -2, key.as_ptr());
    }
}

/// Pushes the reply at `b[*pos..]` as the script sees it (the table in
/// `convert`'s header); None for bytes that are not a reply.
unsafe fn push_reply(l: *mut lua_State, b: &[u8], pos: &mut usize, depth: usize) -> Option<()> {
    if depth > MAX_REPLY_DEPTH {
        return None;
    }
    // SAFETY (every block below): values are pushed onto a stack with room
    // checked, and each table is filled at index -2 or -3 right after.
    unsafe {
        if ffi::lua_checkstack(l, 4) == 0 {
            return None;
        }
        match *b.get(*pos)? {
            b'+' => {
                push_bytes(l, line(b, pos)?);
                wrap(l, c"ok");
            }
            b'-' => {
                let msg = line(b, pos)?;
                push_error(l, msg, true);
            }
            b':' => ffi::lua_pushnumber(l, crate::util::num::parse_i64(line(b, pos)?)? as f64),
            b'$' => match len(b, pos)? {
                None => ffi::lua_pushboolean(l, 0),
                Some(n) => push_bytes(l, payload(b, pos, n)?),
            },
            b'*' | b'>' => match len(b, pos)? {
                None => ffi::lua_pushboolean(l, 0),
                Some(n) => {
                    let n = c_int::try_from(n).ok()?;
                    ffi::lua_createtable(l, n.min(1 << 16), 0);
                    for i in 1..=n {
                        push_reply(l, b, pos, depth + 1)?;
                        ffi::lua_rawseti_(l, -2, i);
                    }
                }
            },
            b'%' => {
                let n = len(b, pos)?.unwrap_or(0);
                ffi::lua_createtable(l, 0, 0);
                for _ in 0..n {
                    push_reply(l, b, pos, depth + 1)?;
                    push_reply(l, b, pos, depth + 1)?;
                    if ffi::lua_type(l, -2) == ffi::LUA_TNIL {
                        ffi::lua_settop(l, -3);
                    } else {
                        ffi::lua_rawset(l, -3);
                    }
                }
                wrap(l, c"map");
            }
            b'~' => {
                let n = len(b, pos)?.unwrap_or(0);
                ffi::lua_createtable(l, 0, 0);
                for _ in 0..n {
                    push_reply(l, b, pos, depth + 1)?;
                    if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
                        ffi::lua_settop(l, -2);
                    } else {
                        ffi::lua_pushboolean(l, 1);
                        ffi::lua_rawset(l, -3);
                    }
                }
                wrap(l, c"set");
            }
            b'_' => {
                line(b, pos)?;
                ffi::lua_pushnil(l);
            }
            b'#' => ffi::lua_pushboolean(l, c_int::from(line(b, pos)? == b"t")),
            b',' => {
                let s = line(b, pos)?;
                let d = match s {
                    b"inf" => f64::INFINITY,
                    b"-inf" => f64::NEG_INFINITY,
                    b"nan" | b"-nan" => f64::NAN,
                    _ => crate::util::num::parse_f64(s)?,
                };
                ffi::lua_pushnumber(l, d);
                wrap(l, c"double");
            }
            b'(' => {
                push_bytes(l, line(b, pos)?);
                wrap(l, c"big_number");
            }
            b'=' => {
                let n = len(b, pos)?.unwrap_or(0);
                let data = payload(b, pos, n)?;
                let (format, text) = if data.len() >= 4 && data[3] == b':' {
                    (&data[..3], &data[4..])
                } else {
                    (&b"txt"[..], data)
                };
                ffi::lua_createtable(l, 0, 2);
                push_bytes(l, format);
                ffi::lua_setfield(l, -2, c"format".as_ptr());
                push_bytes(l, text);
                ffi::lua_setfield(l, -2, c"string".as_ptr());
                wrap(l, c"verbatim_string");
            }
            b'|' => {
                // Attributes are not shown to scripts: skip them.
                let n = len(b, pos)?.unwrap_or(0);
                for _ in 0..2 * n {
                    push_reply(l, b, pos, depth + 1)?;
                    ffi::lua_settop(l, -2);
                }
                push_reply(l, b, pos, depth)?;
            }
            _ => return None,
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlua::{Lua, Value};

    /// What `server.call` would give a script for `reply`, and whether it
    /// raises it.
    fn call_reply(lua: &Lua, reply: &[u8]) -> (Value, bool) {
        // SAFETY: a protected call with room for what `push_call_reply`
        // pushes (it checks for more as it nests).
        let mut failed = false;
        let v = unsafe {
            lua.exec_raw::<Value>((), |l| {
                failed = matches!(push_call_reply(l, reply), Outcome::Failed);
                // What Lua gets is the top value (a failed parse may leave
                // pieces below it).
                if ffi::lua_gettop(l) > 1 {
                    ffi::lua_replace(l, 1);
                    ffi::lua_settop(l, 1);
                }
            })
        };
        (v.expect("pushed"), failed)
    }

    #[test]
    fn replies_become_lua_values() {
        let lua = Lua::new();
        let check = |bytes: &[u8], code: &str| {
            let (v, err) = call_reply(&lua, bytes);
            let f: mlua::Function = lua.load(code).eval().unwrap();
            assert!(f.call::<bool>((v, err)).unwrap(), "{code}");
        };
        check(
            b":5\r\n",
            "return function(v, e) return v == 5 and not e end",
        );
        check(b"$-1\r\n", "return function(v) return v == false end");
        check(b"*-1\r\n", "return function(v) return v == false end");
        check(b"+OK\r\n", "return function(v) return v.ok == 'OK' end");
        check(
            b"-ERR bad thing\r\n",
            "return function(v, e) return v.err == 'ERR bad thing' and v.ignore_error_stats_update and e end",
        );
        check(
            b"*3\r\n$1\r\na\r\n:2\r\n*1\r\n$0\r\n\r\n",
            "return function(v) return v[1] == 'a' and v[2] == 2 and v[3][1] == '' end",
        );
        check(
            b"*2\r\n-ERR inner\r\n:1\r\n",
            "return function(v, e) return v[1].err == 'ERR inner' and v[2] == 1 and not e end",
        );
        check(
            b"%2\r\n$1\r\nk\r\n,1.5\r\n_\r\n:1\r\n",
            "return function(v) local n = 0 for _ in pairs(v.map) do n = n + 1 end return v.map.k.double == 1.5 and n == 1 end",
        );
        check(
            b"~1\r\n$1\r\nm\r\n",
            "return function(v) return v.set.m == true end",
        );
        check(b"_\r\n", "return function(v) return v == nil end");
        check(b"#f\r\n", "return function(v) return v == false end");
        check(
            b",inf\r\n",
            "return function(v) return v.double == math.huge end",
        );
        check(
            b"(12345678901234567890\r\n",
            "return function(v) return v.big_number == '12345678901234567890' end",
        );
        check(
            b"=7\r\ntxt:abc\r\n",
            "return function(v) return v.verbatim_string.format == 'txt' and v.verbatim_string.string == 'abc' end",
        );
        check(
            b"|1\r\n+a\r\n+b\r\n:7\r\n",
            "return function(v) return v == 7 end",
        );
        // Malformed bytes are an error table, not a panic or a read past
        // the end.
        for bad in [&b"$5\r\nab\r\n"[..], b"*2\r\n:1\r\n", b"?x\r\n", b":12"] {
            check(
                bad,
                "return function(v, e) return v.err == 'ERR internal error decoding a command reply' and e end",
            );
        }
    }
}
