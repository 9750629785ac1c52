//! XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP),
//! XACK and XPENDING: managing consumer groups and their pending entries,
//! with Valkey's argument order, errors and notifications.

use bytes::Bytes;

use super::cg_access::{self as sa, Stream};
use super::cg_util::{
    id_arg, interval_arg, no_group_for_key, no_key_or_group, reply_id, INVALID_END, INVALID_START,
};
use crate::commands::args::{int, is};
use crate::commands::server::{reply_help, subcommand_syntax_error};
use crate::commands::Ctx;
use crate::config::notify;
use crate::error::{CmdError, CmdResult, SYNTAX, WRONGTYPE};
use crate::keyspace::stream::cgroup::INVALID_ENTRIES_READ;
use crate::keyspace::stream::StreamId;
use crate::keyspace::{Access, Db};

const NEEDS_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
const ENTRIESREAD_RANGE: &str = "ERR value for ENTRIESREAD must be positive or -1";
const BUSYGROUP: &str = "BUSYGROUP Consumer Group name already exists";

/// The stream at `key` for a change (lookupKeyWrite): None if missing,
/// WRONGTYPE if another type.
pub fn stream_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: i64,
) -> Result<Option<&'a mut Stream>, CmdError> {
    match db.lookup(key, now, Access::WRITE) {
        None => Ok(None),
        Some(e) => sa::as_stream_mut(e.value_mut())
            .map(Some)
            .ok_or(CmdError::from(WRONGTYPE)),
    }
}

/// The stream at `key` looked up as a read (lookupKeyRead: counts a hit or
/// a miss) but handed out for a change: the commands that change groups
/// (XACK, XCLAIM, XREADGROUP) read their key as Valkey does.
pub fn stream_read_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: i64,
) -> Result<Option<&'a mut Stream>, CmdError> {
    // One lookup on the hit path: the counting is done by hand.
    if db.lookup(key, now, Access::PEEK).is_none() {
        db.lookup(key, now, Access::READ);
        return Ok(None);
    }
    db.hits += 1;
    stream_mut(db, key, now)
}

/// The options after `XGROUP CREATE|SETID key group id`.
struct Options {
    mkstream: bool,
    entries_read: i64,
}

fn parse_options(argv: &[Bytes], create: bool, setid: bool) -> Result<Options, CmdError> {
    let mut o = Options {
        mkstream: false,
        entries_read: INVALID_ENTRIES_READ,
    };
    let mut i = 5;
    while i < argv.len() {
        if create && is(&argv[i], "MKSTREAM") {
            o.mkstream = true;
            i += 1;
        } else if (create || setid) && is(&argv[i], "ENTRIESREAD") && i + 1 < argv.len() {
            o.entries_read = int(&argv[i + 1])?;
            if o.entries_read < 0 && o.entries_read != INVALID_ENTRIES_READ {
                return Err(ENTRIESREAD_RANGE.into());
            }
            i += 2;
        } else {
            return Err(subcommand_syntax_error(&argv[1], "XGROUP"));
        }
    }
    Ok(o)
}

/// The checks every XGROUP subcommand with a key makes first, in Valkey's
/// order: options, the key's type, the key's existence (unless MKSTREAM),
/// the group's for those that need it.
fn prelude(ctx: &mut Ctx, needs_group: bool) -> Result<(Options, bool), CmdError> {
    let argv = ctx.argv;
    let create = is(&argv[1], "CREATE");
    let setid = is(&argv[1], "SETID");
    let o = parse_options(argv, create, setid)?;
    let now = ctx.now;
    let (exists, has_group) = match stream_mut(ctx.db(), &argv[2], now)? {
        Some(s) => (
            true,
            sa::groups(s).is_some_and(|g| g.get(&argv[3]).is_some()),
        ),
        None => (false, false),
    };
    if !o.mkstream {
        if !exists {
            return Err(NEEDS_KEY.into());
        }
        if needs_group && !has_group {
            return Err(no_group_for_key(&argv[3], &argv[2]));
        }
    }
    Ok((o, exists))
}

