//! Unit tests of the stream core: node layout, ranges both ways, deletes,
//! trimming, ID rules.

use super::*;
use crate::persist::compact;

fn add(s: &mut Stream, id: StreamId, fv: &[&[u8]], lim: NodeLimits) {
    let id = s
        .next_id(
            Some(ParsedId {
                id,
                seq_given: true,
            }),
            0,
        )
        .expect("id above the last");
    s.append(id, fv, lim).expect("append");
}

fn ids(r: Range<'_>) -> Vec<u64> {
    r.map(|e| e.id.ms).collect()
}

fn small() -> NodeLimits {
    NodeLimits {
        max_bytes: 4096,
        max_entries: 3,
    }
}

#[test]
fn nodes_are_valid_listpacks_with_the_stream_layout() {
    let mut s = Stream::new();
    add(&mut s, StreamId::new(5, 0), &[b"f", b"v"], small());
    add(&mut s, StreamId::new(6, 1), &[b"f", b"12"], small());
    add(
        &mut s,
        StreamId::new(7, 0),
        &[b"g", b"v", b"h", b"w"],
        small(),
    );
    add(&mut s, StreamId::new(8, 0), &[b"f", b"v"], small());
    assert_eq!(s.node_count(), 2);
    for (master, lp) in s.nodes() {
        let elems = compact::listpack(lp).expect("valid listpack");
        let (live, dead, _) = node::validate(&elems, master).expect("valid node");
        assert_eq!(dead, 0);
        assert!(live > 0);
    }
    let first: Vec<_> = s
        .nodes()
        .next()
        .map(|(_, lp)| lp.to_vec())
        .into_iter()
        .collect();
    let elems = compact::listpack(&first[0]).expect("valid");
    // count 3, deleted 0, 1 master field "f", terminator; entry 1 has the
    // master fields (flags 2), ms-diff 0, seq-diff 0, "v", lp-count 4.
    assert_eq!(
        &elems[..9],
        &[
            Elem::Int(3),
            Elem::Int(0),
            Elem::Int(1),
            Elem::Bytes(b"f"),
            Elem::Int(0),
            Elem::Int(2),
            Elem::Int(0),
            Elem::Int(0),
            Elem::Bytes(b"v"),
        ]
    );
    let e = s.lookup(StreamId::new(7, 0)).expect("entry 7");
    let pairs: Vec<_> = e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
    assert_eq!(
        pairs,
        vec![
            (b"g".to_vec(), b"v".to_vec()),
            (b"h".to_vec(), b"w".to_vec())
        ]
    );
    let e = s.lookup(StreamId::new(6, 1)).expect("entry 6");
    assert_eq!(e.fields().next().map(|(_, v)| v), Some(Elem::Int(12)));
}

