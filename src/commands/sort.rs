//! SORT and SORT_RO: sort a list, set or sorted set (numerically, or
//! byte-wise with ALPHA), optionally by external keys (`BY weight_*`,
//! `BY h_*->field`), fetch other keys per element (`GET`), take a LIMIT
//! window, and reply or STORE the result as a list.
//!
//! Follows Valkey's sort.c step by step, because its quirks are visible:
//! a BY pattern without `*` means "do not sort" (lists and sorted sets keep
//! their order, DESC reverses it; a set is still sorted ALPHA when the result
//! is stored, so it is deterministic); a missing BY key weighs 0 (or sorts
//! first with ALPHA); numeric weights are read as Valkey's `string2d`
//! reads them; equal weights fall back to comparing the elements; sorting a
//! `listpack` sorted set converts it to `skiplist` for good.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::args::{int, is};
use super::flags::*;
use super::meta::{acl, arg, ks, Doc, Group};
use super::{CommandSpec, Ctx, KeySpec};
use crate::config::notify;
use crate::error::{CmdError, CmdResult, SYNTAX, WRONGTYPE};
use crate::keyspace::list::List;
use crate::keyspace::zset::{Limits as ZLimits, ZSet};
use crate::keyspace::{Access, Bytes24, Db, Free, Value};

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sort",
        arity: -2,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: sort,
        subcommands: &[],
        doc: &Doc {
            summary: "Sorts a list, set or sorted set's elements, replying or storing them.",
            complexity: "O(N+M*log(M)): N elements, M of them replied; O(N) without sorting.",
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
                ks::unknown(ks::RO | ks::ACCESS).notes("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
                ks::unknown(ks::OW | ks::UPDATE).notes("For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"),
            ],
            args: &[
                arg::key("key", 0),
                arg::pattern("by-pattern").token("BY").key_spec(1).display("pattern").optional(),
                arg::block("limit", &[
                    arg::integer("offset"),
                    arg::integer("count"),
                ]).token("LIMIT").optional(),
                arg::pattern("get-pattern").token("GET").key_spec(1).display("pattern").optional().multiple().multiple_token(),
                arg::oneof("order", &[
                    arg::pure("asc", "ASC"),
                    arg::pure("desc", "DESC"),
                ]).optional(),
                arg::pure("sorting", "ALPHA").optional(),
                arg::key("destination", 2).token("STORE").optional(),
            ],
            ..Doc::new(Group::Generic, "1.0.0", acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS)
        },
    },
    CommandSpec {
        name: "sort_ro",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: sort_ro,
        subcommands: &[],
        doc: &Doc {
            summary: "Sorts a list, set or sorted set's elements, without storing them.",
            complexity: "O(N+M*log(M)): N elements, M of them replied; O(N) without sorting.",
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
                ks::unknown(ks::RO | ks::ACCESS).notes("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
            ],
            args: &[
                arg::key("key", 0),
                arg::pattern("by-pattern").token("BY").key_spec(1).display("pattern").optional(),
                arg::block("limit", &[
                    arg::integer("offset"),
                    arg::integer("count"),
                ]).token("LIMIT").optional(),
                arg::pattern("get-pattern").token("GET").key_spec(1).display("pattern").optional().multiple().multiple_token(),
                arg::oneof("order", &[
                    arg::pure("asc", "ASC"),
                    arg::pure("desc", "DESC"),
                ]).optional(),
                arg::pure("sorting", "ALPHA").optional(),
            ],
            ..Doc::new(Group::Generic, "7.0.0", acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS)
        },
    },
];

fn sort(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, false)
}

fn sort_ro(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, true)
}

/// The parsed options.
struct Opts<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    by: Option<&'a [u8]>,
    /// BY a pattern without `*`: keep the native order.
    dontsort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

