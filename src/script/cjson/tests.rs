//! `cjson` checked against Valkey 9.1: each case is a script and the reply
//! the real server gave (captured with EVAL after SCRIPT FLUSH, so every
//! case starts from default settings), shown in a canonical text form. The
//! harness here is shared with the `cmsgpack` tests.

use mlua::{Function, Lua, MultiValue, Value};

use super::double_to_i64;

/// A Lua state with `cjson` and `cmsgpack` installed, as scripts see them.
pub(crate) fn script_lua() -> Lua {
    let lua = Lua::new();
    let globals = lua.globals();
    globals
        .set("cjson", super::open(&lua).expect("cjson opens"))
        .expect("set cjson");
    let cmsgpack = crate::script::cmsgpack::open(&lua).expect("cmsgpack opens");
    globals.set("cmsgpack", cmsgpack).expect("set cmsgpack");
    lua
}

/// Runs `code` like EVAL does (chunk named `@user_script`, called from C)
/// and renders the reply: strings escaped, numbers as Valkey's integer
/// conversion, false/nil as (nil), tables as arrays, errors as `ERR:msg`.
pub(crate) fn run_script(lua: &Lua, code: &str) -> String {
    let chunk = match lua.load(code).set_name("@user_script").into_function() {
        Ok(f) => f,
        Err(e) => return format!("COMPILE ERROR: {e}"),
    };
    let pcall: Function = lua.globals().get("pcall").expect("pcall");
    let results: MultiValue = match pcall.call(chunk) {
        Ok(r) => r,
        Err(e) => return format!("HARNESS ERROR: {e}"),
    };
    match results.front() {
        Some(Value::Boolean(true)) => reply(results.get(1).unwrap_or(&Value::Nil)),
        _ => match results.get(1) {
            Some(Value::String(s)) => format!("ERR:{}", escape(&s.as_bytes())),
            other => format!("ERR (not a string): {other:?}"),
        },
    }
}

fn reply(value: &Value) -> String {
    match value {
        Value::String(s) => escape(&s.as_bytes()),
        Value::Integer(i) => format!("(integer) {i}"),
        Value::Number(n) => format!("(integer) {}", double_to_i64(*n)),
        Value::Boolean(true) => "(integer) 1".to_string(),
        Value::Table(t) => {
            let mut items = Vec::new();
            for i in 1.. {
                match t.raw_get::<Value>(i) {
                    Ok(Value::Nil) | Err(_) => break,
                    Ok(v) => items.push(reply(&v)),
                }
            }
            format!("[{}]", items.join(", "))
        }
        _ => "(nil)".to_string(),
    }
}

fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// Runs every case on a fresh state and reports all mismatches at once.
pub(crate) fn check_cases(cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (code, expected) in cases {
        let lua = script_lua();
        let got = run_script(&lua, code);
        if got != *expected {
            failures.push(format!(
                "script: {code}\n  expected: {expected}\n  got:      {got}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn matches_valkey() {
    check_cases(CASES);
}

#[test]
fn settings_persist_for_the_state_and_new_is_independent() {
    let lua = script_lua();
    assert_eq!(
        run_script(&lua, "return cjson.encode_max_depth(3)"),
        "(integer) 3"
    );
    assert_eq!(
        run_script(&lua, "return cjson.encode_max_depth()"),
        "(integer) 3"
    );
    assert_eq!(
        run_script(&lua, "return {pcall(cjson.encode, {{{{}}}})}"),
        "[(nil), Cannot serialise, excessive nesting (4)]"
    );
    assert_eq!(
        run_script(&lua, "return cjson.new().encode_max_depth()"),
        "(integer) 1000"
    );
}

#[test]
fn keep_buffer_output_does_not_leak_between_calls() {
    let lua = script_lua();
    let long = "return cjson.encode(string.rep('x', 100))";
    assert_eq!(run_script(&lua, long).len(), 102);
    assert_eq!(run_script(&lua, "return cjson.encode(1)"), "1");
    assert_eq!(
        run_script(&lua, "return {pcall(cjson.encode, {1, tostring})}"),
        "[(nil), Cannot serialise function: type not supported]"
    );
    assert_eq!(run_script(&lua, "return cjson.encode({2})"), "[2]");
}

#[test]
fn format_g_matches_printf() {
    let cases: &[(f64, usize, &str)] = &[
        (0.0, 14, "0"),
        (-0.0, 14, "-0"),
        (1e-5, 14, "1e-05"),
        (123456789012345.0, 14, "1.2345678901234e+14"),
        (0.1 + 0.2, 17, "0.30000000000000004"),
        (2.5, 1, "2"),
        (9.5, 1, "1e+01"),
        (1e100, 3, "1e+100"),
        (f64::INFINITY, 14, "inf"),
        (-f64::NAN, 14, "-nan"),
        (f64::NAN, 14, "nan"),
    ];
    for &(n, p, want) in cases {
        let mut out = Vec::new();
        super::format_g(&mut out, n, p);
        assert_eq!(String::from_utf8_lossy(&out), want, "{n} at precision {p}");
    }
}

#[test]
fn strtod_stops_where_glibc_does() {
    let cases: &[(&str, Option<(f64, usize)>)] = &[
        ("12abc", Some((12.0, 2))),
        ("-.5e", Some((-0.5, 3))),
        ("1.e+x", Some((1.0, 2))),
        ("0x", Some((0.0, 1))),
        ("0x1p", Some((1.0, 3))),
        ("infinityx", Some((f64::INFINITY, 8))),
        ("-", None),
        (".", None),
        ("", None),
    ];
    for &(text, want) in cases {
        assert_eq!(super::strtod(text.as_bytes(), 0), want, "{text}");
    }
}

#[test]
fn deep_self_reference_does_not_overflow_the_native_stack() {
    // Run on a small thread stack: the walk must not recurse per level.
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let lua = script_lua();
            let encode = "cjson.encode_max_depth(2^30) local t = {} t[1] = t return {pcall(cjson.encode, t)}";
            let decode = "cjson.decode_max_depth(2^30) return {pcall(cjson.decode, string.rep('[', 100000))}";
            (run_script(&lua, encode), run_script(&lua, decode))
        })
        .expect("spawn");
    let (encoded, decoded) = handle.join().expect("no overflow");
    assert_eq!(
        encoded,
        "[(nil), Cannot serialise, excessive nesting (7998)]"
    );
    assert_eq!(
        decoded,
        "[(nil), Found too many nested data structures (7999) at character 7999]"
    );
}

/// (script, reply captured from Valkey 9.1)
const CASES: &[(&str, &str)] = &[
    (r###"return cjson.encode({1,2,3})"###, r###"[1,2,3]"###),
    (r###"return cjson.encode({})"###, r###"{}"###),
    (r###"return cjson.encode({a=1})"###, r###"{"a":1}"###),
    (
        r###"return cjson.encode("a/b\"c\\d\n\r\t\b\f\1\31\127\128\255 é")"###,
        r###""a\\/b\\"c\\\\d\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\x80\xff \xc3\xa9""###,
    ),
    (r###"return cjson.encode("a\0b")"###, r###""a\\u0000b""###),
    (r###"return cjson.encode(0.1)"###, r###"0.1"###),
    (r###"return cjson.encode(1/3)"###, r###"0.33333333333333"###),
    (r###"return cjson.encode(-0)"###, r###"-0"###),
    (r###"return cjson.encode(-0.0)"###, r###"-0"###),
    (r###"return cjson.encode(1e300)"###, r###"1e+300"###),
    (
        r###"return cjson.encode(123456789012345678)"###,
        r###"1.2345678901235e+17"###,
    ),
    (
        r###"return cjson.encode(2^53)"###,
        r###"9.007199254741e+15"###,
    ),
    (r###"return cjson.encode(1e-5)"###, r###"1e-05"###),
    (r###"return cjson.encode(0.0001)"###, r###"0.0001"###),
    (
        r###"return cjson.encode(100000000000000)"###,
        r###"1e+14"###,
    ),
    (r###"return cjson.encode(1e15)"###, r###"1e+15"###),
    (
        r###"return cjson.encode(true) .. cjson.encode(false) .. cjson.encode(nil) .. cjson.encode(cjson.null)"###,
        r###"truefalsenullnull"###,
    ),
    (r###"return cjson.encode({1,nil,3})"###, r###"[1,null,3]"###),
    (
        r###"return cjson.encode({[1]=1,[2]=2,[4]=4})"###,
        r###"[1,2,null,4]"###,
    ),
    (
        r###"return cjson.encode({[1]=1,[20]=2})"###,
        r###"ERR:user_script:1: Cannot serialise table: excessively sparse array"###,
    ),
    (
        r###"return cjson.encode({[11]=1})"###,
        r###"ERR:user_script:1: Cannot serialise table: excessively sparse array"###,
    ),
    (
        r###"return cjson.encode({[10]=1})"###,
        r###"[null,null,null,null,null,null,null,null,null,1]"###,
    ),
    (r###"return cjson.encode({[0]=1})"###, r###"{"0":1}"###),
    (r###"return cjson.encode({[-1]=1})"###, r###"{"-1":1}"###),
    (r###"return cjson.encode({[1.5]=1})"###, r###"{"1.5":1}"###),
    (
        r###"return cjson.encode({[2^31]=1})"###,
        r###"{"2147483648":1}"###,
    ),
    (
        r###"return cjson.encode({[2^31-1]=1})"###,
        r###"ERR:user_script:1: Cannot serialise table: excessively sparse array"###,
    ),
    (
        r###"return cjson.encode({[2^33]=1})"###,
        r###"{"8589934592":1}"###,
    ),
    (
        r###"return cjson.encode({[1e300]=1})"###,
        r###"{"1e+300":1}"###,
    ),
    (
        r###"return cjson.encode({[1/0]=1})"###,
        r###"ERR:user_script:1: Cannot serialise number: must not be NaN or Inf"###,
    ),
    (
        r###"return {pcall(cjson.encode, {[true]=1})}"###,
        r###"[(nil), Cannot serialise boolean: table key must be a number or string]"###,
    ),
    (
        r###"return {pcall(cjson.encode, {f=function() end})}"###,
        r###"[(nil), Cannot serialise function: type not supported]"###,
    ),
    (
        r###"return {pcall(cjson.encode, function() end)}"###,
        r###"[(nil), Cannot serialise function: type not supported]"###,
    ),
    (
        r###"return {pcall(cjson.encode, coroutine.create(function() end))}"###,
        r###"[(nil), Cannot serialise thread: type not supported]"###,
    ),
    (
        r###"return {pcall(cjson.encode, 0/0)}"###,
        r###"[(nil), Cannot serialise number: must not be NaN or Inf]"###,
    ),
    (
        r###"return {pcall(cjson.encode, 1/0)}"###,
        r###"[(nil), Cannot serialise number: must not be NaN or Inf]"###,
    ),
    (
        r###"return {pcall(cjson.encode, -1/0)}"###,
        r###"[(nil), Cannot serialise number: must not be NaN or Inf]"###,
    ),
    (
        r###"cjson.encode_invalid_numbers(true) return cjson.encode({0/0, 1/0, -1/0})"###,
        r###"[nan,inf,-inf]"###,
    ),
    (
        r###"return tostring(cjson.encode_invalid_numbers('null')) .. cjson.encode({0/0, 1/0, -1/0})"###,
        r###"null[null,null,null]"###,
    ),
    (
        r###"cjson.encode_invalid_numbers(true) return cjson.encode({[1/0]=1})"###,
        r###"{"inf":1}"###,
    ),
    (
        r###"return {pcall(cjson.encode_invalid_numbers, 'maybe')}"###,
        r###"[(nil), bad argument #1 to '?' (invalid option 'maybe')]"###,
    ),
    (
        r###"return {pcall(cjson.encode_invalid_numbers, 5)}"###,
        r###"[(nil), bad argument #1 to '?' (invalid option '5')]"###,
    ),
    (
        r###"return {pcall(cjson.encode_invalid_numbers, {})}"###,
        r###"[(nil), bad argument #1 to '?' (string expected, got table)]"###,
    ),
    (
        r###"return {tostring(cjson.encode_invalid_numbers()), tostring(cjson.encode_invalid_numbers('on')), tostring(cjson.encode_invalid_numbers(false)), tostring(cjson.encode_invalid_numbers('null')),tostring(cjson.encode_invalid_numbers('off'))}"###,
        r###"[false, true, false, null, false]"###,
    ),
    (
        r###"return {tostring(cjson.decode_invalid_numbers()), tostring(cjson.decode_invalid_numbers(false)), tostring(cjson.decode_invalid_numbers('on'))}"###,
        r###"[true, false, true]"###,
    ),
    (
        r###"return {pcall(cjson.decode_invalid_numbers, 'null')}"###,
        r###"[(nil), bad argument #1 to '?' (invalid option 'null')]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, 0)}"###,
        r###"[(nil), bad argument #1 to '?' (expected integer between 1 and 2147483647)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, 'x')}"###,
        r###"[(nil), bad argument #1 to '?' (number expected, got string)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, '7')}"###,
        r###"[(integer) 1, (integer) 7]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, 1, 2)}"###,
        r###"[(nil), bad argument #2 to '?' (found too many arguments)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, 2^32+5)}"###,
        r###"[(integer) 1, (integer) 5]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, 2.9)}"###,
        r###"[(integer) 1, (integer) 2]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, -2^32)}"###,
        r###"[(nil), bad argument #1 to '?' (expected integer between 1 and 2147483647)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, 0/0)}"###,
        r###"[(nil), bad argument #1 to '?' (expected integer between 1 and 2147483647)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, 2^31)}"###,
        r###"[(nil), bad argument #1 to '?' (expected integer between 1 and 2147483647)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, 2^40+7)}"###,
        r###"[(integer) 1, (integer) 7]"###,
    ),
    (
        r###"return {cjson.decode_max_depth(), cjson.decode_max_depth(5), cjson.decode_max_depth()}"###,
        r###"[(integer) 1000, (integer) 5, (integer) 5]"###,
    ),
    (
        r###"return {pcall(cjson.decode_max_depth, 0)}"###,
        r###"[(nil), bad argument #1 to '?' (expected integer between 1 and 2147483647)]"###,
    ),
    (
        r###"return {cjson.encode_number_precision(), cjson.encode_number_precision(3), cjson.encode(1/3), cjson.encode(12345)}"###,
        r###"[(integer) 14, (integer) 3, 0.333, 1.23e+04]"###,
    ),
    (
        r###"return {pcall(cjson.encode_number_precision, 15)}"###,
        r###"[(nil), bad argument #1 to '?' (expected integer between 1 and 14)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_number_precision, 0)}"###,
        r###"[(nil), bad argument #1 to '?' (expected integer between 1 and 14)]"###,
    ),
    (
        r###"cjson.encode_number_precision(1) return cjson.encode({0.5, 1.5, 2.5, 15, 0.05, 123})"###,
        r###"[0.5,2,2,2e+01,0.05,1e+02]"###,
    ),
    (
        r###"return {tostring(cjson.encode_keep_buffer()), tostring(cjson.encode_keep_buffer(false)), tostring(cjson.encode_keep_buffer('on')), cjson.encode({1})}"###,
        r###"[true, false, true, [1]]"###,
    ),
    (
        r###"return {pcall(cjson.encode_keep_buffer, 'null')}"###,
        r###"[(nil), bad argument #1 to '?' (invalid option 'null')]"###,
    ),
    (
        r###"local a,b,c = cjson.encode_sparse_array() return {tostring(a),b,c}"###,
        r###"[false, (integer) 2, (integer) 10]"###,
    ),
    (
        r###"local a,b,c = cjson.encode_sparse_array(true, 3, 5) return {tostring(a),b,c, cjson.encode({[1]=1,[16]=1})}"###,
        r###"[true, (integer) 3, (integer) 5, {"1":1,"16":1}]"###,
    ),
    (
        r###"return {pcall(cjson.encode_sparse_array, nil, -1)}"###,
        r###"[(nil), bad argument #1 to '?' (expected integer between 0 and 2147483647)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_sparse_array, nil, nil, -1)}"###,
        r###"[(nil), bad argument #1 to '?' (expected integer between 0 and 2147483647)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_sparse_array, nil, nil, 'a')}"###,
        r###"[(nil), bad argument #3 to '?' (number expected, got string)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_sparse_array, 1, 2, 3, 4)}"###,
        r###"[(nil), bad argument #4 to '?' (found too many arguments)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_sparse_array, 'yes')}"###,
        r###"[(nil), bad argument #1 to '?' (invalid option 'yes')]"###,
    ),
    (
        r###"cjson.encode_sparse_array(false, 0) return cjson.encode({[30]=1})"###,
        r###"[null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,1]"###,
    ),
    (
        r###"cjson.encode_sparse_array(true) return cjson.encode({[30]=1})"###,
        r###"{"30":1}"###,
    ),
    (
        r###"cjson.encode_sparse_array(false, 1) return {pcall(cjson.encode, {[1]=1,[2]=2,[12]=3})}"###,
        r###"[(nil), Cannot serialise table: excessively sparse array]"###,
    ),
    (
        r###"cjson.encode_sparse_array(false, 1, 0) return {pcall(cjson.encode, {[1]=1,[3]=2})}"###,
        r###"[(nil), Cannot serialise table: excessively sparse array]"###,
    ),
    (
        r###"return {pcall(cjson.encode, {[1]=1,[30]=1})}"###,
        r###"[(nil), Cannot serialise table: excessively sparse array]"###,
    ),
    (
        r###"return {pcall(cjson.encode, {{[1]=1,[30]=1}})}"###,
        r###"[(nil), Cannot serialise table: excessively sparse array]"###,
    ),
    (
        r###"local t = {} t[1] = t return {pcall(cjson.encode, t)}"###,
        r###"[(nil), Cannot serialise, excessive nesting (1001)]"###,
    ),
    (
        r###"local t = {} t.a = t return {pcall(cjson.encode, t)}"###,
        r###"[(nil), Cannot serialise, excessive nesting (1001)]"###,
    ),
    (
        r###"cjson.encode_max_depth(100000) local t = {} t[1] = t return {pcall(cjson.encode, t)}"###,
        r###"[(nil), Cannot serialise, excessive nesting (7998)]"###,
    ),
    (
        r###"cjson.encode_max_depth(100000) local t = {} t.a = t return {pcall(cjson.encode, t)}"###,
        r###"[(nil), Cannot serialise, excessive nesting (4000)]"###,
    ),
    (
        r###"cjson.encode_max_depth(100000) local t = {} t.a = {t} return {pcall(cjson.encode, t)}"###,
        r###"[(nil), Cannot serialise, excessive nesting (5332)]"###,
    ),
    (
        r###"cjson.encode_max_depth(2) return {pcall(cjson.encode, {{}}), pcall(cjson.encode, {{{}}})}"###,
        r###"[(integer) 1, (nil), Cannot serialise, excessive nesting (3)]"###,
    ),
    (
        r###"cjson.encode_max_depth(2) return {pcall(cjson.encode, {{{}}})}"###,
        r###"[(nil), Cannot serialise, excessive nesting (3)]"###,
    ),
    (
        r###"return cjson.encode({a={b={c={1,2,{d=true}}}}})"###,
        r###"{"a":{"b":{"c":[1,2,{"d":true}]}}}"###,
    ),
    (
        r###"local s = cjson.encode({["a\"b"]="x", [5]="y"}) return {#s, s:find('"5":"y"', 1, true) ~= nil, s:find('"a\\"b":"x"', 1, true) ~= nil}"###,
        r###"[(integer) 20, (integer) 1, (integer) 1]"###,
    ),
    (
        r###"return table.concat(cjson.decode("[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]"), " ")"###,
        r###"0 -5000 -1 0.0003 1023.2 0"###,
    ),
    (
        r###"local t = cjson.decode('{"keya": "a", "keyb": "b"}') return {t.keya, t.keyb}"###,
        r###"[a, b]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '')}"###,
        r###"[(nil), Expected value but found T_END at character 1]"###,
    ),
    (
        r###"return {pcall(cjson.decode, ' ')}"###,
        r###"[(nil), Expected value but found T_END at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, 'x')}"###,
        r###"[(nil), Expected value but found invalid token at character 1]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[1,]')}"###,
        r###"[(nil), Expected value but found T_ARR_END at character 4]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[1 2]')}"###,
        r###"[(nil), Expected comma or array end but found T_NUMBER at character 4]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '{"a" 1}')}"###,
        r###"[(nil), Expected colon but found T_NUMBER at character 6]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '{1:1}')}"###,
        r###"[(nil), Expected object key string but found T_NUMBER at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '{"a":1,}')}"###,
        r###"[(nil), Expected object key string but found T_OBJ_END at character 8]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '{"a":1 "b"}')}"###,
        r###"[(nil), Expected comma or object end but found T_STRING at character 8]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '{"a":}')}"###,
        r###"[(nil), Expected value but found T_OBJ_END at character 6]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[1] x')}"###,
        r###"[(nil), Expected the end but found invalid token at character 5]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[1] [')}"###,
        r###"[(nil), Expected the end but found T_ARR_BEGIN at character 5]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"abc')}"###,
        r###"[(nil), Expected value but found unexpected end of string at character 5]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"a\\qb"')}"###,
        r###"[(nil), Expected value but found invalid escape code at character 3]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"a\\u12"')}"###,
        r###"[(nil), Expected value but found invalid unicode escape code at character 3]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"a\\ud800"')}"###,
        r###"[(nil), Expected value but found invalid unicode escape code at character 3]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"a\\udc00\\ud800"')}"###,
        r###"[(nil), Expected value but found invalid unicode escape code at character 3]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"a\\ud800\\u0041"')}"###,
        r###"[(nil), Expected value but found invalid unicode escape code at character 3]"###,
    ),
    (
        r###"return cjson.decode('"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\"\\\\"')"###,
        r###"A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/\x08\x0c\x0a\x0d\x09"\\"###,
    ),
    (r###"return cjson.decode('"\\u0000x"')"###, r###"\x00x"###),
    (
        r###"return {pcall(cjson.decode, 'tru')}"###,
        r###"[(nil), Expected value but found invalid token at character 1]"###,
    ),
    (
        r###"return {pcall(cjson.decode, 'nul')}"###,
        r###"[(nil), Expected value but found invalid token at character 1]"###,
    ),
    (
        r###"return {pcall(cjson.decode, 'truex')}"###,
        r###"[(nil), Expected the end but found invalid token at character 5]"###,
    ),
    (
        r###"return {tostring(cjson.decode('true')), tostring(cjson.decode('false')), tostring(cjson.decode('null')), tostring(cjson.decode('null') == cjson.null)}"###,
        r###"[true, false, userdata: (nil), true]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '+5')}"###,
        r###"[(integer) 1, (integer) 5]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '-')}"###,
        r###"[(nil), Expected value but found invalid number at character 1]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '-x')}"###,
        r###"[(nil), Expected value but found invalid number at character 1]"###,
    ),
    (
        r###"return cjson.encode(cjson.decode('[0x10, 007, +1.5, 1e2, 1.5E-2, -0, 1., -.5]'))"###,
        r###"[16,7,1.5,100,0.015,-0,1,-0.5]"###,
    ),
    (
        r###"cjson.encode_invalid_numbers(true) return cjson.encode(cjson.decode('[inf, -inf, nan, -nan, Infinity, NaN, -Infinity, +inf]'))"###,
        r###"[inf,-inf,nan,nan,inf,nan,-inf,inf]"###,
    ),
    (
        r###"return {pcall(cjson.decode, 'nanx')}"###,
        r###"[(nil), Expected the end but found invalid token at character 4]"###,
    ),
    (
        r###"return {pcall(cjson.decode, 'NaN(123)')}"###,
        r###"[(integer) 1, (integer) -9223372036854775808]"###,
    ),
    (
        r###"return {pcall(cjson.decode, 'infinit')}"###,
        r###"[(nil), Expected the end but found invalid token at character 4]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '1e')}"###,
        r###"[(nil), Expected the end but found invalid token at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '1e+')}"###,
        r###"[(nil), Expected the end but found invalid token at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '0x')}"###,
        r###"[(nil), Expected the end but found invalid token at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '0xg')}"###,
        r###"[(nil), Expected the end but found invalid token at character 2]"###,
    ),
    (
        r###"return cjson.encode(cjson.decode('[0x1p4, 0x1.8, 0xA.8p1, 0x.8]'))"###,
        r###"[16,1.5,21,0.5]"###,
    ),
    (
        r###"return cjson.encode(cjson.decode('[1e400, -1e400, 1e-400, 4.9e-324]'))"###,
        r###"ERR:user_script:1: Cannot serialise number: must not be NaN or Inf"###,
    ),
    (
        r###"cjson.decode_invalid_numbers(false) return {pcall(cjson.decode, '[+5]')}"###,
        r###"[(nil), Expected value but found invalid token at character 2]"###,
    ),
    (
        r###"cjson.decode_invalid_numbers(false) return {pcall(cjson.decode, '[0x10]')}"###,
        r###"[(nil), Expected value but found invalid number at character 2]"###,
    ),
    (
        r###"cjson.decode_invalid_numbers(false) return {pcall(cjson.decode, '[007]')}"###,
        r###"[(nil), Expected value but found invalid number at character 2]"###,
    ),
    (
        r###"cjson.decode_invalid_numbers(false) return {pcall(cjson.decode, '[nan]')}"###,
        r###"[(nil), Expected value but found invalid token at character 2]"###,
    ),
    (
        r###"cjson.decode_invalid_numbers(false) return {pcall(cjson.decode, '[-inf]')}"###,
        r###"[(nil), Expected value but found invalid number at character 2]"###,
    ),
    (
        r###"cjson.decode_invalid_numbers(false) return {pcall(cjson.decode, '[Infinity]')}"###,
        r###"[(nil), Expected value but found invalid token at character 2]"###,
    ),
    (
        r###"cjson.decode_invalid_numbers(false) return cjson.encode(cjson.decode('[0, -0, 0.5, 1e5, -12]'))"###,
        r###"[0,-0,0.5,100000,-12]"###,
    ),
    (
        r###"cjson.decode_invalid_numbers(false) return {pcall(cjson.decode, '[-x]')}"###,
        r###"[(nil), Expected value but found invalid number at character 2]"###,
    ),
    (
        r###"cjson.decode_invalid_numbers(false) return {pcall(cjson.decode, '[i]')}"###,
        r###"[(nil), Expected value but found invalid token at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[i]')}"###,
        r###"[(nil), Expected value but found invalid token at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[I]')}"###,
        r###"[(nil), Expected value but found invalid token at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[n]')}"###,
        r###"[(nil), Expected value but found invalid token at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[N]')}"###,
        r###"[(nil), Expected value but found invalid token at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[f]')}"###,
        r###"[(nil), Expected value but found invalid token at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '\0[')}"###,
        r###"[(nil), JSON parser does not support UTF-16 or UTF-32]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[\0')}"###,
        r###"[(nil), JSON parser does not support UTF-16 or UTF-32]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[1]\0garbage')}"###,
        r###"[(integer) 1, [(integer) 1]]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"a\0b"')}"###,
        r###"[(nil), Expected value but found unexpected end of string at character 3]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '\0')}"###,
        r###"[(nil), Expected value but found T_END at character 1]"###,
    ),
    (
        r###"return {pcall(cjson.decode, 'a')}"###,
        r###"[(nil), Expected value but found invalid token at character 1]"###,
    ),
    (r###"return cjson.decode(123)"###, r###"(integer) 123"###),
    (
        r###"return {pcall(cjson.decode)}"###,
        r###"[(nil), bad argument #1 to '?' (expected 1 argument)]"###,
    ),
    (
        r###"return {pcall(cjson.decode, {})}"###,
        r###"[(nil), bad argument #1 to '?' (string expected, got table)]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '1', 2)}"###,
        r###"[(nil), bad argument #1 to '?' (expected 1 argument)]"###,
    ),
    (
        r###"return {pcall(cjson.decode, nil)}"###,
        r###"[(nil), bad argument #1 to '?' (string expected, got nil)]"###,
    ),
    (
        r###"cjson.decode_max_depth(1) return {pcall(cjson.decode, '{"obj": {"array": [1,2,3,4]}}')}"###,
        r###"[(nil), Found too many nested data structures (2) at character 9]"###,
    ),
    (
        r###"cjson.decode_max_depth(2) return {pcall(cjson.decode, '[[[1]]]')}"###,
        r###"[(nil), Found too many nested data structures (3) at character 3]"###,
    ),
    (
        r###"cjson.decode_max_depth(2) return {pcall(cjson.decode, '  [  [ {  "a":1}]]')}"###,
        r###"[(nil), Found too many nested data structures (3) at character 8]"###,
    ),
    (
        r###"cjson.decode_max_depth(100000) return {pcall(cjson.decode, string.rep('[', 10000))}"###,
        r###"[(nil), Found too many nested data structures (7999) at character 7999]"###,
    ),
    (
        r###"cjson.decode_max_depth(100000) return {pcall(cjson.decode, string.rep('{"a":', 10000))}"###,
        r###"[(nil), Found too many nested data structures (4000) at character 19996]"###,
    ),
    (
        r###"cjson.decode_max_depth(100000) return {pcall(cjson.decode, string.rep('[{"a":', 10000))}"###,
        r###"[(nil), Found too many nested data structures (5333) at character 15997]"###,
    ),
    (
        r###"return {pcall(cjson.decode, string.rep('[', 1001))}"###,
        r###"[(nil), Found too many nested data structures (1001) at character 1001]"###,
    ),
    (
        r###"return #cjson.encode(cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)))"###,
        r###"(integer) 2000"###,
    ),
    (
        r###"return cjson.encode(cjson.decode('{"a":[1,2,{"b":null}],"c":"d"}'))"###,
        r###"{"a":[1,2,{"b":null}],"c":"d"}"###,
    ),
    (
        r###"return cjson.encode(cjson.decode('[]')) .. cjson.encode(cjson.decode('{}'))"###,
        r###"{}{}"###,
    ),
    (r###"return cjson.decode('  "x"  ')"###, r###"x"###),
    (
        r###"return cjson.decode('\t\r\n 5 \n')"###,
        r###"(integer) 5"###,
    ),
    (
        r###"return {pcall(cjson.decode, '\v5')}"###,
        r###"[(nil), Expected value but found invalid token at character 1]"###,
    ),
    (
        r###"local t = cjson.decode('{"a":1,"a":2}') return t.a"###,
        r###"(integer) 2"###,
    ),
    (
        r###"return cjson.encode(cjson.decode('[1,null,3]'))"###,
        r###"[1,null,3]"###,
    ),
    (
        r###"return #cjson.decode('[1,null,3]')"###,
        r###"(integer) 3"###,
    ),
    (
        r###"return type(cjson.null) .. tostring(cjson.null)"###,
        r###"userdatauserdata: (nil)"###,
    ),
    (
        r###"local n = cjson.new() n.encode_max_depth(1) return {pcall(n.encode, {{}}), cjson.encode({{}})}"###,
        r###"[(nil), [{}]]"###,
    ),
    (
        r###"local n = cjson.new() return {n._NAME, n._VERSION, type(n.null), type(n.new)}"###,
        r###"[cjson, 2.1.0, userdata, function]"###,
    ),
    (
        r###"return {cjson._NAME, cjson._VERSION}"###,
        r###"[cjson, 2.1.0]"###,
    ),
    (
        r###"return {pcall(function() local x = cjson.decode('[') return x end)}"###,
        r###"[(nil), user_script:1: Expected value but found T_END at character 2]"###,
    ),
    (
        r###"return {pcall(function() local x = cjson.encode(function() end) return x end)}"###,
        r###"[(nil), user_script:1: Cannot serialise function: type not supported]"###,
    ),
    (
        r###"local e = cjson.encode return {pcall(function() local x = e() return x end)}"###,
        r###"[(nil), user_script:1: bad argument #1 to 'e' (expected 1 argument)]"###,
    ),
    (
        r###"return cjson.encode({[1]='a', [2]='b', n=3})"###,
        r###"{"1":"a","2":"b","n":3}"###,
    ),
    (
        r###"return cjson.encode(setmetatable({}, {__index=function() return 1 end}))"###,
        r###"{}"###,
    ),
    (
        r###"return cjson.encode(setmetatable({1,2}, {__index=function() return 1 end, __len=function() return 5 end}))"###,
        r###"[1,2]"###,
    ),
    (
        r###"return cjson.encode({1.5, -2.25, 3e20, 1e21, 1e-7, 123456.789, 0.1+0.2})"###,
        r###"[1.5,-2.25,3e+20,1e+21,1e-07,123456.789,0.3]"###,
    ),
    (
        r###"return cjson.encode({2^63, -2^63, 2^64, 1e16, 12345678901234567890})"###,
        r###"[9.2233720368548e+18,-9.2233720368548e+18,1.844674407371e+19,1e+16,1.2345678901235e+19]"###,
    ),
    (
        r###"return {pcall(cjson.encode, {[{}]=1})}"###,
        r###"[(nil), Cannot serialise table: table key must be a number or string]"###,
    ),
    (
        r###"return {pcall(cjson.encode, {a=1, [true]=2})}"###,
        r###"[(nil), Cannot serialise boolean: table key must be a number or string]"###,
    ),
    (
        r###"return cjson.encode({"a", {b = "c"}, {}, {{}}})"###,
        r###"["a",{"b":"c"},{},[{}]]"###,
    ),
    (
        r###"return cjson.encode({[2^32+5]=1})"###,
        r###"{"4294967301":1}"###,
    ),
    (
        r###"return cjson.encode({[2^32+5]=1, [1]=2})"###,
        r###"[2]"###,
    ),
    (
        r###"return cjson.encode({[1]=2, [2^32+5]=1})"###,
        r###"{"1":2,"4294967301":1}"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return {hex(cmsgpack.pack(cjson.decode('NaN(123)'))), hex(cmsgpack.pack(cjson.decode('-nan'))), hex(cmsgpack.pack(cjson.decode('nan'))), hex(cmsgpack.pack(cjson.decode('nan(0x10)'))), hex(cmsgpack.pack(cjson.decode('nan(abc)'))), hex(cmsgpack.pack(cjson.decode('-nan(7)'))), hex(cmsgpack.pack(cjson.decode('nan(010)'))), hex(cmsgpack.pack(cjson.decode('nan()')))}"###,
        r###"[cb7ff800000000007b, cbfff8000000000000, cb7ff8000000000000, cb7ff8000000000010, cb7ff8000000000000, cbfff8000000000007, cb7ff8000000000008, cb7ff8000000000000]"###,
    ),
    (
        r###"return {pcall(cjson.decode, 'nan(12')}"###,
        r###"[(nil), Expected the end but found invalid token at character 4]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[0x.p1]')}"###,
        r###"[(nil), Expected comma or array end but found invalid token at character 3]"###,
    ),
    (
        r###"cjson.encode_invalid_numbers(true) return cjson.encode(cjson.decode('[0x1.fffffffffffff8p0, 0x1p-1074, 0x1p-1075, 0x1.8p-1074, 0x1p1024, 0xfffffffffffffffff, 0X1P+3, 0x10.8, 0x1.000000000000080000000001p0, -0x10, 0x1p, 1e99999999999999999999]'))"###,
        r###"ERR:user_script:1: Expected comma or array end but found invalid token at character 148"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return {hex(cmsgpack.pack(cjson.decode('0x1.000000000000080000000001p0'))), hex(cmsgpack.pack(cjson.decode('0x1.00000000000008p0'))),hex(cmsgpack.pack(cjson.decode('0x1.00000000000018p0'))), hex(cmsgpack.pack(cjson.decode('0x1.8p-1074'))), hex(cmsgpack.pack(cjson.decode('0x1.8p-1073'))), hex(cmsgpack.pack(cjson.decode('0x123456789abcdef123p-70'))), hex(cmsgpack.pack(cjson.decode('0x.8p-1074'))), hex(cmsgpack.pack(cjson.decode('0x.80001p-1074')))}"###,
        r###"[cb3ff0000000000001, 01, cb3ff0000000000002, cb0000000000000002, cb0000000000000003, cb3fd23456789abcdf, 00, cb0000000000000001]"###,
    ),
    (
        r###"local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return {hex(cmsgpack.pack(cjson.decode('0.1'))), hex(cmsgpack.pack(cjson.decode('2.2250738585072011e-308'))), hex(cmsgpack.pack(cjson.decode('123456789012345678901234567890e-10'))), hex(cmsgpack.pack(cjson.decode('4.9406564584124654e-324'))), hex(cmsgpack.pack(cjson.decode('1.7976931348623157e308'))), hex(cmsgpack.pack(cjson.decode('1.7976931348623159e308')))}"###,
        r###"[cb3fb999999999999a, cb000fffffffffffff, cb43e56a95319d63e1, cb0000000000000001, cb7fefffffffffffff, ca7f800000]"###,
    ),
    (
        r###"cjson.encode_keep_buffer(false) local ok = pcall(cjson.encode, {f=tostring}) return cjson.encode({1,{2}})"###,
        r###"[1,[2]]"###,
    ),
    (
        r###"local ok = pcall(cjson.encode, {f=tostring}) return cjson.encode({'a'})"###,
        r###"["a"]"###,
    ),
    (
        r###"cjson.encode_number_precision(14) return cjson.encode({99999999999999, 999999999999999, 0.000099999999999999, 123.456e-7, 5e-324, 1.7976931348623157e308, -1.5e-10})"###,
        r###"[99999999999999,1e+15,9.9999999999999e-05,1.23456e-05,4.9406564584125e-324,1.7976931348623e+308,-1.5e-10]"###,
    ),
    (
        r###"cjson.encode_number_precision(5) return cjson.encode({99999, 999999, 99999.5, 0.00001234567, 12345.678, -0.5})"###,
        r###"[99999,1e+06,1e+05,1.2346e-05,12346,-0.5]"###,
    ),
    (
        r###"local s = cjson.encode({["\0"]="\0", ["é"]="\226\130\172"}) return {#s, s:find('"\\u0000":"\\u0000"', 1, true) ~= nil, s:find('"é":"\226\130\172"', 1, true) ~= nil}"###,
        r###"[(integer) 30, (integer) 1, (integer) 1]"###,
    ),
    (
        r###"return cjson.encode(cjson.decode('{"\\u0000":"\\u001f\\u007f\\u0080\\u07ff\\u0800\\uffff\\ud800\\udc00\\udbff\\udfff"}'))"###,
        r###"{"\\u0000":"\\u001f\\u007f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"}"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"\\uDbFf\\uDfFf\\uD83D\\uDE00"')}"###,
        r###"[(integer) 1, \xf4\x8f\xbf\xbf\xf0\x9f\x98\x80]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"\\u00G0"')}"###,
        r###"[(nil), Expected value but found invalid unicode escape code at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"\\ud800\\')}"###,
        r###"[(nil), Expected value but found invalid unicode escape code at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"\\ud800\\udbff"')}"###,
        r###"[(nil), Expected value but found invalid unicode escape code at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '"\\')}"###,
        r###"[(nil), Expected value but found invalid escape code at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '["a" : 1]')}"###,
        r###"[(nil), Expected comma or array end but found T_COLON at character 6]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '{"a":1:}')}"###,
        r###"[(nil), Expected comma or object end but found T_COLON at character 7]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '{"a"')}"###,
        r###"[(nil), Expected colon but found T_END at character 5]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '{')}"###,
        r###"[(nil), Expected object key string but found T_END at character 2]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[1,')}"###,
        r###"[(nil), Expected value but found T_END at character 4]"###,
    ),
    (
        r###"return {pcall(cjson.decode, ']')}"###,
        r###"[(nil), Expected value but found T_ARR_END at character 1]"###,
    ),
    (
        r###"return {pcall(cjson.decode, ',')}"###,
        r###"[(nil), Expected value but found T_COMMA at character 1]"###,
    ),
    (
        r###"return {pcall(cjson.decode, ':')}"###,
        r###"[(nil), Expected value but found T_COLON at character 1]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '}')}"###,
        r###"[(nil), Expected value but found T_OBJ_END at character 1]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[true false]')}"###,
        r###"[(nil), Expected comma or array end but found T_BOOLEAN at character 7]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '[null, nulll]')}"###,
        r###"[(nil), Expected comma or array end but found invalid token at character 12]"###,
    ),
    (
        r###"return {pcall(cjson.decode, '{"a":{"b":[1,2,{"c":[]}], "d":{}}, "e":-1.5e+3}')}"###,
        r###"[(integer) 1, []]"###,
    ),
    (
        r###"return cjson.encode(cjson.decode('{"a":{"b":[1,2,{"c":[]}], "d":{}}, "e":-1.5e+3}'))"###,
        r###"{"a":{"d":{},"b":[1,2,{"c":{}}]},"e":-1500}"###,
    ),
    (
        r###"return cjson.encode(cjson.decode('"\1\127\200\255"'))"###,
        r###""\\u0001\\u007f\xc8\xff""###,
    ),
    (
        r###"return cjson.encode(1e14) .. ' ' .. cjson.encode(-99999999999999) .. ' ' .. cjson.encode(123456789012345)"###,
        r###"1e+14 -99999999999999 1.2345678901234e+14"###,
    ),
    (
        r###"return {pcall(cjson.new, 1, 2)}"###,
        r###"[(integer) 1, []]"###,
    ),
    (
        r###"return {pcall(cjson.encode, {[0/0 ~= 0/0 and 1 or 2]=1})}"###,
        r###"[(integer) 1, [1]]"###,
    ),
    (
        r###"cjson.encode_invalid_numbers(true) return cjson.encode({[-1/0]='x', [0.5] = 0/0})"###,
        r###"{"-inf":"x","0.5":nan}"###,
    ),
    (
        r###"return {pcall(cjson.encode, {{}, {[true]=1}})}"###,
        r###"[(nil), Cannot serialise boolean: table key must be a number or string]"###,
    ),
    (
        r###"return {pcall(cjson.encode, {a={b={f=tostring}}})}"###,
        r###"[(nil), Cannot serialise function: type not supported]"###,
    ),
    (
        r###"local t = {} for i=1,1000 do t = {t} end return {pcall(cjson.encode, t)}"###,
        r###"[(nil), Cannot serialise, excessive nesting (1001)]"###,
    ),
    (
        r###"local t = {} for i=1,999 do t = {t} end return #cjson.encode(t)"###,
        r###"(integer) 2000"###,
    ),
    (
        r###"return {pcall(cjson.decode_max_depth, 1, 2)}"###,
        r###"[(nil), bad argument #2 to '?' (found too many arguments)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_keep_buffer, 1, 2)}"###,
        r###"[(nil), bad argument #2 to '?' (found too many arguments)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_number_precision, 'x')}"###,
        r###"[(nil), bad argument #1 to '?' (number expected, got string)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_sparse_array, true, 'x')}"###,
        r###"[(nil), bad argument #2 to '?' (number expected, got string)]"###,
    ),
    (
        r###"return {pcall(cjson.encode_invalid_numbers, 'on\0xx')}"###,
        r###"[(integer) 1, (integer) 1]"###,
    ),
    (
        r###"return {pcall(cjson.encode_invalid_numbers, 'bad\0xx')}"###,
        r###"[(nil), bad argument #1 to '?' (invalid option 'bad')]"###,
    ),
    (
        r###"return {pcall(cjson.decode_invalid_numbers, 1)}"###,
        r###"[(nil), bad argument #1 to '?' (invalid option '1')]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, nil)}"###,
        r###"[(integer) 1, (integer) 1000]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, ' 0x10 ')}"###,
        r###"[(integer) 1, (integer) 16]"###,
    ),
    (
        r###"return {pcall(cjson.encode_max_depth, '1e2')}"###,
        r###"[(integer) 1, (integer) 100]"###,
    ),
    (
        r###"return {pcall(cjson.decode, 1.5)}"###,
        r###"[(integer) 1, (integer) 1]"###,
    ),
    (
        r###"return {pcall(cjson.decode, 1e100)}"###,
        r###"[(integer) 1, (integer) -9223372036854775808]"###,
    ),
    (
        r###"return {pcall(cjson.decode, 0/0)}"###,
        r###"[(integer) 1, (integer) -9223372036854775808]"###,
    ),
    (
        r###"return {pcall(cjson.decode, true)}"###,
        r###"[(nil), bad argument #1 to '?' (string expected, got boolean)]"###,
    ),
    (
        r###"return {pcall(cjson.decode, cjson.null)}"###,
        r###"[(nil), bad argument #1 to '?' (string expected, got userdata)]"###,
    ),
    (
        r###"return {pcall(cjson.encode, cjson.decode)}"###,
        r###"[(nil), Cannot serialise function: type not supported]"###,
    ),
    (
        r###"return {pcall(function() local x = cjson.decode(1, 2) return x end)}"###,
        r###"[(nil), user_script:1: bad argument #1 to 'decode' (expected 1 argument)]"###,
    ),
    (
        r###"return {pcall(function() return cjson.decode() end)}"###,
        r###"[(nil), user_script:1: bad argument #1 to 'decode' (expected 1 argument)]"###,
    ),
    (
        r###"return {pcall(function() return cjson.encode_max_depth(0) end)}"###,
        r###"[(nil), user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)]"###,
    ),
    (
        r###"local t = {} t.cjson = cjson return {pcall(function() return t.cjson.encode_max_depth(0) end)}"###,
        r###"[(nil), user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)]"###,
    ),
    (
        r###"local x = {} function x:m() return cjson.encode_max_depth(0) end return {pcall(function() return x:m() end)}"###,
        r###"[(nil), user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)]"###,
    ),
    (
        r###"local x = {d = cjson.encode_max_depth} return {pcall(function() return x:d() end)}"###,
        r###"[(nil), user_script:1: calling 'd' on bad self (number expected, got table)]"###,
    ),
    (
        r###"local x = {d = cjson.decode} return {pcall(function() return x:d() end)}"###,
        r###"[(nil), user_script:1: calling 'd' on bad self (string expected, got table)]"###,
    ),
    (
        r###"return {pcall(cmsgpack.pack, 1, cjson.decode('[1,2,{"a":null}]'))}"###,
        r###"[(integer) 1, \x01\x93\x01\x02\x81\xa1a\xc0]"###,
    ),
    (
        r###"local decoded = cjson.decode('{"keya": "a", "keyb": "b"}')
        return {decoded.keya, decoded.keyb}"###,
        r###"[a, b]"###,
    ),
    (
        r###"            local some_map = {
                s1="Some string",
                n1=100,
                a1={"Some","String","Array"},
                nil1=nil,
                b1=true,
                b2=false}
            local encoded = cjson.encode(some_map)
            local decoded = cjson.decode(encoded)
            assert(table.concat(some_map) == table.concat(decoded))

            cjson.encode_keep_buffer(false)
            encoded = cjson.encode(some_map)
            decoded = cjson.decode(encoded)
            assert(table.concat(some_map) == table.concat(decoded))

            -- Table with numeric keys
            local table1 = {one="one", [1]="one"}
            encoded = cjson.encode(table1)
            decoded = cjson.decode(encoded)
            assert(decoded["one"] == table1["one"])
            assert(decoded["1"] == table1[1])

            -- Array
            local array1 = {[1]="one", [2]="two"}
            encoded = cjson.encode(array1)
            decoded = cjson.decode(encoded)
            assert(table.concat(array1) == table.concat(decoded))

            -- Invalid keys
            local invalid_map = {}
            invalid_map[false] = "false"
            local ok, encoded = pcall(cjson.encode, invalid_map)
            assert(ok == false)

            -- Max depth
            cjson.encode_max_depth(1)
            ok, encoded = pcall(cjson.encode, some_map)
            assert(ok == false)

            cjson.decode_max_depth(1)
            ok, decoded = pcall(cjson.decode, '{"obj": {"array": [1,2,3,4]}}')
            assert(ok == false)

            -- Invalid numbers
            ok, encoded = pcall(cjson.encode, {num1=0/0})
            assert(ok == false)
            cjson.encode_invalid_numbers(true)
            ok, encoded = pcall(cjson.encode, {num1=0/0})
            assert(ok == true)

            -- Restore defaults
            cjson.decode_max_depth(1000)
            cjson.encode_max_depth(1000)
            cjson.encode_invalid_numbers(false)
            local d = cjson.decode(cjson.encode(some_map))
            return {#cjson.encode(some_map), d.s1, d.n1, d.a1[3], tostring(d.b1), tostring(d.b2)}"###,
        r###"[(integer) 81, Some string, (integer) 100, Array, true, false]"###,
    ),
    (
        r###"local some_map = {s1="Some string", n1=100, a1={"Some","String","Array"}, b1=true, b2=false, t={[3]=1,x=2,[1.5]=3,[-2]=4}}
            local s = cjson.encode(some_map) local d = cjson.decode(s)
            return {#s, #cjson.encode(d), cjson.encode(d.a1), d.t['3'], d.t['-2'], d.t['1.5'], d.t.x, tostring(d.b2)}"###,
        r###"[(integer) 114, (integer) 114, ["Some","String","Array"], (integer) 1, (integer) 4, (integer) 3, (integer) 2, false]"###,
    ),
    (
        r###"cjson.encode_invalid_numbers(true) return cjson.encode(cjson.decode('[0x1.fffffffffffff8p0, 0x1p-1074, 0x1p-1075, 0x1.8p-1074, 0x1p1024, 0xfffffffffffffffff, 0X1P+3, 0x10.8, 0x1.000000000000080000000001p0, -0x10, 1e99999999999999999999, 0x1P-1, 0x8000000000000000000000000000000001p-10]'))"###,
        r###"[2,4.9406564584125e-324,0,9.8813129168249e-324,inf,2.9514790517935e+20,8,16.5,1,-16,inf,0.5,4.2535295865117e+37]"###,
    ),
    (
        r###"local s = string.rep('{"a":1,"b":', 2000) .. '2' .. string.rep('}', 2000) cjson.decode_max_depth(5000) cjson.encode_max_depth(5000) local t = cjson.decode(s) local d = 0 local sum = 0 while type(t) == 'table' do sum = sum + t.a d = d + 1 t = t.b end local e = cjson.encode(cjson.decode(s)) return {d, sum, t, #e, #cjson.encode(cjson.decode(e))}"###,
        r###"[(integer) 2000, (integer) 2000, (integer) 2, (integer) 24001, (integer) 24001]"###,
    ),
    (
        r###"local s = string.rep('[1,', 3000) .. '2' .. string.rep(']', 3000) cjson.decode_max_depth(5000) cjson.encode_max_depth(5000) local t = cjson.decode(s) local d = 0 while type(t) == 'table' do d = d + t[1] t = t[2] end return {d, t, cjson.encode(cjson.decode(s)) == s}"###,
        r###"[(integer) 3000, (integer) 2, (integer) 1]"###,
    ),
    (
        r###"local s = string.rep('[{"k":', 1500) .. '2' .. string.rep('}]', 1500) cjson.decode_max_depth(5000) cjson.encode_max_depth(5000) return {cjson.encode(cjson.decode(s)) == s, #s}"###,
        r###"[(integer) 1, (integer) 12001]"###,
    ),
    (
        r###"local s = string.rep('{"a":[1,{"x":', 1200) .. 'true' .. string.rep('}],"b":2}', 1200) cjson.decode_max_depth(5000) cjson.encode_max_depth(5000) local t = cjson.decode(s) local n = 0 while type(t) == 'table' do n = n + t.b t = t.a[2].x end return {n, tostring(t), #cjson.encode(cjson.decode(s))}"###,
        r###"[(integer) 2400, true, (integer) 26404]"###,
    ),
    (
        r###"local t = {} local cur = t for i = 1, 1500 do local nxt = {} cur.a = i cur.b = nxt cur.c = {i, i} cur = nxt end cjson.encode_max_depth(5000) local e = cjson.encode(t) local d = cjson.decode(e) local sum = 0 while d.a do sum = sum + d.a + d.c[2] d = d.b end return {#e, sum}"###,
        r###"ERR:user_script:1: Found too many nested data structures (1001) at character 26664"###,
    ),
];
