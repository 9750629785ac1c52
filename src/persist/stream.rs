//! A stream's RDB record (types 15, 19 and 21; written as 21, Valkey 9's):
//!
//! ```text
//! node count, then per node: master ID (16-byte big-endian string),
//!   listpack (string: the node's bytes as they are in memory)
//! length, last ID (ms, seq)
//! [19+] first ID, max deleted entry ID, entries added
//! group count, then per group: name, last delivered ID, [19+] entries read,
//!   PEL (count; raw 16-byte ID, delivery time ms (8 bytes LE), delivery count),
//!   consumers (count; name, seen time, [21] active time, PEL IDs)
//! ```
//!
//! Loaded nodes are checked as listpacks and against the stream node
//! layout before use (payloads are untrusted). Groups go through the
//! neutral `RdbGroup` form; `groups_from_rdb` / `groups_to_rdb` below are
//! the hook the consumer-group code fills.

use super::codec::{write_len, write_string, Reader};
use super::compact::listpack;
use super::object::{TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3};
use super::{Error, Result};
use crate::keyspace::stream::cgroup::Groups;
use crate::keyspace::stream::{elem_bytes, node, Stream, StreamId};

/// One pending entry of a group, as the RDB record holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbNack {
    pub id: StreamId,
    pub delivery_time: i64,
    pub delivery_count: u64,
}

/// One consumer, as the RDB record holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbConsumer {
    pub name: Vec<u8>,
    pub seen_time: i64,
    /// Type 21; earlier records take `seen_time`.
    pub active_time: i64,
    /// IDs of its pending entries, each in the group's PEL.
    pub pel: Vec<StreamId>,
}

/// One consumer group, as the RDB record holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbGroup {
    pub name: Vec<u8>,
    pub last_id: StreamId,
    /// Entries read (`-1` as u64 when unknown); None in a type 15 record,
    /// where Valkey estimates it from the stream on load.
    pub entries_read: Option<u64>,
    pub pel: Vec<RdbNack>,
    pub consumers: Vec<RdbConsumer>,
}

// ---------------------------------------------------------------------------
// CGROUP HOOK: the two functions below are the consumer-group code's to
// fill (branch h-cgroup); the codec around them is complete.

/// The stream's groups built from their RDB form (the stream's entries and
/// metadata are loaded already). Err: the record is refused, with the
/// checks Valkey's loader makes (duplicate group, consumer or pending
/// entry; a consumer's entry missing from its group's PEL) and one more:
/// every pending entry must have an owner.
fn groups_from_rdb(
    s: &Stream,
    groups: Vec<RdbGroup>,
) -> std::result::Result<Option<std::sync::Arc<Groups>>, String> {
    use crate::keyspace::stream::cgroup::Group;
    if groups.is_empty() {
        return Ok(None);
    }
    let meta = crate::keyspace::stream::cgroup::StreamMeta::of(s);
    let mut out = Groups::default();
    for g in groups {
        // A type 15 record has no read counter: estimated as Valkey does.
        let entries_read = match g.entries_read {
            Some(n) => n as i64,
            None => meta.estimate_distance(g.last_id),
        };
        let mut group = Group::new(g.last_id, entries_read);
        for n in &g.pel {
            if !group.load_pending(n.id, n.delivery_time, n.delivery_count) {
                return Err("Duplicated global PEL entry loading stream consumer group".into());
            }
        }
        for c in &g.consumers {
            let (slot, created) = group.create_consumer(&c.name, c.seen_time);
            if !created {
                return Err("Duplicate stream consumer detected.".into());
            }
            if let Some(cons) = group.consumer_mut(slot) {
                cons.active_time = c.active_time;
            }
            for &id in &c.pel {
                if group.pending(id).is_none() {
                    return Err("Consumer entry not found in group global PEL".into());
                }
                if !group.attach(id, slot) {
                    return Err(
                        "Duplicated consumer PEL entry loading a stream consumer group".into(),
                    );
                }
            }
        }
        if !group.all_owned() {
            return Err("Stream CG PEL entry without consumer".into());
        }
        if !out.insert(&g.name, group) {
            return Err("Duplicated consumer group name".into());
        }
    }
    Ok(Some(std::sync::Arc::new(out)))
}