#[test]
fn ranges_both_ways_skip_deleted() {
    let mut s = Stream::new();
    for ms in 1..=10 {
        add(&mut s, StreamId::new(ms, 0), &[b"f", b"v"], small());
    }
    let all = StreamId::MAX;
    assert_eq!(
        ids(s.range(StreamId::MIN, all, false)),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(
        ids(s.range(StreamId::MIN, all, true)),
        (1..=10).rev().collect::<Vec<_>>()
    );
    assert_eq!(
        ids(s.range(StreamId::new(3, 0), StreamId::new(7, 0), false)),
        vec![3, 4, 5, 6, 7]
    );
    assert_eq!(
        ids(s.range(StreamId::new(3, 1), StreamId::new(6, 5), true)),
        vec![6, 5, 4]
    );
    assert!(s
        .range(StreamId::new(7, 0), StreamId::new(3, 0), false)
        .next()
        .is_none());
    assert_eq!(
        s.xdel(&[
            StreamId::new(1, 0),
            StreamId::new(5, 0),
            StreamId::new(99, 0)
        ]),
        2
    );
    assert_eq!(s.len(), 8);
    assert_eq!(s.first_id, StreamId::new(2, 0));
    assert_eq!(s.max_deleted_entry_id, StreamId::new(5, 0));
    assert_eq!(
        ids(s.range(StreamId::MIN, all, false)),
        vec![2, 3, 4, 6, 7, 8, 9, 10]
    );
    assert_eq!(
        ids(s.range(StreamId::MIN, all, true)),
        vec![10, 9, 8, 7, 6, 4, 3, 2]
    );
    // A node whose entries are all deleted goes.
    let before = s.node_count();
    s.xdel(&[StreamId::new(2, 0), StreamId::new(3, 0)]);
    assert_eq!(s.node_count(), before - 1);
    assert_eq!(s.edge_id(false), Some(StreamId::new(4, 0)));
    assert_eq!(s.edge_id(true), Some(StreamId::new(10, 0)));
}

#[test]
fn id_rules_of_xadd() {
    let mut s = Stream::new();
    assert_eq!(s.next_id(None, 100), Ok(StreamId::new(100, 0)));
    add(&mut s, StreamId::new(100, 5), &[b"f", b"v"], small());
    assert_eq!(s.next_id(None, 50), Ok(StreamId::new(100, 6)));
    let star = |ms| {
        Some(ParsedId {
            id: StreamId::new(ms, 0),
            seq_given: false,
        })
    };
    assert_eq!(s.next_id(star(100), 0), Ok(StreamId::new(100, 6)));
    assert_eq!(s.next_id(star(99), 0), Err(AddError::NotGreater));
    assert_eq!(s.next_id(star(101), 0), Ok(StreamId::new(101, 0)));
    s.last_id = StreamId::new(100, u64::MAX);
    assert_eq!(s.next_id(star(100), 0), Err(AddError::NotGreater));
    assert_eq!(s.next_id(None, 0), Ok(StreamId::new(101, 0)));
}

#[test]
fn trimming_exact_and_approximate() {
    let lim = NodeLimits {
        max_bytes: 4096,
        max_entries: 10,
    };
    let mut s = Stream::new();
    for ms in 1..=35 {
        add(&mut s, StreamId::new(ms, 0), &[b"f", b"v"], lim);
    }
    let approx = TrimArgs {
        strategy: TrimStrategy::MaxLen(12),
        approx: true,
        limit: 0,
    };
    // Whole nodes only: 35 -> 15 (two nodes of ten went).
    assert_eq!(s.trim(approx), 20);
    assert_eq!(s.len(), 15);
    assert_eq!(s.first_id, StreamId::new(21, 0));
    let exact = TrimArgs {
        strategy: TrimStrategy::MaxLen(12),
        approx: false,
        limit: 0,
    };
    assert_eq!(s.trim(exact), 3);
    assert_eq!(s.len(), 12);
    assert_eq!(s.first_id, StreamId::new(24, 0));
    assert_eq!(ids(s.range(StreamId::MIN, StreamId::MAX, false)).len(), 12);
    let minid = TrimArgs {
        strategy: TrimStrategy::MinId(StreamId::new(33, 0)),
        approx: false,
        limit: 0,
    };
    assert_eq!(s.trim(minid), 9);
    assert_eq!(
        ids(s.range(StreamId::MIN, StreamId::MAX, false)),
        vec![33, 34, 35]
    );
    for (master, lp) in s.nodes() {
        let elems = compact::listpack(lp).expect("valid listpack");
        node::validate(&elems, master).expect("valid node");
    }
    let limited = TrimArgs {
        strategy: TrimStrategy::MaxLen(0),
        approx: true,
        limit: 2,
    };
    assert_eq!(s.trim(limited), 0);
}

#[test]
fn validate_rejects_bad_nodes() {
    let mut s = Stream::new();
    add(&mut s, StreamId::new(5, 0), &[b"f", b"v"], small());
    let (master, lp) = s
        .nodes()
        .next()
        .map(|(m, l)| (m, l.to_vec()))
        .expect("node");
    let elems = compact::listpack(&lp).expect("valid");
    assert!(node::validate(&elems, master).is_ok());
    // Wrong counters.
    let mut bad = elems.clone();
    bad[0] = Elem::Int(2);
    assert!(node::validate(&bad, master).is_err());
    // Cut short.
    assert!(node::validate(&elems[..elems.len() - 1], master).is_err());
    // An ID below the master.
    let mut bad = elems.clone();
    bad[6] = Elem::Int(-1);
    assert!(node::validate(&bad, master).is_err());
}

/// A stream of `n` entries, `per_node` to a node, with `groups` groups
/// named g0, g1...; group g0 has `pending` entries delivered to "alice".
fn with_groups(n: u64, per_node: i64, groups: usize, pending: u64) -> Stream {
    let lim = NodeLimits {
        max_bytes: 4096,
        max_entries: per_node,
    };
    let mut s = Stream::new();
    for i in 1..=n {
        add(&mut s, StreamId::new(i, 0), &[b"f", b"v"], lim);
    }
    if groups > 0 {
        let mut gs = cgroup::Groups::default();
        for g in 0..groups {
            gs.create(format!("g{g}").as_bytes(), StreamId::MIN, 0);
        }
        let g = gs.get_mut(b"g0").unwrap();
        let (alice, _) = g.create_consumer(b"alice", 1);
        for i in 1..=pending {
            g.deliver(StreamId::new(i, 0), alice, 1);
        }
        s.groups = Some(Arc::new(gs));
    }
    s
}

#[test]
fn memory_usage_counts_groups_and_samples_as_valkey() {
    let plain = with_groups(100, 10, 0, 0);
    let empty_group = with_groups(100, 10, 1, 0);
    let pending = with_groups(100, 10, 1, 50);
    let all = usize::MAX;
    assert!(empty_group.memory_usage(all) > plain.memory_usage(all));
    // Each pending entry costs at least its id and delivery record.
    let per_nack = std::mem::size_of::<StreamId>() + std::mem::size_of::<cgroup::Nack>();
    assert!(pending.memory_usage(all) >= empty_group.memory_usage(all) + 50 * per_nack);
    assert_eq!(pending.heap_bytes(), pending.memory_usage(all));
    // Nodes: the first `samples` averaged over all but the last, which
    // is added as it is.
    let sizes: Vec<usize> = plain
        .nodes
        .iter()
        .map(|(_, n)| NODE_BOX + n.heap_bytes())
        .collect();
    let index = plain.nodes.capacity() * std::mem::size_of::<(StreamId, Arc<Node>)>();
    assert_eq!(plain.memory_usage(all), index + sizes.iter().sum::<usize>());
    assert_eq!(plain.memory_usage(1), index + sizes[0] * 9 + sizes[9]);
    // Groups: the first by name stands for all when sampling one.
    let two = with_groups(100, 10, 2, 50);
    let g = two.groups.as_ref().unwrap();
    let first = b"g0".len() + g.get(b"g0").unwrap().memory_usage(1);
    let second = b"g1".len() + g.get(b"g1").unwrap().memory_usage(1);
    assert!(first > second);
    let one = two.memory_usage(1) - plain.memory_usage(1);
    let both = two.memory_usage(all) - plain.memory_usage(all);
    assert_eq!(one - both, first - second);
}

#[test]
fn free_effort_is_valkeys() {
    // One per node; per group one plus the first group's PEL length.
    assert_eq!(with_groups(1000, 5, 0, 0).free_effort(), 200);
    assert_eq!(with_groups(10, 5, 3, 4).free_effort(), 2 + 3 * 5);
    let mut s = with_groups(1, 5, 1, 0);
    assert!(Arc::make_mut(s.groups.as_mut().unwrap()).destroy(b"g0"));
    assert_eq!(s.free_effort(), 1);
}

/// A copy (a snapshot's image) shares the nodes; writes to the original
/// copy only the nodes they change, and the copy keeps its entries.
#[test]
fn copies_share_nodes_until_written() {
    let lim = small();
    let mut s = Stream::new();
    for i in 1..=9 {
        add(&mut s, StreamId::new(i, 0), &[b"f", b"v"], lim);
    }
    let image = s.clone();
    let shared = |a: &Stream, b: &Stream| -> Vec<bool> {
        a.nodes
            .iter()
            .zip(b.nodes.iter())
            .map(|(x, y)| Arc::ptr_eq(&x.1, &y.1))
            .collect()
    };
    assert_eq!(shared(&s, &image), [true, true, true]);
    // XADD starts a node; XDEL changes the middle one; trimming drops the
    // first one's entries in place.
    add(&mut s, StreamId::new(10, 0), &[b"f", b"v"], lim);
    assert_eq!(s.xdel(&[StreamId::new(5, 0)]), 1);
    assert_eq!(shared(&s, &image), [true, false, true]);
    s.trim(TrimArgs {
        strategy: TrimStrategy::MaxLen(7),
        approx: false,
        limit: 0,
    });
    assert_eq!(shared(&s, &image), [false, false, true]);
    assert_eq!(
        ids(image.range(StreamId::MIN, StreamId::MAX, false)),
        (1..=9).collect::<Vec<_>>()
    );
    assert_eq!(
        ids(s.range(StreamId::MIN, StreamId::MAX, false)),
        [3, 4, 6, 7, 8, 9, 10]
    );
    // Appending to a shared last node copies it; the image's stays.
    let image = s.clone();
    add(&mut s, StreamId::new(11, 0), &[b"f", b"v"], lim);
    assert_eq!(shared(&s, &image), [true, true, true, false]);
    assert_eq!(image.len() + 1, s.len());
}

/// The groups are shared by a copy until a group write copies them.
#[test]
fn copies_share_groups_until_a_group_write() {
    let mut s = with_groups(10, 5, 2, 3);
    let image = s.clone();
    let same = |a: &Stream, b: &Stream| {
        Arc::ptr_eq(a.groups.as_ref().unwrap(), b.groups.as_ref().unwrap())
    };
    assert!(same(&s, &image));
    add(&mut s, StreamId::new(11, 0), &[b"f", b"v"], small());
    assert!(same(&s, &image), "an entry write leaves the groups shared");
    let gs = Arc::make_mut(s.groups.as_mut().unwrap());
    assert!(gs.get_mut(b"g0").unwrap().ack(StreamId::new(1, 0)));
    assert!(!same(&s, &image));
    let pel = |s: &Stream| s.groups.as_ref().unwrap().get(b"g0").unwrap().pel_len();
    assert_eq!((pel(&s), pel(&image)), (2, 3));
}
