//! The `cjson` library Valkey gives scripts (lua-cjson 2.1.0 with Redis'
//! patches), rebuilt in Rust: `encode`, `decode`, `null`, the configuration
//! functions and `new`, with the same output bytes, limits and error messages.
//!
//! It also holds the small C shim through which these Rust-backed libraries
//! (`cmsgpack` too) raise plain Lua string errors with `luaL_error` /
//! `luaL_argerror` semantics: an error a Rust callback returns through mlua
//! reaches a script's `pcall` as a userdata, not as the string the C library
//! raises.
//!
//! The C code leans on `lua_checkstack` failing at 8000 slots
//! (LUAI_MAXCSTACK) for nesting it cannot handle; the encoder and decoder here
//! count the same slots, so the same inputs fail with the same messages, and
//! both walk nested data with an explicit stack instead of recursion.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::rc::Rc;

use mlua::{ffi, Function, LightUserData, Lua, LuaString, MultiValue, Table, Value};

mod number;
#[cfg(test)]
pub(crate) mod tests;

pub(crate) use number::{format_g, strtod};

// ---------------------------------------------------------------------------
// Raising errors the way the C libraries do
// ---------------------------------------------------------------------------

/// Lua 5.1's limit on a C function's stack slots (LUAI_MAXCSTACK).
pub(crate) const MAX_C_STACK: i64 = 8000;

/// How a library function fails.
pub(crate) enum Fail {
    /// `luaL_error`: the message gets the calling script's `source:line: `.
    Error(Vec<u8>),
    /// `luaL_argerror(narg, extramsg)`: "bad argument #narg to 'name' (...)".
    Arg(i32, Vec<u8>),
    /// An error Lua itself raises inside a C function, without position
    /// (e.g. "table index is nil").
    Raw(Vec<u8>),
    /// An mlua error (out of memory and the like), propagated as is.
    Lua(mlua::Error),
}

impl From<mlua::Error> for Fail {
    fn from(err: mlua::Error) -> Self {
        Fail::Lua(err)
    }
}

pub(crate) fn error(msg: impl Into<Vec<u8>>) -> Fail {
    Fail::Error(msg.into())
}

pub(crate) type Outcome = Result<MultiValue, Fail>;

/// Marks a report in the values a core function hands the shim; its address
/// is unique and scripts cannot forge a light userdata.
static REPORT_MARK: u8 = 0;
const REPORT_ERROR: ffi::lua_Integer = 0;
const REPORT_ARG: ffi::lua_Integer = 1;
const REPORT_RAW: ffi::lua_Integer = 2;
const REPORT_SPREAD: ffi::lua_Integer = 3;

fn report_mark() -> *mut c_void {
    &REPORT_MARK as *const u8 as *mut c_void
}

/// The C function scripts call. It hands its arguments to the Rust core
/// (upvalue 1) in one table, since every mlua value pins a slot of a
/// reference stack Lua caps at 8000, then returns the core's results, spreads
/// a results table onto its own stack, or raises the failure the core
/// reports. Being the called C function, `luaL_argerror` names it as the
/// script called it and `luaL_where(1)` points at the caller, exactly as for
/// the C library.
unsafe extern "C-unwind" fn raise_shim(state: *mut ffi::lua_State) -> c_int {
    let nargs = ffi::lua_gettop(state);
    ffi::lua_createtable(state, nargs, 0);
    ffi::lua_insert(state, 1);
    for i in (1..=nargs).rev() {
        ffi::lua_rawseti(state, 1, i as ffi::lua_Integer);
    }
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_pushinteger(state, nargs as ffi::lua_Integer);
    ffi::lua_call(state, 2, ffi::LUA_MULTRET);
    let nresults = ffi::lua_gettop(state);
    if nresults != 4
        || ffi::lua_type(state, 1) != ffi::LUA_TLIGHTUSERDATA
        || ffi::lua_touserdata(state, 1) != report_mark()
    {
        return nresults;
    }
    // Nothing owning lives in this frame: lua_error's longjmp may skip it.
    let kind = ffi::lua_tointeger(state, 2);
    if kind == REPORT_SPREAD {
        let count = ffi::lua_tointeger(state, 4) as c_int;
        ffi::lua_settop(state, 3);
        ffi::lua_replace(state, 1);
        ffi::lua_settop(state, 1);
        if count > 0 && ffi::lua_checkstack(state, count) == 0 {
            ffi::lua_pushstring(state, c"stack overflow (too many results)".as_ptr());
            ffi::lua_error(state);
        }
        for i in 1..=count {
            ffi::lua_rawgeti(state, 1, i as ffi::lua_Integer);
        }
        ffi::lua_remove(state, 1);
        return count;
    }
    if kind == REPORT_ARG {
        let narg = ffi::lua_tointeger(state, 4) as c_int;
        ffi::luaL_argerror(state, narg, ffi::lua_tostring(state, 3));
    } else if kind == REPORT_ERROR {
        ffi::luaL_where(state, 1);
        ffi::lua_pushvalue(state, 3);
        ffi::lua_concat(state, 2);
    } else {
        ffi::lua_pushvalue(state, 3);
    }
    ffi::lua_error(state)
}

/// A library function's arguments, as the shim passes them.
pub(crate) struct Args {
    table: Table,
    count: usize,
}