/// The stream's groups in RDB form, in the order Valkey writes them (its
/// groups radix tree: by name bytes).
fn groups_to_rdb(s: &Stream) -> Vec<RdbGroup> {
    let Some(gs) = s.groups.as_deref() else {
        return Vec::new();
    };
    gs.iter()
        .map(|(name, g)| RdbGroup {
            name: name.to_vec(),
            last_id: g.last_id,
            entries_read: Some(g.entries_read as u64),
            pel: g
                .pel_from(StreamId::MIN)
                .map(|(&id, n)| RdbNack {
                    id,
                    delivery_time: n.delivery_time,
                    delivery_count: n.delivery_count,
                })
                .collect(),
            consumers: g
                .consumers()
                .map(|c| RdbConsumer {
                    name: c.name.to_vec(),
                    seen_time: c.seen_time,
                    active_time: c.active_time,
                    pel: c.pel.iter().copied().collect(),
                })
                .collect(),
        })
        .collect()
}

/// The commands an AOF rewrite writes for a stream's groups (Valkey's
/// rewriteStreamObject): per group `XGROUP CREATE key group last
/// ENTRIESREAD n`, then per consumer its pending entries as `XCLAIM key
/// group consumer 0 id TIME t RETRYCOUNT n JUSTID FORCE`, or `XGROUP
/// CREATECONSUMER` for one with none.
fn groups_aof_commands(key: &[u8], s: &Stream, emit: &mut impl FnMut(&[&[u8]])) {
    let Some(gs) = s.groups.as_deref() else {
        return;
    };
    for (name, g) in gs.iter() {
        let last = g.last_id.to_bytes();
        let read = g.entries_read.to_string();
        emit(&[
            b"XGROUP",
            b"CREATE",
            key,
            name,
            &last,
            b"ENTRIESREAD",
            read.as_bytes(),
        ]);
        for c in g.consumers() {
            if c.pel.is_empty() {
                emit(&[b"XGROUP", b"CREATECONSUMER", key, name, &c.name]);
                continue;
            }
            for &id in &c.pel {
                let Some(n) = g.pending(id) else { continue };
                let idb = id.to_bytes();
                let time = n.delivery_time.to_string();
                let count = n.delivery_count.to_string();
                emit(&[
                    b"XCLAIM",
                    key,
                    name,
                    &c.name,
                    b"0",
                    &idb,
                    b"TIME",
                    time.as_bytes(),
                    b"RETRYCOUNT",
                    count.as_bytes(),
                    b"JUSTID",
                    b"FORCE",
                ]);
            }
        }
    }
}

#[cfg(test)]
mod group_tests {
    use super::*;
    use crate::keyspace::stream::NodeLimits;

    fn with_groups() -> Stream {
        let mut s = Stream::new();
        for ms in 1..=4u64 {
            s.append(StreamId::new(ms, 0), &[b"f", b"v"], NodeLimits::default())
                .expect("append");
        }
        let gs = std::sync::Arc::make_mut(s.groups.get_or_insert_with(Default::default));
        gs.create(b"zz", StreamId::new(2, 0), 2);
        gs.create(b"aa", StreamId::MIN, -1);
        let g = gs.get_mut(b"zz").expect("group");
        let (bob, _) = g.create_consumer(b"bob", 100);
        let (al, _) = g.create_consumer(b"al", 50);
        g.create_consumer(b"idle", 7);
        g.deliver(StreamId::new(1, 0), bob, 110);
        g.deliver(StreamId::new(2, 0), al, 120);
        g.redeliver(StreamId::new(2, 0), 130);
        s
    }

    fn record(s: &Stream) -> Vec<u8> {
        let mut out = vec![];
        write_stream(&mut out, s, false);
        out
    }

    #[test]
    fn groups_round_trip() {
        let s = with_groups();
        let out = record(&s);
        let mut r = Reader::new(&out[1..]);
        let back = read_stream(&mut r, TYPE_STREAM_LISTPACKS_3).expect("reads back");
        assert!(r.is_empty());
        let (a, b) = (groups_to_rdb(&s), groups_to_rdb(&back));
        assert_eq!(a, b);
        assert_eq!(
            a.iter().map(|g| &g.name[..]).collect::<Vec<_>>(),
            [&b"aa"[..], b"zz"]
        );
        assert_eq!(a[0].entries_read, Some(u64::MAX));
        let zz = &a[1];
        assert_eq!(zz.pel.len(), 2);
        assert_eq!(zz.pel[1].delivery_count, 2);
        assert_eq!(
            zz.consumers.iter().map(|c| &c.name[..]).collect::<Vec<_>>(),
            [&b"al"[..], b"bob", b"idle"]
        );
        assert_eq!(zz.consumers[0].active_time, 120);
        assert_eq!(zz.consumers[2].active_time, -1);
        let g = back
            .groups
            .as_deref()
            .and_then(|gs| gs.get(b"zz"))
            .expect("zz");
        let n = g.pending(StreamId::new(1, 0)).expect("pending");
        assert_eq!(g.owner_name(n), b"bob");
    }

