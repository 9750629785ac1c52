//! Values across the script boundary, by Valkey's documented rules: a
//! command's reply (RESP2 or RESP3 bytes) to the Lua value `server.call`
//! returns (pushed straight onto Lua's stack by `raw_call`), and a
//! script's return value to the caller's reply (here).
//!
//! | reply | Lua |
//! |---|---|
//! | integer | number |
//! | bulk string | string; nil bulk and nil array → false |
//! | array | table (1-based) |
//! | status | `{ok = s}`; error → `{err = s}` |
//! | RESP3 map / set | `{map = {k = v}}` / `{set = {k = true}}` |
//! | RESP3 null / boolean | nil / boolean |
//! | RESP3 double / big number | `{double = n}` / `{big_number = s}` |
//! | RESP3 verbatim | `{verbatim_string = {format = f, string = s}}` |
//!
//! Back: strings are bulk strings, numbers are truncated to integers,
//! `true` is 1 and `false` nil (RESP2 script) or booleans (after
//! `server.setresp(3)`), and the tables above turn back into their replies.

use mlua::{Lua, Table, Value};

use crate::resp::ReplyBuf;

/// How deep a returned table may nest (Valkey stops at its Lua stack limit,
/// with this error in place of the rest; references to nested tables are
/// held while they are written, and mlua has room for fewer than 8,000).
pub const MAX_REPLY_DEPTH: usize = 1000;

/// `{err = msg}`.
pub fn error_table(lua: &Lua, msg: &[u8]) -> mlua::Result<Value> {
    let t = lua.create_table_with_capacity(0, 1)?;
    t.raw_set("err", lua.create_string(msg)?)?;
    Ok(Value::Table(t))
}

/// The field Valkey puts in an error table made from a command's error
/// reply: that error was counted (errorstats) when the command failed, and
/// is not counted again when the script ends with it.
pub const COUNTED: &str = "ignore_error_stats_update";

/// Whether `v` is an error table whose error was counted already.
pub fn is_counted(v: &Value) -> bool {
    matches!(v, Value::Table(t) if t.raw_get::<bool>(COUNTED).unwrap_or(false))
}

/// C's `(long long)` of a double as x86 computes it: out of range and NaN
/// give the smallest integer (Valkey replies that for `return 1e20`).
fn c_llong(d: f64) -> i64 {
    const LIM: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIM..LIM).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// One line of text for a status or error reply: CR and LF become spaces.
fn one_line(s: &[u8]) -> String {
    String::from_utf8_lossy(s).replace(['\r', '\n'], " ")
}

fn string_field(t: &Table, key: &str) -> Option<mlua::LuaString> {
    match t.raw_get::<Value>(key) {
        Ok(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Writes a script's return value `v` to `out` (the caller's protocol);
/// `script_resp` is what the script set with `server.setresp`.
pub fn lua_to_reply(v: &Value, out: &mut ReplyBuf, script_resp: u8, depth: usize) {
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if script_resp == 2 {
                if *b {
                    out.int(1)
                } else {
                    out.null()
                }
            } else {
                out.boolean(*b)
            }
        }
        Value::Integer(i) => out.int(*i),
        Value::Number(n) => out.int(c_llong(*n)),
        Value::Table(t) => {
            if depth >= MAX_REPLY_DEPTH {
                out.error("ERR reached lua stack limit");
                return;
            }
            table_to_reply(t, out, script_resp, depth)
        }
        _ => out.null(),
    }
}

/// The text of a top-level error table (`{err = ...}`), as its error
/// reply would carry it.
pub fn top_level_error(v: &Value) -> Option<String> {
    let Value::Table(t) = v else { return None };
    string_field(t, "err").map(|e| one_line(&e.as_bytes()))
}

fn table_to_reply(t: &Table, out: &mut ReplyBuf, script_resp: u8, depth: usize) {
    if let Some(e) = string_field(t, "err") {
        out.error(&one_line(&e.as_bytes()));
        return;
    }
    if let Some(s) = string_field(t, "ok") {
        out.simple(&one_line(&s.as_bytes()));
        return;
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => return out.double(d),
        Ok(Value::Integer(i)) => return out.double(i as f64),
        _ => {}
    }
    if let Some(s) = string_field(t, "big_number") {
        out.big_number(&one_line(&s.as_bytes()));
        return;
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Some(format), Some(text)) = (string_field(&v, "format"), string_field(&v, "string"))
        {
            verbatim(out, &format.as_bytes(), &text.as_bytes());
            return;
        }
    }
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        let pairs: Vec<(Value, Value)> = m.pairs::<Value, Value>().flatten().collect();
        out.map(pairs.len());
        for (k, v) in &pairs {
            lua_to_reply(k, out, script_resp, depth + 1);
            lua_to_reply(v, out, script_resp, depth + 1);
        }
        return;
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        let keys: Vec<Value> = s
            .pairs::<Value, Value>()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        out.set(keys.len());
        for k in &keys {
            lua_to_reply(k, out, script_resp, depth + 1);
        }
        return;
    }
    // An array: elements 1, 2, ... up to the first nil.
    let mut n = 0;
    while !matches!(t.raw_get::<Value>(n + 1), Ok(Value::Nil) | Err(_)) {
        n += 1;
    }
    out.array(n);
    for i in 1..=n {
        let v = t.raw_get::<Value>(i).unwrap_or(Value::Nil);
        lua_to_reply(&v, out, script_resp, depth + 1);
    }
}

