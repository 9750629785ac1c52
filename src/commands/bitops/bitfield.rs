//! BITFIELD and BITFIELD_RO: integers of 1 to 64 bits (`i1`..`i64`,
//! `u1`..`u63`) at any bit offset of a string, read (GET), written (SET,
//! replying the old value) or incremented (INCRBY, replying the new one)
//! under the OVERFLOW rule in force (WRAP, SAT, or FAIL, which skips the
//! write and replies nil).
//!
//! As in Valkey every subcommand is parsed before anything runs, a command
//! with a write first grows the string to the farthest bit it writes (and
//! creates the key, even when every write then fails), and the changes
//! counted are the writes that changed a value, or every write that ran
//! when the string was created or grown: they make the `setbit` event and
//! the propagation.

use super::kernels::{self, Overflow};
use super::{bit_offset, grow_zeroed, str_mut};
use crate::commands::args::{int, is};
use crate::commands::string::get_str;
use crate::commands::Ctx;
use crate::config::notify;
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::keyspace::{Access, Str, Value};
use crate::resp::ReplyBuf;
use crate::util::num::parse_i64;

const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const BAD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
const RO_ONLY_GET: &str = "ERR BITFIELD_RO only supports the GET subcommand";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Get,
    Set,
    IncrBy,
}

/// One parsed subcommand.
struct FieldOp {
    kind: Kind,
    offset: u64,
    bits: u32,
    signed: bool,
    /// SET's value or INCRBY's increment.
    value: i64,
    overflow: Overflow,
}

pub fn bitfield(ctx: &mut Ctx) -> CmdResult {
    bitfield_generic(ctx, false)
}

pub fn bitfield_ro(ctx: &mut Ctx) -> CmdResult {
    bitfield_generic(ctx, true)
}

/// Valkey's getBitfieldTypeFromArgument. The width is read as C reads it,
/// up to the first NUL byte.
fn field_type(a: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match a.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(BAD_TYPE.into()),
    };
    let rest = &a[1..];
    let rest = &rest[..rest.iter().position(|&c| c == 0).unwrap_or(rest.len())];
    match parse_i64(rest) {
        Some(n) if n >= 1 && n <= if signed { 64 } else { 63 } => Ok((signed, n as u32)),
        _ => Err(BAD_TYPE.into()),
    }
}

/// Parses every subcommand: the operations, the farthest bit written.
fn parse(argv: &[bytes::Bytes], max_len: usize) -> Result<(Vec<FieldOp>, Option<u64>), CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest: Option<u64> = None;
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let sub = &argv[j];
        let kind = if is(sub, "get") && left >= 2 {
            Kind::Get
        } else if is(sub, "set") && left >= 3 {
            Kind::Set
        } else if is(sub, "incrby") && left >= 3 {
            Kind::IncrBy
        } else if is(sub, "overflow") && left >= 1 {
            let w = &argv[j + 1];
            overflow = if is(w, "wrap") {
                Overflow::Wrap
            } else if is(w, "sat") {
                Overflow::Sat
            } else if is(w, "fail") {
                Overflow::Fail
            } else {
                return Err(BAD_OVERFLOW.into());
            };
            j += 2;
            continue;
        } else {
            return Err(SYNTAX.into());
        };
        let (signed, bits) = field_type(&argv[j + 1])?;
        let offset = bit_offset(&argv[j + 2], Some(bits), max_len)?;
        let mut value = 0;
        if kind != Kind::Get {
            let last = offset + bits as u64 - 1;
            highest = Some(highest.map_or(last, |h| h.max(last)));
            value = int(&argv[j + 3])?;
        }
        ops.push(FieldOp {
            kind,
            offset,
            bits,
            signed,
            value,
            overflow,
        });
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok((ops, highest))
}

