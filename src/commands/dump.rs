//! DUMP and RESTORE: a key's value as an RDB payload (type byte, the
//! value's serialization, the 2-byte RDB version, a CRC-64), and back.
//!
//! DUMP writes RDB version 80 for every type, as Valkey 9.1 does (Valkey 8
//! and Redis refuse such payloads, as they refuse Valkey 9.1's);
//! RESTORE takes any version Valkey 9.1 takes (1 to 11 and Valkey's own 80;
//! 12 to 79, Redis 7.4+'s formats, are refused as "version or checksum
//! wrong" unless `rdb-version-check relaxed`, and then only for the value
//! types both sides share, as Valkey does). The payload is decoded
//! by `persist::object`, which checks every length in it whatever
//! `sanitize-dump-payload` says; any decoding failure is Valkey's
//! "Bad data format". A relative TTL propagates as an absolute one
//! (`ABSTTL` appended), as Valkey rewrites it.

use super::args::{int, is};
use super::flags::*;
use super::meta::{acl, arg, ks, Arg, Doc, Group};
use super::propagate::{self, num, server_del, word};
use super::{CommandSpec, Ctx, KeySpec};
use crate::config::{notify, Config};
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::keyspace::db::access_clock;
use crate::keyspace::hash::Limits as HashLimits;
use crate::keyspace::set::Limits as SetLimits;
use crate::keyspace::zset::Limits as ZSetLimits;
use crate::keyspace::{Access, Free};
use crate::persist::codec::Reader;
use crate::persist::object::{read_type, read_value, write_entry, Limits};
use crate::persist::{
    checksums_checked, finish_payload, is_foreign_version, verify_payload, FOREIGN_TYPE_MIN,
};

const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
const BAD_TTL: &str = "ERR Invalid TTL value, must be >= 0";
const BAD_IDLETIME: &str = "ERR Invalid IDLETIME value, must be >= 0";
const BAD_FREQ: &str = "ERR Invalid FREQ value, must be >= 0 and <= 255";
const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
const BAD_FORMAT: &str = "ERR Bad data format";

/// RESTORE's arguments and history, shared with RESTORE-ASKING (migrate.rs).
pub(super) const RESTORE_ARGS: &[Arg] = &[
    arg::key("key", 0),
    arg::integer("ttl"),
    arg::string("serialized-value"),
    arg::pure("replace", "REPLACE").since("3.0.0").optional(),
    arg::pure("absttl", "ABSTTL").since("5.0.0").optional(),
    arg::integer("seconds")
        .token("IDLETIME")
        .since("5.0.0")
        .optional(),
    arg::integer("frequency")
        .token("FREQ")
        .since("5.0.0")
        .optional(),
];
pub(super) const RESTORE_HISTORY: &[(&str, &str)] = &[
    ("3.0.0", "Adds the REPLACE option."),
    ("5.0.0", "Adds the ABSTTL option."),
    ("5.0.0", "Adds the IDLETIME and FREQ options."),
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "dump",
        arity: 2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: dump,
        subcommands: &[],
        doc: &Doc {
            summary: "Returns a serialized form of a key's value, which RESTORE reads back.",
            complexity: "O(1) to find the key, then O(N*M) to serialize it: N elements of \
                         M bytes on average (O(1) for small strings).",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Generic, "2.6.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "restore",
        arity: -4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: restore,
        subcommands: &[],
        doc: &Doc {
            summary: "Creates a key from a value serialized by DUMP.",
            complexity: "O(1) to create the key, then O(N*M) to read the value: N elements \
                         of M bytes on average; a sorted set adds O(log N) per element.",
            key_specs: &[ks::one(1, ks::OW | ks::UPDATE)],
            args: RESTORE_ARGS,
            history: RESTORE_HISTORY,
            ..Doc::new(Group::Generic, "2.6.0", acl::KEYSPACE | acl::DANGEROUS)
        },
    },
];

/// The encoding limits a restored value is built under.
pub fn load_limits(c: &Config) -> Limits {
    Limits {
        list_fill: c.list_max_listpack_size,
        set: SetLimits {
            max_intset_entries: c.set_max_intset_entries as usize,
            max_listpack_entries: c.set_max_listpack_entries as usize,
            max_listpack_value: c.set_max_listpack_value as usize,
        },
        hash: HashLimits {
            max_entries: c.hash_max_listpack_entries,
            max_value: c.hash_max_listpack_value,
        },
        zset: ZSetLimits::new(c.zset_max_listpack_entries, c.zset_max_listpack_value),
    }
}

