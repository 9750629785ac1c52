//! The bitmap family: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP here;
//! BITFIELD and BITFIELD_RO in `bitfield.rs`; the bit-level loops in
//! `kernels.rs`.
//!
//! Bitmaps are string values. A write edits the string in place
//! (`Str::make_growable`, then `settle`), so a bitmap is `raw` afterwards,
//! as Valkey unshares it, and one of 16 KiB or more stays `Big` (shared with
//! replies, edited in place while no reply holds it). Integer-encoded
//! strings read as their decimal digits. Argument checks, their order and
//! their error texts, keyspace events and what counts as a change follow
//! Valkey's bitops.c.

use super::args::{int, is};
use super::flags::*;
use super::meta::{acl, arg, ks, Doc, Group};
use super::string::get_str;
use super::{CommandSpec, Ctx, KeySpec};
use crate::config::notify;
use crate::error::{CmdError, CmdResult, STRING_TOO_LONG, SYNTAX, WRONGTYPE};
use crate::keyspace::{Access, Free, Str, Value};
use crate::util::num::parse_i64;

mod bitfield;
pub mod kernels;

pub use bitfield::getkeys;

use kernels::Op;

const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
const BIT_ARG: &str = "ERR The bit argument must be 1 or 0.";
const NOT_ONE_KEY: &str = "ERR BITOP NOT must be called with a single source key.";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "setbit",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: setbit,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets or clears one bit of a string value, creating the key if needed.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::integer("offset"),
                arg::integer("value"),
            ],
            ..Doc::new(Group::Bitmap, "2.2.0", acl::BITMAP)
        },
    },
    CommandSpec {
        name: "getbit",
        arity: 3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: getbit,
        subcommands: &[],
        doc: &Doc {
            summary: "Reads one bit of a string value.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), arg::integer("offset")],
            ..Doc::new(Group::Bitmap, "2.2.0", acl::BITMAP)
        },
    },
    CommandSpec {
        name: "bitcount",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: bitcount,
        subcommands: &[],
        doc: &Doc {
            summary: "Counts the bits set to 1 in a string value, or in a range of it.",
            complexity: "O(N), N bytes counted.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::block(
                    "range",
                    &[
                        arg::integer("start"),
                        arg::block(
                            "end-unit-block",
                            &[
                                arg::integer("end"),
                                arg::oneof(
                                    "unit",
                                    &[arg::pure("byte", "BYTE"), arg::pure("bit", "BIT")],
                                )
                                .since("7.0.0")
                                .optional(),
                            ],
                        )
                        .optional(),
                    ],
                )
                .optional(),
            ],
            history: &[
                ("7.0.0", "The BYTE and BIT units."),
                ("8.0.0", "The end of the range may be left out."),
            ],
            ..Doc::new(Group::Bitmap, "2.6.0", acl::BITMAP)
        },
    },
    CommandSpec {
        name: "bitpos",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: bitpos,
        subcommands: &[],
        doc: &Doc {
            summary: "Finds the first bit set to 1, or to 0, in a string value or a range of it.",
            complexity: "O(N), N bytes scanned.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::integer("bit"),
                arg::block(
                    "range",
                    &[
                        arg::integer("start"),
                        arg::block(
                            "end-unit-block",
                            &[
                                arg::integer("end"),
                                arg::oneof(
                                    "unit",
                                    &[arg::pure("byte", "BYTE"), arg::pure("bit", "BIT")],
                                )
                                .since("7.0.0")
                                .optional(),
                            ],
                        )
                        .optional(),
                    ],
                )
                .optional(),
            ],
            history: &[("7.0.0", "The BYTE and BIT units.")],
            ..Doc::new(Group::Bitmap, "2.8.7", acl::BITMAP)
        },
    },
    CommandSpec {
        name: "bitop",
        arity: -4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(2, -1, 1),
        handler: bitop,
        subcommands: &[],
        doc: &Doc {
            summary: "Combines string values bit by bit (AND, OR, XOR, NOT) into a key.",
            complexity: "O(N), N bytes of the longest string.",
            key_specs: &[
                ks::one(2, ks::OW | ks::UPDATE),
                ks::range(3, -1, 1, ks::RO | ks::ACCESS),
            ],
            args: &[
                arg::oneof(
                    "operation",
                    &[
                        arg::pure("and", "AND"),
                        arg::pure("or", "OR"),
                        arg::pure("xor", "XOR"),
                        arg::pure("not", "NOT"),
                    ],
                ),
                arg::key("destkey", 0),
                arg::key("key", 1).multiple(),
            ],
            ..Doc::new(Group::Bitmap, "2.6.0", acl::BITMAP)
        },
    },
    CommandSpec {
        name: "bitfield",
        arity: -2,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: bitfield::bitfield,
        subcommands: &[],
        doc: &Doc {
            summary: "Reads, writes and increments integers of any width at any bit offset of a string value.",
            complexity: "O(1) per subcommand.",
            key_specs: &[ks::one(
                1,
                ks::RW | ks::ACCESS | ks::UPDATE | ks::VARIABLE_FLAGS,
            )
            .notes("Reads with GET, writes with SET and INCRBY.")],
            args: &[
                arg::key("key", 0),
                arg::oneof(
                    "operation",
                    &[
                        arg::block(
                            "get-block",
                            &[arg::string("encoding"), arg::integer("offset")],
                        )
                        .token("GET"),
                        arg::block(
                            "write",
                            &[
                                arg::oneof(
                                    "overflow-block",
                                    &[
                                        arg::pure("wrap", "WRAP"),
                                        arg::pure("sat", "SAT"),
                                        arg::pure("fail", "FAIL"),
                                    ],
                                )
                                .token("OVERFLOW")
                                .optional(),
                                arg::oneof(
                                    "write-operation",
                                    &[
                                        arg::block(
                                            "set-block",
                                            &[
                                                arg::string("encoding"),
                                                arg::integer("offset"),
                                                arg::integer("value"),
                                            ],
                                        )
                                        .token("SET"),
                                        arg::block(
                                            "incrby-block",
                                            &[
                                                arg::string("encoding"),
                                                arg::integer("offset"),
                                                arg::integer("increment"),
                                            ],
                                        )
                                        .token("INCRBY"),
                                    ],
                                ),
                            ],
                        ),
                    ],
                )
                .optional()
                .multiple(),
            ],
            ..Doc::new(Group::Bitmap, "3.2.0", acl::BITMAP)
        },
    },
    CommandSpec {
        name: "bitfield_ro",
        arity: -2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: bitfield::bitfield_ro,
        subcommands: &[],
        doc: &Doc {
            summary: "Reads integers of any width at any bit offset of a string value.",
            complexity: "O(1) per GET.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::block(
                    "get-block",
                    &[arg::string("encoding"), arg::integer("offset")],
                )
                .token("GET")
                .optional()
                .multiple()
                .multiple_token(),
            ],
            ..Doc::new(Group::Bitmap, "6.0.0", acl::BITMAP)
        },
    },
];