impl Args {
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Argument `narg` (1-based), None past the last one.
    pub(crate) fn get(&self, narg: usize) -> Result<Option<Value>, Fail> {
        if narg == 0 || narg > self.count {
            return Ok(None);
        }
        Ok(Some(self.table.raw_get(narg)?))
    }
}

/// Results `1..=count` of `table`, which the shim puts on the Lua stack: more
/// results than mlua could hold references for.
pub(crate) fn spread(table: Table, count: usize) -> MultiValue {
    MultiValue::from_vec(vec![
        Value::LightUserData(LightUserData(report_mark())),
        Value::Integer(REPORT_SPREAD),
        Value::Table(table),
        Value::Integer(count as i64),
    ])
}

/// Wraps `body` as a Lua function that behaves like a C library function:
/// its `Fail`s become the plain string errors the C code raises.
pub(crate) fn c_function<F>(lua: &Lua, body: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, &Args) -> Outcome + 'static,
{
    let core = lua.create_function(move |lua, (table, count): (Table, usize)| {
        let (kind, narg, msg) = match body(lua, &Args { table, count }) {
            Ok(values) => return Ok(values),
            Err(Fail::Lua(err)) => return Err(err),
            Err(Fail::Error(msg)) => (REPORT_ERROR, 0, msg),
            Err(Fail::Arg(narg, msg)) => (REPORT_ARG, narg, msg),
            Err(Fail::Raw(msg)) => (REPORT_RAW, 0, msg),
        };
        Ok(MultiValue::from_vec(vec![
            Value::LightUserData(LightUserData(report_mark())),
            Value::Integer(kind),
            Value::String(lua.create_string(msg)?),
            Value::Integer(narg as i64),
        ]))
    })?;
    // SAFETY: the closure only pushes a C closure over the one argument
    // (`core`) that exec_raw placed on the stack.
    unsafe {
        lua.exec_raw::<Function>(core, |state| {
            ffi::lua_pushcclosure(state, raise_shim, 1);
        })
    }
}

/// `next` for Rust code that walks tables without holding their pairs:
/// (table, key) -> the following key and value, or nil.
unsafe extern "C-unwind" fn raw_next(state: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checktype(state, 1, ffi::LUA_TTABLE);
    ffi::lua_settop(state, 2);
    if ffi::lua_next(state, 1) != 0 {
        2
    } else {
        ffi::lua_pushnil(state);
        1
    }
}

pub(crate) fn next_function(lua: &Lua) -> mlua::Result<Function> {
    // SAFETY: raw_next checks its argument and only uses the Lua API.
    unsafe { lua.create_c_function(raw_next) }
}

// ---------------------------------------------------------------------------
// Argument checks (lauxlib's, with their messages)
// ---------------------------------------------------------------------------

/// `luaL_typename`, with "no value" for a missing argument.
pub(crate) fn type_name(value: Option<&Value>) -> &'static str {
    match value {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::Integer(_) | Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        Some(_) => "userdata",
    }
}

fn type_error(narg: usize, expected: &str, got: Option<&Value>) -> Fail {
    let msg = format!("{expected} expected, got {}", type_name(got));
    Fail::Arg(narg as i32, msg.into_bytes())
}

