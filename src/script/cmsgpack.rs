//! The `cmsgpack` library Valkey gives scripts (lua-cmsgpack 0.4.0), rebuilt
//! in Rust: `pack` (each argument encoded, results concatenated), `unpack`,
//! `unpack_one` and `unpack_limit`, with the C library's type choices, its
//! 16-level nesting cut-off (deeper tables, circular ones included, become
//! nil) and its error messages.
//!
//! Decoding never sizes anything from a header's claimed count: containers
//! fill element by element and strings are checked against the input first.
//! Like `cjson`, the C stack slots the C code would use are counted so that
//! `lua_checkstack` failures ("stack overflow (...)") happen on the same
//! inputs, and nested data is walked with an explicit stack.

use std::cell::RefCell;
use std::collections::VecDeque;

use mlua::{Lua, Table, Value};

use super::cjson::{
    c_function, check_integer, check_string, double_to_i32, double_to_i64, error, one, opt_integer,
    spill_table, spilled, spilled_value, spread, Args, Fail, Outcome, MAX_C_STACK, REF_BUDGET,
};

#[cfg(test)]
mod tests;

/// Tables nested deeper than this are packed as nil.
const MAX_NESTING: u32 = 16;

/// Builds the `cmsgpack` table.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    table.raw_set("pack", c_function(lua, pack)?)?;
    table.raw_set("unpack", c_function(lua, unpack)?)?;
    table.raw_set("unpack_one", c_function(lua, unpack_one)?)?;
    table.raw_set("unpack_limit", c_function(lua, unpack_limit)?)?;
    table.raw_set("_NAME", "cmsgpack")?;
    table.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    table.raw_set("_COPYRIGHT", "Copyright (C) 2012, Redis Ltd.")?;
    table.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(table)
}