fn bitfield_generic(ctx: &mut Ctx, read_only: bool) -> CmdResult {
    let argv = ctx.argv;
    let (ops, highest) = parse(argv, ctx.config().proto_max_bulk_len)?;
    let (key, now) = (&argv[1], ctx.now);
    let Some(highest) = highest else {
        // GETs only: a read, and a missing key reads as zeros.
        let (db, out) = ctx.db_and_out();
        let s = get_str(db, key, now)?;
        let bytes = s.map(|s| s.to_bytes());
        let b: &[u8] = bytes.as_deref().unwrap_or(&[]);
        out.array(ops.len());
        for op in &ops {
            reply_get(out, b, op);
        }
        return Ok(());
    };
    if read_only {
        return Err(RO_ONLY_GET.into());
    }
    let need = (highest >> 3) as usize + 1;
    let (db, out) = ctx.db_and_out();
    let (changes, created) = match db.lookup(key, now, Access::WRITE) {
        None => {
            let mut v = Vec::new();
            grow_zeroed(&mut v, need)?;
            out.array(ops.len());
            let changes = run(&mut v, &ops, true, out);
            db.add(key, Value::Str(Str::grown(v)), now);
            (changes, true)
        }
        Some(e) => {
            let s = str_mut(e.value_mut())?;
            let v = s.make_growable();
            let grew = v.len() < need;
            grow_zeroed(v, need)?;
            out.array(ops.len());
            let changes = run(v, &ops, grew, out);
            s.settle();
            (changes, false)
        }
    };
    if created {
        ctx.notify(notify::NEW, "new", key);
    }
    if changes > 0 {
        ctx.modified(key);
        ctx.notify(notify::STRING, "setbit", key);
        ctx.dirty(changes);
    }
    Ok(())
}

/// Valkey's bitfieldGetKeys for COMMAND GETKEYSANDFLAGS: the key is read
/// only when every subcommand is a GET (or OVERFLOW); anything else,
/// a malformed one included, counts as a write.
pub fn getkeys(argv: &[bytes::Bytes]) -> Vec<(usize, u16)> {
    use crate::commands::meta::ks;
    let mut read_only = true;
    let mut i = 2;
    while i < argv.len() {
        let left = argv.len() - i - 1;
        let a = &argv[i];
        if is(a, "get") && left >= 2 {
            i += 2;
        } else if is(a, "overflow") && left >= 1 {
            i += 1;
        } else {
            read_only = false;
            break;
        }
        i += 1;
    }
    let flags = if read_only {
        ks::RO | ks::ACCESS
    } else {
        ks::RW | ks::ACCESS | ks::UPDATE
    };
    vec![(1, flags)]
}

fn reply_get(out: &mut ReplyBuf, b: &[u8], op: &FieldOp) {
    if op.signed {
        out.int(kernels::get_signed(b, op.offset, op.bits));
    } else {
        out.int(kernels::get_unsigned(b, op.offset, op.bits) as i64);
    }
}