/// C's `(lua_Integer)double` on x86-64: out of range and NaN give INT64_MIN.
pub(crate) fn double_to_i64(n: f64) -> i64 {
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// C's `(int)double` on x86-64: out of range and NaN give INT_MIN.
pub(crate) fn double_to_i32(n: f64) -> i32 {
    if !(-2_147_483_648.0..2_147_483_648.0).contains(&n) {
        i32::MIN
    } else {
        n as i32
    }
}

pub(crate) fn is_none_or_nil(value: Option<&Value>) -> bool {
    matches!(value, None | Some(Value::Nil))
}

/// `luaL_checkinteger`: numbers and numeric strings.
pub(crate) fn check_integer(lua: &Lua, args: &Args, narg: usize) -> Result<i64, Fail> {
    let value = args.get(narg)?;
    let number = match &value {
        Some(Value::Integer(i)) => return Ok(*i),
        Some(Value::Number(n)) => Some(*n),
        Some(s @ Value::String(_)) => lua.coerce_number(s.clone())?,
        _ => None,
    };
    match number {
        Some(n) => Ok(double_to_i64(n)),
        None => Err(type_error(narg, "number", value.as_ref())),
    }
}

/// `luaL_optinteger`.
pub(crate) fn opt_integer(lua: &Lua, args: &Args, narg: usize, default: i64) -> Result<i64, Fail> {
    if is_none_or_nil(args.get(narg)?.as_ref()) {
        Ok(default)
    } else {
        check_integer(lua, args, narg)
    }
}

/// `luaL_checklstring`: strings, and numbers converted the way Lua does.
pub(crate) fn check_string(lua: &Lua, args: &Args, narg: usize) -> Result<LuaString, Fail> {
    let value = args.get(narg)?;
    match &value {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(n @ (Value::Integer(_) | Value::Number(_))) => match lua.coerce_string(n.clone())? {
            Some(s) => Ok(s),
            None => Err(type_error(narg, "string", value.as_ref())),
        },
        _ => Err(type_error(narg, "string", value.as_ref())),
    }
}

/// `luaL_checkoption` without a default: the index of the matching option.
/// The name compares as a C string, so it stops at its first NUL.
fn check_option(lua: &Lua, args: &Args, narg: usize, options: &[&str]) -> Result<i32, Fail> {
    let name = check_string(lua, args, narg)?;
    let bytes = name.as_bytes();
    let name = bytes.split(|&b| b == 0).next().unwrap_or(&[]);
    if let Some(found) = options.iter().position(|o| o.as_bytes() == name) {
        return Ok(found as i32);
    }
    let mut msg = b"invalid option '".to_vec();
    msg.extend_from_slice(name);
    msg.push(b'\'');
    Err(Fail::Arg(narg as i32, msg))
}

pub(crate) fn one(value: Value) -> MultiValue {
    MultiValue::from_vec(vec![value])
}

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

/// One library instance's settings (`cjson.new()` makes another), kept for
/// the Lua state's life as the C library keeps them in an upvalue.
struct Config {
    sparse_convert: Cell<i32>,
    sparse_ratio: Cell<i32>,
    sparse_safe: Cell<i32>,
    encode_max_depth: Cell<i32>,
    decode_max_depth: Cell<i32>,
    /// 0 off, 1 on, 2 "null" (write NaN/Inf as null).
    encode_invalid_numbers: Cell<i32>,
    decode_invalid_numbers: Cell<i32>,
    encode_keep_buffer: Cell<i32>,
    encode_number_precision: Cell<i32>,
    /// The encode buffer kept between calls while `encode_keep_buffer` is on.
    encode_buf: RefCell<Vec<u8>>,
    /// Steps through objects while encoding.
    next: Function,
}

impl Config {
    fn new(next: Function) -> Self {
        Config {
            sparse_convert: Cell::new(0),
            sparse_ratio: Cell::new(2),
            sparse_safe: Cell::new(10),
            encode_max_depth: Cell::new(1000),
            decode_max_depth: Cell::new(1000),
            encode_invalid_numbers: Cell::new(0),
            decode_invalid_numbers: Cell::new(1),
            encode_keep_buffer: Cell::new(1),
            encode_number_precision: Cell::new(14),
            encode_buf: RefCell::new(Vec::new()),
            next,
        }
    }
}

const BOOL_OPTIONS: &[&str] = &["off", "on"];
const INVALID_NUMBER_OPTIONS: &[&str] = &["off", "on", "null"];

/// `json_arg_init`: at most `max` arguments.
fn check_arg_count(args: &Args, max: usize) -> Result<(), Fail> {
    if args.len() > max {
        return Err(Fail::Arg(
            max as i32 + 1,
            b"found too many arguments".to_vec(),
        ));
    }
    Ok(())
}

/// `json_integer_option`: sets from argument `narg` if given, returns the value.
/// (The C code reports a range error against argument 1 whatever `narg` is.)
fn integer_option(
    lua: &Lua,
    args: &Args,
    narg: usize,
    setting: &Cell<i32>,
    min: i32,
    max: i32,
) -> Result<Value, Fail> {
    if !is_none_or_nil(args.get(narg)?.as_ref()) {
        let value = check_integer(lua, args, narg)? as i32;
        if value < min || value > max {
            let msg = format!("expected integer between {min} and {max}");
            return Err(Fail::Arg(1, msg.into_bytes()));
        }
        setting.set(value);
    }
    Ok(Value::Integer(setting.get() as i64))
}

/// `json_enum_option` with a boolean shortcut: true/false or a named option;
/// returns a boolean for off/on, else the option's name.
fn enum_option(
    lua: &Lua,
    args: &Args,
    narg: usize,
    setting: &Cell<i32>,
    options: &[&str],
) -> Result<Value, Fail> {
    match args.get(narg)? {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => setting.set(b as i32),
        Some(_) => setting.set(check_option(lua, args, narg, options)?),
    }
    Ok(match setting.get() {
        0 => Value::Boolean(false),
        1 => Value::Boolean(true),
        n => Value::String(lua.create_string(options[n as usize])?),
    })
}

/// Builds a `cjson` table with its own fresh configuration.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let cfg = Rc::new(Config::new(next_function(lua)?));
    let table = lua.create_table()?;
    type Body = fn(&Lua, &Config, &Args) -> Outcome;
    // Same insertion order as the C library, so `pairs(cjson)` lists alike.
    let functions: [(&str, Body); 9] = [
        ("encode", encode),
        ("decode", decode),
        ("encode_sparse_array", cfg_encode_sparse_array),
        ("encode_max_depth", cfg_encode_max_depth),
        ("decode_max_depth", cfg_decode_max_depth),
        ("encode_number_precision", cfg_encode_number_precision),
        ("encode_keep_buffer", cfg_encode_keep_buffer),
        ("encode_invalid_numbers", cfg_encode_invalid_numbers),
        ("decode_invalid_numbers", cfg_decode_invalid_numbers),
    ];
    for (name, body) in functions {
        let cfg = Rc::clone(&cfg);
        table.raw_set(
            name,
            c_function(lua, move |lua, args| body(lua, &cfg, args))?,
        )?;
    }
    table.raw_set(
        "new",
        c_function(lua, |lua, _| Ok(one(Value::Table(open(lua)?))))?,
    )?;
    table.raw_set(
        "null",
        Value::LightUserData(LightUserData(std::ptr::null_mut())),
    )?;
    table.raw_set("_NAME", "cjson")?;
    table.raw_set("_VERSION", "2.1.0")?;
    Ok(table)
}