/// `luaL_checkstack(L, n, msg)` with `top` slots in use.
fn check_stack(top: i64, n: i64, msg: &str) -> Result<(), Fail> {
    if top + n > MAX_C_STACK {
        return Err(error(format!("stack overflow ({msg})")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Packing
// ---------------------------------------------------------------------------

fn pack(lua: &Lua, args: &Args) -> Outcome {
    let nargs = args.len() as i64;
    if nargs == 0 {
        return Err(Fail::Arg(0, b"MessagePack pack needs input.".to_vec()));
    }
    // lua_checkstack(L, nargs) with the nargs arguments already in place.
    if nargs > MAX_C_STACK || nargs * 2 > MAX_C_STACK {
        return Err(Fail::Arg(
            0,
            b"Too many arguments for MessagePack pack.".to_vec(),
        ));
    }
    let mut out = Vec::new();
    for i in 1..=args.len() {
        // The arguments plus one packed string per argument done so far.
        let top = nargs + i as i64 - 1;
        check_stack(top, 1, "in function mp_check")?;
        let value = args.get(i)?.unwrap_or(Value::Nil);
        encode(&mut out, &value, 0, top + 1)?;
    }
    Ok(one(Value::String(lua.create_string(&out)?)))
}

/// Encodes `value`, which sits at stack slot `top` in the C code's terms.
fn encode(out: &mut Vec<u8>, value: &Value, level: u32, top: i64) -> Result<(), Fail> {
    match value {
        Value::Table(_) if level == MAX_NESTING => out.push(0xc0),
        Value::Table(table) => encode_table(out, table, level, top)?,
        Value::String(s) => encode_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_int(out, *i),
        Value::Number(n) => {
            // Integral doubles within int64 (as C's cast judges it) pack as ints.
            if !n.is_infinite() && double_to_i64(*n) as f64 == *n {
                encode_int(out, double_to_i64(*n));
            } else {
                encode_double(out, *n);
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

/// A list if the keys are exactly 1..n, else a map. Pairs are visited in
/// place (nesting stops at 16 levels), never collected: each mlua value pins
/// a slot of a reference stack Lua caps at 8000.
fn encode_table(out: &mut Vec<u8>, table: &Table, level: u32, top: i64) -> Result<(), Fail> {
    check_stack(top, 2, "in function table_is_an_array")?;
    let shape = array_shape(table)?;
    if shape.is_array {
        let len = table.raw_len();
        encode_array_header(out, len as u64);
        check_stack(top, 1, "in function mp_encode_lua_table_as_array")?;
        for j in 1..=len {
            let element: Value = table.raw_get(j)?;
            encode(out, &element, level + 1, top + 1)?;
        }
        return Ok(());
    }
    check_stack(top, 3, "in function mp_encode_lua_table_as_map")?;
    encode_map_header(out, shape.pairs);
    if let Some(pairs) = shape.collected {
        for (key, value) in &pairs {
            encode(out, key, level + 1, top + 3)?;
            encode(out, value, level + 1, top + 2)?;
        }
        return Ok(());
    }
    let failed = RefCell::new(None);
    let walked = table.for_each(|key: Value, value: Value| {
        let done = encode(out, &key, level + 1, top + 3)
            .and_then(|()| encode(out, &value, level + 1, top + 2));
        done.map_err(|fail| {
            *failed.borrow_mut() = Some(fail);
            mlua::Error::runtime("cmsgpack: pack stopped")
        })
    });
    if let Some(fail) = failed.into_inner() {
        return Err(fail);
    }
    walked?;
    Ok(())
}

/// Pairs a table level keeps from its first walk (17 levels at most, so
/// well within REF_BUDGET references); bigger tables are walked again.
const KEPT_PAIRS: usize = 30;

struct Shape {
    /// `table_is_an_array`: every key a positive number that survives C's
    /// `(int)` cast, the largest equal to the count.
    is_array: bool,
    pairs: u64,
    /// The pairs in `next` order, for small tables.
    collected: Option<Vec<(Value, Value)>>,
}

fn array_shape(table: &Table) -> Result<Shape, Fail> {
    let mut pairs: u64 = 0;
    let mut count: i32 = 0;
    let mut max: i32 = 0;
    let mut array = true;
    let mut collected = Some(Vec::new());
    table.for_each(|key: Value, value: Value| {
        pairs += 1;
        let n = match key {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => f64::NAN,
        };
        let as_int = double_to_i32(n);
        if n.is_nan() || n <= 0.0 || as_int as f64 != n {
            array = false;
        }
        if array {
            max = max.max(as_int);
            count = count.wrapping_add(1);
        }
        if let Some(kept) = &mut collected {
            if kept.len() < KEPT_PAIRS {
                kept.push((key, value));
            } else {
                collected = None;
            }
        }
        Ok(())
    })?;
    Ok(Shape {
        is_array: array && max == count,
        pairs,
        collected,
    })
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// A float when the double survives the round trip through one, else a double.
fn encode_double(out: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if f as f64 == d {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&d.to_be_bytes());
    }
}

/// The smallest of fixnum / uint8..64 / int8..64.
fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_array_header(out: &mut Vec<u8>, n: u64) {
    if n <= 15 {
        out.push(0x90 | n as u8);
    } else if n <= 65535 {
        out.push(0xdc);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn encode_map_header(out: &mut Vec<u8>, n: u64) {
    if n <= 15 {
        out.push(0x80 | n as u8);
    } else if n <= 65535 {
        out.push(0xde);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdf);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

// ---------------------------------------------------------------------------
// Unpacking
// ---------------------------------------------------------------------------

fn unpack(lua: &Lua, args: &Args) -> Outcome {
    // The C function keeps all its arguments on the stack while decoding.
    let base = args.len() as i64;
    unpack_full(lua, args, 0, 0, base)
}

fn unpack_one(lua: &Lua, args: &Args) -> Outcome {
    let offset = opt_integer(lua, args, 2, 0)?;
    unpack_full(lua, args, 1, offset, 1)
}

fn unpack_limit(lua: &Lua, args: &Args) -> Outcome {
    let limit = check_integer(lua, args, 2)?;
    let offset = opt_integer(lua, args, 3, 0)?;
    unpack_full(lua, args, limit, offset, 1)
}

/// Decodes up to `limit` values from `offset`; limit 0 with offset 0 means
/// all values and no offset result, otherwise the next offset (-1 at the end)
/// comes first. `base` is the C stack use before the first value.
fn unpack_full(lua: &Lua, args: &Args, limit: i64, offset: i64, base: i64) -> Outcome {
    let input = check_string(lua, args, 1)?;
    let data = input.as_bytes();
    let len = data.len() as i64;
    let decode_all = limit == 0 && offset == 0;
    // The C code prints the input length where it means the limit.
    if offset < 0 || limit < 0 {
        let msg = format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        );
        return Err(error(msg));
    }
    if offset > len {
        return Err(error(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        )));
    }
    let limit = if decode_all { i32::MAX as i64 } else { limit };
    let first = if decode_all { 0 } else { 1 };
    let mut results = Results {
        first,
        held: VecDeque::new(),
        table: None,
    };
    let mut decoder = Decoder {
        lua,
        data: &data,
        pos: offset as usize,
        frames: Vec::new(),
        held: 0,
        spill: None,
    };
    let mut count: i64 = 0;
    while decoder.pos < data.len() && count < limit {
        match decoder.value(base + count) {
            Ok(value) => results.push(lua, first + count, value)?,
            Err(Broken::Eof) => return Err(error("Missing bytes in input.")),
            Err(Broken::BadFormat) => return Err(error("Bad data format in input.")),
            Err(Broken::Fail(fail)) => return Err(fail),
        }
        count += 1;
    }
    if !decode_all {
        check_stack(base + count, 1, "in function mp_unpack_full")?;
        let next = if decoder.pos == data.len() {
            -1
        } else {
            decoder.pos as i64
        };
        results.push(lua, 0, Value::Integer(next))?;
    }
    results.finish(first + count)
}

/// Results in order: held while few, else in a Lua table the shim spreads
/// onto the stack (there can be more than mlua could hold references for).
struct Results {
    /// 1 when the offset goes in front of the values, else 0.
    first: i64,
    held: VecDeque<Value>,
    table: Option<Table>,
}

/// Results held in Rust at most before moving to a table.
const HELD_RESULTS: usize = 64;

impl Results {
    /// Stores the result at 0-based position `at`: values from `first` on
    /// in order, then possibly the offset at 0.
    fn push(&mut self, lua: &Lua, at: i64, value: Value) -> Result<(), Fail> {
        if self.table.is_none() && self.held.len() < HELD_RESULTS {
            if at == 0 && self.first == 1 {
                self.held.push_front(value);
            } else {
                self.held.push_back(value);
            }
            return Ok(());
        }
        let table = spill_table(lua, &mut self.table)?;
        for (i, held) in self.held.drain(..).enumerate() {
            table.raw_set(self.first + i as i64 + 1, held)?;
        }
        table.raw_set(at + 1, value)?;
        Ok(())
    }

    fn finish(self, count: i64) -> Outcome {
        match self.table {
            Some(table) => Ok(spread(table, count as usize)),
            None => Ok(self.held.into_iter().collect()),
        }
    }
}

enum Broken {
    Eof,
    BadFormat,
    Fail(Fail),
}

impl From<mlua::Error> for Broken {
    fn from(err: mlua::Error) -> Self {
        Broken::Fail(Fail::Lua(err))
    }
}

impl From<Fail> for Broken {
    fn from(fail: Fail) -> Self {
        Broken::Fail(fail)
    }
}

/// A container being filled.
struct OpenTable {
    remaining: u64,
    /// For arrays, the next index; None for maps.
    next: Option<i64>,
    /// Whether a map's key is pending.
    has_key: bool,
    /// The table and a map's pending key, or None when they spilled (to 2d-1
    /// and 2d of `Decoder::spill`).
    table: Option<Table>,
    key: Option<Value>,
}

struct Decoder<'a> {
    lua: &'a Lua,
    data: &'a [u8],
    pos: usize,
    frames: Vec<OpenTable>,
    /// References held by `frames` (see REF_BUDGET).
    held: usize,
    spill: Option<Table>,
}

impl Decoder<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    fn need(&self, n: usize) -> Result<(), Broken> {
        if self.left() < n {
            return Err(Broken::Eof);
        }
        Ok(())
    }

    /// The `N` bytes after the type byte, once `need(1 + N)` holds.
    fn be<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        bytes.copy_from_slice(&self.data[self.pos + 1..self.pos + 1 + N]);
        bytes
    }

    fn string(&mut self, header: usize, len: usize) -> Result<Value, Broken> {
        self.need(header)?;
        self.pos += header;
        self.need(len)?;
        let s = self
            .lua
            .create_string(&self.data[self.pos..self.pos + len])?;
        self.pos += len;
        Ok(Value::String(s))
    }

    /// Decodes one complete value; `base` is the C stack use before it.
    fn value(&mut self, base: i64) -> Result<Value, Broken> {
        // C stack use before the next item: tables and pending keys/indexes.
        let mut top = base;
        loop {
            self.need(1)?;
            check_stack(
                top,
                1,
                "too many return values at once; use unpack_one or unpack_limit instead.",
            )?;
            let byte = self.data[self.pos];
            let number = Value::Number;
            let mut value = match byte {
                0xcc => {
                    self.need(2)?;
                    let v = number(self.be::<1>()[0] as f64);
                    self.pos += 2;
                    v
                }
                0xd0 => {
                    self.need(2)?;
                    let v = number(self.be::<1>()[0] as i8 as f64);
                    self.pos += 2;
                    v
                }
                0xcd => {
                    self.need(3)?;
                    let v = number(u16::from_be_bytes(self.be()) as f64);
                    self.pos += 3;
                    v
                }
                0xd1 => {
                    self.need(3)?;
                    let v = number(i16::from_be_bytes(self.be()) as f64);
                    self.pos += 3;
                    v
                }
                0xce => {
                    self.need(5)?;
                    let v = number(u32::from_be_bytes(self.be()) as f64);
                    self.pos += 5;
                    v
                }
                0xd2 => {
                    self.need(5)?;
                    let v = number(i32::from_be_bytes(self.be()) as f64);
                    self.pos += 5;
                    v
                }
                // uint64 goes through lua_Integer: values past INT64_MAX wrap.
                0xcf | 0xd3 => {
                    self.need(9)?;
                    let v = number(i64::from_be_bytes(self.be()) as f64);
                    self.pos += 9;
                    v
                }
                0xc0 => {
                    self.pos += 1;
                    Value::Nil
                }
                0xc3 | 0xc2 => {
                    self.pos += 1;
                    Value::Boolean(byte == 0xc3)
                }
                0xca => {
                    self.need(5)?;
                    let v = number(f32::from_be_bytes(self.be()) as f64);
                    self.pos += 5;
                    v
                }
                0xcb => {
                    self.need(9)?;
                    let v = number(f64::from_be_bytes(self.be()));
                    self.pos += 9;
                    v
                }
                0xd9 => {
                    self.need(2)?;
                    let len = self.be::<1>()[0] as usize;
                    self.string(2, len)?
                }
                0xda => {
                    self.need(3)?;
                    let len = u16::from_be_bytes(self.be()) as usize;
                    self.string(3, len)?
                }
                0xdb => {
                    self.need(5)?;
                    let len = u32::from_be_bytes(self.be()) as usize;
                    self.string(5, len)?
                }
                0xdc | 0xde => {
                    self.need(3)?;
                    let len = u16::from_be_bytes(self.be()) as u64;
                    self.pos += 3;
                    match self.open(byte == 0xdc, len, &mut top)? {
                        Some(empty) => empty,
                        None => continue,
                    }
                }
                0xdd | 0xdf => {
                    self.need(5)?;
                    let len = u32::from_be_bytes(self.be()) as u64;
                    self.pos += 5;
                    match self.open(byte == 0xdd, len, &mut top)? {
                        Some(empty) => empty,
                        None => continue,
                    }
                }
                0x00..=0x7f => {
                    self.pos += 1;
                    number(byte as f64)
                }
                0xe0..=0xff => {
                    self.pos += 1;
                    number(byte as i8 as f64)
                }
                0xa0..=0xbf => self.string(1, (byte & 0x1f) as usize)?,
                0x80..=0x9f => {
                    self.pos += 1;
                    match self.open(byte & 0xf0 == 0x90, (byte & 0x0f) as u64, &mut top)? {
                        Some(empty) => empty,
                        None => continue,
                    }
                }
                _ => return Err(Broken::BadFormat),
            };
            // Store the value; close the containers it completes.
            loop {
                let depth = self.frames.len() as i64;
                let Some(open) = self.frames.last_mut() else {
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
                if let Some(next) = &mut open.next {
                    table.raw_set(*next, value)?;
                    *next += 1;
                } else if !open.has_key {
                    match &mut open.key {
                        Some(key) if open.table.is_some() => *key = value,
                        None if open.table.is_some() => open.key = Some(value),
                        _ => spill_table(self.lua, &mut self.spill)?.raw_set(2 * depth, value)?,
                    }
                    open.has_key = true;
                    top += 1;
                    break;
                } else {
                    let key = match open.key.take() {
                        Some(key) => key,
                        None => spilled_value(&self.spill, 2 * depth)?,
                    };
                    match key {
                        Value::Nil => return Err(Fail::Raw(b"table index is nil".to_vec()).into()),
                        Value::Number(n) if n.is_nan() => {
                            return Err(Fail::Raw(b"table index is NaN".to_vec()).into());
                        }
                        _ => {}
                    }
                    table.raw_set(key, value)?;
                    open.has_key = false;
                    top -= 1;
                }
                open.remaining -= 1;
                if open.remaining > 0 {
                    break;
                }
                top -= if open.next.is_some() { 2 } else { 1 };
                value = self.pop()?;
            }
        }
    }

    /// Creates a container's table: returns it when empty, else makes it the
    /// one being filled (the caller then decodes its first item).
    fn open(&mut self, array: bool, len: u64, top: &mut i64) -> Result<Option<Value>, Broken> {
        let table = self.lua.create_table()?;
        if array {
            // The table is pushed, then the array decoder checks for one slot.
            check_stack(*top + 1, 1, "in function mp_decode_to_lua_array")?;
        }
        if len == 0 {
            return Ok(Some(Value::Table(table)));
        }
        *top += if array { 2 } else { 1 };
        let next = array.then_some(1);
        let depth = self.frames.len() as i64 + 1;
        let table = if self.held + 2 <= REF_BUDGET {
            self.held += 2;
            Some(table)
        } else {
            spill_table(self.lua, &mut self.spill)?.raw_set(2 * depth - 1, table)?;
            None
        };
        self.frames.push(OpenTable {
            remaining: len,
            next,
            has_key: false,
            table,
            key: None,
        });
        Ok(None)
    }

    /// Closes the innermost container, returning its table.
    fn pop(&mut self) -> Result<Value, Broken> {
        let depth = self.frames.len() as i64;
        let Some(open) = self.frames.pop() else {
            return Ok(Value::Nil);
        };
        let table = match open.table {
            Some(table) => {
                self.held -= 2;
                table
            }
            None => spilled(&self.spill, 2 * depth - 1)?,
        };
        Ok(Value::Table(table))
    }
}
