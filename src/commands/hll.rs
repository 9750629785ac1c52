//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//!
//! An HLL is a string value in Redis's representation (`keyspace::hll`
//! does the bytes); this file is the command side, in Valkey's order of
//! lookups, checks and side effects. A string that is not an HLL is
//! WRONGTYPE with Valkey's own text; a sparse encoding found broken is
//! INVALIDOBJ. PFCOUNT of one key writes the cardinality it computed into
//! the value (Valkey's cache), so it counts as a change and propagates
//! though the command is read-only. The value is unshared (made `raw`)
//! by every command that may write it, as Valkey's dbUnshareStringValue.

use std::sync::atomic::Ordering;

use super::args::is;
use super::flags::*;
use super::meta::{acl, arg, doc_flags, ks, Doc, Group};
use super::{CommandSpec, Ctx, KeySpec};
use crate::config::{notify, Config};
use crate::error::{CmdError, CmdResult, WRONGTYPE};
use crate::keyspace::hll::{self, Editor, REGISTERS, SPARSE};
use crate::keyspace::{Access, Entry, Str, StrRef, Value};

pub const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
pub const CORRUPT_HLL: &str = "INVALIDOBJ Corrupted HLL object detected";
pub const PFDEBUG_NO_KEY: &str = "ERR The specified key does not exist";
pub const PFDEBUG_NOT_SPARSE: &str = "ERR HLL encoding is not sparse";
pub const PFDEBUG_ON_OFF: &str = "ERR Argument must be ON or OFF";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "pfadd",
        arity: -2,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: pfadd,
        subcommands: &[],
        doc: &Doc {
            summary: "Adds elements to a HyperLogLog, creating it if needed.",
            complexity: "O(1) for each element added.",
            key_specs: &[ks::one(1, ks::RW | ks::INSERT)],
            args: &[
                arg::key("key", 0),
                arg::string("element").optional().multiple(),
            ],
            ..Doc::new(Group::Hyperloglog, "2.8.9", acl::HYPERLOGLOG)
        },
    },
    CommandSpec {
        name: "pfcount",
        arity: -2,
        flags: READONLY | MAY_REPLICATE,
        keys: KeySpec::range(1, -1, 1),
        handler: pfcount,
        subcommands: &[],
        doc: &Doc {
            summary: "Estimates the number of distinct elements added to one or more HyperLogLogs.",
            complexity: "O(1) for one key (with its cached cardinality), O(N) for N keys merged.",
            key_specs: &[ks::range(1, -1, 1, ks::RW | ks::ACCESS)
                .notes("The cardinality computed for a single key is cached in its value.")],
            args: &[arg::key("key", 0).multiple()],
            ..Doc::new(Group::Hyperloglog, "2.8.9", acl::HYPERLOGLOG)
        },
    },
    CommandSpec {
        name: "pfmerge",
        arity: -2,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, -1, 1),
        handler: pfmerge,
        subcommands: &[],
        doc: &Doc {
            summary: "Merges HyperLogLogs into one, the destination included.",
            complexity: "O(N) for N HyperLogLogs, with a large constant.",
            key_specs: &[
                ks::one(1, ks::RW | ks::ACCESS | ks::INSERT),
                ks::range(2, -1, 1, ks::RO | ks::ACCESS),
            ],
            args: &[
                arg::key("destkey", 0),
                arg::key("sourcekey", 1).optional().multiple(),
            ],
            ..Doc::new(Group::Hyperloglog, "2.8.9", acl::HYPERLOGLOG)
        },
    },
    CommandSpec {
        name: "pfdebug",
        arity: 3,
        flags: WRITE | DENYOOM | ADMIN,
        keys: KeySpec::range(2, 2, 1),
        handler: pfdebug,
        subcommands: &[],
        doc: &Doc {
            summary: "Shows or changes the internals of a HyperLogLog (for testing).",
            complexity: "O(N)",
            key_specs: &[ks::one(2, ks::RW | ks::ACCESS)],
            args: &[arg::string("subcommand"), arg::key("key", 0)],
            doc_flags: doc_flags::SYSCMD,
            ..Doc::new(Group::Hyperloglog, "2.8.9", acl::HYPERLOGLOG)
        },
    },
    CommandSpec {
        name: "pfselftest",
        arity: 1,
        flags: ADMIN,
        keys: KeySpec::NONE,
        handler: pfselftest,
        subcommands: &[],
        doc: &Doc {
            summary: "Tests the HyperLogLog implementation (for testing).",
            complexity: "N/A",
            doc_flags: doc_flags::SYSCMD,
            ..Doc::new(Group::Hyperloglog, "2.8.9", acl::HYPERLOGLOG)
        },
    },
];

