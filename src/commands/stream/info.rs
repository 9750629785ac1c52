//! XINFO STREAM (with FULL) and XINFO HELP, and the entry reply shared by
//! the stream commands.

use super::super::args::{int, is};
use super::super::Ctx;
use super::stream_read;
use crate::error::{CmdError, CmdResult, NO_SUCH_KEY};
use crate::keyspace::list::Elem;
use crate::keyspace::stream::{EntryRef, Stream, StreamId};
use crate::resp::ReplyBuf;

const XINFO_HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Print this help.",
];

pub fn xinfo_help(ctx: &mut Ctx) -> CmdResult {
    ctx.out.array(XINFO_HELP.len());
    for line in XINFO_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}

fn reply_elem(out: &mut ReplyBuf, e: Elem<'_>) {
    match e {
        Elem::Int(n) => out.bulk_int(n),
        Elem::Bytes(b) => out.bulk(b),
    }
}

/// One entry: `[id, [field, value, ...]]`.
pub fn reply_entry(out: &mut ReplyBuf, e: &EntryRef<'_>) {
    out.array(2);
    let mut id = Vec::with_capacity(24);
    e.id.write_to(&mut id);
    out.bulk(&id);
    out.array(e.num_fields() * 2);
    for (f, v) in e.fields() {
        reply_elem(out, f);
        reply_elem(out, v);
    }
}

/// How many nodes Valkey's radix tree has for these node keys (XINFO
/// radix-tree-nodes): the tree is kept compressed, so a node stands at the
/// root, at each key, at each prefix with two children or more, and at
/// each child of such a prefix (where a compressed run starts).
pub fn radix_tree_nodes(s: &Stream) -> u64 {
    let keys: Vec<[u8; 16]> = s.nodes().map(|(m, _)| m.to_be_bytes()).collect();
    if keys.is_empty() {
        return 1;
    }
    // Prefix of length L of key i is new where it differs from key i-1's.
    // A prefix branches when its children (distinct next bytes) are 2+.
    let mut nodes: u64 = 1; // the root
    for len in 1..=16usize {
        // Count, for prefixes of length `len`, whether each is a node: a
        // full key, a branching prefix, or a child of a branching prefix.
        let mut i = 0;
        while i < keys.len() {
            let mut j = i + 1;
            while j < keys.len() && keys[j][..len] == keys[i][..len] {
                j += 1;
            }
            let group = &keys[i..j];
            let is_key = len == 16;
            let branches = !is_key && distinct_next(group, len) >= 2;
            let parent = &keys[i][..len - 1];
            let parent_branches = {
                let mut a = i;
                while a > 0 && keys[a - 1][..len - 1] == *parent {
                    a -= 1;
                }
                let mut b = j;
                while b < keys.len() && keys[b][..len - 1] == *parent {
                    b += 1;
                }
                distinct_next(&keys[a..b], len - 1) >= 2
            };
            if is_key || branches || parent_branches {
                nodes += 1;
            }
            i = j;
        }
    }
    nodes
}

/// Distinct bytes at `at` among keys sharing the prefix before it.
fn distinct_next(keys: &[[u8; 16]], at: usize) -> usize {
    let mut n = 0;
    let mut prev: Option<u8> = None;
    for k in keys {
        if prev != Some(k[at]) {
            n += 1;
            prev = Some(k[at]);
        }
    }
    n
}

// CGROUP HOOK: the consumer-group code fills these two (groups count, and
// the FULL form's `groups` array; `count` as XINFO STREAM FULL COUNT).
fn group_count(s: &Stream) -> usize {
    match &s.groups {
        None => 0,
        Some(_) => 0,
    }
}

fn reply_full_groups(out: &mut ReplyBuf, s: &Stream, _count: usize) {
    let _ = s;
    out.array(0);
}

pub fn xinfo_stream(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let Some(s) = stream_read(db, &argv[2], now)? else {
        return Err(NO_SUCH_KEY.into());
    };
    let mut full = false;
    let mut count: usize = 10;
    if argv.len() > 3 {
        let sub_err = || {
            CmdError::owned(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
                String::from_utf8_lossy(&argv[1])
            ))
        };
        if !is(&argv[3], "full") {
            return Err(sub_err());
        }
        full = true;
        if argv.len() > 4 {
            if argv.len() != 6 || !is(&argv[4], "count") {
                return Err(sub_err());
            }
            let c = int(&argv[5])?;
            count = if c < 0 {
                10
            } else if c == 0 {
                usize::MAX
            } else {
                c as usize
            };
        }
    }
    let resp3 = out.is_resp3();
    let head = |out: &mut ReplyBuf, n: usize| {
        if resp3 {
            out.map(n)
        } else {
            out.array(n * 2)
        }
    };
    let id_bulk = |out: &mut ReplyBuf, id: StreamId| out.bulk(&id.to_bytes());
    head(out, if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(radix_tree_nodes(s) as i64);
    out.bulk(b"last-generated-id");
    id_bulk(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    id_bulk(out, s.max_deleted_entry_id);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    id_bulk(out, s.first_id);
    if full {
        out.bulk(b"entries");
        super::read::reply_range(out, s, StreamId::MIN, StreamId::MAX, false, count);
        out.bulk(b"groups");
        reply_full_groups(out, s, count);
    } else {
        out.bulk(b"groups");
        out.int(group_count(s) as i64);
        for (name, last) in [(&b"first-entry"[..], false), (&b"last-entry"[..], true)] {
            out.bulk(name);
            match s.range(StreamId::MIN, StreamId::MAX, last).next() {
                Some(e) => reply_entry(out, &e),
                None => out.null(),
            }
        }
    }
    Ok(())
}
