//! Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN,
//! RANDOMKEY, RENAME(NX), the EXPIRE and TTL families, PERSIST, TOUCH, COPY,
//! MOVE and OBJECT; and the whole-database FLUSHDB, FLUSHALL and SWAPDB.
//!
//! Lookups follow Valkey's flags: read-only inspections (TYPE, EXISTS, TTL,
//! OBJECT) count keyspace hits and misses without touching the access time;
//! TOUCH and COPY's source count and touch; writes touch without counting.

use super::args::{int, is};
use super::flags::*;
use super::meta::{acl, arg, ks, Doc, Group};
use super::propagate::{arg, expire_del, num, word};
use super::{CommandSpec, Ctx, KeySpec};
use crate::commands::ctx::Parts;
use crate::config::notify;
use crate::error::{
    CmdError, CmdResult, CURSOR, DB_INDEX, FREQ_WITHOUT_LFU, GT_AND_LT, IDLETIME_WITH_LFU,
    INT32_RANGE, INVALID_FIRST_DB, INVALID_SECOND_DB, NOT_INTEGER, NO_SUCH_KEY, NX_XX_GT_LT,
    SAME_OBJECT, SYNTAX,
};
use crate::keyspace::{Access, Bytes24, Db, Entry, Free, Str, Value};
use crate::util::glob::glob_match;
use crate::util::num::parse_i64;

const ALL_KEYS: KeySpec = KeySpec::range(1, -1, 1);
const TWO_KEYS: KeySpec = KeySpec::range(1, 2, 1);
const NO_KEYS: KeySpec = KeySpec::NONE;

/// FLUSHDB's and FLUSHALL's optional ASYNC | SYNC.
const FLUSH_ARGS: &[crate::commands::meta::Arg] = &[arg::oneof(
    "flush-type",
    &[
        arg::pure("async", "ASYNC").since("4.0.0"),
        arg::pure("sync", "SYNC").since("6.2.0"),
    ],
)
.optional()];

const FLUSH_HISTORY: &[(&str, &str)] = &[
    ("4.0.0", "Can flush asynchronously (ASYNC)."),
    ("6.2.0", "Can force a synchronous flush (SYNC)."),
];