    #[test]
    fn refuses_inconsistent_groups() {
        let s = with_groups();
        let bad = |f: &dyn Fn(&mut Vec<RdbGroup>)| {
            let mut gs = groups_to_rdb(&s);
            f(&mut gs);
            groups_from_rdb(&s, gs).expect_err("refused")
        };
        assert_eq!(
            bad(&|g| g[1].name = b"aa".to_vec()),
            "Duplicated consumer group name"
        );
        assert_eq!(
            bad(&|g| {
                let n = g[1].pel[0].clone();
                g[1].pel.push(n)
            }),
            "Duplicated global PEL entry loading stream consumer group"
        );
        assert_eq!(
            bad(&|g| {
                let c = g[1].consumers[0].clone();
                g[1].consumers.push(c)
            }),
            "Duplicate stream consumer detected."
        );
        assert_eq!(
            bad(&|g| g[1].consumers[0].pel.push(StreamId::new(9, 0))),
            "Consumer entry not found in group global PEL"
        );
        assert_eq!(
            bad(&|g| g[1].consumers[0].pel.clear()),
            "Stream CG PEL entry without consumer"
        );
        assert_eq!(
            bad(&|g| {
                let id = g[1].consumers[0].pel[0];
                g[1].consumers[1].pel.push(id)
            }),
            "Duplicated consumer PEL entry loading a stream consumer group"
        );
        // A type 15 record's group gets its read counter estimated.
        let mut gs = groups_to_rdb(&s);
        gs[1].entries_read = None;
        gs[1].last_id = StreamId::new(4, 0);
        let loaded = groups_from_rdb(&s, gs).expect("ok").expect("groups");
        assert_eq!(loaded.get(b"zz").expect("zz").entries_read, 4);
    }