fn dump(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let compress = ctx.config().extra.get("rdbcompression").map(String::as_str) != Some("no");
    let key = &ctx.argv[1][..];
    let (db, out) = ctx.db_and_out();
    let Some(e) = db.lookup(key, now, Access::READ) else {
        out.null();
        return Ok(());
    };
    let mut payload = Vec::new();
    write_entry(&mut payload, e, compress);
    finish_payload(&mut payload);
    out.bulk(&payload);
    Ok(())
}

pub(super) fn restore(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < argv.len() {
        let more = argv.len() - j - 1;
        if is(&argv[j], "replace") {
            replace = true;
        } else if is(&argv[j], "absttl") {
            absttl = true;
        } else if is(&argv[j], "idletime") && more >= 1 && freq.is_none() {
            let v = int(&argv[j + 1])?;
            if v < 0 {
                return Err(BAD_IDLETIME.into());
            }
            idle = Some(v);
            j += 1;
        } else if is(&argv[j], "freq") && more >= 1 && idle.is_none() {
            let v = int(&argv[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err(BAD_FREQ.into());
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let key = &argv[1][..];
    if !replace && ctx.db().lookup(key, now, Access::WRITE).is_some() {
        return Err(BUSYKEY.into());
    }
    let ttl = int(&argv[2])?;
    if ttl < 0 {
        return Err(BAD_TTL.into());
    }
    let relaxed = ctx
        .config()
        .extra
        .get("rdb-version-check")
        .map(String::as_str)
        == Some("relaxed");
    let Some((version, body)) = verify_payload(&argv[3], checksums_checked(), relaxed) else {
        return Err(BAD_PAYLOAD.into());
    };
    let mut r = Reader::new(body);
    let t = read_type(&mut r).map_err(|_| BAD_FORMAT)?;
    if is_foreign_version(version) && t >= FOREIGN_TYPE_MIN {
        return Err(CmdError::owned(format!(
            "ERR Unsupported foreign data type: {t}"
        )));
    }
    let value = read_value(&mut r, t, &load_limits(ctx.config())).map_err(|e| {
        // Valkey logs a corrupt payload as it logs a corrupt file.
        tracing::warn!(
            "Internal error in RDB reading offset 0, function at rdb.c:0 -> {}",
            e.what
        );
        BAD_FORMAT
    })?;

    let lazy = ctx.config().lazyfree_lazy_server_del;
    let deleted = replace
        && ctx
            .db()
            .delete(key, now, if lazy { Free::Async } else { Free::Sync });
    let when = if ttl != 0 && !absttl {
        ttl.saturating_add(now)
    } else {
        ttl
    };
    if ttl != 0 && ctx.db().already_expired(when, now) {
        // Already expired: nothing is created; a replaced key was deleted.
        if deleted {
            ctx.rewrite(vec![server_del(lazy), propagate::arg(key)]);
            ctx.signal_ready(key);
            ctx.modified(key);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.dirty(1);
        }
        ctx.out.ok();
        return Ok(());
    }
    ctx.notify_if_new(key);
    let lfu = ctx.config().lfu_policy();
    let db = ctx.db();
    db.add(key, value, now);
    if ttl != 0 {
        db.set_expire(key, when);
    }
    if let Some(e) = db.lookup(key, now, Access::PEEK) {
        // As Valkey's objectSetLRUOrLFU: FREQ counts under an LFU policy,
        // IDLETIME under any other.
        match (lfu, freq, idle) {
            (true, Some(f), _) => {
                let minutes = ((now / 60_000) as u64 & 0xffff) as u32;
                e.set_access(minutes << 8 | f as u32);
            }
            (false, _, Some(i)) => {
                let secs = u32::try_from(i).unwrap_or(u32::MAX);
                e.set_access(access_clock(now).saturating_sub(secs));
            }
            _ => {}
        }
    }
    if ttl != 0 && !absttl && ctx.propagating() {
        let mut v: Vec<_> = argv.iter().map(|a| propagate::arg(a)).collect();
        v[2] = num(when);
        v.push(word("ABSTTL"));
        ctx.rewrite(v);
    }
    ctx.signal_ready(key);
    ctx.modified(key);
    ctx.notify(notify::GENERIC, "restore", key);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}