/// The optional NX | XX | GT | LT of EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT.
const EXPIRE_CONDITION: crate::commands::meta::Arg = arg::oneof(
    "condition",
    &[
        arg::pure("nx", "NX"),
        arg::pure("xx", "XX"),
        arg::pure("gt", "GT"),
        arg::pure("lt", "LT"),
    ],
)
.since("7.0.0")
.optional();

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "del",
        arity: -2,
        flags: WRITE,
        keys: ALL_KEYS,
        handler: del,
        subcommands: &[],
        doc: &Doc {
            summary: "Removes keys.",
            complexity: "O(N) for N keys, plus O(M) for a collection of M elements.",
            tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
            key_specs: &[ks::range(1, -1, 1, ks::RM | ks::DELETE)],
            args: &[arg::key("key", 0).multiple()],
            ..Doc::new(Group::Generic, "1.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "unlink",
        arity: -2,
        flags: WRITE | FAST,
        keys: ALL_KEYS,
        handler: unlink,
        subcommands: &[],
        doc: &Doc {
            summary: "Removes keys, freeing their memory in the background.",
            complexity: "O(1) per key; freeing the memory happens in the background.",
            tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
            key_specs: &[ks::range(1, -1, 1, ks::RM | ks::DELETE)],
            args: &[arg::key("key", 0).multiple()],
            ..Doc::new(Group::Generic, "4.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "exists",
        arity: -2,
        flags: READONLY | FAST,
        keys: ALL_KEYS,
        handler: exists,
        subcommands: &[],
        doc: &Doc {
            summary: "Counts how many of the given keys exist.",
            complexity: "O(N), N keys given.",
            tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
            key_specs: &[ks::range(1, -1, 1, ks::RO)],
            args: &[arg::key("key", 0).multiple()],
            history: &[("3.0.3", "Takes several keys.")],
            ..Doc::new(Group::Generic, "1.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "type",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: type_cmd,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells which kind of value a key holds.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Generic, "1.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: READONLY,
        keys: NO_KEYS,
        handler: keys,
        subcommands: &[],
        doc: &Doc {
            summary: "Lists the key names matching a glob pattern.",
            complexity: "O(N), N keys in the database.",
            tips: &["request_policy:all_shards", "nondeterministic_output_order"],
            args: &[arg::pattern("pattern")],
            ..Doc::new(Group::Generic, "1.0.0", acl::KEYSPACE | acl::DANGEROUS)
        },
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: READONLY,
        keys: NO_KEYS,
        handler: scan,
        subcommands: &[],
        doc: &Doc {
            summary: "Walks the database's key names a batch at a time.",
            complexity: "O(1) per call; O(N) for a whole walk over N elements.",
            tips: &[
                "nondeterministic_output",
                "request_policy:special",
                "response_policy:special",
            ],
            args: &[
                arg::integer("cursor"),
                arg::pattern("pattern").token("MATCH").optional(),
                arg::integer("count").token("COUNT").optional(),
                arg::string("type").token("TYPE").since("6.0.0").optional(),
            ],
            history: &[("6.0.0", "Filter by type (TYPE).")],
            ..Doc::new(Group::Generic, "2.8.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: READONLY,
        keys: NO_KEYS,
        handler: randomkey,
        subcommands: &[],
        doc: &Doc {
            summary: "Picks a random key name.",
            complexity: "O(1)",
            tips: &[
                "request_policy:all_shards",
                "response_policy:special",
                "nondeterministic_output",
            ],
            ..Doc::new(Group::Generic, "1.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "rename",
        arity: 3,
        flags: WRITE,
        keys: TWO_KEYS,
        handler: rename,
        subcommands: &[],
        doc: &Doc {
            summary: "Gives a key a new name, replacing any key there.",
            complexity: "O(1)",
            key_specs: &[
                ks::one(1, ks::RW | ks::ACCESS | ks::DELETE),
                ks::one(2, ks::OW | ks::UPDATE),
            ],
            args: &[arg::key("key", 0), arg::key("newkey", 1)],
            ..Doc::new(Group::Generic, "1.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "renamenx",
        arity: 3,
        flags: WRITE | FAST,
        keys: TWO_KEYS,
        handler: renamenx,
        subcommands: &[],
        doc: &Doc {
            summary: "Gives a key a new name, only if that name is free.",
            complexity: "O(1)",
            key_specs: &[
                ks::one(1, ks::RW | ks::ACCESS | ks::DELETE),
                ks::one(2, ks::OW | ks::INSERT),
            ],
            args: &[arg::key("key", 0), arg::key("newkey", 1)],
            history: &[("3.2.0", "Renaming a key to itself is no longer an error.")],
            ..Doc::new(Group::Generic, "1.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "expire",
        arity: -3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: expire,
        subcommands: &[],
        doc: &Doc {
            summary: "Makes a key expire after some seconds.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::integer("seconds"),
                EXPIRE_CONDITION,
            ],
            history: &[("7.0.0", "The NX, XX, GT and LT conditions.")],
            ..Doc::new(Group::Generic, "1.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "pexpire",
        arity: -3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: pexpire,
        subcommands: &[],
        doc: &Doc {
            summary: "Makes a key expire after some milliseconds.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::integer("milliseconds"),
                EXPIRE_CONDITION,
            ],
            history: &[("7.0.0", "The NX, XX, GT and LT conditions.")],
            ..Doc::new(Group::Generic, "2.6.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "expireat",
        arity: -3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: expireat,
        subcommands: &[],
        doc: &Doc {
            summary: "Makes a key expire at a time in Unix seconds.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::unix_time("unix-time-seconds"),
                EXPIRE_CONDITION,
            ],
            history: &[("7.0.0", "The NX, XX, GT and LT conditions.")],
            ..Doc::new(Group::Generic, "1.2.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "pexpireat",
        arity: -3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: pexpireat,
        subcommands: &[],
        doc: &Doc {
            summary: "Makes a key expire at a time in Unix milliseconds.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::unix_time("unix-time-milliseconds"),
                EXPIRE_CONDITION,
            ],
            history: &[("7.0.0", "The NX, XX, GT and LT conditions.")],
            ..Doc::new(Group::Generic, "2.6.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "ttl",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: ttl,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells how many seconds a key has left.",
            complexity: "O(1)",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0)],
            history: &[("2.8.0", "Replies -2 for a missing key.")],
            ..Doc::new(Group::Generic, "1.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "pttl",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: pttl,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells how many milliseconds a key has left.",
            complexity: "O(1)",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0)],
            history: &[("2.8.0", "Replies -2 for a missing key.")],
            ..Doc::new(Group::Generic, "2.6.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "expiretime",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: expiretime,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells when a key expires, in Unix seconds.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Generic, "7.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "pexpiretime",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: pexpiretime,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells when a key expires, in Unix milliseconds.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Generic, "7.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "persist",
        arity: 2,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: persist,
        subcommands: &[],
        doc: &Doc {
            summary: "Makes a key permanent again.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Generic, "2.2.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "touch",
        arity: -2,
        flags: READONLY | FAST,
        keys: ALL_KEYS,
        handler: touch,
        subcommands: &[],
        doc: &Doc {
            summary: "Marks keys as just used and counts those that exist.",
            complexity: "O(N), N keys given.",
            tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
            key_specs: &[ks::range(1, -1, 1, ks::RO)],
            args: &[arg::key("key", 0).multiple()],
            ..Doc::new(Group::Generic, "3.2.1", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "copy",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: TWO_KEYS,
        handler: copy,
        subcommands: &[],
        doc: &Doc {
            summary: "Duplicates a key's value under another name.",
            complexity: "O(1) for a string, O(N) for a collection of N elements.",
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
                ks::one(2, ks::OW | ks::UPDATE),
            ],
            args: &[
                arg::key("source", 0),
                arg::key("destination", 1),
                arg::integer("destination-db").token("DB").optional(),
                arg::pure("replace", "REPLACE").optional(),
            ],
            ..Doc::new(Group::Generic, "6.2.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "move",
        arity: 3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: move_cmd,
        subcommands: &[],
        doc: &Doc {
            summary: "Transfers a key into another database.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[arg::key("key", 0), arg::integer("db")],
            ..Doc::new(Group::Generic, "1.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: WRITE,
        keys: NO_KEYS,
        handler: flushdb,
        subcommands: &[],
        doc: &Doc {
            summary: "Empties the selected database.",
            complexity: "O(N), N keys in the database.",
            tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
            args: FLUSH_ARGS,
            history: FLUSH_HISTORY,
            ..Doc::new(Group::Server, "1.0.0", acl::KEYSPACE | acl::DANGEROUS)
        },
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: WRITE,
        keys: NO_KEYS,
        handler: flushall,
        subcommands: &[],
        doc: &Doc {
            summary: "Empties every database.",
            complexity: "O(N), N keys in all databases.",
            tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
            args: FLUSH_ARGS,
            history: FLUSH_HISTORY,
            ..Doc::new(Group::Server, "1.0.0", acl::KEYSPACE | acl::DANGEROUS)
        },
    },
    CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: WRITE | FAST,
        keys: NO_KEYS,
        handler: swapdb,
        subcommands: &[],
        doc: &Doc {
            summary: "Exchanges the contents of two databases.",
            complexity: "O(N), N clients waiting on keys of the two databases.",
            args: &[arg::integer("index1"), arg::integer("index2")],
            ..Doc::new(Group::Server, "4.0.0", acl::KEYSPACE | acl::DANGEROUS)
        },
    },
    CommandSpec {
        name: "object",
        arity: -2,
        flags: 0,
        keys: KeySpec::NONE,
        handler: super::container,
        subcommands: &[
            CommandSpec {
                name: "object|encoding",
                arity: 3,
                flags: READONLY,
                keys: KeySpec::range(2, 2, 1),
                handler: object_encoding,
                subcommands: &[],
                doc: &Doc {
                    summary: "Tells how a key's value is stored.",
                    complexity: "O(1)",
                    tips: &["nondeterministic_output"],
                    key_specs: &[ks::one(2, ks::RO)],
                    args: &[arg::key("key", 0)],
                    ..Doc::new(Group::Generic, "2.2.3", acl::KEYSPACE)
                },
            },
            CommandSpec {
                name: "object|freq",
                arity: 3,
                flags: READONLY,
                keys: KeySpec::range(2, 2, 1),
                handler: object_freq,
                subcommands: &[],
                doc: &Doc {
                    summary: "Tells a key's access frequency counter (LFU).",
                    complexity: "O(1)",
                    tips: &["nondeterministic_output"],
                    key_specs: &[ks::one(2, ks::RO)],
                    args: &[arg::key("key", 0)],
                    ..Doc::new(Group::Generic, "4.0.0", acl::KEYSPACE)
                },
            },
            CommandSpec {
                name: "object|idletime",
                arity: 3,
                flags: READONLY,
                keys: KeySpec::range(2, 2, 1),
                handler: object_idletime,
                subcommands: &[],
                doc: &Doc {
                    summary: "Tells how long since a key was last used.",
                    complexity: "O(1)",
                    tips: &["nondeterministic_output"],
                    key_specs: &[ks::one(2, ks::RO)],
                    args: &[arg::key("key", 0)],
                    ..Doc::new(Group::Generic, "2.2.3", acl::KEYSPACE)
                },
            },
            CommandSpec {
                name: "object|refcount",
                arity: 3,
                flags: READONLY,
                keys: KeySpec::range(2, 2, 1),
                handler: object_refcount,
                subcommands: &[],
                doc: &Doc {
                    summary: "Tells how many references a key's value has.",
                    complexity: "O(1)",
                    tips: &["nondeterministic_output"],
                    key_specs: &[ks::one(2, ks::RO)],
                    args: &[arg::key("key", 0)],
                    ..Doc::new(Group::Generic, "2.2.3", acl::KEYSPACE)
                },
            },
            CommandSpec {
                name: "object|help",
                arity: 2,
                flags: LOADING | STALE,
                keys: NO_KEYS,
                handler: object_help,
                subcommands: &[],
                doc: &Doc {
                    summary: "Lists the subcommands and what they do.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Generic, "6.2.0", acl::KEYSPACE)
                },
            },
        ],
        doc: &Doc {
            summary: "OBJECT subcommands: how a key's value is stored.",
            complexity: "Depends on the subcommand.",
            ..Doc::new(Group::Generic, "2.2.3", 0)
        },
    },
];

// ---------------------------------------------------------------------------
// Argument helpers

/// An `int` argument as Valkey's getIntFromObjectOrReply: with `msg`, that
/// one error for anything invalid; without, Valkey's two default errors.
fn int32(a: &[u8], msg: Option<&'static str>) -> Result<i64, CmdError> {
    let Some(n) = parse_i64(a) else {
        return Err(msg.unwrap_or(NOT_INTEGER).into());
    };
    if n < i32::MIN as i64 || n > i32::MAX as i64 {
        return Err(msg.unwrap_or(INT32_RANGE).into());
    }
    Ok(n)
}

/// A database index that exists, or `ERR DB index is out of range`.
fn db_index(ctx: &Ctx, n: i64) -> Result<usize, CmdError> {
    if n < 0 || n as usize >= ctx.db_count() {
        return Err(DB_INDEX.into());
    }
    Ok(n as usize)
}

/// Two distinct databases borrowed at once.
fn two_dbs(dbs: &mut [Db], a: usize, b: usize) -> (&mut Db, &mut Db) {
    if a < b {
        let (lo, hi) = dbs.split_at_mut(b);
        (&mut lo[a], &mut hi[0])
    } else {
        let (lo, hi) = dbs.split_at_mut(a);
        (&mut hi[0], &mut lo[b])
    }
}

/// Keeps a `raw` string `raw` when its key changes: Valkey decides between
/// embstr and raw when the string is created, so a raw string stays raw
/// under a shorter name (RENAME, MOVE, COPY), while our encoding is derived
/// from the key length unless the string is a growable one.
fn keep_raw(e: &mut Entry, old_key_len: usize) {
    let has_expire = e.expire() != 0;
    // A shared (large) value is raw under any key: left as it is, it stays
    // shared with the replies that send it, and nothing is copied.
    let raw = matches!(&*e.value(), Value::Str(s @ Str::Fixed(b))
        if !matches!(b, Bytes24::Shared(_)) && s.encoding(old_key_len, has_expire) == "raw");
    if let (true, Value::Str(s)) = (raw, e.value_mut()) {
        s.make_growable();
    }
}

// ---------------------------------------------------------------------------
// DEL, UNLINK, EXISTS, TYPE, TOUCH

fn del(ctx: &mut Ctx) -> CmdResult {
    let lazy = ctx.config().lazyfree_lazy_user_del;
    del_generic(ctx, lazy)
}

fn unlink(ctx: &mut Ctx) -> CmdResult {
    del_generic(ctx, true)
}

fn del_generic(ctx: &mut Ctx, lazy: bool) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let mut n = 0;
    for k in &argv[1..] {
        let free = if lazy { Free::Async } else { Free::Sync };
        if ctx.db().delete(k, now, free) {
            n += 1;
            ctx.modified(k);
            ctx.notify(notify::GENERIC, "del", k);
        }
    }
    ctx.dirty(n as u64);
    ctx.out.int(n as i64);
    Ok(())
}

fn exists(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    let n = argv[1..]
        .iter()
        .filter(|k| db.lookup(k, now, Access::READ_NOTOUCH).is_some())
        .count();
    ctx.out.int(n as i64);
    Ok(())
}

fn type_cmd(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    match db.lookup(&argv[1], now, Access::READ_NOTOUCH) {
        Some(e) => out.simple(e.value().type_name()),
        None => out.simple("none"),
    }
    Ok(())
}

fn touch(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    // TOUCH touches even for a CLIENT NO-TOUCH client (as Valkey).
    let no_touch = std::mem::replace(&mut db.no_touch, false);
    let n = argv[1..]
        .iter()
        .filter(|k| db.lookup(k, now, Access::READ).is_some())
        .count();
    db.no_touch = no_touch;
    ctx.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// KEYS, SCAN, RANDOMKEY

fn keys(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let pattern = &ctx.argv[1][..];
    // A lone `*` matches everything, the empty key too (the glob does not).
    let all = pattern == b"*";
    let (db, out) = ctx.db_and_out();
    let found: Vec<&[u8]> = db
        .table()
        .iter()
        .filter(|e| {
            let expire = e.expire();
            (expire == 0 || expire > now) && (all || glob_match(pattern, e.key(), false))
        })
        .map(|e| e.key())
        .collect();
    out.array(found.len());
    for k in found {
        out.bulk(k);
    }
    Ok(())
}

fn scan(ctx: &mut Ctx) -> CmdResult {
    let cursor = crate::commands::args::scan_cursor(&ctx.argv[1]).ok_or(CmdError::from(CURSOR))?;
    let argv = ctx.argv;
    let opts = super::args::scan_opts(argv, 2, super::args::ScanKind::Keys)?;
    let (count, pattern, type_filter) = (opts.count, opts.pattern, opts.type_filter);
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    // Keys are copied out (inline for short keys, so mostly no allocation)
    // because the dict lends them only for the length of one step. The
    // count bounds the work, never an allocation up front.
    let mut found: Vec<Bytes24> = Vec::new();
    let mut steps_left = count.saturating_mul(10);
    let mut cursor = cursor;
    loop {
        cursor = db.scan(cursor, now, |e| {
            if pattern.is_some_and(|p| !glob_match(p, e.key(), false)) {
                return;
            }
            if type_filter.is_some_and(|t| !is(t, e.value().type_name())) {
                return;
            }
            found.push(Bytes24::new(e.key()));
        });
        steps_left -= 1;
        if cursor == 0 || steps_left <= 0 || found.len() as i64 >= count {
            break;
        }
    }
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(found.len());
    for k in &found {
        out.bulk(k.as_slice());
    }
    Ok(())
}

fn randomkey(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let Parts { db, out, rng, .. } = ctx.parts();
    match db.random_key(&mut *rng, now) {
        Some(k) => out.bulk(&k),
        None => out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// RENAME, RENAMENX, MOVE, COPY

fn rename(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, false)
}

fn renamenx(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, true)
}

fn rename_generic(ctx: &mut Ctx, nx: bool) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (src, dst) = (&argv[1][..], &argv[2][..]);
    let db = ctx.db();
    if db.lookup(src, now, Access::WRITE).is_none() {
        return Err(NO_SUCH_KEY.into());
    }
    if src == dst {
        // Nothing to do, but the key had to exist.
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    if db.lookup(dst, now, Access::PEEK).is_some() {
        if nx {
            ctx.out.int(0);
            return Ok(());
        }
        db.delete(dst, now, Free::Sync);
    }
    // Value and expire move; the access data starts over (as Valkey's new
    // object under the new name).
    if let Some(mut e) = db.take_entry(src, now) {
        keep_raw(&mut e, src.len());
        // A longer name makes Valkey build the object again, with the
        // expire's room: the string may no longer embed.
        if dst.len() > src.len() && e.expire() != 0 {
            if let Value::Str(s) = e.value_mut() {
                s.created_with_expire(dst.len());
            }
        }
        db.insert_entry(dst, e, now);
    }
    // A list or sorted set under the new name may serve blocked clients.
    ctx.signal_ready(dst);
    ctx.dirty(1);
    ctx.modified(src);
    ctx.modified(dst);
    ctx.notify(notify::NEW, "new", dst);
    ctx.notify(notify::GENERIC, "rename_from", src);
    ctx.notify(notify::GENERIC, "rename_to", dst);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn move_cmd(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let to = db_index(ctx, int32(&argv[2], None)?)?;
    let from = ctx.client_ref().db;
    if from == to {
        return Err(SAME_OBJECT.into());
    }
    let key = &argv[1][..];
    let (src, dst) = two_dbs(ctx.keyspace().dbs, from, to);
    if src.lookup(key, now, Access::WRITE).is_none() || dst.lookup(key, now, Access::PEEK).is_some()
    {
        ctx.out.int(0);
        return Ok(());
    }
    if let Some(e) = src.take_entry(key, now) {
        dst.insert_entry(key, e, now);
    }
    ctx.signal_ready_in(to, key);
    ctx.dirty(1);
    ctx.modified_in(from, key);
    ctx.modified_in(to, key);
    ctx.notify_in(to, notify::NEW, "new", key);
    ctx.notify_in(from, notify::GENERIC, "move_from", key);
    ctx.notify_in(to, notify::GENERIC, "move_to", key);
    ctx.out.int(1);
    Ok(())
}

fn copy(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let from = ctx.client_ref().db;
    let mut to = from;
    let mut replace = false;
    let mut j = 3;
    while j < argv.len() {
        if is(&argv[j], "replace") {
            replace = true;
        } else if is(&argv[j], "db") && j + 1 < argv.len() {
            to = db_index(ctx, int32(&argv[j + 1], None)?)?;
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let (key, newkey) = (&argv[1][..], &argv[2][..]);
    if from == to && key == newkey {
        return Err(SAME_OBJECT.into());
    }
    let Some(e) = ctx.keyspace().dbs[from].lookup(key, now, Access::READ) else {
        ctx.out.int(0);
        return Ok(());
    };
    // The copy is a new object: fresh access data, same expire.
    let mut copied = e.clone();
    keep_raw(&mut copied, key.len());
    let dst = &mut ctx.keyspace().dbs[to];
    if dst.lookup(newkey, now, Access::PEEK).is_some() {
        if !replace {
            ctx.out.int(0);
            return Ok(());
        }
        dst.delete(newkey, now, Free::Sync);
    }
    dst.insert_entry(newkey, copied, now);
    ctx.signal_ready_in(to, newkey);
    ctx.dirty(1);
    ctx.modified_in(to, newkey);
    ctx.notify_in(to, notify::NEW, "new", newkey);
    ctx.notify_in(to, notify::GENERIC, "copy_to", newkey);
    ctx.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------
// EXPIRE family, TTL family, PERSIST

fn expire(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    expire_generic(ctx, now, true)
}

fn pexpire(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    expire_generic(ctx, now, false)
}

fn expireat(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, 0, true)
}

fn pexpireat(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, 0, false)
}

/// `key time [NX | XX | GT | LT]`: `time` is relative to `base` (ms; 0 for
/// the absolute forms), in seconds when `secs`.
fn expire_generic(ctx: &mut Ctx, base: i64, secs: bool) -> CmdResult {
    let argv = ctx.argv;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    // Options are checked before the time, as Valkey does.
    for a in &argv[3..] {
        if is(a, "nx") {
            nx = true;
        } else if is(a, "xx") {
            xx = true;
        } else if is(a, "gt") {
            gt = true;
        } else if is(a, "lt") {
            lt = true;
        } else {
            // Valkey formats the option as a C string: it ends at a NUL.
            let end = a.iter().position(|&b| b == 0).unwrap_or(a.len());
            return Err(CmdError::owned(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(&a[..end])
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(NX_XX_GT_LT.into());
    }
    if gt && lt {
        return Err(GT_AND_LT.into());
    }
    let t = int(&argv[2])?;
    let name = ctx.cmd.name;
    let invalid = || CmdError::owned(format!("ERR invalid expire time in '{name}' command"));
    let t = if secs {
        t.checked_mul(1000).ok_or_else(invalid)?
    } else {
        t
    };
    let when = t.checked_add(base).ok_or_else(invalid)?;
    let now = ctx.now;
    let key = &argv[1][..];
    let lazy = ctx.config().lazyfree_lazy_expire;
    let db = ctx.db();
    let Some(e) = db.lookup(key, now, Access::WRITE) else {
        ctx.out.int(0);
        return Ok(());
    };
    let current = e.expire();
    let has_ttl = current != 0;
    // A key without a TTL counts as an infinite TTL for GT and LT.
    let refused = (nx && has_ttl)
        || (xx && !has_ttl)
        || (gt && (!has_ttl || when <= current))
        || (lt && has_ttl && when >= current);
    if refused {
        ctx.out.int(0);
        return Ok(());
    }
    let past = db.already_expired(when, now);
    if past {
        // A time already past deletes the key.
        if lazy {
            db.delete(key, now, Free::Async);
        } else {
            db.delete(key, now, Free::Sync);
        }
    } else {
        db.set_expire(key, when);
    }
    ctx.dirty(1);
    ctx.modified(key);
    if past {
        ctx.notify(notify::EXPIRED, "expired", key);
    } else {
        ctx.notify(notify::GENERIC, "expire", key);
    }
    if ctx.propagating() {
        if past {
            ctx.rewrite(vec![expire_del(lazy), arg(key)]);
        } else if base != 0 || secs {
            // Relative or in seconds: the absolute time in ms, options kept.
            let mut v = vec![word("PEXPIREAT"), arg(key), num(when)];
            v.extend(argv[3..].iter().cloned());
            ctx.rewrite(v);
        }
    }
    ctx.out.int(1);
    Ok(())
}

fn ttl(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, false, false)
}

fn pttl(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, true, false)
}

fn expiretime(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, false, true)
}

fn pexpiretime(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, true, true)
}

/// -2: no key; -1: no expire; else the time left (or the absolute time),
/// rounded to the nearest second unless in `ms`.
fn ttl_generic(ctx: &mut Ctx, ms: bool, absolute: bool) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let r = match ctx
        .db()
        .lookup(&argv[1], now, Access::READ_NOTOUCH)
        .map(|e| e.expire())
    {
        None => -2,
        Some(0) => -1,
        Some(at) => {
            let t = if absolute { at } else { (at - now).max(0) };
            if ms {
                t
            } else {
                // Rounded as if without overflow, as Valkey replies.
                ((t as i128 + 500) / 1000) as i64
            }
        }
    };
    ctx.out.int(r);
    Ok(())
}

fn persist(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    let removed = db.lookup(&argv[1], now, Access::WRITE).is_some() && db.persist(&argv[1]);
    if removed {
        ctx.dirty(1);
        ctx.modified(&argv[1]);
        ctx.notify(notify::GENERIC, "persist", &argv[1]);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// FLUSHDB, FLUSHALL, SWAPDB

/// True to free in the background: `ASYNC`, or no option and
/// `lazyfree-lazy-user-flush yes`.
fn flush_async(ctx: &Ctx) -> Result<bool, CmdError> {
    match ctx.argv.len() {
        1 => Ok(ctx.config().lazyfree_lazy_user_flush),
        2 if is(&ctx.argv[1], "sync") => Ok(false),
        2 if is(&ctx.argv[1], "async") => Ok(true),
        _ => Err(SYNTAX.into()),
    }
}

/// Empties `db`; the old tables are dropped here or handed to another thread.
fn flush_one(db: &mut Db, lazy: bool, garbage: &mut Vec<crate::net::message::Garbage>) -> u64 {
    let n = db.len() as u64;
    let old = db.flush();
    if lazy {
        garbage.push(Box::new(old));
    }
    n
}

fn flushdb(ctx: &mut Ctx) -> CmdResult {
    let lazy = flush_async(ctx)?;
    let i = ctx.db_index();
    ctx.db_changing(i, None);
    let ks = ctx.keyspace();
    let n = flush_one(&mut ks.dbs[i], lazy, ks.garbage);
    ctx.dirty(n);
    if n == 0 {
        // Propagated even when the db was already empty, as Valkey forces
        // it, without counting a change.
        ctx.also_propagate(i, ctx.argv.to_vec());
    }
    ctx.out.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx) -> CmdResult {
    let lazy = flush_async(ctx)?;
    for i in 0..ctx.db_count() {
        ctx.db_changing(i, None);
    }
    let ks = ctx.keyspace();
    let mut n = 0;
    for db in ks.dbs.iter_mut() {
        n += flush_one(db, lazy, ks.garbage);
    }
    // Counted even when already empty, so it is never a no-op change.
    ctx.dirty(n + 1);
    // A running save is stopped; with save points the empty dataset is
    // saved at once (Valkey's flushAllDataAndResetRDB), which zeroes the
    // change count: propagated all the same, as Valkey forces it.
    if super::save::after_flushall(ctx.admin().state) {
        ctx.also_propagate(ctx.db_index(), ctx.argv.to_vec());
        ctx.prevent_propagation();
    }
    ctx.out.ok();
    Ok(())
}

fn swapdb(ctx: &mut Ctx) -> CmdResult {
    let a = int32(&ctx.argv[1], Some(INVALID_FIRST_DB))?;
    let b = int32(&ctx.argv[2], Some(INVALID_SECOND_DB))?;
    let (a, b) = (db_index(ctx, a)?, db_index(ctx, b)?);
    if a != b {
        ctx.db_changing(a, Some(b));
        ctx.db_changing(b, Some(a));
        let (x, y) = two_dbs(ctx.keyspace().dbs, a, b);
        x.swap_contents(y);
        // Clients blocked in either db may now find their keys.
        ctx.signal_ready_all_in(a);
        ctx.signal_ready_all_in(b);
    }
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

// ---------------------------------------------------------------------------
// OBJECT

/// OBJECT ENCODING name of a stored entry.
fn encoding(key: &[u8], e: &Entry) -> &'static str {
    e.value().encoding(key.len(), e.expire() != 0)
}

fn lfu_policy(ctx: &Ctx) -> bool {
    ctx.config().lfu_policy()
}

/// Runs `f` on the entry at argv[2] (not touched), or replies null.
/// OBJECT's lookup: a counted read that does not touch, and whose miss is
/// no keymiss event (Valkey's LOOKUP_NOTOUCH | LOOKUP_NONOTIFY), so the
/// hit or miss is counted here rather than by the lookup.
fn object_entry<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Option<&'a mut Entry> {
    if db.lookup(key, now, Access::PEEK).is_none() {
        db.misses += 1;
        return None;
    }
    db.hits += 1;
    db.lookup(key, now, Access::NO_EFFECTS)
}

fn object_lookup(ctx: &mut Ctx, f: impl FnOnce(&Entry, i64) -> Result<i64, CmdError>) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    match object_entry(db, &argv[2], now) {
        Some(e) => out.int(f(e, now)?),
        None => out.null(),
    }
    Ok(())
}

fn object_encoding(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    match object_entry(db, &argv[2], now) {
        Some(e) => out.bulk(encoding(&argv[2], e).as_bytes()),
        None => out.null(),
    }
    Ok(())
}

fn object_freq(ctx: &mut Ctx) -> CmdResult {
    let lfu = lfu_policy(ctx);
    object_lookup(ctx, |e, now| {
        if !lfu {
            return Err(FREQ_WITHOUT_LFU.into());
        }
        Ok(e.freq(now) as i64)
    })
}

fn object_idletime(ctx: &mut Ctx) -> CmdResult {
    let lfu = lfu_policy(ctx);
    object_lookup(ctx, |e, now| {
        if lfu {
            return Err(IDLETIME_WITH_LFU.into());
        }
        Ok(e.idle_secs(now) as i64)
    })
}

fn object_refcount(ctx: &mut Ctx) -> CmdResult {
    // Values are never shared between keys (Valkey 9 no longer shares small
    // integers with the keyspace either), so every count is 1.
    object_lookup(ctx, |_, _| Ok(1))
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Print this help.",
];

fn object_help(ctx: &mut Ctx) -> CmdResult {
    ctx.out.array(OBJECT_HELP.len());
    for line in OBJECT_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_like_valkey() {
        assert_eq!(crate::commands::args::scan_cursor(b"0"), Some(0));
        assert_eq!(
            crate::commands::args::scan_cursor(b"18446744073709551615"),
            Some(u64::MAX)
        );
        assert_eq!(
            crate::commands::args::scan_cursor(b"18446744073709551616"),
            None
        );
        assert_eq!(crate::commands::args::scan_cursor(b"-1"), None);
        assert_eq!(crate::commands::args::scan_cursor(b"-0"), Some(0));
        assert_eq!(crate::commands::args::scan_cursor(b" 7"), Some(7));
        assert_eq!(crate::commands::args::scan_cursor(b"+7"), Some(7));
        assert_eq!(crate::commands::args::scan_cursor(b"007"), Some(7));
        assert_eq!(
            crate::commands::args::scan_cursor(b"-18446744073709551615"),
            Some(1)
        );
        assert_eq!(crate::commands::args::scan_cursor(b"7 "), None);
        assert_eq!(crate::commands::args::scan_cursor(b""), None);
        assert_eq!(crate::commands::args::scan_cursor(b" "), None);
        assert_eq!(crate::commands::args::scan_cursor(b"-"), None);
        assert_eq!(crate::commands::args::scan_cursor(b"1e3"), None);
    }

    #[test]
    fn int32_errors() {
        assert_eq!(int32(b"5", None), Ok(5));
        assert_eq!(int32(b"x", None).unwrap_err().0, NOT_INTEGER);
        assert_eq!(int32(b"2147483648", None).unwrap_err().0, INT32_RANGE);
        assert_eq!(
            int32(b"x", Some(INVALID_FIRST_DB)).unwrap_err().0,
            INVALID_FIRST_DB
        );
        assert_eq!(
            int32(b"-2147483649", Some(INVALID_SECOND_DB))
                .unwrap_err()
                .0,
            INVALID_SECOND_DB
        );
    }

    #[test]
    fn two_dbs_either_order() {
        let mut dbs: Vec<Db> = (0..3).map(Db::new).collect();
        let (a, b) = two_dbs(&mut dbs, 2, 0);
        assert_eq!((a.id, b.id), (2, 0));
        let (a, b) = two_dbs(&mut dbs, 0, 1);
        assert_eq!((a.id, b.id), (0, 1));
    }
}