    #[test]
    fn groups_in_aof_rewrite() {
        let s = with_groups();
        let mut cmds = Vec::new();
        aof_commands(b"k", &s, |a| {
            cmds.push(
                a.iter()
                    .map(|x| String::from_utf8_lossy(x).into_owned())
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        });
        let tail: Vec<&str> = cmds.iter().skip(5).map(|c| c.as_str()).collect();
        assert_eq!(
            tail,
            [
                "XGROUP CREATE k aa 0-0 ENTRIESREAD -1",
                "XGROUP CREATE k zz 2-0 ENTRIESREAD 2",
                "XCLAIM k zz al 0 2-0 TIME 130 RETRYCOUNT 2 JUSTID FORCE",
                "XCLAIM k zz bob 0 1-0 TIME 110 RETRYCOUNT 1 JUSTID FORCE",
                "XGROUP CREATECONSUMER k zz idle",
            ]
        );
    }
}

// ---------------------------------------------------------------------------

/// Writes the type byte and the record.
pub fn write_stream(out: &mut Vec<u8>, s: &Stream, compress: bool) {
    out.push(TYPE_STREAM_LISTPACKS_3);
    write_len(out, s.node_count() as u64);
    for (master, lp) in s.nodes() {
        write_string(out, &master.to_be_bytes(), false);
        write_string(out, lp, compress);
    }
    write_len(out, s.length);
    write_id(out, s.last_id);
    write_id(out, s.first_id);
    write_id(out, s.max_deleted_entry_id);
    write_len(out, s.entries_added);
    let groups = groups_to_rdb(s);
    write_len(out, groups.len() as u64);
    for g in &groups {
        write_string(out, &g.name, compress);
        write_id(out, g.last_id);
        write_len(out, g.entries_read.unwrap_or(u64::MAX));
        write_len(out, g.pel.len() as u64);
        for n in &g.pel {
            out.extend_from_slice(&n.id.to_be_bytes());
            out.extend_from_slice(&n.delivery_time.to_le_bytes());
            write_len(out, n.delivery_count);
        }
        write_len(out, g.consumers.len() as u64);
        for c in &g.consumers {
            write_string(out, &c.name, compress);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            out.extend_from_slice(&c.active_time.to_le_bytes());
            write_len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
}

fn write_id(out: &mut Vec<u8>, id: StreamId) {
    write_len(out, id.ms);
    write_len(out, id.seq);
}

fn read_id(r: &mut Reader<'_>, what: &str) -> Result<StreamId> {
    let ms = r.length(what)?;
    let seq = r.length(what)?;
    Ok(StreamId::new(ms, seq))
}

fn raw_id(r: &mut Reader<'_>) -> Result<StreamId> {
    let b = r.take(16, "a stream PEL ID")?;
    let mut a = [0u8; 16];
    a.copy_from_slice(b);
    Ok(StreamId::from_be_bytes(&a))
}

fn ms_time(r: &mut Reader<'_>) -> Result<i64> {
    Ok(r.u64_le()? as i64)
}

/// Reads a stream record of type `t` (15, 19 or 21).
pub fn read_stream(r: &mut Reader<'_>, t: u8) -> Result<Stream> {
    let at = r.pos();
    let mut s = Stream::new();
    // Each node is at least its two strings' length bytes.
    let nodes = r.count("stream listpacks count", 2)?;
    let mut live_total: u64 = 0;
    let mut prev_last: Option<StreamId> = None;
    for _ in 0..nodes {
        let key_at = r.pos();
        let key = r.string()?;
        let Ok(key) = <[u8; 16]>::try_from(&key[..]) else {
            return Err(Error::new(
                key_at,
                "Stream node key entry is not the size of a stream ID",
            ));
        };
        let master = StreamId::from_be_bytes(&key);
        let lp_at = r.pos();
        let lp = r.string()?.into_owned();
        let elems = listpack(&lp).map_err(|e| {
            Error::new(
                lp_at,
                format!("Stream listpack integrity check failed. ({e})"),
            )
        })?;
        if elems.is_empty() {
            return Err(Error::new(lp_at, "Empty listpack inside stream"));
        }
        let (live, _, last) = node::validate(&elems, master).map_err(|e| {
            Error::new(
                lp_at,
                format!("Stream listpack integrity check failed. ({e})"),
            )
        })?;
        // Nodes in order, each one's entries above the previous node's.
        if prev_last.is_some_and(|p| master <= p) {
            return Err(Error::new(key_at, "Listpack re-added with existing key"));
        }
        prev_last = Some(last);
        live_total += live as u64;
        s.insert_node(master, lp);
    }
    s.length = r.length("stream length")?;
    s.last_id = read_id(r, "stream last ID")?;
    if t >= TYPE_STREAM_LISTPACKS_2 {
        s.first_id = read_id(r, "stream first ID")?;
        s.max_deleted_entry_id = read_id(r, "stream max deleted ID")?;
        s.entries_added = r.length("stream entries added")?;
    } else {
        s.max_deleted_entry_id = StreamId::MIN;
        s.entries_added = s.length;
        s.first_id = s.edge_id(false).unwrap_or(StreamId::MIN);
    }
    if s.length != 0 && s.node_count() == 0 {
        return Err(Error::new(
            at,
            "Stream length inconsistent with rax entries",
        ));
    }
    // Our readers rely on the counters matching the nodes.
    if s.length != live_total {
        return Err(Error::new(
            at,
            "Stream length inconsistent with its entries",
        ));
    }
    if s.edge_id(true).is_some_and(|l| l > s.last_id) {
        return Err(Error::new(at, "Stream last ID below its last entry"));
    }
    let ngroups = r.count("stream consumer groups count", 3)?;
    let mut groups = Vec::with_capacity(ngroups);
    for _ in 0..ngroups {
        let name = r.string()?.into_owned();
        let last_id = read_id(r, "stream group last ID")?;
        let entries_read = if t >= TYPE_STREAM_LISTPACKS_2 {
            Some(r.length("stream group entries read")?)
        } else {
            None
        };
        let npel = r.count("stream group PEL size", 17)?;
        let mut pel = Vec::with_capacity(npel);
        for _ in 0..npel {
            let id = raw_id(r)?;
            let delivery_time = ms_time(r)?;
            let delivery_count = r.length("stream PEL delivery count")?;
            pel.push(RdbNack {
                id,
                delivery_time,
                delivery_count,
            });
        }
        let nconsumers = r.count("stream consumers count", 9)?;
        let mut consumers = Vec::with_capacity(nconsumers);
        for _ in 0..nconsumers {
            let name = r.string()?.into_owned();
            let seen_time = ms_time(r)?;
            let active_time = if t >= TYPE_STREAM_LISTPACKS_3 {
                ms_time(r)?
            } else {
                seen_time
            };
            let n = r.count("stream consumer PEL size", 16)?;
            let mut ids = Vec::with_capacity(n);
            for _ in 0..n {
                ids.push(raw_id(r)?);
            }
            consumers.push(RdbConsumer {
                name,
                seen_time,
                active_time,
                pel: ids,
            });
        }
        groups.push(RdbGroup {
            name,
            last_id,
            entries_read,
            pel,
            consumers,
        });
    }
    s.groups = groups_from_rdb(&s, groups).map_err(|e| Error::new(at, e))?;
    Ok(s)
}

/// The commands an AOF rewrite writes for a stream (Valkey's
/// `rewriteStreamObject`): an XADD per entry (an empty stream: `XADD key
/// MAXLEN 0 0-1 x y`), then `XSETID key <last> ENTRIESADDED <n>
/// MAXDELETEDID <id>`. Consumer groups are the cgroup code's to add here.
pub fn aof_commands(key: &[u8], s: &Stream, mut emit: impl FnMut(&[&[u8]])) {
    if s.length > 0 {
        for e in s.range(StreamId::MIN, StreamId::MAX, false) {
            let id = e.id.to_bytes();
            let owned: Vec<std::borrow::Cow<'_, [u8]>> = e
                .fields()
                .flat_map(|(f, v)| [elem_bytes(f), elem_bytes(v)])
                .collect();
            let mut args: Vec<&[u8]> = Vec::with_capacity(3 + owned.len());
            args.extend_from_slice(&[b"XADD", key, &id]);
            args.extend(owned.iter().map(|x| &x[..]));
            emit(&args);
        }
    } else {
        emit(&[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    }
    let last = s.last_id.to_bytes();
    let added = s.entries_added.to_string();
    let maxdel = s.max_deleted_entry_id.to_bytes();
    emit(&[
        b"XSETID",
        key,
        &last,
        b"ENTRIESADDED",
        added.as_bytes(),
        b"MAXDELETEDID",
        &maxdel,
    ]);
    groups_aof_commands(key, s, &mut emit);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::stream::{NodeLimits, ParsedId};

    fn sample() -> Stream {
        let mut s = Stream::new();
        let lim = NodeLimits {
            max_bytes: 4096,
            max_entries: 3,
        };
        for ms in 1..=7u64 {
            let id = s
                .next_id(
                    Some(ParsedId {
                        id: StreamId::new(ms, 0),
                        seq_given: true,
                    }),
                    0,
                )
                .expect("id");
            s.append(id, &[b"f", b"v", b"n", ms.to_string().as_bytes()], lim)
                .expect("append");
        }
        s.xdel(&[StreamId::new(1, 0), StreamId::new(4, 0)]);
        s
    }

    #[test]
    fn round_trip_type_21() {
        let s = sample();
        let mut out = vec![];
        write_stream(&mut out, &s, false);
        assert_eq!(out[0], TYPE_STREAM_LISTPACKS_3);
        let mut r = Reader::new(&out[1..]);
        let back = read_stream(&mut r, TYPE_STREAM_LISTPACKS_3).expect("reads back");
        assert!(r.is_empty());
        assert_eq!(back, s);
    }

    #[test]
    fn refuses_inconsistent_records() {
        let s = sample();
        let mut out = vec![];
        write_stream(&mut out, &s, false);
        // Every truncation fails cleanly.
        for cut in 1..out.len() {
            let mut r = Reader::new(&out[1..cut]);
            assert!(read_stream(&mut r, TYPE_STREAM_LISTPACKS_3).is_err());
        }
        // Every single-byte change either fails or reads a consistent stream.
        for i in 1..out.len() {
            let mut bad = out.clone();
            bad[i] ^= 0x5a;
            let mut r = Reader::new(&bad[1..]);
            if let Ok(st) = read_stream(&mut r, TYPE_STREAM_LISTPACKS_3) {
                let _ = st.entries();
            }
        }
    }
}