fn parse_opts(argv: &[bytes::Bytes], readonly: bool) -> Result<Opts<'_>, CmdError> {
    let mut o = Opts {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        by: None,
        dontsort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < argv.len() {
        let a = &argv[j];
        let left = argv.len() - j - 1;
        if is(a, "asc") {
            o.desc = false;
        } else if is(a, "desc") {
            o.desc = true;
        } else if is(a, "alpha") {
            o.alpha = true;
        } else if is(a, "limit") && left >= 2 {
            o.limit_start = int(&argv[j + 1])?;
            o.limit_count = int(&argv[j + 2])?;
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            o.store = Some(&argv[j + 1]);
            j += 1;
        } else if is(a, "by") && left >= 1 {
            let p = &argv[j + 1];
            o.by = Some(p);
            // Only the text before a NUL counts, as with C's strchr.
            o.dontsort = !c_str(p).contains(&b'*');
            j += 1;
        } else if is(a, "get") && left >= 1 {
            o.gets.push(&argv[j + 1]);
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    Ok(o)
}

/// The part of `b` a C string function sees (up to the first NUL).
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// What the elements are sorted by.
enum Weight {
    Score(f64),
    /// ALPHA with BY: the external value (None when missing: sorts first).
    Text(Option<Vec<u8>>),
    /// ALPHA without BY, or no sorting: the element itself.
    Itself,
}

fn sort_generic(ctx: &mut Ctx, readonly: bool) -> CmdResult {
    let argv = ctx.argv;
    let mut o = parse_opts(argv, readonly)?;
    let now = ctx.now;
    let key = &argv[1];
    let fill = ctx.config().list_max_listpack_size;
    let store_key = o.store;
    let from_script = ctx.from_script();
    // Whether the destination is new matters only to a `new` event.
    let notify_new = ctx.notifying(notify::NEW);
    let db = ctx.db();

    // The type decides how elements are loaded; a missing key sorts as an
    // empty list.
    let kind = match db
        .lookup(key, now, Access::READ)
        .map(|e| e.value())
        .as_deref()
    {
        None => Kind::Missing,
        Some(Value::List(_)) => Kind::List,
        Some(Value::Set(_)) => Kind::Set,
        Some(Value::ZSet(z)) => Kind::ZSet(z.encoding() != "skiplist"),
        Some(_) => return Err(WRONGTYPE.into()),
    };
    // A set in no particular order would make the stored result (or a
    // script's) differ from run to run (and between replicas): sort it
    // ALPHA instead.
    if o.dontsort && kind == Kind::Set && (o.store.is_some() || from_script) {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    // Valkey converts a `listpack` sorted set before sorting it, for good.
    if let Kind::ZSet(true) = kind {
        to_skiplist(db, key, now);
    }

    let vlen = match db
        .lookup(key, now, Access::PEEK)
        .and_then(|e| e.value().stored())
    {
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => s.len(),
        Some(Value::ZSet(z)) => z.len(),
        _ => 0,
    } as i64;
    // LIMIT sanity, exactly as Valkey computes it.
    let mut start = o.limit_start.max(0).min(vlen);
    let limit_count = o.limit_count.max(-1).min(vlen);
    let mut end = if limit_count < 0 {
        vlen - 1
    } else {
        start + limit_count - 1
    };
    if start >= vlen {
        start = vlen - 1;
        end = vlen - 2;
    }
    if end >= vlen {
        end = vlen - 1;
    }

    // Load the elements. Lists and sorted sets that are not sorted load
    // only the LIMIT window, in their order (reversed by DESC).
    let ordered = matches!(kind, Kind::List | Kind::ZSet(_));
    let mut elems: Vec<Bytes24> = Vec::new();
    if ordered && o.dontsort {
        if end >= start {
            let n = (end - start + 1) as usize;
            let s = start as usize;
            match db
                .lookup(key, now, Access::PEEK)
                .and_then(|e| e.value().stored())
            {
                Some(Value::List(l)) => {
                    if o.desc {
                        elems.extend(l.iter_rev().skip(s).take(n).map(|e| elem_bytes(&e)));
                    } else {
                        elems.extend(l.iter_from(s).take(n).map(|e| elem_bytes(&e)));
                    }
                }
                Some(Value::ZSet(z)) => {
                    let len = z.len();
                    if o.desc {
                        // Descending ranks s..s+n are ascending ranks
                        // len-s-n..len-s, walked backwards.
                        z.for_range(
                            len.saturating_sub(s + n),
                            len.saturating_sub(s),
                            true,
                            |m, _| elems.push(Bytes24::new(m)),
                        );
                    } else {
                        z.for_range(s, s + n, false, |m, _| elems.push(Bytes24::new(m)));
                    }
                }
                _ => {}
            }
            end -= start;
            start = 0;
        }
    } else {
        match db
            .lookup(key, now, Access::PEEK)
            .and_then(|e| e.value().stored())
        {
            Some(Value::List(l)) => elems.extend(l.iter().map(|e| elem_bytes(&e))),
            Some(Value::Set(s)) => elems.extend(s.members().map(|m| Bytes24::new(&m.to_bytes()))),
            Some(Value::ZSet(z)) => {
                z.for_range(0, z.len(), false, |m, _| elems.push(Bytes24::new(m)))
            }
            _ => {}
        }
    }

    // Weigh and sort.
    let mut order: Vec<usize> = (0..elems.len()).collect();
    if !o.dontsort {
        let mut weights = Vec::with_capacity(elems.len());
        let mut bad = false;
        for e in &elems {
            let w = match o.by {
                Some(p) => match lookup_by_pattern(db, p, e.as_slice(), now) {
                    None if o.alpha => Weight::Text(None),
                    None => Weight::Score(0.0),
                    Some(v) if o.alpha => Weight::Text(Some(v.into_owned())),
                    Some(v) => weigh(&v, &mut bad),
                },
                None if o.alpha => Weight::Itself,
                None => weigh(e.as_slice(), &mut bad),
            };
            weights.push(w);
        }
        if bad {
            return Err(NOT_DOUBLE.into());
        }
        let cmp = |&a: &usize, &b: &usize| -> Ordering {
            let (ea, eb) = (elems[a].as_slice(), elems[b].as_slice());
            let c = match (&weights[a], &weights[b]) {
                (Weight::Score(x), Weight::Score(y)) => x
                    .partial_cmp(y)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| ea.cmp(eb)),
                (Weight::Text(x), Weight::Text(y)) => x.cmp(y),
                _ => ea.cmp(eb),
            };
            if o.desc {
                c.reverse()
            } else {
                c
            }
        };
        order.sort_by(cmp);
    }

    // Reply, or store.
    let window: &[usize] = if end >= start {
        let e = (end as usize + 1).min(order.len());
        order.get(start as usize..e).unwrap_or(&[])
    } else {
        &[]
    };
    let per = o.gets.len().max(1);
    let outputlen = window.len() * per;
    match store_key {
        None => {
            let (db, out) = ctx.db_and_out();
            out.array(outputlen);
            for &i in window {
                let e = elems[i].as_slice();
                if o.gets.is_empty() {
                    out.bulk(e);
                }
                for g in &o.gets {
                    if *g == b"#" {
                        out.bulk(e);
                        continue;
                    }
                    match lookup_by_pattern(db, g, e, now) {
                        Some(v) => out.bulk(&v),
                        None => out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut vals: Vec<Vec<u8>> = Vec::with_capacity(outputlen);
            for &i in window {
                let e = elems[i].as_slice();
                if o.gets.is_empty() {
                    vals.push(e.to_vec());
                }
                for g in &o.gets {
                    if *g == b"#" {
                        vals.push(e.to_vec());
                        continue;
                    }
                    // A missing GET key stores an empty string.
                    let v = lookup_by_pattern(db, g, e, now).map(|v| v.into_owned());
                    vals.push(v.unwrap_or_default());
                }
            }
            if outputlen > 0 {
                let mut list = List::new();
                list.push_args(false, &vals, fill);
                let created = notify_new && db.lookup(dst, now, Access::PEEK).is_none();
                db.set(dst, Value::List(Box::new(list)), false, now);
                ctx.signal_ready(dst);
                ctx.dirty(outputlen as u64);
                ctx.modified(dst);
                if created {
                    ctx.notify(notify::NEW, "new", dst);
                }
                ctx.notify(notify::LIST, "sortstore", dst);
            } else if db.delete(dst, now, Free::Sync) {
                ctx.dirty(1);
                ctx.modified(dst);
                ctx.notify(notify::GENERIC, "del", dst);
            }
            ctx.out.int(outputlen as i64);
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Missing,
    List,
    Set,
    /// True while `listpack` encoded.
    ZSet(bool),
}

fn elem_bytes(e: &crate::keyspace::list::Elem) -> Bytes24 {
    match e {
        crate::keyspace::list::Elem::Int(n) => Bytes24::new(n.to_string().as_bytes()),
        crate::keyspace::list::Elem::Bytes(b) => Bytes24::new(b),
    }
}

/// A numeric weight, flagging what `string2d` would not accept.
fn weigh(b: &[u8], bad: &mut bool) -> Weight {
    match string2d(b) {
        Some(x) => Weight::Score(x),
        None => {
            *bad = true;
            Weight::Score(0.0)
        }
    }
}

/// Rebuilds a `listpack` sorted set as `skiplist` through the public API.
fn to_skiplist(db: &mut Db, key: &[u8], now: i64) {
    if let Some(Value::ZSet(z)) = db.lookup(key, now, Access::WRITE).map(|e| e.value_mut()) {
        // Limits of zero make every insert land in (or move to) a skiplist.
        let lim = ZLimits::new(0, 0);
        let mut big = ZSet::with_hint(usize::MAX, 0, lim);
        z.for_range(0, z.len(), false, |m, s| big.insert_new(m, s, lim));
        **z = big;
    }
}

/// Valkey's `lookupKeyByPattern`: the first `*` of `pattern` replaced by
/// `subst` names a key; with `->field` after the `*`, the key must hold a
/// hash and the field's value is returned, else it must hold a string.
fn lookup_by_pattern<'a>(
    db: &'a mut Db,
    pattern: &[u8],
    subst: &[u8],
    now: i64,
) -> Option<Cow<'a, [u8]>> {
    let star = c_str(pattern).iter().position(|&c| c == b'*')?;
    let after = &pattern[star + 1..];
    // `->` followed by at least one byte makes it a hash field lookup.
    let arrow = c_str(after)
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&i| i + 2 < c_str(after).len());
    let (postfix, field) = match arrow {
        Some(i) => (&after[..i], Some(&after[i + 2..])),
        None => (after, None),
    };
    let mut k = Vec::with_capacity(star + subst.len() + postfix.len());
    k.extend_from_slice(&pattern[..star]);
    k.extend_from_slice(subst);
    k.extend_from_slice(postfix);
    let e = db.lookup(&k, now, Access::READ)?;
    match field {
        Some(f) => match e.value().stored() {
            Some(Value::Hash(h)) => h.get_live(f, now).map(Cow::Borrowed),
            _ => None,
        },
        None => e.str_ref().map(|s| s.to_bytes()),
    }
}

/// A weight as Valkey's `string2d` reads it: the whole string must be a
/// decimal float (no leading space, no hex, no NUL) or an `inf` spelling;
/// NaN, overflow and underflow to zero fail, subnormals pass.
fn string2d(b: &[u8]) -> Option<f64> {
    let first = *b.first()?;
    if matches!(first, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        return None;
    }
    let t = std::str::from_utf8(b).ok()?;
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        return Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    // Rust's float syntax is the decimal one, plus "nan"/"inf" spellings
    // that are refused or handled above.
    if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let v: f64 = body.parse().ok()?;
    if v.is_infinite() || (v == 0.0 && has_nonzero_digit(body.as_bytes())) {
        return None; // ERANGE: overflow, or underflow to zero
    }
    Some(if neg { -v } else { v })
}

/// True if the mantissa of a decimal number has a non-zero digit.
fn has_nonzero_digit(b: &[u8]) -> bool {
    b.iter()
        .take_while(|c| !matches!(c, b'e' | b'E'))
        .any(|c| (b'1'..=b'9').contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_like_string2d() {
        assert_eq!(string2d(b"1.5"), Some(1.5));
        assert_eq!(string2d(b"-2"), Some(-2.0));
        assert_eq!(string2d(b"+3e2"), Some(300.0));
        assert_eq!(string2d(b".5"), Some(0.5));
        assert_eq!(string2d(b"5."), Some(5.0));
        assert_eq!(string2d(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(string2d(b"INFINITY"), Some(f64::INFINITY));
        assert_eq!(string2d(b"1e-320"), Some(1e-320));
        assert_eq!(string2d(b"0e-500"), Some(0.0));
        for bad in [
            &b""[..],
            b" 7",
            b"7 ",
            b"0x10",
            b"5\0",
            b"nan",
            b"1e400",
            b"1e-400",
            b"abc",
            b"5e",
            b"-",
            b"+",
            b" ",
        ] {
            assert_eq!(string2d(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn options() {
        let v = |a: &[&str]| -> Vec<bytes::Bytes> {
            a.iter()
                .map(|s| bytes::Bytes::copy_from_slice(s.as_bytes()))
                .collect()
        };
        let a = v(&[
            "sort", "k", "by", "nosort", "get", "#", "get", "x_*", "desc",
        ]);
        let o = parse_opts(&a, false).unwrap();
        assert!(o.dontsort && o.desc && o.gets.len() == 2);
        let a = v(&["sort", "k", "store", "d"]);
        assert!(parse_opts(&a, true).is_err());
        assert_eq!(parse_opts(&a, false).unwrap().store, Some(&b"d"[..]));
        let a = v(&["sort", "k", "limit", "1"]);
        assert!(parse_opts(&a, false).is_err());
    }
}