/// Valkey's getBitOffsetFromArgument: a bit offset that is a strict
/// integer, not negative, in a string no longer than proto-max-bulk-len.
/// With `field_bits`, `#N` means N fields of that width (the product wraps
/// as Valkey's does).
fn bit_offset(a: &[u8], field_bits: Option<u32>, max_len: usize) -> Result<u64, CmdError> {
    let (digits, scale) = match field_bits {
        Some(bits) if a.first() == Some(&b'#') => (&a[1..], bits as i64),
        _ => (a, 1),
    };
    let n = parse_i64(digits)
        .ok_or(CmdError::from(BIT_OFFSET))?
        .wrapping_mul(scale);
    if n < 0 || (n >> 3) as u64 >= max_len as u64 {
        return Err(BIT_OFFSET.into());
    }
    Ok(n as u64)
}

/// The string in a value being written, or WRONGTYPE.
fn str_mut(v: &mut Value) -> Result<&mut Str, CmdError> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(WRONGTYPE.into()),
    }
}

/// Grows `v` to `len` bytes, zero filled, failing instead of aborting when
/// memory runs out.
fn grow_zeroed(v: &mut Vec<u8>, len: usize) -> CmdResult {
    if len > v.len() {
        v.try_reserve(len - v.len())
            .map_err(|_| CmdError::from(STRING_TOO_LONG))?;
        v.resize(len, 0);
    }
    Ok(())
}

