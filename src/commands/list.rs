//! List commands: pushes and pops at both ends, ranges, LINSERT/LSET/LREM/
//! LTRIM/LPOS, moves between lists, LMPOP, and the blocking forms (BLPOP
//! BRPOP BLMOVE BRPOPLPUSH BLMPOP).
//!
//! Argument checks come in Valkey's order (some commands parse before the
//! key lookup, others after), since that decides which error a client sees.
//! Write commands look keys up without hit/miss accounting, as Valkey's
//! `lookupKeyWrite`; the read-only ones count. A list that becomes empty is
//! deleted. Every push calls `signal_ready`, so blocked clients wake.
//!
//! Blocking: a blocking command that finds no list blocks on its keys and is
//! run again when one is signalled. On such a re-run, keys that hold another
//! type do not fail the command unless a list is also there (Valkey only
//! serves a waiter when a readied key holds a list, then runs the command
//! again from the start).

use bytes::Bytes;

use super::args::{int, is, timeout};
use super::flags::*;
use super::meta::{acl, arg, ks, Doc, Group};
use super::propagate::{arg, num, word};
use super::{CommandSpec, Ctx, KeySpec};
use crate::config::notify;
use crate::error::{CmdError, CmdResult, INDEX_OUT_OF_RANGE, NO_SUCH_KEY, SYNTAX, WRONGTYPE};
use crate::keyspace::list::{Elem, List};
use crate::keyspace::{Access, Db, Free, Value};
use crate::resp::ReplyBuf;
use crate::state::TimeoutReply;