fn cfg_encode_sparse_array(lua: &Lua, cfg: &Config, args: &Args) -> Outcome {
    check_arg_count(args, 3)?;
    let convert = enum_option(lua, args, 1, &cfg.sparse_convert, BOOL_OPTIONS)?;
    let ratio = integer_option(lua, args, 2, &cfg.sparse_ratio, 0, i32::MAX)?;
    let safe = integer_option(lua, args, 3, &cfg.sparse_safe, 0, i32::MAX)?;
    Ok(MultiValue::from_vec(vec![convert, ratio, safe]))
}

fn cfg_encode_max_depth(lua: &Lua, cfg: &Config, args: &Args) -> Outcome {
    check_arg_count(args, 1)?;
    Ok(one(integer_option(
        lua,
        args,
        1,
        &cfg.encode_max_depth,
        1,
        i32::MAX,
    )?))
}

fn cfg_decode_max_depth(lua: &Lua, cfg: &Config, args: &Args) -> Outcome {
    check_arg_count(args, 1)?;
    Ok(one(integer_option(
        lua,
        args,
        1,
        &cfg.decode_max_depth,
        1,
        i32::MAX,
    )?))
}

fn cfg_encode_number_precision(lua: &Lua, cfg: &Config, args: &Args) -> Outcome {
    check_arg_count(args, 1)?;
    Ok(one(integer_option(
        lua,
        args,
        1,
        &cfg.encode_number_precision,
        1,
        14,
    )?))
}

fn cfg_encode_keep_buffer(lua: &Lua, cfg: &Config, args: &Args) -> Outcome {
    check_arg_count(args, 1)?;
    let value = enum_option(lua, args, 1, &cfg.encode_keep_buffer, BOOL_OPTIONS)?;
    if cfg.encode_keep_buffer.get() == 0 {
        *cfg.encode_buf.borrow_mut() = Vec::new();
    }
    Ok(one(value))
}

fn cfg_encode_invalid_numbers(lua: &Lua, cfg: &Config, args: &Args) -> Outcome {
    check_arg_count(args, 1)?;
    Ok(one(enum_option(
        lua,
        args,
        1,
        &cfg.encode_invalid_numbers,
        INVALID_NUMBER_OPTIONS,
    )?))
}

fn cfg_decode_invalid_numbers(lua: &Lua, cfg: &Config, args: &Args) -> Outcome {
    check_arg_count(args, 1)?;
    Ok(one(enum_option(
        lua,
        args,
        1,
        &cfg.decode_invalid_numbers,
        BOOL_OPTIONS,
    )?))
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

fn encode(lua: &Lua, cfg: &Config, args: &Args) -> Outcome {
    if args.len() != 1 {
        return Err(Fail::Arg(1, b"expected 1 argument".to_vec()));
    }
    let root = args.get(1)?.unwrap_or(Value::Nil);
    let keep = cfg.encode_keep_buffer.get() != 0;
    let mut buf = if keep {
        std::mem::take(&mut *cfg.encode_buf.borrow_mut())
    } else {
        Vec::new()
    };
    buf.clear();
    let mut encoder = Encoder {
        lua,
        cfg,
        out: &mut buf,
        frames: Vec::new(),
        held: 0,
        spill: None,
    };
    let written = encoder.run(root);
    let result = match written {
        Ok(()) => lua.create_string(&buf).map_err(Fail::from),
        Err(fail) => Err(fail),
    };
    if keep {
        *cfg.encode_buf.borrow_mut() = buf;
    }
    Ok(one(Value::String(result?)))
}

/// How many mlua references the walkers here hold at most. Each pins a slot
/// of a reference stack Lua caps at about 8000 for the whole state, and data
/// can nest deeper or be wider than that: past the budget, open tables,
/// pending keys and iteration keys spill into a Lua table instead.
pub(crate) const REF_BUDGET: usize = 1024;

/// A table's key/value pairs in `next` order.
type Pairs = Vec<(Value, Value)>;

/// A table being written.
struct OpenTable {
    frame: Frame,
    /// The table, or None when it spilled (to 2d-1 of `Encoder::spill`).
    table: Option<Table>,
    /// References this entry holds.
    refs: usize,
}

/// `slots` is the C stack use with the table on top (1 for the argument,
/// then 1 per enclosing array, 2 per enclosing object).
enum Frame {
    /// Elements 1..=len, read with rawget as they are written.
    Array { len: i32, next: i64, slots: i64 },
    /// Pairs in `next` order: collected up front when the budget allows, else
    /// stepped through with `next` (the last key kept at 2d of the spill).
    Object {
        pairs: Option<std::vec::IntoIter<(Value, Value)>>,
        first: bool,
        slots: i64,
    },
}

/// What to do after looking at the innermost open table.
enum Step {
    Close(u8),
    Element(Value, i64),
}

struct Encoder<'a> {
    lua: &'a Lua,
    cfg: &'a Config,
    out: &'a mut Vec<u8>,
    frames: Vec<OpenTable>,
    /// References held by `frames`.
    held: usize,
    spill: Option<Table>,
}

fn serialise_error(what: &str, reason: &str) -> Fail {
    error(format!("Cannot serialise {what}: {reason}"))
}

/// The spill table, created on first use.
pub(crate) fn spill_table<'t>(lua: &Lua, spill: &'t mut Option<Table>) -> Result<&'t Table, Fail> {
    Ok(match spill {
        Some(table) => table,
        None => spill.insert(lua.create_table()?),
    })
}