/// SETBIT key offset value
fn setbit(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let offset = bit_offset(&argv[2], None, ctx.config().proto_max_bulk_len)?;
    let on = match parse_i64(&argv[3]) {
        Some(v) if v & !1 == 0 => v == 1,
        _ => return Err(BIT_VALUE.into()),
    };
    let (key, now) = (&argv[1], ctx.now);
    let byte = (offset >> 3) as usize;
    let mask = 0x80u8 >> (offset & 7);
    let db = ctx.db();
    let (old, changed, created) = match db.lookup(key, now, Access::WRITE) {
        None => {
            let mut v = Vec::new();
            grow_zeroed(&mut v, byte + 1)?;
            if on {
                v[byte] = mask;
            }
            db.add(key, Value::Str(Str::grown(v)), now);
            (false, true, true)
        }
        Some(e) => {
            let s = str_mut(e.value_mut())?;
            let v = s.make_growable();
            let grew = v.len() <= byte;
            grow_zeroed(v, byte + 1)?;
            let old = v[byte] & mask != 0;
            if on {
                v[byte] |= mask;
            } else {
                v[byte] &= !mask;
            }
            s.settle();
            (old, grew || old != on, false)
        }
    };
    if created {
        ctx.notify(notify::NEW, "new", key);
    }
    if changed {
        ctx.modified(key);
        ctx.notify(notify::STRING, "setbit", key);
        ctx.dirty(1);
    }
    ctx.out.int(old as i64);
    Ok(())
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let offset = bit_offset(&argv[2], None, ctx.config().proto_max_bulk_len)?;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let set = match get_str(db, &argv[1], now)? {
        None => false,
        Some(s) => {
            let b = s.to_bytes();
            let byte = (offset >> 3) as usize;
            byte < b.len() && b[byte] & (0x80 >> (offset & 7)) != 0
        }
    };
    out.int(set as i64);
    Ok(())
}

/// A range argument of BITCOUNT and BITPOS: `start [end [BYTE|BIT]]`
/// parsed in Valkey's order (start, unit, end).
struct Range {
    start: i64,
    end: Option<i64>,
    bits: bool,
}

fn parse_range(argv: &[bytes::Bytes], from: usize) -> Result<Range, CmdError> {
    let start = int(&argv[from])?;
    let bits = match argv.get(from + 2) {
        None => false,
        Some(u) if is(u, "bit") => true,
        Some(u) if is(u, "byte") => false,
        Some(_) => return Err(SYNTAX.into()),
    };
    let end = match argv.get(from + 1) {
        Some(e) => Some(int(e)?),
        None => None,
    };
    Ok(Range { start, end, bits })
}

/// A range resolved against a string: inclusive byte indexes, and the
/// masks of the bits of the first and last byte outside a BIT range.
struct Span {
    start: i64,
    end: i64,
    first_mask: u8,
    last_mask: u8,
}