pub fn xgroup_create(ctx: &mut Ctx) -> CmdResult {
    let (o, exists) = prelude(ctx, false)?;
    let argv = ctx.argv;
    if argv.len() > 8 {
        return Err(subcommand_syntax_error(&argv[1], "XGROUP"));
    }
    let now = ctx.now;
    let id = if &argv[4][..] == b"$" {
        match stream_mut(ctx.db(), &argv[2], now)? {
            Some(s) => sa::meta(s).last_id,
            None => StreamId::MIN,
        }
    } else {
        id_arg(&argv[4], 0, true)?
    };
    if !exists {
        ctx.notify_if_new(&argv[2]);
        ctx.db().add(&argv[2], sa::new_stream(), now);
        ctx.modified(&argv[2]);
    }
    let created = match stream_mut(ctx.db(), &argv[2], now)? {
        Some(s) => sa::groups_mut(s).create(&argv[3], id, o.entries_read),
        None => false,
    };
    if !created {
        return Err(BUSYGROUP.into());
    }
    ctx.out.ok();
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xgroup-create", &argv[2]);
    Ok(())
}

pub fn xgroup_setid(ctx: &mut Ctx) -> CmdResult {
    let (o, _) = prelude(ctx, true)?;
    let argv = ctx.argv;
    if argv.len() != 5 && argv.len() != 7 {
        return Err(subcommand_syntax_error(&argv[1], "XGROUP"));
    }
    let now = ctx.now;
    let Some(s) = stream_mut(ctx.db(), &argv[2], now)? else {
        return Err(NEEDS_KEY.into());
    };
    let id = if &argv[4][..] == b"$" {
        sa::meta(s).last_id
    } else {
        id_arg(&argv[4], 0, false)?
    };
    let Some(g) = sa::groups_mut(s).get_mut(&argv[3]) else {
        return Err(no_group_for_key(&argv[3], &argv[2]));
    };
    g.last_id = id;
    g.entries_read = o.entries_read;
    ctx.out.ok();
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xgroup-setid", &argv[2]);
    Ok(())
}

pub fn xgroup_destroy(ctx: &mut Ctx) -> CmdResult {
    prelude(ctx, false)?;
    let argv = ctx.argv;
    let now = ctx.now;
    let destroyed = match stream_mut(ctx.db(), &argv[2], now)? {
        Some(s) => sa::groups_mut(s).destroy(&argv[3]),
        None => false,
    };
    if !destroyed {
        ctx.out.int(0);
        return Ok(());
    }
    ctx.out.int(1);
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xgroup-destroy", &argv[2]);
    // Blocked XREADGROUPs on the group retry and fail with NOGROUP.
    ctx.signal_ready(&argv[2]);
    Ok(())
}

pub fn xgroup_createconsumer(ctx: &mut Ctx) -> CmdResult {
    prelude(ctx, true)?;
    let argv = ctx.argv;
    let now = ctx.now;
    let created = match stream_mut(ctx.db(), &argv[2], now)? {
        Some(s) => match sa::groups_mut(s).get_mut(&argv[3]) {
            Some(g) => g.create_consumer(&argv[4], now).1,
            None => false,
        },
        None => false,
    };
    ctx.out.int(i64::from(created));
    if created {
        ctx.dirty(1);
        ctx.notify(notify::STREAM, "xgroup-createconsumer", &argv[2]);
    }
    Ok(())
}

pub fn xgroup_delconsumer(ctx: &mut Ctx) -> CmdResult {
    prelude(ctx, true)?;
    let argv = ctx.argv;
    let now = ctx.now;
    let pending = match stream_mut(ctx.db(), &argv[2], now)? {
        Some(s) => sa::groups_mut(s)
            .get_mut(&argv[3])
            .and_then(|g| g.delete_consumer(&argv[4])),
        None => None,
    };
    ctx.out.int(pending.unwrap_or(0) as i64);
    if pending.is_some() {
        ctx.dirty(1);
        ctx.notify(notify::STREAM, "xgroup-delconsumer", &argv[2]);
    }
    Ok(())
}

pub fn xgroup_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx,
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
    Ok(())
}