const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const RANK_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";
const NUMKEYS: &str = "ERR numkeys should be greater than 0";
const COUNT_GT0: &str = "ERR count should be greater than 0";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "lpush",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: lpush,
        subcommands: &[],
        doc: &Doc {
            summary: "Pushes elements at the head of a list, creating it if needed.",
            complexity: "O(N) for N elements added.",
            key_specs: &[ks::one(1, ks::RW | ks::INSERT)],
            args: &[arg::key("key", 0), arg::string("element").multiple()],
            history: &[
                ("2.4.0", "Takes several elements."),
            ],
            ..Doc::new(Group::List, "1.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "rpush",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: rpush,
        subcommands: &[],
        doc: &Doc {
            summary: "Pushes elements at the tail of a list, creating it if needed.",
            complexity: "O(N) for N elements added.",
            key_specs: &[ks::one(1, ks::RW | ks::INSERT)],
            args: &[arg::key("key", 0), arg::string("element").multiple()],
            history: &[
                ("2.4.0", "Takes several elements."),
            ],
            ..Doc::new(Group::List, "1.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "lpushx",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: lpushx,
        subcommands: &[],
        doc: &Doc {
            summary: "Pushes elements at the head of an existing list.",
            complexity: "O(N) for N elements added.",
            key_specs: &[ks::one(1, ks::RW | ks::INSERT)],
            args: &[arg::key("key", 0), arg::string("element").multiple()],
            history: &[
                ("4.0.0", "Takes several elements."),
            ],
            ..Doc::new(Group::List, "2.2.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "rpushx",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: rpushx,
        subcommands: &[],
        doc: &Doc {
            summary: "Pushes elements at the tail of an existing list.",
            complexity: "O(N) for N elements added.",
            key_specs: &[ks::one(1, ks::RW | ks::INSERT)],
            args: &[arg::key("key", 0), arg::string("element").multiple()],
            history: &[
                ("4.0.0", "Takes several elements."),
            ],
            ..Doc::new(Group::List, "2.2.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "lpop",
        arity: -2,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: lpop,
        subcommands: &[],
        doc: &Doc {
            summary: "Takes elements off the head of a list.",
            complexity: "O(N), N elements popped.",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[arg::key("key", 0), arg::integer("count").since("6.2.0").optional()],
            history: &[
                ("6.2.0", "The count argument."),
            ],
            ..Doc::new(Group::List, "1.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "rpop",
        arity: -2,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: rpop,
        subcommands: &[],
        doc: &Doc {
            summary: "Takes elements off the tail of a list.",
            complexity: "O(N), N elements popped.",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[arg::key("key", 0), arg::integer("count").since("6.2.0").optional()],
            history: &[
                ("6.2.0", "The count argument."),
            ],
            ..Doc::new(Group::List, "1.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "llen",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: llen,
        subcommands: &[],
        doc: &Doc {
            summary: "Counts a list's elements.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::List, "1.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "lrange",
        arity: 4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: lrange,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the list elements between two indexes.",
            complexity: "O(S+N): S elements walked to the start, N replied.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), arg::integer("start"), arg::integer("stop")],
            ..Doc::new(Group::List, "1.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "lindex",
        arity: 3,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: lindex,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the list element at an index.",
            complexity: "O(N), N elements walked to the index; O(1) at either end.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), arg::integer("index")],
            ..Doc::new(Group::List, "1.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "lset",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: lset,
        subcommands: &[],
        doc: &Doc {
            summary: "Replaces the list element at an index.",
            complexity: "O(N), N elements in the list; O(1) at either end.",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[arg::key("key", 0), arg::integer("index"), arg::string("element")],
            ..Doc::new(Group::List, "1.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "linsert",
        arity: 5,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: linsert,
        subcommands: &[],
        doc: &Doc {
            summary: "Puts an element next to the first occurrence of a pivot in a list.",
            complexity: "O(N), N elements walked to the pivot.",
            key_specs: &[ks::one(1, ks::RW | ks::INSERT)],
            args: &[
                arg::key("key", 0),
                arg::oneof("where", &[
                    arg::pure("before", "BEFORE"),
                    arg::pure("after", "AFTER"),
                ]),
                arg::string("pivot"),
                arg::string("element"),
            ],
            ..Doc::new(Group::List, "2.2.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "lrem",
        arity: 4,
        flags: WRITE,
        keys: KeySpec::ONE,
        handler: lrem,
        subcommands: &[],
        doc: &Doc {
            summary: "Deletes occurrences of a value from a list.",
            complexity: "O(N+M): N elements in the list, M removed.",
            key_specs: &[ks::one(1, ks::RW | ks::DELETE)],
            args: &[arg::key("key", 0), arg::integer("count"), arg::string("element")],
            ..Doc::new(Group::List, "1.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "ltrim",
        arity: 4,
        flags: WRITE,
        keys: KeySpec::ONE,
        handler: ltrim,
        subcommands: &[],
        doc: &Doc {
            summary: "Keeps only a range of a list's elements.",
            complexity: "O(N), N elements removed.",
            key_specs: &[ks::one(1, ks::RW | ks::DELETE)],
            args: &[arg::key("key", 0), arg::integer("start"), arg::integer("stop")],
            ..Doc::new(Group::List, "1.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "lpos",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: lpos,
        subcommands: &[],
        doc: &Doc {
            summary: "Finds the indexes of a value in a list.",
            complexity: "O(N), N elements in the list; less with MAXLEN or a match near an end.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::string("element"),
                arg::integer("rank").token("RANK").optional(),
                arg::integer("num-matches").token("COUNT").optional(),
                arg::integer("len").token("MAXLEN").optional(),
            ],
            ..Doc::new(Group::List, "6.0.6", acl::LIST)
        },
    },
    CommandSpec {
        name: "lmove",
        arity: 5,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, 2, 1),
        handler: lmove,
        subcommands: &[],
        doc: &Doc {
            summary: "Moves an element from one end of a list to an end of another and replies it.",
            complexity: "O(1)",
            key_specs: &[
                ks::one(1, ks::RW | ks::ACCESS | ks::DELETE),
                ks::one(2, ks::RW | ks::INSERT),
            ],
            args: &[
                arg::key("source", 0),
                arg::key("destination", 1),
                arg::oneof("wherefrom", &[
                    arg::pure("left", "LEFT"),
                    arg::pure("right", "RIGHT"),
                ]),
                arg::oneof("whereto", &[
                    arg::pure("left", "LEFT"),
                    arg::pure("right", "RIGHT"),
                ]),
            ],
            ..Doc::new(Group::List, "6.2.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "rpoplpush",
        arity: 3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, 2, 1),
        handler: rpoplpush,
        subcommands: &[],
        doc: &Doc {
            summary: "Moves a list's last element to the head of another and replies it.",
            complexity: "O(1)",
            key_specs: &[
                ks::one(1, ks::RW | ks::ACCESS | ks::DELETE),
                ks::one(2, ks::RW | ks::INSERT),
            ],
            args: &[arg::key("source", 0), arg::key("destination", 1)],
            ..Doc::new(Group::List, "1.2.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "lmpop",
        arity: -4,
        flags: WRITE,
        keys: KeySpec::numkeys(1),
        handler: lmpop,
        subcommands: &[],
        doc: &Doc {
            summary: "Pops elements from the first non-empty of several lists.",
            complexity: "O(N+M): N keys given, M elements popped.",
            key_specs: &[ks::keynum(1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[
                arg::integer("numkeys"),
                arg::key("key", 0).multiple(),
                arg::oneof("where", &[
                    arg::pure("left", "LEFT"),
                    arg::pure("right", "RIGHT"),
                ]),
                arg::integer("count").token("COUNT").optional(),
            ],
            ..Doc::new(Group::List, "7.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "blpop",
        arity: -3,
        flags: WRITE | BLOCKING,
        keys: KeySpec::range(1, -2, 1),
        handler: blpop,
        subcommands: &[],
        doc: &Doc {
            summary: "Pops the head of the first non-empty of several lists, waiting while all are empty.",
            complexity: "O(N), N keys given.",
            key_specs: &[ks::range(1, -2, 1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[arg::key("key", 0).multiple(), arg::double("timeout")],
            history: &[
                ("6.0.0", "The timeout may be fractional."),
            ],
            ..Doc::new(Group::List, "2.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "brpop",
        arity: -3,
        flags: WRITE | BLOCKING,
        keys: KeySpec::range(1, -2, 1),
        handler: brpop,
        subcommands: &[],
        doc: &Doc {
            summary: "Pops the tail of the first non-empty of several lists, waiting while all are empty.",
            complexity: "O(N), N keys given.",
            key_specs: &[ks::range(1, -2, 1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[arg::key("key", 0).multiple(), arg::double("timeout")],
            history: &[
                ("6.0.0", "The timeout may be fractional."),
            ],
            ..Doc::new(Group::List, "2.0.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "blmove",
        arity: 6,
        flags: WRITE | DENYOOM | BLOCKING,
        keys: KeySpec::range(1, 2, 1),
        handler: blmove,
        subcommands: &[],
        doc: &Doc {
            summary: "Moves an element from one end of a list to an end of another and replies it, waiting while the source is empty.",
            complexity: "O(1)",
            key_specs: &[
                ks::one(1, ks::RW | ks::ACCESS | ks::DELETE),
                ks::one(2, ks::RW | ks::INSERT),
            ],
            args: &[
                arg::key("source", 0),
                arg::key("destination", 1),
                arg::oneof("wherefrom", &[
                    arg::pure("left", "LEFT"),
                    arg::pure("right", "RIGHT"),
                ]),
                arg::oneof("whereto", &[
                    arg::pure("left", "LEFT"),
                    arg::pure("right", "RIGHT"),
                ]),
                arg::double("timeout"),
            ],
            ..Doc::new(Group::List, "6.2.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "brpoplpush",
        arity: 4,
        flags: WRITE | DENYOOM | BLOCKING,
        keys: KeySpec::range(1, 2, 1),
        handler: brpoplpush,
        subcommands: &[],
        doc: &Doc {
            summary: "Moves a list's last element to the head of another and replies it, waiting while the source is empty.",
            complexity: "O(1)",
            key_specs: &[
                ks::one(1, ks::RW | ks::ACCESS | ks::DELETE),
                ks::one(2, ks::RW | ks::INSERT),
            ],
            args: &[arg::key("source", 0), arg::key("destination", 1), arg::double("timeout")],
            history: &[
                ("6.0.0", "The timeout may be fractional."),
            ],
            ..Doc::new(Group::List, "2.2.0", acl::LIST)
        },
    },
    CommandSpec {
        name: "blmpop",
        arity: -5,
        flags: WRITE | BLOCKING,
        keys: KeySpec::numkeys(2),
        handler: blmpop,
        subcommands: &[],
        doc: &Doc {
            summary: "Pops elements from the first non-empty of several lists, waiting while all are empty.",
            complexity: "O(N+M): N keys given, M elements popped.",
            key_specs: &[ks::keynum(2, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[
                arg::double("timeout"),
                arg::integer("numkeys"),
                arg::key("key", 0).multiple(),
                arg::oneof("where", &[
                    arg::pure("left", "LEFT"),
                    arg::pure("right", "RIGHT"),
                ]),
                arg::integer("count").token("COUNT").optional(),
            ],
            ..Doc::new(Group::List, "7.0.0", acl::LIST)
        },
    },
];

// ---- helpers ----

#[allow(unreachable_patterns)]
fn as_list_mut(v: &mut Value) -> Result<&mut List, CmdError> {
    match v {
        Value::List(l) => Ok(l),
        _ => Err(WRONGTYPE.into()),
    }
}

/// The list at `key` for writing (no hit/miss accounting): Ok(None) if
/// missing, WRONGTYPE if another type.
fn list_mut<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<Option<&'a mut List>, CmdError> {
    db.lookup(key, now, Access::WRITE)
        .map(|e| e.value_mut())
        .map(as_list_mut)
        .transpose()
}

/// The list at `key` for reading (counts a hit or a miss).
#[allow(unreachable_patterns)]
fn list_read<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<Option<&'a List>, CmdError> {
    match db
        .lookup(key, now, Access::READ)
        .map(|e| e.value())
        .map(|v| v.stored())
    {
        None => Ok(None),
        Some(Some(Value::List(l))) => Ok(Some(l)),
        Some(_) => Err(WRONGTYPE.into()),
    }
}

#[inline]
fn reply_elem(out: &mut ReplyBuf, e: Elem) {
    match e {
        Elem::Int(n) => out.bulk_int(n),
        Elem::Bytes(b) => out.bulk(b),
    }
}

/// An element taken out of a list, kept in its stored form so that pushing
/// it elsewhere sizes it as Valkey does.
enum Owned {
    Int(i64),
    Bytes(Vec<u8>),
}

impl Owned {
    fn of(e: Elem) -> Owned {
        match e {
            Elem::Int(n) => Owned::Int(n),
            Elem::Bytes(b) => Owned::Bytes(b.to_vec()),
        }
    }
    fn elem(&self) -> Elem<'_> {
        match self {
            Owned::Int(n) => Elem::Int(*n),
            Owned::Bytes(b) => Elem::Bytes(b),
        }
    }
}

fn fill(ctx: &Ctx) -> i64 {
    ctx.config().list_max_listpack_size
}

/// LEFT or RIGHT (true for LEFT), else a syntax error.
fn side(a: &[u8]) -> Result<bool, CmdError> {
    if is(a, "left") {
        Ok(true)
    } else if is(a, "right") {
        Ok(false)
    } else {
        Err(SYNTAX.into())
    }
}

/// A count in `1..=i64::MAX` with a custom error for anything else.
fn count_gt0(a: &[u8], err: &'static str) -> Result<usize, CmdError> {
    match crate::util::num::parse_i64(a) {
        Some(n) if n > 0 => Ok(n as usize),
        _ => Err(err.into()),
    }
}

/// A count in `0..=i64::MAX` with a custom error for anything else.
fn count_ge0(a: &[u8], err: &'static str) -> Result<u64, CmdError> {
    match crate::util::num::parse_i64(a) {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(err.into()),
    }
}

/// True when this run is a blocked client's retry (it is still listed as
/// blocked until the retry serves it).
fn is_retry(ctx: &Ctx) -> bool {
    ctx.is_blocked_retry()
}

/// Index of the first of `keys` holding a list (write lookup). A key of
/// another type before it, or with no list at all, is WRONGTYPE; except on
/// a blocked client's retry with no list anywhere, which waits on.
fn first_list(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Option<usize>, CmdError> {
    let retry = is_retry(ctx);
    let now = ctx.now;
    let db = ctx.db();
    let mut wrong = false;
    for (i, k) in keys.iter().enumerate() {
        match db
            .lookup(k, now, Access::PEEK)
            .map(|e| matches!(&*e.value(), Value::List(_)))
        {
            None => {}
            Some(true) if !wrong => return Ok(Some(i)),
            Some(true) => return Err(WRONGTYPE.into()),
            Some(false) => {
                if !retry {
                    return Err(WRONGTYPE.into());
                }
                wrong = true;
            }
        }
    }
    Ok(None)
}

// ---- pushes ----

fn push_generic(ctx: &mut Ctx, front: bool, only_existing: bool) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let fill = fill(ctx);
    let key = &argv[1];
    let elems = &argv[2..];
    let db = ctx.db();
    let len = match list_mut(db, key, now)? {
        Some(l) => {
            l.push_args(front, elems, fill);
            l.len()
        }
        None if only_existing => {
            ctx.out.int(0);
            return Ok(());
        }
        None => {
            let mut l = List::new();
            l.push_args(front, elems, fill);
            let n = l.len();
            db.add(key, Value::List(Box::new(l)), now);
            ctx.notify(notify::NEW, "new", key);
            n
        }
    };
    ctx.dirty(elems.len() as u64);
    ctx.modified(key);
    ctx.notify(notify::LIST, push_event(front), key);
    ctx.signal_ready(key);
    ctx.out.int(len as i64);
    Ok(())
}

/// The event of a push at the head (`front`) or the tail.
fn push_event(front: bool) -> &'static str {
    if front {
        "lpush"
    } else {
        "rpush"
    }
}

/// The event of a pop from the head (`front`) or the tail.
fn pop_event(front: bool) -> &'static str {
    if front {
        "lpop"
    } else {
        "rpop"
    }
}

fn lpush(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, true, false)
}

fn rpush(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, false, false)
}

fn lpushx(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, true, true)
}

fn rpushx(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, false, true)
}

// ---- pops ----

/// Pops up to `count` elements of the list at `key` (known to hold a
/// list), replying them as an array, and deletes the list if emptied.
/// Returns how many were popped.
fn pop_count_reply(
    ctx: &mut Ctx,
    key: &[u8],
    front: bool,
    count: usize,
) -> Result<usize, CmdError> {
    let now = ctx.now;
    let fill = fill(ctx);
    let (db, out) = ctx.db_and_out();
    let Some(l) = list_mut(db, key, now)? else {
        out.null_array();
        return Ok(0);
    };
    let n = count.min(l.len());
    out.array(n);
    l.pop_many(front, n, fill, |e| reply_elem(out, e));
    let emptied = l.is_empty();
    if emptied {
        db.delete(key, now, Free::Sync);
    }
    ctx.dirty(n as u64);
    if n > 0 {
        ctx.modified(key);
        ctx.notify(notify::LIST, pop_event(front), key);
    }
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    Ok(n)
}

fn pop_generic(ctx: &mut Ctx, front: bool) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let fill = fill(ctx);
    let count = match argv.len() {
        2 => None,
        3 => Some(count_ge0(&argv[2], MUST_BE_POSITIVE)?),
        _ => return Err(crate::error::wrong_arity(ctx.cmd.name)),
    };
    let key = &argv[1];
    let (db, out) = ctx.db_and_out();
    let Some(l) = list_mut(db, key, now)? else {
        match count {
            Some(_) => out.null_array(),
            None => out.null(),
        }
        return Ok(());
    };
    match count {
        Some(0) => out.array(0),
        Some(c) => {
            let c = c.min(usize::MAX as u64) as usize;
            return pop_count_reply(ctx, key, front, c).map(|_| ());
        }
        None => {
            l.pop_with(front, |e| reply_elem(out, e));
            l.shrink(fill);
            let emptied = l.is_empty();
            if emptied {
                db.delete(key, now, Free::Sync);
            }
            ctx.dirty(1);
            ctx.modified(key);
            ctx.notify(notify::LIST, pop_event(front), key);
            if emptied {
                ctx.notify(notify::GENERIC, "del", key);
            }
        }
    }
    Ok(())
}

fn lpop(ctx: &mut Ctx) -> CmdResult {
    pop_generic(ctx, true)
}

fn rpop(ctx: &mut Ctx) -> CmdResult {
    pop_generic(ctx, false)
}

// ---- reads ----

fn llen(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let n = list_read(ctx.db(), &argv[1], now)?.map_or(0, |l| l.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// Valkey's range normalization: negative indexes count from the end;
/// None when the range is empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

fn lrange(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let start = int(&argv[2])?;
    let end = int(&argv[3])?;
    let (db, out) = ctx.db_and_out();
    let Some(l) = list_read(db, &argv[1], now)? else {
        out.array(0);
        return Ok(());
    };
    match clamp_range(start, end, l.len()) {
        None => out.array(0),
        Some((s, e)) => {
            let n = e - s + 1;
            out.array(n);
            for el in l.iter_from(s).take(n) {
                reply_elem(out, el);
            }
        }
    }
    Ok(())
}

fn lindex(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    let Some(l) = list_read(db, &argv[1], now)? else {
        out.null();
        return Ok(());
    };
    let i = int(&argv[2])?;
    match l.get(i) {
        Some(e) => reply_elem(out, e),
        None => out.null(),
    }
    Ok(())
}

fn lpos(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let mut rank: i64 = 1;
    let mut count: Option<u64> = None;
    let mut maxlen: u64 = 0;
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if is(&argv[j], "rank") && more {
            j += 1;
            rank = int(&argv[j])?;
            if rank == i64::MIN {
                return Err(RANK_RANGE.into());
            }
            if rank == 0 {
                return Err(RANK_ZERO.into());
            }
        } else if is(&argv[j], "count") && more {
            j += 1;
            count = Some(count_ge0(&argv[j], COUNT_NEGATIVE)?);
        } else if is(&argv[j], "maxlen") && more {
            j += 1;
            maxlen = count_ge0(&argv[j], MAXLEN_NEGATIVE)?;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let (db, out) = ctx.db_and_out();
    let Some(l) = list_read(db, &argv[1], now)? else {
        match count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    let target = Elem::of(&argv[2]);
    let from_tail = rank < 0;
    let skip = rank.unsigned_abs() - 1; // matches to pass over first
    let len = l.len();
    let limit = if maxlen == 0 {
        len
    } else {
        (maxlen.min(len as u64)) as usize
    };
    let want = match count {
        None => 1,
        Some(0) => u64::MAX,
        Some(c) => c,
    };
    // Matching positions, collected (at most the list's length of them)
    // before the array header is known.
    let mut found: Vec<usize> = Vec::new();
    let mut matches: u64 = 0;
    let mut check = |idx: usize, e: Elem| -> bool {
        if e == target {
            matches += 1;
            if matches > skip {
                found.push(if from_tail { len - 1 - idx } else { idx });
                if found.len() as u64 >= want {
                    return false;
                }
            }
        }
        true
    };
    if from_tail {
        for (idx, e) in l.iter_rev().take(limit).enumerate() {
            if !check(idx, e) {
                break;
            }
        }
    } else {
        for (idx, e) in l.iter().take(limit).enumerate() {
            if !check(idx, e) {
                break;
            }
        }
    }
    match count {
        Some(_) => {
            out.array(found.len());
            for i in found {
                out.int(i as i64);
            }
        }
        None => match found.first() {
            Some(&i) => out.int(i as i64),
            None => out.null(),
        },
    }
    Ok(())
}

// ---- in-place edits ----

fn lset(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let fill = fill(ctx);
    let db = ctx.db();
    let Some(l) = list_mut(db, &argv[1], now)? else {
        return Err(NO_SUCH_KEY.into());
    };
    let i = int(&argv[2])?;
    if !l.set(i, &argv[3], fill) {
        return Err(INDEX_OUT_OF_RANGE.into());
    }
    ctx.dirty(1);
    ctx.modified(&argv[1]);
    ctx.notify(notify::LIST, "lset", &argv[1]);
    ctx.out.ok();
    Ok(())
}

fn linsert(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let fill = fill(ctx);
    let after = if is(&argv[2], "after") {
        true
    } else if is(&argv[2], "before") {
        false
    } else {
        return Err(SYNTAX.into());
    };
    let db = ctx.db();
    let Some(l) = list_mut(db, &argv[1], now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    if !l.insert_by_pivot(&argv[3], &argv[4], after, fill) {
        ctx.out.int(-1);
        return Ok(());
    }
    let n = l.len();
    ctx.dirty(1);
    ctx.modified(&argv[1]);
    ctx.notify(notify::LIST, "linsert", &argv[1]);
    ctx.signal_ready(&argv[1]);
    ctx.out.int(n as i64);
    Ok(())
}

fn lrem(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let fill = fill(ctx);
    let count = int(&argv[2])?;
    let key = &argv[1];
    let db = ctx.db();
    let Some(l) = list_mut(db, key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let removed = l.remove_matching(&argv[3], count, fill);
    let emptied = l.is_empty();
    if emptied {
        db.delete(key, now, Free::Sync);
    }
    ctx.dirty(removed as u64);
    if removed > 0 {
        ctx.modified(key);
        ctx.notify(notify::LIST, "lrem", key);
    }
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

fn ltrim(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let fill = fill(ctx);
    let start = int(&argv[2])?;
    let end = int(&argv[3])?;
    let key = &argv[1];
    let db = ctx.db();
    let Some(l) = list_mut(db, key, now)? else {
        ctx.out.ok();
        return Ok(());
    };
    let before = l.len();
    match clamp_range(start, end, before) {
        Some((s, e)) => l.keep_range(s, e, fill),
        None => l.clear(),
    }
    let removed = before - l.len();
    let emptied = l.is_empty();
    if emptied {
        db.delete(key, now, Free::Sync);
    }
    ctx.dirty(removed as u64);
    if removed > 0 {
        ctx.modified(key);
    }
    // Even when nothing was trimmed, as Valkey.
    ctx.notify(notify::LIST, "ltrim", key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.out.ok();
    Ok(())
}

// ---- moves ----

/// LMOVE's work once arguments are parsed: Ok(false) when the source is
/// missing (nothing replied).
fn move_generic(
    ctx: &mut Ctx,
    src: &[u8],
    dst: &[u8],
    from_left: bool,
    to_left: bool,
) -> Result<bool, CmdError> {
    let now = ctx.now;
    let fill = fill(ctx);
    let db = ctx.db();
    if list_mut(db, src, now)?.is_none() {
        return Ok(false);
    }
    if src == dst {
        // Rotation: pop, push back onto the same list, then let it shrink.
        if let Some(l) = list_mut(db, src, now)? {
            if let Some(v) = l.pop_with(from_left, Owned::of) {
                l.push_elem(to_left, v.elem(), fill);
                l.shrink(fill);
                reply_elem(ctx.out, v.elem());
            }
        }
        ctx.dirty(1);
        ctx.modified(src);
        ctx.notify(notify::LIST, push_event(to_left), src);
        ctx.notify(notify::LIST, pop_event(from_left), src);
        ctx.signal_ready(dst);
        return Ok(true);
    }
    // The destination's type is checked before anything is popped.
    let dst_exists = list_mut(db, dst, now)?.is_some();
    let Some(l) = list_mut(db, src, now)? else {
        return Ok(false);
    };
    let Some(v) = l.pop_with(from_left, Owned::of) else {
        return Ok(false);
    };
    l.shrink(fill);
    let emptied = l.is_empty();
    if emptied {
        db.delete(src, now, Free::Sync);
    }
    if dst_exists {
        if let Some(d) = list_mut(db, dst, now)? {
            d.push_elem(to_left, v.elem(), fill);
        }
    } else {
        let mut d = List::new();
        d.push_elem(to_left, v.elem(), fill);
        db.add(dst, Value::List(Box::new(d)), now);
    }
    reply_elem(ctx.out, v.elem());
    // One change for the whole move, as Valkey counts it (lmoveGenericCommand).
    ctx.dirty(1);
    ctx.modified(src);
    ctx.modified(dst);
    // The push's events first, then the pop's, as Valkey.
    if !dst_exists {
        ctx.notify(notify::NEW, "new", dst);
    }
    ctx.notify(notify::LIST, push_event(to_left), dst);
    ctx.notify(notify::LIST, pop_event(from_left), src);
    if emptied {
        ctx.notify(notify::GENERIC, "del", src);
    }
    ctx.signal_ready(dst);
    Ok(true)
}

fn lmove(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let from = side(&argv[3])?;
    let to = side(&argv[4])?;
    if !move_generic(ctx, &argv[1], &argv[2], from, to)? {
        ctx.out.null();
    }
    Ok(())
}

fn rpoplpush(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if !move_generic(ctx, &argv[1], &argv[2], false, true)? {
        ctx.out.null();
    }
    Ok(())
}

// ---- multi-key pops ----

/// Parses `numkeys key [key ...] <LEFT | RIGHT> [COUNT count]` starting at
/// `at`: (keys range, from left, count).
fn parse_mpop(
    argv: &[Bytes],
    at: usize,
) -> Result<(std::ops::Range<usize>, bool, usize), CmdError> {
    let numkeys = count_gt0(&argv[at], NUMKEYS)?;
    let where_idx = at.saturating_add(numkeys).saturating_add(1);
    if where_idx >= argv.len() {
        return Err(SYNTAX.into());
    }
    let left = side(&argv[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count.is_none() && is(&argv[j], "count") && j + 1 < argv.len() {
            j += 1;
            count = Some(count_gt0(&argv[j], COUNT_GT0)?);
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    Ok((at + 1..where_idx, left, count.unwrap_or(1)))
}

/// Replies `[key, [elements]]` popping from the list at keys[i].
/// Goes out as LPOP/RPOP of what was popped.
fn mpop_reply(ctx: &mut Ctx, key: &[u8], left: bool, count: usize) -> CmdResult {
    ctx.out.array(2);
    ctx.out.bulk(key);
    let n = pop_count_reply(ctx, key, left, count)?;
    if ctx.propagating() {
        let pop = word(if left { "LPOP" } else { "RPOP" });
        ctx.rewrite(vec![pop, arg(key), num(n as i64)]);
    }
    Ok(())
}

fn lmpop(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (keys, left, count) = parse_mpop(argv, 1)?;
    match first_list(ctx, &argv[keys.clone()])? {
        Some(i) => mpop_reply(ctx, &argv[keys.start + i], left, count),
        None => {
            ctx.out.null_array();
            Ok(())
        }
    }
}

// ---- blocking ----

fn bpop_generic(ctx: &mut Ctx, front: bool) -> CmdResult {
    let argv = ctx.argv;
    let t = timeout(&argv[argv.len() - 1])?;
    let keys = &argv[1..argv.len() - 1];
    match first_list(ctx, keys)? {
        Some(i) => {
            let now = ctx.now;
            let fill = fill(ctx);
            let key = &keys[i];
            let mut emptied = false;
            let (db, out) = ctx.db_and_out();
            if let Some(l) = list_mut(db, key, now)? {
                out.array(2);
                out.bulk(key);
                l.pop_with(front, |e| reply_elem(out, e));
                l.shrink(fill);
                if l.is_empty() {
                    db.delete(key, now, Free::Sync);
                    emptied = true;
                }
            }
            ctx.dirty(1);
            ctx.modified(key);
            ctx.notify(notify::LIST, pop_event(front), key);
            if emptied {
                ctx.notify(notify::GENERIC, "del", key);
            }
            if ctx.propagating() {
                let pop = word(if front { "LPOP" } else { "RPOP" });
                ctx.rewrite(vec![pop, arg(key)]);
            }
        }
        None => ctx.block(keys, t, TimeoutReply::NullArray),
    }
    Ok(())
}

fn blpop(ctx: &mut Ctx) -> CmdResult {
    bpop_generic(ctx, true)
}

fn brpop(ctx: &mut Ctx) -> CmdResult {
    bpop_generic(ctx, false)
}

fn bmove_generic(ctx: &mut Ctx, from: bool, to: bool, t: Option<std::time::Duration>) -> CmdResult {
    let argv = ctx.argv;
    if first_list(ctx, &argv[1..2])?.is_none() {
        if !ctx.may_block() {
            // In a transaction: a null, where a timed-out wait replies a
            // null array (both as Valkey).
            ctx.out.null();
            return Ok(());
        }
        // Valkey times list waits out with a null array, BLMOVE included.
        ctx.block(&argv[1..2], t, TimeoutReply::NullArray);
        return Ok(());
    }
    if !move_generic(ctx, &argv[1], &argv[2], from, to)? {
        ctx.out.null();
    } else if ctx.propagating() {
        // The non-blocking form: LMOVE, or RPOPLPUSH for BRPOPLPUSH.
        let name = if argv.len() == 4 {
            "RPOPLPUSH"
        } else {
            "LMOVE"
        };
        let mut v = vec![word(name)];
        v.extend(argv[1..argv.len() - 1].iter().cloned());
        ctx.rewrite(v);
    }
    Ok(())
}

fn blmove(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let from = side(&argv[3])?;
    let to = side(&argv[4])?;
    let t = timeout(&argv[5])?;
    bmove_generic(ctx, from, to, t)
}

fn brpoplpush(ctx: &mut Ctx) -> CmdResult {
    let t = timeout(&ctx.argv[3])?;
    bmove_generic(ctx, false, true, t)
}

fn blmpop(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let t = timeout(&argv[1])?;
    let (keys, left, count) = parse_mpop(argv, 2)?;
    match first_list(ctx, &argv[keys.clone()])? {
        Some(i) => mpop_reply(ctx, &argv[keys.start + i], left, count),
        None => {
            ctx.block(&argv[keys], t, TimeoutReply::NullArray);
            Ok(())
        }
    }
}