/// Valkey's conversion of a range: negative indexes count from the end, the
/// range is clipped to the string, and a BIT range becomes bytes plus edge
/// masks. None: with `negative_check` (BITCOUNT's, not BITPOS's), `start >
/// end` with both negative, before clipping (nothing to look at).
fn resolve(r: &Range, len: usize, negative_check: bool) -> Option<Span> {
    let mut total = len as i64;
    let (mut start, mut end) = (r.start, r.end.unwrap_or(total - 1));
    if negative_check && start < 0 && end < 0 && start > end {
        return None;
    }
    if r.bits {
        total <<= 3;
    }
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    let (mut first_mask, mut last_mask) = (0, 0);
    if r.bits && start <= end {
        first_mask = !((1u16 << (8 - (start & 7))) - 1) as u8;
        last_mask = ((1u16 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    Some(Span {
        start,
        end,
        first_mask,
        last_mask,
    })
}

/// BITCOUNT key [start [end [BYTE|BIT]]]
fn bitcount(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let range = match argv.len() {
        2 => None,
        3..=5 => Some(parse_range(argv, 2)?),
        _ => return Err(SYNTAX.into()),
    };
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let Some(s) = get_str(db, &argv[1], now)? else {
        out.int(0);
        return Ok(());
    };
    let b = s.to_bytes();
    let whole = Range {
        start: 0,
        end: None,
        bits: false,
    };
    let count = match resolve(range.as_ref().unwrap_or(&whole), b.len(), true) {
        Some(sp) if sp.start <= sp.end => {
            let (a, z) = (sp.start as usize, sp.end as usize);
            let outside = (b[a] & sp.first_mask).count_ones() + (b[z] & sp.last_mask).count_ones();
            kernels::popcount(&b[a..=z]) - outside as u64
        }
        _ => 0,
    };
    out.int(count as i64);
    Ok(())
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
fn bitpos(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let bit = match int(&argv[2])? {
        0 => false,
        1 => true,
        _ => return Err(BIT_ARG.into()),
    };
    let range = match argv.len() {
        3 => None,
        4..=6 => Some(parse_range(argv, 3)?),
        _ => return Err(SYNTAX.into()),
    };
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let Some(s) = get_str(db, &argv[1], now)? else {
        // A missing key is an endless run of zeros.
        out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let b = s.to_bytes();
    let end_given = range.as_ref().is_some_and(|r| r.end.is_some());
    let whole = Range {
        start: 0,
        end: None,
        bits: false,
    };
    let pos = match resolve(range.as_ref().unwrap_or(&whole), b.len(), false) {
        Some(sp) if sp.start <= sp.end => find_in_span(&b, &sp, bit, end_given),
        // An empty range holds neither a 0 nor a 1.
        _ => -1,
    };
    out.int(pos);
    Ok(())
}

/// BITPOS over a resolved span, Valkey's way: the partial first byte, the
/// whole bytes between, the partial last byte. Looking for 0 with an
/// explicit end, running off the end of the range finds nothing (-1);
/// without one the string counts as zero-padded.
fn find_in_span(b: &[u8], sp: &Span, bit: bool, end_given: bool) -> i64 {
    let (mut start, end) = (sp.start as usize, sp.end as usize);
    let mut bytes = end - start + 1;
    let masked = |x: u8, mask: u8| if bit { x & !mask } else { x | mask };
    let pos: i64 = 'found: {
        if sp.first_mask != 0 {
            let mut t = masked(b[start], sp.first_mask);
            if sp.last_mask != 0 && bytes == 1 {
                t = masked(t, sp.last_mask);
            }
            let pos = kernels::bitpos(&[t], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'found pos;
            }
            start += 1;
            bytes -= 1;
        }
        let whole = bytes - (sp.last_mask != 0) as usize;
        if whole > 0 {
            let pos = kernels::bitpos(&b[start..start + whole], bit);
            if bytes == whole || (pos != -1 && pos != (whole as i64) << 3) {
                break 'found pos;
            }
            start += whole;
            bytes -= whole;
        }
        kernels::bitpos(&[masked(b[end], sp.last_mask)], bit)
    };
    if end_given && !bit && pos == (bytes as i64) << 3 {
        return -1;
    }
    if pos == -1 {
        -1
    } else {
        pos + ((start as i64) << 3)
    }
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]: the result is as long as
/// the longest source (missing bytes and keys count as zeros); an empty
/// result deletes the destination.
fn bitop(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let name = &argv[1];
    let op = if is(name, "and") {
        Op::And
    } else if is(name, "or") {
        Op::Or
    } else if is(name, "xor") {
        Op::Xor
    } else if is(name, "not") {
        Op::Not
    } else {
        return Err(SYNTAX.into());
    };
    if op == Op::Not && argv.len() != 4 {
        return Err(NOT_ONE_KEY.into());
    }
    let now = ctx.now;
    let db = ctx.db();
    // Sources are folded in one at a time, so no two are borrowed at once.
    let mut acc = Vec::new();
    for (i, key) in argv[3..].iter().enumerate() {
        match get_str(db, key, now)? {
            Some(s) => kernels::fold(op, &mut acc, &s.to_bytes(), i == 0),
            None => kernels::fold(op, &mut acc, &[], i == 0),
        }
    }
    let dest = &argv[2];
    let len = acc.len();
    if len > 0 {
        ctx.notify_if_new(dest);
        ctx.db().set(dest, Value::Str(Str::grown(acc)), false, now);
        ctx.modified(dest);
        ctx.notify(notify::STRING, "set", dest);
        ctx.dirty(1);
    } else if ctx.db().delete(dest, now, Free::Sync) {
        ctx.modified(dest);
        ctx.notify(notify::GENERIC, "del", dest);
        ctx.dirty(1);
    }
    ctx.out.int(len as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: i64, end: Option<i64>, bits: bool) -> Range {
        Range { start, end, bits }
    }

    #[test]
    fn offsets_as_valkey_parses_them() {
        let max = 512 * 1024 * 1024;
        assert_eq!(bit_offset(b"0", None, max), Ok(0));
        assert_eq!(bit_offset(b"4294967295", None, max), Ok(4294967295));
        assert!(bit_offset(b"4294967296", None, max).is_err());
        assert!(bit_offset(b"-1", None, max).is_err());
        assert!(bit_offset(b"#1", None, max).is_err());
        assert!(bit_offset(b"01", None, max).is_err());
        assert_eq!(bit_offset(b"#3", Some(8), max), Ok(24));
        assert!(bit_offset(b"#", Some(8), max).is_err());
        assert!(bit_offset(b"#-1", Some(8), max).is_err());
        // #2^61 fields of 8 bits wrap to offset 0, as in Valkey.
        assert_eq!(bit_offset(b"#2305843009213693952", Some(8), max), Ok(0));
        assert!(bit_offset(b"80", None, 10).is_err());
        assert_eq!(bit_offset(b"79", None, 10), Ok(79));
    }

    fn resolve_c(r: &Range, len: usize) -> Option<Span> {
        resolve(r, len, true)
    }

    #[test]
    fn ranges_resolve_as_valkey() {
        let sp = resolve_c(&range(0, None, false), 5).unwrap();
        assert_eq!((sp.start, sp.end), (0, 4));
        assert!(resolve_c(&range(-1, Some(-3), false), 5).is_none());
        // BITPOS clips first: -2..-5 of one byte is byte 0.
        let sp = resolve(&range(-2, Some(-5), false), 1, false).unwrap();
        assert_eq!((sp.start, sp.end), (0, 0));
        let sp = resolve_c(&range(-100, Some(100), false), 5).unwrap();
        assert_eq!((sp.start, sp.end), (0, 4));
        // The end is clipped to bit 23, the last of the last byte.
        let sp = resolve_c(&range(5, Some(30), true), 3).unwrap();
        assert_eq!(
            (sp.start, sp.end, sp.first_mask, sp.last_mask),
            (0, 2, 0xf8, 0)
        );
        let sp = resolve_c(&range(5, Some(22), true), 3).unwrap();
        assert_eq!(sp.last_mask, 0x01);
        let sp = resolve_c(&range(0, Some(-1), false), 0).unwrap();
        assert!(sp.start > sp.end);
    }

    #[test]
    fn bitpos_span_edges() {
        let find = |b: &[u8], r: Range, bit: bool| {
            let given = r.end.is_some();
            match resolve(&r, b.len(), false) {
                Some(sp) if sp.start <= sp.end => find_in_span(b, &sp, bit, given),
                _ => -1,
            }
        };
        // Valkey 9.1: SET k "\xff\xf0\x00"; BITPOS k 0 → 12.
        assert_eq!(find(b"\xff\xf0\x00", range(0, None, false), false), 12);
        assert_eq!(find(b"\xff\xff\xff", range(0, None, false), false), 24);
        assert_eq!(find(b"\xff\xff\xff", range(0, Some(-1), false), false), -1);
        assert_eq!(find(b"\x00\x00\x00", range(0, None, false), true), -1);
        assert_eq!(find(b"\x00\xff\x00", range(7, Some(15), true), true), 8);
        assert_eq!(find(b"\x00\xff\x00", range(9, Some(15), true), true), 9);
        assert_eq!(find(b"\x00\xff\x00", range(9, Some(15), true), false), -1);
        assert_eq!(find(b"\x00\xff\x00", range(9, Some(16), true), false), 16);
        assert_eq!(find(b"\xff\xff\xff", range(3, Some(5), true), false), -1);
        assert_eq!(find(b"\x10", range(3, Some(5), true), true), 3);
    }
}