/// `hll-sparse-max-bytes`: read only when a sparse HLL is edited.
fn sparse_max(config: &Config) -> usize {
    config
        .extra
        .get("hll-sparse-max-bytes")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(3000)
}

fn corrupt(_: hll::Corrupt) -> CmdError {
    CORRUPT_HLL.into()
}

/// Valkey's isHLLObjectOrReply on a string's bytes (an integer-encoded
/// string is never one).
fn check_hll(s: Option<StrRef<'_>>) -> CmdResult {
    match s {
        None => Err(WRONGTYPE.into()),
        Some(StrRef::Int(_)) => Err(NOT_HLL.into()),
        Some(s) if hll::is_hll(&s.to_bytes()) => Ok(()),
        Some(_) => Err(NOT_HLL.into()),
    }
}

/// The string of a key checked to hold an HLL, for changing in place.
fn hll_str(e: &mut Entry) -> Result<&mut Str, CmdError> {
    check_hll(e.str_ref())?;
    match e.value_mut() {
        Value::Str(s) => Ok(s),
        _ => Err(WRONGTYPE.into()),
    }
}

/// PFADD key [element ...]: 1 when a register rose or the key was made.
fn pfadd(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let key = &argv[1];
    let parts = ctx.parts();
    let (db, config) = (parts.db, parts.config);
    let mut updated = 0u64;
    let created = match db.lookup(key, now, Access::WRITE) {
        None => {
            let mut v = hll::empty();
            let mut ed = Editor::new(&mut v);
            let limit = sparse_max(config);
            for ele in &argv[2..] {
                updated += ed.add(ele, limit).map_err(corrupt)? as u64;
            }
            ed.invalidate();
            drop(ed);
            db.add(key, Value::Str(Str::Growable(v)), now);
            updated += 1;
            true
        }
        Some(e) => {
            let s = hll_str(e)?;
            // Dense and already raw (the usual case): no editor, nothing
            // to unshare, no limit to read.
            if let Str::Growable(v) = s {
                if v[4] == hll::DENSE {
                    for ele in &argv[2..] {
                        updated += hll::dense_add(v, ele) as u64;
                    }
                    if updated > 0 {
                        hll::invalidate(v);
                    }
                    return pfadd_done(ctx, false, updated);
                }
            }
            let v = s.make_growable();
            let mut ed = Editor::new(v);
            let mut result = Ok(());
            let mut max = None;
            for ele in &argv[2..] {
                let limit = if ed.encoding() == SPARSE {
                    *max.get_or_insert_with(|| sparse_max(config))
                } else {
                    0
                };
                match ed.add(ele, limit) {
                    Ok(up) => updated += up as u64,
                    Err(e) => {
                        result = Err(corrupt(e));
                        break;
                    }
                }
            }
            if result.is_ok() && updated > 0 {
                ed.invalidate();
            }
            drop(ed);
            s.settle();
            result?;
            false
        }
    };
    pfadd_done(ctx, created, updated)
}

/// PFADD's events and reply once the value is changed: `new` for a key
/// it created, `pfadd` (and the dirty count) when a register rose.
#[inline]
fn pfadd_done(ctx: &mut Ctx, created: bool, updated: u64) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1];
    if created {
        ctx.notify(notify::NEW, "new", key);
    }
    if updated > 0 {
        ctx.modified(key);
        ctx.notify(notify::STRING, "pfadd", key);
        ctx.dirty(updated);
    }
    ctx.out.int((updated > 0) as i64);
    Ok(())
}

/// PFCOUNT key [key ...]
fn pfcount(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 2 {
        return pfcount_union(ctx);
    }
    let now = ctx.now;
    let argv = ctx.argv;
    let key = &argv[1];
    let (db, out) = ctx.db_and_out();
    let card = {
        let Some(e) = db.lookup(key, now, Access::READ) else {
            out.int(0);
            return Ok(());
        };
        let s = hll_str(e)?;
        let v = s.make_growable();
        let counted = match hll::cached(v) {
            Some(c) => Ok((c, true)),
            None => hll::count(v).map(|c| (c, false)),
        };
        s.settle();
        let (c, cached) = counted.map_err(corrupt)?;
        if cached {
            out.int(c as i64);
            return Ok(());
        }
        c
    };
    // Writing the cache changes the value: through a write lookup, so that
    // a running snapshot keeps the old bytes.
    if let Some(Value::Str(s)) = db.lookup(key, now, Access::WRITE).map(|e| e.value_mut()) {
        hll::set_cached(s.make_growable(), card);
        s.settle();
    }
    out.int(card as i64);
    ctx.modified(key);
    ctx.dirty(1);
    Ok(())
}