/// XACK key group id [id ...]: all ids are checked before any is
/// acknowledged, so the command is all or nothing.
pub fn xack(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let Some(s) = stream_read_mut(db, &argv[1], now)? else {
        out.int(0);
        return Ok(());
    };
    let Some(g) = sa::groups_mut_existing(s).and_then(|gs| gs.get_mut(&argv[2])) else {
        out.int(0);
        return Ok(());
    };
    let acked = if argv.len() == 4 {
        // The common case, without a list of parsed ids.
        let id = id_arg(&argv[3], 0, true)?;
        u64::from(g.ack(id))
    } else {
        let mut ids = Vec::with_capacity(argv.len() - 3);
        for a in &argv[3..] {
            ids.push(id_arg(a, 0, true)?);
        }
        ids.into_iter().map(|id| u64::from(g.ack(id))).sum()
    };
    out.int(acked as i64);
    if acked > 0 {
        ctx.dirty(acked);
    }
    Ok(())
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]].
pub fn xpending(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let n = argv.len();
    if n != 3 && !(6..=9).contains(&n) {
        return Err(SYNTAX.into());
    }
    let mut range = None;
    if n >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if is(&argv[3], "IDLE") {
            min_idle = int(&argv[4])?;
            if n < 8 {
                return Err(SYNTAX.into());
            }
            at += 2;
        }
        let count = int(&argv[at + 2])?.max(0);
        let (mut start, start_ex) = interval_arg(&argv[at], 0)?;
        if start_ex {
            start = super::cg_util::incr(start).ok_or(CmdError::from(INVALID_START))?;
        }
        let (mut end, end_ex) = interval_arg(&argv[at + 1], u64::MAX)?;
        if end_ex {
            end = super::cg_util::decr(end).ok_or(CmdError::from(INVALID_END))?;
        }
        let consumer = argv.get(at + 3);
        range = Some((min_idle, start, end, count, consumer));
    }
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let s = match db.lookup(&argv[1], now, Access::READ) {
        None => None,
        Some(e) => Some(sa::as_stream(e.value()).ok_or(CmdError::from(WRONGTYPE))?),
    };
    let Some(g) = s.and_then(sa::groups).and_then(|gs| gs.get(&argv[2])) else {
        return Err(no_key_or_group(&argv[1], &argv[2], ""));
    };
    let Some((min_idle, start, end, count, consumer)) = range else {
        out.array(4);
        out.int(g.pel_len() as i64);
        match (g.pel_first(), g.pel_last()) {
            (Some(first), Some(last)) => {
                reply_id(out, first);
                reply_id(out, last);
                let owners = g.consumers().filter(|c| !c.pel.is_empty()).count();
                out.array(owners);
                for c in g.consumers().filter(|c| !c.pel.is_empty()) {
                    out.array(2);
                    out.bulk(&c.name);
                    out.bulk_int(c.pel.len() as i64);
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    };
    // Rows are counted as they are written: the length goes in front.
    let mut rows: Vec<(StreamId, &[u8], i64, u64)> = Vec::new();
    let mut left = count;
    let mut add = |id: StreamId, nack: &crate::keyspace::stream::cgroup::Nack| {
        if left == 0 || id > end {
            return false;
        }
        if min_idle != 0 && now - nack.delivery_time < min_idle {
            return true;
        }
        left -= 1;
        rows.push((
            id,
            g.owner_name(nack),
            (now - nack.delivery_time).max(0),
            nack.delivery_count,
        ));
        true
    };
    match consumer {
        Some(name) => {
            let Some(c) = g.consumer_named(name) else {
                out.array(0);
                return Ok(());
            };
            for &id in c.pel.range(start..) {
                let Some(nack) = g.pending(id) else { continue };
                if !add(id, nack) {
                    break;
                }
            }
        }
        None => {
            for (&id, nack) in g.pel_from(start) {
                if !add(id, nack) {
                    break;
                }
            }
        }
    }
    out.array(rows.len());
    for (id, owner, idle, deliveries) in rows {
        out.array(4);
        reply_id(out, id);
        out.bulk(owner);
        out.int(idle);
        out.int(deliveries as i64);
    }
    Ok(())
}