/// A value kept in the spill.
pub(crate) fn spilled_value(spill: &Option<Table>, index: i64) -> Result<Value, Fail> {
    match spill {
        Some(spill) => Ok(spill.raw_get(index)?),
        None => Err(error("internal error: spilled value missing")),
    }
}

/// A table kept in the spill (a walker only spills once it made the spill).
pub(crate) fn spilled(spill: &Option<Table>, index: i64) -> Result<Table, Fail> {
    match spill {
        Some(spill) => Ok(spill.raw_get(index)?),
        None => Err(error("internal error: spilled table missing")),
    }
}

impl Encoder<'_> {
    fn run(&mut self, root: Value) -> Result<(), Fail> {
        self.value(root, 1)?;
        loop {
            let depth = self.frames.len() as i64;
            let Some(open) = self.frames.last_mut() else {
                return Ok(());
            };
            let fetched;
            let table = match &open.table {
                Some(table) => table,
                None => {
                    fetched = spilled(&self.spill, 2 * depth - 1)?;
                    &fetched
                }
            };
            let step = match &mut open.frame {
                Frame::Array { len, next, slots } => {
                    if *next > *len as i64 {
                        Step::Close(b']')
                    } else {
                        if *next > 1 {
                            self.out.push(b',');
                        }
                        let value: Value = table.raw_get(*next)?;
                        *next += 1;
                        Step::Element(value, *slots + 1)
                    }
                }
                Frame::Object {
                    pairs,
                    first,
                    slots,
                } => {
                    let pair = match pairs {
                        Some(pairs) => pairs.next(),
                        None => {
                            let spill = spill_table(self.lua, &mut self.spill)?;
                            let last_key: Value = spill.raw_get(2 * depth)?;
                            let (key, value): (Value, Value) =
                                self.cfg.next.call((table, last_key))?;
                            spill.raw_set(2 * depth, &key)?;
                            (!key.is_nil()).then_some((key, value))
                        }
                    };
                    match pair {
                        None => Step::Close(b'}'),
                        Some((key, value)) => {
                            if !*first {
                                self.out.push(b',');
                            }
                            *first = false;
                            write_key(self.cfg, self.out, &key)?;
                            Step::Element(value, *slots + 2)
                        }
                    }
                }
            };
            match step {
                Step::Close(bracket) => {
                    self.out.push(bracket);
                    if let Some(open) = self.frames.pop() {
                        self.held -= open.refs;
                    }
                }
                Step::Element(value, slots) => self.value(value, slots)?,
            }
        }
    }

    /// Writes a scalar, or opens a table.
    fn value(&mut self, value: Value, slots: i64) -> Result<(), Fail> {
        match value {
            Value::String(s) => append_string(self.out, &s.as_bytes()),
            Value::Integer(_) | Value::Number(_) => {
                append_number(self.cfg, self.out, lua_number(&value))?
            }
            Value::Boolean(true) => self.out.extend_from_slice(b"true"),
            Value::Boolean(false) => self.out.extend_from_slice(b"false"),
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            Value::Table(table) => self.open_table(table, slots)?,
            other => {
                return Err(serialise_error(
                    type_name(Some(&other)),
                    "type not supported",
                ))
            }
        }
        Ok(())
    }

    fn open_table(&mut self, table: Table, slots: i64) -> Result<(), Fail> {
        let depth = self.frames.len() as i64 + 1;
        // The C code needs 3 free slots here (key, value, error message).
        if depth > self.cfg.encode_max_depth.get() as i64 || slots + 3 > MAX_C_STACK {
            return Err(error(format!(
                "Cannot serialise, excessive nesting ({depth})"
            )));
        }
        let keep_table = self.held < REF_BUDGET;
        let room = REF_BUDGET.saturating_sub(self.held + 1);
        let (len, pairs) = self.scan(&table, room)?;
        let (frame, pair_refs) = if len > 0 {
            self.out.push(b'[');
            (
                Frame::Array {
                    len,
                    next: 1,
                    slots,
                },
                0,
            )
        } else {
            self.out.push(b'{');
            let refs = pairs.as_ref().map_or(0, |p| 2 * p.len());
            let pairs = pairs.map(Vec::into_iter);
            (
                Frame::Object {
                    pairs,
                    first: true,
                    slots,
                },
                refs,
            )
        };
        let steps_with_next = matches!(frame, Frame::Object { pairs: None, .. });
        let table = if keep_table {
            Some(table)
        } else {
            spill_table(self.lua, &mut self.spill)?.raw_set(2 * depth - 1, table)?;
            None
        };
        if steps_with_next {
            spill_table(self.lua, &mut self.spill)?.raw_set(2 * depth, Value::Nil)?;
        }
        let refs = table.is_some() as usize + pair_refs;
        self.held += refs;
        self.frames.push(OpenTable { frame, table, refs });
        Ok(())
    }

    /// `lua_array_length` (the array size if every key is an integer >= 1
    /// and the array is not excessively sparse, else -1 for an object), plus
    /// the pairs when they fit in `room` references. The maximum is a C int
    /// assigned from a double, hence the INT_MIN quirk for keys of 2^31 and
    /// beyond.
    fn scan(&self, table: &Table, room: usize) -> Result<(i32, Option<Pairs>), Fail> {
        let mut max: i32 = 0;
        let mut items: i32 = 0;
        let mut object = false;
        let mut pairs = Some(Vec::new());
        table.for_each(|key: Value, value: Value| {
            let k = match key {
                Value::Integer(_) | Value::Number(_) => lua_number(&key),
                _ => 0.0,
            };
            if !object && k != 0.0 && k.floor() == k && k >= 1.0 {
                if k > max as f64 {
                    max = double_to_i32(k);
                }
                items = items.wrapping_add(1);
            } else {
                object = true;
            }
            if let Some(collected) = &mut pairs {
                if 2 * (collected.len() + 1) <= room {
                    collected.push((key, value));
                } else {
                    pairs = None;
                }
            }
            Ok(())
        })?;
        if object {
            return Ok((-1, pairs));
        }
        let ratio = self.cfg.sparse_ratio.get();
        if ratio > 0 && max > items.wrapping_mul(ratio) && max > self.cfg.sparse_safe.get() {
            if self.cfg.sparse_convert.get() == 0 {
                return Err(serialise_error("table", "excessively sparse array"));
            }
            return Ok((-1, pairs));
        }
        Ok((max, pairs))
    }
}