/// A verbatim string with its format: `=len\r\nfmt:text` in RESP3, a bulk
/// string of the text in RESP2.
fn verbatim(out: &mut ReplyBuf, format: &[u8], text: &[u8]) {
    if !out.is_resp3() {
        out.bulk(text);
        return;
    }
    // The format is three bytes: shorter ones padded with spaces, longer
    // ones cut, as Valkey writes them.
    let mut f = [b' '; 3];
    for (d, s) in f.iter_mut().zip(format) {
        *d = *s;
    }
    let format = &f[..];
    let mut raw = Vec::with_capacity(text.len() + 16);
    raw.push(b'=');
    raw.extend_from_slice((text.len() + 4).to_string().as_bytes());
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(format);
    raw.push(b':');
    raw.extend_from_slice(text);
    raw.extend_from_slice(b"\r\n");
    out.raw(&raw);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_of(v: &Value, caller_resp: u8, script_resp: u8) -> Vec<u8> {
        let mut out = ReplyBuf::new(caller_resp);
        lua_to_reply(v, &mut out, script_resp, 0);
        let mut bytes = Vec::new();
        out.take().pieces_from(0, |p| {
            bytes.extend_from_slice(p);
            true
        });
        bytes
    }

    fn eval(lua: &Lua, code: &str) -> Value {
        lua.load(code).eval().unwrap()
    }

    #[test]
    fn script_values_become_valkeys_replies() {
        // Transcripts of Valkey 9.1 (RESP2 caller and script).
        let lua = Lua::new();
        let cases: &[(&str, &[u8])] = &[
            (
                "return {1,2,{ok='x'},{err='E x'},false,true,3.9,-2.5}",
                b"*8\r\n:1\r\n:2\r\n+x\r\n-E x\r\n$-1\r\n:1\r\n:3\r\n:-2\r\n",
            ),
            (
                "return {1,2,3,'x',nil,4}",
                b"*4\r\n:1\r\n:2\r\n:3\r\n$1\r\nx\r\n",
            ),
            ("return {double=1.5}", b"$3\r\n1.5\r\n"),
            ("return {map={a=1}}", b"*2\r\n$1\r\na\r\n:1\r\n"),
            ("return {err='nocode'}", b"-nocode\r\n"),
            ("return {err=''}", b"-\r\n"),
            ("return {ok='a\\r\\nb'}", b"+a  b\r\n"),
            ("return nil", b"$-1\r\n"),
            ("return 1e20", b":-9223372036854775808\r\n"),
            ("return -1/0", b":-9223372036854775808\r\n"),
            ("return 0/0", b":-9223372036854775808\r\n"),
        ];
        for (code, want) in cases {
            let v = eval(&lua, code);
            assert_eq!(reply_of(&v, 2, 2), *want, "{code}");
        }
        // RESP3 caller, script in RESP3.
        let v = eval(&lua, "return {map={a=true}}");
        assert_eq!(reply_of(&v, 3, 3), b"%1\r\n$1\r\na\r\n#t\r\n");
        let v = eval(&lua, "return false");
        assert_eq!(reply_of(&v, 3, 2), b"_\r\n");
        let v = eval(&lua, "return {verbatim_string={format='txt', string='hi'}}");
        assert_eq!(reply_of(&v, 3, 3), b"=6\r\ntxt:hi\r\n");
        assert_eq!(reply_of(&v, 2, 3), b"$2\r\nhi\r\n");
    }

    #[test]
    fn self_referencing_tables_stop_at_the_depth_limit() {
        // The server runs scripts on its main thread: 8 MiB of stack, as
        // this thread (the test threads' default 2 MiB is not the case).
        let t = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(|| {
                let lua = Lua::new();
                let v = eval(&lua, "local t = {} t[1] = t return t");
                reply_of(&v, 2, 2)
            })
            .unwrap();
        let r = t.join().unwrap();
        assert!(r.ends_with(b"-ERR reached lua stack limit\r\n"));
        assert_eq!(
            r.windows(4).filter(|w| w == b"*1\r\n").count(),
            MAX_REPLY_DEPTH
        );
    }
}