/// Runs the operations on `v` (long enough for every write), replying to
/// each; returns the number of changes (`grown`: every write that ran).
fn run(v: &mut [u8], ops: &[FieldOp], grown: bool, out: &mut ReplyBuf) -> u64 {
    let mut changes = 0;
    for op in ops {
        if op.kind == Kind::Get {
            reply_get(out, v, op);
            continue;
        }
        let (old, new, overflowed, reply) = if op.signed {
            let old = kernels::get_signed(v, op.offset, op.bits);
            let (new, of) = if op.kind == Kind::IncrBy {
                match kernels::signed_overflow(old, op.value, op.bits, op.overflow) {
                    Some(w) => (w, true),
                    None => (old.wrapping_add(op.value), false),
                }
            } else {
                match kernels::signed_overflow(op.value, 0, op.bits, op.overflow) {
                    Some(w) => (w, true),
                    None => (op.value, false),
                }
            };
            let reply = if op.kind == Kind::IncrBy { new } else { old };
            (old as u64, new as u64, of, reply)
        } else {
            let old = kernels::get_unsigned(v, op.offset, op.bits);
            let start = if op.kind == Kind::IncrBy {
                old
            } else {
                op.value as u64
            };
            let incr = if op.kind == Kind::IncrBy { op.value } else { 0 };
            let (new, of) = match kernels::unsigned_overflow(start, incr, op.bits, op.overflow) {
                Some(w) => (w, true),
                None => (start.wrapping_add(incr as u64), false),
            };
            let reply = if op.kind == Kind::IncrBy { new } else { old };
            (old, new, of, reply as i64)
        };
        if overflowed && op.overflow == Overflow::Fail {
            out.null();
            continue;
        }
        out.int(reply);
        kernels::set_field(v, op.offset, op.bits, new);
        if grown || old != new {
            changes += 1;
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn argv(s: &str) -> Vec<Bytes> {
        s.split(' ').map(|a| Bytes::from(a.to_string())).collect()
    }

    fn err(s: &str) -> String {
        match parse(&argv(s), 512 << 20) {
            Err(e) => e.0.to_string(),
            Ok(_) => "ok".into(),
        }
    }

    #[test]
    fn parse_errors_in_valkey_order() {
        assert_eq!(err("bitfield k get i8 0 set u8 0 1"), "ok");
        assert_eq!(err("bitfield k get i8"), SYNTAX);
        assert_eq!(err("bitfield k foo"), SYNTAX);
        assert_eq!(err("bitfield k overflow"), SYNTAX);
        assert_eq!(err("bitfield k overflow bar get i8 0"), BAD_OVERFLOW);
        assert_eq!(err("bitfield k get u64 0"), BAD_TYPE);
        assert_eq!(err("bitfield k get i65 0"), BAD_TYPE);
        assert_eq!(err("bitfield k get i0 0"), BAD_TYPE);
        assert_eq!(err("bitfield k get x8 0"), BAD_TYPE);
        assert_eq!(err("bitfield k get i08 0"), BAD_TYPE);
        assert_eq!(err("bitfield k get i8 -1"), super::super::BIT_OFFSET);
        assert_eq!(
            err("bitfield k set i8 0 x"),
            "ERR value is not an integer or out of range"
        );
        // Type before offset, offset before value.
        assert_eq!(err("bitfield k set i99 x x"), BAD_TYPE);
        assert_eq!(err("bitfield k set i8 x x"), super::super::BIT_OFFSET);
        let (ops, highest) = parse(&argv("bitfield k set u8 #2 1 get i64 0"), 1 << 20).unwrap();
        assert_eq!((ops[0].offset, highest), (16, Some(23)));
        assert_eq!(field_type(b"i8\0zz").unwrap(), (true, 8));
    }

    #[test]
    fn key_flags_as_bitfield_get_keys() {
        use crate::commands::meta::ks;
        let flags = |s: &str| getkeys(&argv(s))[0].1;
        let ro = ks::RO | ks::ACCESS;
        let rw = ks::RW | ks::ACCESS | ks::UPDATE;
        assert_eq!(flags("bitfield k"), ro);
        assert_eq!(flags("bitfield k get u8 0 overflow sat get i4 #1"), ro);
        assert_eq!(flags("bitfield k get u8 0 set u8 0 1"), rw);
        assert_eq!(flags("bitfield k incrby u8 0 1"), rw);
        // Malformed counts as a write, as in Valkey.
        assert_eq!(flags("bitfield k a2"), rw);
        assert_eq!(flags("bitfield k get u8"), rw);
    }

    #[test]
    fn run_counts_changes_and_fails() {
        let mut out = ReplyBuf::new(2);
        let (ops, _) = parse(
            &argv("bitfield k set u8 0 255 set u8 0 255 overflow fail incrby u8 0 1 get u8 0"),
            1 << 20,
        )
        .unwrap();
        let mut v = vec![0u8; 1];
        assert_eq!(run(&mut v, &ops, false, &mut out), 1);
        assert_eq!(v, [255]);
        let mut v = vec![0u8; 1];
        assert_eq!(run(&mut v, &ops, true, &mut out), 2);
    }
}