/// An object key and its colon: strings, or numbers written as strings.
fn write_key(cfg: &Config, out: &mut Vec<u8>, key: &Value) -> Result<(), Fail> {
    match key {
        Value::String(s) => {
            append_string(out, &s.as_bytes());
            out.push(b':');
        }
        Value::Integer(_) | Value::Number(_) => {
            out.push(b'"');
            append_number(cfg, out, lua_number(key))?;
            out.extend_from_slice(b"\":");
        }
        other => {
            let what = type_name(Some(other));
            return Err(serialise_error(
                what,
                "table key must be a number or string",
            ));
        }
    }
    Ok(())
}

pub(crate) fn lua_number(value: &Value) -> f64 {
    match value {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        _ => 0.0,
    }
}

/// JSON escapes: control characters, DEL, '"', '\\' and '/'.
fn escape(byte: u8) -> Option<&'static [u8]> {
    const CONTROL: [&[u8]; 32] = [
        b"\\u0000", b"\\u0001", b"\\u0002", b"\\u0003", b"\\u0004", b"\\u0005", b"\\u0006",
        b"\\u0007", b"\\b", b"\\t", b"\\n", b"\\u000b", b"\\f", b"\\r", b"\\u000e", b"\\u000f",
        b"\\u0010", b"\\u0011", b"\\u0012", b"\\u0013", b"\\u0014", b"\\u0015", b"\\u0016",
        b"\\u0017", b"\\u0018", b"\\u0019", b"\\u001a", b"\\u001b", b"\\u001c", b"\\u001d",
        b"\\u001e", b"\\u001f",
    ];
    match byte {
        0..=31 => Some(CONTROL[byte as usize]),
        b'"' => Some(b"\\\""),
        b'/' => Some(b"\\/"),
        b'\\' => Some(b"\\\\"),
        127 => Some(b"\\u007f"),
        _ => None,
    }
}

fn append_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut plain_from = 0;
    for (i, &b) in s.iter().enumerate() {
        if let Some(esc) = escape(b) {
            out.extend_from_slice(&s[plain_from..i]);
            out.extend_from_slice(esc);
            plain_from = i + 1;
        }
    }
    out.extend_from_slice(&s[plain_from..]);
    out.push(b'"');
}