/// PFCOUNT of several keys: the cardinality of their union, computed on
/// a copy (no key changes).
fn pfcount_union(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    let mut max = [0u8; REGISTERS];
    for key in &argv[1..] {
        let Some(e) = db.lookup(key, now, Access::READ) else {
            continue;
        };
        let s = e.str_ref();
        check_hll(s)?;
        if let Some(s) = s {
            hll::merge(&mut max, &s.to_bytes()).map_err(corrupt)?;
        }
    }
    out.int(hll::count_raw(&max) as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]: the destination takes the register
/// maxima of all (itself included); dense if any input was.
fn pfmerge(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let dest = &argv[1];
    let parts = ctx.parts();
    let (db, config) = (parts.db, parts.config);
    let mut max = [0u8; REGISTERS];
    let mut use_dense = false;
    for key in &argv[1..] {
        let Some(e) = db.lookup(key, now, Access::READ) else {
            continue;
        };
        let s = e.str_ref();
        check_hll(s)?;
        if let Some(s) = s {
            let b = s.to_bytes();
            use_dense |= b[4] == hll::DENSE;
            hll::merge(&mut max, &b).map_err(corrupt)?;
        }
    }
    let limit = sparse_max(config);
    let fill = |v: &mut Vec<u8>| -> CmdResult {
        let mut ed = Editor::new(v);
        if use_dense {
            ed.to_dense().map_err(corrupt)?;
            ed.compress(&max);
        } else {
            for (j, &m) in max.iter().enumerate() {
                if m != 0 {
                    // Valkey ignores a failure here: the destination was
                    // checked as a source already.
                    let _ = ed.set(j, m, limit);
                }
            }
        }
        ed.invalidate();
        Ok(())
    };
    let created = match db.lookup(dest, now, Access::WRITE) {
        None => {
            let mut v = hll::empty();
            fill(&mut v)?;
            db.add(dest, Value::Str(Str::Growable(v)), now);
            true
        }
        Some(e) => {
            let s = hll_str(e)?;
            let r = fill(s.make_growable());
            s.settle();
            r?;
            false
        }
    };
    if created {
        ctx.notify(notify::NEW, "new", dest);
    }
    ctx.modified(dest);
    // A merge is a mass add: Valkey names its event pfadd.
    ctx.notify(notify::STRING, "pfadd", dest);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key, PFDEBUG SIMD ON|OFF
fn pfdebug(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let sub = &argv[1];
    if is(sub, "simd") {
        if is(&argv[2], "on") {
            hll::SIMD.store(true, Ordering::Relaxed);
        } else if is(&argv[2], "off") {
            hll::SIMD.store(false, Ordering::Relaxed);
        } else {
            // Valkey replies the error and then the state (two replies).
            ctx.out.error(PFDEBUG_ON_OFF);
        }
        let on = hll::simd_in_use();
        ctx.out.simple(if on { "enabled" } else { "disabled" });
        return Ok(());
    }
    let key = &argv[2];
    let (db, out) = ctx.db_and_out();
    let Some(e) = db.lookup(key, now, Access::WRITE) else {
        return Err(PFDEBUG_NO_KEY.into());
    };
    let s = hll_str(e)?;
    let result = pfdebug_on(sub, s, out);
    s.settle();
    let converted = result?;
    if converted {
        // Propagated, so replicas convert too; no key is signalled.
        ctx.dirty(1);
    }
    Ok(())
}

/// One PFDEBUG subcommand on a checked HLL; true when it turned dense.
fn pfdebug_on(sub: &[u8], s: &mut Str, out: &mut crate::resp::ReplyBuf) -> Result<bool, CmdError> {
    let v = s.make_growable();
    if is(sub, "getreg") {
        let mut ed = Editor::new(v);
        let converted = ed.to_dense().map_err(corrupt)?;
        let regs = hll::dense_registers(ed.bytes()).ok_or(CORRUPT_HLL)?;
        out.array(REGISTERS);
        for r in regs {
            out.int(r as i64);
        }
        Ok(converted)
    } else if is(sub, "decode") {
        if v[4] != SPARSE {
            return Err(PFDEBUG_NOT_SPARSE.into());
        }
        out.bulk(hll::decode(v).as_bytes());
        Ok(false)
    } else if is(sub, "encoding") {
        out.simple(if v[4] == SPARSE { "sparse" } else { "dense" });
        Ok(false)
    } else if is(sub, "todense") {
        let converted = Editor::new(v).to_dense().map_err(corrupt)?;
        out.int(converted as i64);
        Ok(converted)
    } else {
        Err(CmdError::owned(format!(
            "ERR Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(sub)
        )))
    }
}

/// PFSELFTEST
fn pfselftest(ctx: &mut Ctx) -> CmdResult {
    let limit = sparse_max(ctx.config());
    let rng = ctx.rng();
    hll::selftest(|| (rng.next_u64() >> 33) as u32, limit).map_err(|e| format!("ERR {e}"))?;
    ctx.out.ok();
    Ok(())
}