fn append_number(cfg: &Config, out: &mut Vec<u8>, n: f64) -> Result<(), Fail> {
    match cfg.encode_invalid_numbers.get() {
        0 if !n.is_finite() => return Err(serialise_error("number", "must not be NaN or Inf")),
        // "nan" whatever its sign, as some printf write "-nan".
        1 if n.is_nan() => {
            out.extend_from_slice(b"nan");
            return Ok(());
        }
        2 if !n.is_finite() => {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    format_g(
        out,
        n,
        cfg.encode_number_precision.get().clamp(1, 17) as usize,
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

fn decode(lua: &Lua, cfg: &Config, args: &Args) -> Outcome {
    if args.len() != 1 {
        return Err(Fail::Arg(1, b"expected 1 argument".to_vec()));
    }
    let json = check_string(lua, args, 1)?;
    let data = json.as_bytes();
    // Only the first character is sure to be ASCII; a NUL in the first two
    // bytes means UTF-16 or UTF-32.
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(error("JSON parser does not support UTF-16 or UTF-32"));
    }
    let parser = Parser {
        lua,
        cfg,
        data: &data,
        pos: 0,
        tmp: Vec::new(),
        depth: 0,
        slots: 1,
        frames: Vec::new(),
        held: 0,
        spill: None,
    };
    Ok(one(parser.run()?))
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    /// The decoded bytes are in `Parser::tmp`.
    Str,
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn describe(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Number(_) => "T_NUMBER",
            Tok::Boolean(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(what) => what,
        }
    }
}

#[derive(Clone, Copy)]
struct Token {
    tok: Tok,
    /// 0-based offset where the token (or the error) is.
    index: usize,
}

/// A container being filled while decoding.
struct OpenValue {
    /// For arrays, the next index; None for objects.
    next: Option<i64>,
    /// The table and an object's pending key, or None when they spilled (to
    /// 2d-1 and 2d of `Parser::spill`).
    table: Option<Table>,
    key: Option<LuaString>,
}

/// The C parser reads a NUL-terminated buffer: bytes past the end read as 0,
/// and an embedded NUL ends the input.
struct Parser<'a> {
    lua: &'a Lua,
    cfg: &'a Config,
    data: &'a [u8],
    pos: usize,
    tmp: Vec<u8>,
    depth: i64,
    /// C stack use: the argument plus 1 per open array, 2 per open object.
    slots: i64,
    frames: Vec<OpenValue>,
    /// References held by `frames` (see REF_BUDGET).
    held: usize,
    spill: Option<Table>,
}

impl Parser<'_> {
    fn byte(&self, at: usize) -> u8 {
        self.data.get(at).copied().unwrap_or(0)
    }

    fn starts_with(&self, at: usize, lit: &[u8]) -> bool {
        self.data.get(at..at + lit.len()) == Some(lit)
    }

    fn starts_with_ci(&self, at: usize, lit: &[u8]) -> bool {
        self.data
            .get(at..at + lit.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(lit))
    }

    fn parse_error(&self, expected: &str, token: Token) -> Fail {
        let found = token.tok.describe();
        error(format!(
            "Expected {expected} but found {found} at character {}",
            token.index + 1
        ))
    }

    fn descend(&mut self, need: i64) -> Result<(), Fail> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth.get() as i64 && self.slots + need <= MAX_C_STACK
        {
            return Ok(());
        }
        let msg = format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.pos
        );
        Err(error(msg))
    }

    fn run(mut self) -> Result<Value, Fail> {
        let mut token = self.next_token();
        loop {
            // `token` starts a value.
            let mut value = match token.tok {
                Tok::Str => Value::String(self.lua.create_string(&self.tmp)?),
                Tok::Number(n) => Value::Number(n),
                Tok::Boolean(b) => Value::Boolean(b),
                Tok::Null => Value::LightUserData(LightUserData(std::ptr::null_mut())),
                Tok::ObjBegin => {
                    self.descend(3)?;
                    let table = self.lua.create_table()?;
                    token = self.next_token();
                    if token.tok == Tok::ObjEnd {
                        self.depth -= 1;
                        Value::Table(table)
                    } else {
                        let key = self.object_key(token)?;
                        self.push(None, table, Some(key))?;
                        self.slots += 2;
                        token = self.next_token();
                        continue;
                    }
                }
                Tok::ArrBegin => {
                    self.descend(2)?;
                    let table = self.lua.create_table()?;
                    token = self.next_token();
                    if token.tok == Tok::ArrEnd {
                        self.depth -= 1;
                        Value::Table(table)
                    } else {
                        self.push(Some(1), table, None)?;
                        self.slots += 1;
                        continue;
                    }
                }
                _ => return Err(self.parse_error("value", token)),
            };
            // Store the value; close the containers that end after it.
            loop {
                let depth = self.frames.len() as i64;
                let Some(open) = self.frames.last_mut() else {
                    let end = self.next_token();
                    if end.tok != Tok::End {
                        return Err(self.parse_error("the end", end));
                    }
                    return Ok(value);
                };
                let fetched;
                let table = match &open.table {
                    Some(table) => table,
                    None => {
                        fetched = spilled(&self.spill, 2 * depth - 1)?;
                        &fetched
                    }
                };
                let closer = match &mut open.next {
                    Some(next) => {
                        table.raw_set(*next, value)?;
                        *next += 1;
                        Tok::ArrEnd
                    }
                    None => {
                        match &open.key {
                            Some(key) => table.raw_set(key, value)?,
                            None => table.raw_set(spilled_value(&self.spill, 2 * depth)?, value)?,
                        }
                        Tok::ObjEnd
                    }
                };
                token = self.next_token();
                if token.tok == closer {
                    value = self.pop()?;
                    continue;
                }
                if token.tok != Tok::Comma {
                    let expected = if closer == Tok::ArrEnd {
                        "comma or array end"
                    } else {
                        "comma or object end"
                    };
                    return Err(self.parse_error(expected, token));
                }
                token = self.next_token();
                if closer == Tok::ObjEnd {
                    let key = self.object_key(token)?;
                    match self.frames.last_mut() {
                        Some(OpenValue {
                            key: Some(held), ..
                        }) => *held = key,
                        _ => spill_table(self.lua, &mut self.spill)?.raw_set(2 * depth, key)?,
                    }
                    token = self.next_token();
                }
                break;
            }
        }
    }

    /// Makes `table` the innermost open container.
    fn push(
        &mut self,
        next: Option<i64>,
        table: Table,
        key: Option<LuaString>,
    ) -> Result<(), Fail> {
        let depth = self.frames.len() as i64 + 1;
        if self.held + 2 <= REF_BUDGET {
            self.held += 2;
            self.frames.push(OpenValue {
                next,
                table: Some(table),
                key,
            });
            return Ok(());
        }
        let spill = spill_table(self.lua, &mut self.spill)?;
        spill.raw_set(2 * depth - 1, table)?;
        spill.raw_set(2 * depth, key)?;
        self.frames.push(OpenValue {
            next,
            table: None,
            key: None,
        });
        Ok(())
    }

    /// Closes the innermost container, returning its table.
    fn pop(&mut self) -> Result<Value, Fail> {
        let depth = self.frames.len() as i64;
        let Some(open) = self.frames.pop() else {
            return Ok(Value::Nil);
        };
        self.slots -= if open.next.is_some() { 1 } else { 2 };
        self.depth -= 1;
        let table = match open.table {
            Some(table) => {
                self.held -= 2;
                table
            }
            None => spilled(&self.spill, 2 * depth - 1)?,
        };
        Ok(Value::Table(table))
    }

    /// A key string token followed by a colon.
    fn object_key(&mut self, token: Token) -> Result<LuaString, Fail> {
        if token.tok != Tok::Str {
            return Err(self.parse_error("object key string", token));
        }
        let key = self.lua.create_string(&self.tmp)?;
        let colon = self.next_token();
        if colon.tok != Tok::Colon {
            return Err(self.parse_error("colon", colon));
        }
        Ok(key)
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.byte(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let single = |tok| Token { tok, index };
        let ch = self.byte(index);
        let tok = match ch {
            b'{' => Tok::ObjBegin,
            b'}' => Tok::ObjEnd,
            b'[' => Tok::ArrBegin,
            b']' => Tok::ArrEnd,
            b',' => Tok::Comma,
            b':' => Tok::Colon,
            0 => return single(Tok::End),
            b'"' => return self.string_token(),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers.get() == 0 && self.is_invalid_number() {
                    return single(Tok::Error("invalid number"));
                }
                return self.number_token();
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                let (tok, len) = if self.starts_with(index, b"true") {
                    (Tok::Boolean(true), 4)
                } else if self.starts_with(index, b"false") {
                    (Tok::Boolean(false), 5)
                } else if self.starts_with(index, b"null") {
                    (Tok::Null, 4)
                } else if self.cfg.decode_invalid_numbers.get() != 0 && self.is_invalid_number() {
                    return self.number_token();
                } else {
                    return single(Tok::Error("invalid token"));
                };
                self.pos += len;
                return single(tok);
            }
            _ => return single(Tok::Error("invalid token")),
        };
        self.pos += 1;
        single(tok)
    }

    /// `json_is_invalid_number`: forms strtod takes that strict JSON does not
    /// (leading '+', hex, leading zeros, inf, nan).
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.byte(p) == b'+' {
            return true;
        }
        if self.byte(p) == b'-' {
            p += 1;
        }
        let ch = self.byte(p);
        if ch == b'0' {
            let ch2 = self.byte(p + 1);
            return (ch2 | 0x20) == b'x' || ch2.is_ascii_digit();
        }
        if ch <= b'9' {
            return false;
        }
        self.starts_with_ci(p, b"inf") || self.starts_with_ci(p, b"nan")
    }

    fn number_token(&mut self) -> Token {
        let index = self.pos;
        match strtod(self.data, index) {
            Some((n, end)) => {
                self.pos = end;
                Token {
                    tok: Tok::Number(n),
                    index,
                }
            }
            None => Token {
                tok: Tok::Error("invalid number"),
                index,
            },
        }
    }

    fn string_token(&mut self) -> Token {
        let index = self.pos;
        self.pos += 1;
        self.tmp.clear();
        loop {
            let ch = self.byte(self.pos);
            match ch {
                b'"' => break,
                0 => {
                    return Token {
                        tok: Tok::Error("unexpected end of string"),
                        index: self.pos,
                    }
                }
                b'\\' => {
                    let decoded = match self.byte(self.pos + 1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'f' => 0x0c,
                        b'r' => b'\r',
                        b'u' => {
                            if self.unicode_escape() {
                                continue;
                            }
                            let tok = Tok::Error("invalid unicode escape code");
                            return Token {
                                tok,
                                index: self.pos,
                            };
                        }
                        _ => {
                            return Token {
                                tok: Tok::Error("invalid escape code"),
                                index: self.pos,
                            }
                        }
                    };
                    self.tmp.push(decoded);
                    self.pos += 2;
                }
                _ => {
                    self.tmp.push(ch);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        Token {
            tok: Tok::Str,
            index,
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        (0..4).try_fold(0u32, |acc, i| {
            let digit = (self.byte(at + i) as char).to_digit(16)?;
            Some(acc << 4 | digit)
        })
    }

    /// At `\uXXXX` (or a surrogate pair of them): appends the UTF-8 and moves
    /// past it, or returns false leaving `pos` at the backslash.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut codepoint) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut escape_len = 6;
        if codepoint & 0xF800 == 0xD800 {
            // Must be a high surrogate followed by a low one.
            if codepoint & 0x400 != 0 {
                return false;
            }
            if self.byte(self.pos + 6) != b'\\' || self.byte(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            codepoint = (((codepoint & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            escape_len = 12;
        }
        push_utf8(&mut self.tmp, codepoint);
        self.pos += escape_len;
        true
    }
}

fn push_utf8(out: &mut Vec<u8>, cp: u32) {
    if cp <= 0x7F {
        out.push(cp as u8);
    } else if cp <= 0x7FF {
        out.extend_from_slice(&[(cp >> 6) as u8 | 0xC0, (cp & 0x3F) as u8 | 0x80]);
    } else if cp <= 0xFFFF {
        out.extend_from_slice(&[
            (cp >> 12) as u8 | 0xE0,
            ((cp >> 6) & 0x3F) as u8 | 0x80,
            (cp & 0x3F) as u8 | 0x80,
        ]);
    } else {
        out.extend_from_slice(&[
            (cp >> 18) as u8 | 0xF0,
            ((cp >> 12) & 0x3F) as u8 | 0x80,
            ((cp >> 6) & 0x3F) as u8 | 0x80,
            (cp & 0x3F) as u8 | 0x80,
        ]);
    }
}
