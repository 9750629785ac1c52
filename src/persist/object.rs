//! A value's RDB serialization: the type byte, then the value as Valkey 9.1
//! writes it for each encoding (a list as a quicklist of listpack nodes,
//! listpack/intset blobs for small sets, hashes and sorted sets, element by
//! element otherwise), and the reverse for every value type an RDB file or
//! DUMP payload of versions 1 to 11 (and Valkey 9's) may hold.
//!
//! Decoding builds the value through the keyspace's own insertion paths
//! under the `*-max-*` limits in force, so its encoding (OBJECT ENCODING)
//! is the one Valkey picks on load: a small hashtable-encoded hash comes
//! back as a listpack, an intset past `set-max-intset-entries` as a
//! hashtable. Empty collections and duplicate members are refused.

use std::borrow::Cow;

use super::codec::{write_binary_double, write_int_string, write_len, write_string, Reader};
use super::compact::{intset, intset_blob, listpack, ziplist, zipmap};
use super::{Error, Result};
use crate::keyspace::hash::{Hash, Limits as HashLimits, Put, Ttl};
use crate::keyspace::list::{listpack_blob, Elem, List};
use crate::keyspace::set::{Limits as SetLimits, Member, Set};
use crate::keyspace::zset::{Limits as ZSetLimits, ZSet};
use crate::keyspace::{Entry, Str, StrRef, Value};
use crate::util::num::{format_double, parse_f64};

pub const TYPE_STRING: u8 = 0;
pub const TYPE_LIST: u8 = 1;
pub const TYPE_SET: u8 = 2;
pub const TYPE_ZSET: u8 = 3;
pub const TYPE_HASH: u8 = 4;
pub const TYPE_ZSET_2: u8 = 5;
pub const TYPE_MODULE_PRE_GA: u8 = 6;
pub const TYPE_MODULE_2: u8 = 7;
pub const TYPE_HASH_ZIPMAP: u8 = 9;
pub const TYPE_LIST_ZIPLIST: u8 = 10;
pub const TYPE_SET_INTSET: u8 = 11;
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
pub const TYPE_HASH_ZIPLIST: u8 = 13;
pub const TYPE_LIST_QUICKLIST: u8 = 14;
pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_HASH_LISTPACK: u8 = 16;
pub const TYPE_ZSET_LISTPACK: u8 = 17;
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub const TYPE_SET_LISTPACK: u8 = 20;
pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;
pub const TYPE_HASH_2: u8 = 22;

/// Quicklist node containers.
const NODE_PLAIN: u64 = 1;
const NODE_PACKED: u64 = 2;

/// Whether `t` is a value type byte (Valkey's `rdbIsObjectType`); the
/// rest are opcodes or unknown.
pub fn is_object_type(t: u8) -> bool {
    t <= 7 || (9..=22).contains(&t)
}

// ---------------------------------------------------------------------------
// Encoding

/// Writes the type byte and serialization of a key's value.
pub fn write_entry(out: &mut Vec<u8>, e: &Entry, compress: bool) {
    if let Some(s) = e.str_ref() {
        write_str(out, s, compress);
        return;
    }
    write_value(out, &e.value(), compress);
}

fn write_str(out: &mut Vec<u8>, s: StrRef<'_>, compress: bool) {
    out.push(TYPE_STRING);
    match s {
        StrRef::Int(n) => write_int_string(out, n),
        StrRef::Bytes(b) => write_string(out, b, compress),
        StrRef::Shared(b) => write_string(out, b, compress),
        StrRef::SharedVec(b) => write_string(out, b, compress),
    }
}

/// Writes the type byte and serialization of a value.
pub fn write_value(out: &mut Vec<u8>, v: &Value, compress: bool) {
    match v {
        Value::Str(s) => write_str(out, s.as_str_ref(), compress),
        Value::List(l) => {
            // Both encodings go out as quicklist nodes: a listpack list is
            // one packed node.
            out.push(TYPE_LIST_QUICKLIST_2);
            let nodes = l.rdb_nodes();
            write_len(out, nodes.len() as u64);
            for (plain, bytes) in nodes {
                write_len(out, if plain { NODE_PLAIN } else { NODE_PACKED });
                write_string(out, &bytes, compress);
            }
        }
        Value::Set(s) => match s.encoding() {
            "intset" => {
                out.push(TYPE_SET_INTSET);
                let ints: Vec<i64> = s.members().filter_map(|m| m.as_int()).collect();
                write_string(out, &intset_blob(&ints), compress);
            }
            "listpack" => {
                out.push(TYPE_SET_LISTPACK);
                let owned: Vec<Cow<'_, [u8]>> = s.members().map(member_bytes).collect();
                let blob = listpack_blob(owned.iter().map(|b| Elem::of(b)));
                write_string(out, &blob, compress);
            }
            _ => {
                out.push(TYPE_SET);
                write_len(out, s.len() as u64);
                for m in s.members() {
                    write_string(out, &member_bytes(m), compress);
                }
            }
        },
        Value::Hash(h) if h.has_volatile_fields() => write_hash_2(out, h, compress),
        Value::Hash(h) => {
            if h.is_listpack() {
                out.push(TYPE_HASH_LISTPACK);
                let blob = listpack_blob(h.iter().flat_map(|(k, v)| [Elem::of(k), Elem::of(v)]));
                write_string(out, &blob, compress);
            } else {
                out.push(TYPE_HASH);
                write_len(out, h.len() as u64);
                for (k, v) in h.iter() {
                    write_string(out, k, compress);
                    write_string(out, v, compress);
                }
            }
        }
        Value::ZSet(z) => {
            if z.encoding() == "listpack" {
                out.push(TYPE_ZSET_LISTPACK);
                // Scores as Valkey stores them in a listpack (d2string,
                // integers as integers).
                let owned: Vec<(&[u8], String)> =
                    z.iter().map(|(m, sc)| (m, format_double(sc))).collect();
                let blob = listpack_blob(
                    owned
                        .iter()
                        .flat_map(|(m, sc)| [Elem::of(m), Elem::of(sc.as_bytes())]),
                );
                write_string(out, &blob, compress);
            } else {
                // Highest score first, as Valkey walks its skiplist from
                // the tail, so loading inserts at the head.
                out.push(TYPE_ZSET_2);
                write_len(out, z.len() as u64);
                let items: Vec<(&[u8], f64)> = z.iter().collect();
                for (m, sc) in items.into_iter().rev() {
                    write_string(out, m, compress);
                    write_binary_double(out, sc);
                }
            }
        }
        Value::Stream(s) => super::stream::write_stream(out, s, compress),
    }
}

/// RDB_TYPE_HASH_2 (Valkey 9): the count, then per field its name, value
/// and expire time as a little-endian i64 of Unix ms (-1: none). Fields
/// whose time passed are written too, as Valkey's are.
fn write_hash_2(out: &mut Vec<u8>, h: &Hash, compress: bool) {
    out.push(TYPE_HASH_2);
    write_len(out, h.len() as u64);
    for (k, v) in h.iter() {
        write_string(out, k, compress);
        write_string(out, v, compress);
        let when = h.field_expiry(k).flatten().unwrap_or(-1);
        out.extend_from_slice(&when.to_le_bytes());
    }
}

fn member_bytes(m: Member<'_>) -> Cow<'_, [u8]> {
    match m {
        Member::Int(n) => Cow::Owned(n.to_string().into_bytes()),
        Member::Bytes(b) => Cow::Borrowed(b),
    }
}

// ---------------------------------------------------------------------------
// Decoding

/// The conversion limits in force (`list-max-listpack-size` and the
/// `*-max-*` directives of sets, hashes and sorted sets).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub list_fill: i64,
    pub set: SetLimits,
    pub hash: HashLimits,
    pub zset: ZSetLimits,
}

impl Limits {
    /// Valkey 8's default encoding thresholds (tests' reference point).
    #[cfg(test)]
    pub(crate) fn valkey_defaults() -> Limits {
        Limits {
            list_fill: -2,
            set: SetLimits {
                max_intset_entries: 512,
                max_listpack_entries: 128,
                max_listpack_value: 64,
            },
            hash: HashLimits {
                max_entries: 128,
                max_value: 64,
            },
            zset: ZSetLimits::new(128, 64),
        }
    }
}

/// Reads a value type byte.
pub fn read_type(r: &mut Reader<'_>) -> Result<u8> {
    let at = r.pos();
    let t = r.byte("a value type")?;
    if !is_object_type(t) {
        return Err(Error::new(at, format!("unknown value type {t}")));
    }
    Ok(t)
}

/// Reads a value of type `t` (as `read_type` returned it).
pub fn read_value(r: &mut Reader<'_>, t: u8, lim: &Limits) -> Result<Value> {
    let at = r.pos();
    let v = match t {
        TYPE_STRING => Value::Str(Str::from_bytes(&r.string()?)),
        TYPE_LIST => {
            let n = r.count("list length", 1)?;
            let mut l = List::new();
            for _ in 0..n {
                let s = r.string()?;
                l.push_elem(false, Elem::of(&s), lim.list_fill);
            }
            Value::List(Box::new(l))
        }
        TYPE_LIST_ZIPLIST => {
            let blob = r.string()?;
            let elems = ziplist(&blob).map_err(|e| nested(at, "Ziplist", e))?;
            let elems = elems.into_iter().map(normalize).collect();
            Value::List(Box::new(List::from_nodes([(false, elems)], lim.list_fill)))
        }
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            let n = r.count("quicklist node count", 1)?;
            // The node blobs first (they may be decompressed copies), then
            // the elements borrowed from them.
            let mut blobs = Vec::with_capacity(n);
            for _ in 0..n {
                let node_at = r.pos();
                let container = if t == TYPE_LIST_QUICKLIST_2 {
                    r.length("quicklist node container")?
                } else {
                    NODE_PACKED
                };
                if container != NODE_PLAIN && container != NODE_PACKED {
                    return Err(Error::new(
                        node_at,
                        format!("quicklist container {container}"),
                    ));
                }
                blobs.push((node_at, container == NODE_PLAIN, r.string()?));
            }
            let mut nodes = Vec::with_capacity(n);
            for (node_at, plain, blob) in &blobs {
                let elems = if *plain {
                    if blob.is_empty() {
                        return Err(Error::new(*node_at, "an empty quicklist node"));
                    }
                    vec![Elem::of(blob)]
                } else if t == TYPE_LIST_QUICKLIST {
                    ziplist(blob).map_err(|e| nested(*node_at, "Ziplist", e))?
                } else {
                    listpack(blob).map_err(|e| nested(*node_at, "Listpack", e))?
                };
                nodes.push((*plain, elems.into_iter().map(normalize).collect()));
            }
            Value::List(Box::new(List::from_nodes(nodes, lim.list_fill)))
        }
        TYPE_SET => {
            let n = r.count("set size", 1)?;
            let mut members = Vec::with_capacity(n);
            for _ in 0..n {
                members.push(r.string()?);
            }
            let Some(first) = members.first() else {
                return Err(Error::new(at, "an empty set"));
            };
            let mut s = Set::create(first, n, &lim.set);
            for m in &members {
                if !s.add(m, &lim.set) {
                    return Err(Error::new(at, "Duplicate set members detected"));
                }
            }
            Value::Set(Box::new(s))
        }
        TYPE_SET_INTSET => {
            let blob = r.string()?;
            let ints = intset(&blob).map_err(|e| nested(at, "Intset", e))?;
            let mut s = if ints.len() > lim.set.max_intset_entries {
                Set::new_hashtable()
            } else {
                Set::new_intset()
            };
            for n in ints {
                s.add(n.to_string().as_bytes(), &lim.set);
            }
            Value::Set(Box::new(s))
        }
        TYPE_SET_LISTPACK => {
            let blob = r.string()?;
            let elems = listpack(&blob).map_err(|e| nested(at, "Set listpack", e))?;
            let mut s = if elems.len() > lim.set.max_listpack_entries {
                Set::new_hashtable()
            } else {
                Set::new_listpack()
            };
            for e in &elems {
                if !s.add(&e.to_vec(), &lim.set) {
                    return Err(blob_err(at, "Set listpack", "duplicate members"));
                }
            }
            Value::Set(Box::new(s))
        }
        TYPE_HASH => {
            let n = r.count("hash size", 2)?;
            let mut h = Hash::new();
            for _ in 0..n {
                let (f, v) = (r.string()?, r.string()?);
                if !h.set(&f, &v, lim.hash) {
                    return Err(Error::new(at, "Duplicate hash fields detected"));
                }
            }
            Value::Hash(h)
        }
        TYPE_HASH_ZIPMAP => {
            let blob = r.string()?;
            let pairs = zipmap(&blob).map_err(|e| nested(at, "Zipmap", e))?;
            let mut h = Hash::new();
            for (f, v) in pairs {
                if !h.set(f, v, lim.hash) {
                    return Err(blob_err(at, "Zipmap", "duplicate fields"));
                }
            }
            Value::Hash(h)
        }
        TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => {
            let blob = r.string()?;
            let kind = if t == TYPE_HASH_ZIPLIST {
                "Hash ziplist"
            } else {
                "Hash listpack"
            };
            let elems = if t == TYPE_HASH_ZIPLIST {
                ziplist(&blob).map_err(|e| nested(at, kind, e))?
            } else {
                listpack(&blob).map_err(|e| nested(at, kind, e))?
            };
            if elems.len() % 2 != 0 {
                return Err(blob_err(at, kind, "a field with no value"));
            }
            let mut h = Hash::new();
            for pair in elems.chunks_exact(2) {
                if !h.set(&pair[0].to_vec(), &pair[1].to_vec(), lim.hash) {
                    return Err(blob_err(at, kind, "duplicate fields"));
                }
            }
            Value::Hash(h)
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let min = if t == TYPE_ZSET { 2 } else { 9 };
            let n = r.count("sorted set size", min)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string()?;
                let sc = if t == TYPE_ZSET {
                    r.text_double()?
                } else {
                    r.binary_double()?
                };
                if sc.is_nan() {
                    return Err(Error::new(at, "a sorted set score that is NaN"));
                }
                items.push((m, sc));
            }
            zset_of(items.iter().map(|(m, sc)| (&m[..], *sc)), lim)
                .map_err(|_| Error::new(at, "Duplicate zset fields detected"))?
        }
        TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
            let blob = r.string()?;
            let kind = if t == TYPE_ZSET_ZIPLIST {
                "Zset ziplist"
            } else {
                "Zset listpack"
            };
            let elems = if t == TYPE_ZSET_ZIPLIST {
                ziplist(&blob).map_err(|e| nested(at, kind, e))?
            } else {
                listpack(&blob).map_err(|e| nested(at, kind, e))?
            };
            if elems.len() % 2 != 0 {
                return Err(blob_err(at, kind, "a member without a score"));
            }
            let mut items = Vec::with_capacity(elems.len() / 2);
            for pair in elems.chunks_exact(2) {
                let sc = match pair[1] {
                    Elem::Int(n) => n as f64,
                    Elem::Bytes(b) => {
                        parse_f64(b).ok_or_else(|| blob_err(at, kind, "an invalid score"))?
                    }
                };
                items.push((pair[0].to_vec(), sc));
            }
            zset_of(items.iter().map(|(m, sc)| (&m[..], *sc)), lim)
                .map_err(|_| blob_err(at, kind, "duplicate members"))?
        }
        TYPE_MODULE_PRE_GA | TYPE_MODULE_2 => {
            let id = r.length("a module type id")?;
            return Err(Error::new(
                at,
                format!(
                    "module data I can't load: no matching module type '{}'",
                    module_type_name(id)
                ),
            ));
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
            // An empty stream is a valid value: no emptiness check.
            return Ok(Value::Stream(Box::new(super::stream::read_stream(r, t)?)));
        }
        TYPE_HASH_2 => {
            // Always a hashtable, as Valkey loads it; a stored expired
            // field stays until the active cycle removes it.
            let n = r.count("hash size", 10)?;
            let mut h = Hash::new();
            h.convert();
            let keep = crate::keyspace::hash::Limits {
                max_entries: 0,
                max_value: 0,
            };
            for _ in 0..n {
                let (f, v) = (r.string()?, r.string()?);
                let when = r.u64_le()? as i64;
                let ttl = match when {
                    -1 => Ttl::Clear,
                    w if w < 0 => {
                        return Err(Error::new(at, format!("invalid field expire time {w}")))
                    }
                    w => Ttl::At(w),
                };
                if h.put(&f, &v, keep, i64::MIN, ttl) != Put::New {
                    return Err(Error::new(at, "Duplicate hash fields detected"));
                }
            }
            Value::Hash(h)
        }
        _ => return Err(Error::new(at, format!("unknown value type {t}"))),
    };
    if is_empty(&v) {
        return Err(Error::new(at, "an empty collection"));
    }
    Ok(v)
}

/// An element read from a packed blob, stored the way the keyspace
/// stores it: a canonical decimal string becomes the integer.
fn normalize(e: Elem<'_>) -> Elem<'_> {
    match e {
        Elem::Bytes(b) => Elem::of(b),
        i => i,
    }
}

/// A sorted set of `items`; Err(()) on a duplicate member.
fn zset_of<'a>(
    items: impl ExactSizeIterator<Item = (&'a [u8], f64)> + Clone,
    lim: &Limits,
) -> std::result::Result<Value, ()> {
    let n = items.len();
    let longest = items.clone().map(|(m, _)| m.len()).max().unwrap_or(0);
    let mut z = ZSet::with_hint(n, longest, lim.zset);
    for (m, sc) in items {
        if z.score(m).is_some() {
            return Err(());
        }
        z.insert_new(m, sc, lim.zset);
    }
    Ok(Value::ZSet(Box::new(z)))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Str(_) => false,
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        Value::Stream(_) => false,
    }
}

/// A nested blob's error, placed at the blob's string in the payload and
/// worded as Valkey reports it ("Ziplist integrity check failed.").
fn nested(at: usize, what: &str, e: Error) -> Error {
    Error::new(
        at,
        format!(
            "{what} integrity check failed. ({} at offset {} in it)",
            e.what, e.offset
        ),
    )
}

/// An inconsistency inside a packed blob, worded as Valkey's integrity
/// check reports it.
fn blob_err(at: usize, kind: &str, detail: &str) -> Error {
    Error::new(at, format!("{kind} integrity check failed. ({detail})"))
}

/// A module type's 9-character name, from the top 54 bits of its id.
pub fn module_type_name(id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..9)
        .map(|j| CHARSET[((id >> (58 - j * 6)) & 63) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::valkey_defaults()
    }

    fn round_trip(v: &Value) -> (Vec<u8>, Value) {
        let mut out = Vec::new();
        write_value(&mut out, v, true);
        let mut r = Reader::new(&out);
        let t = read_type(&mut r).unwrap();
        let back = read_value(&mut r, t, &limits()).unwrap();
        assert!(r.is_empty());
        (out, back)
    }

    fn enc(v: &Value) -> &'static str {
        v.encoding(1, false)
    }

    #[test]
    fn strings_and_lists() {
        let (bytes, back) = round_trip(&Value::Str(Str::from_bytes(b"hello")));
        assert_eq!(bytes, b"\x00\x05hello");
        assert_eq!(back, Value::Str(Str::from_bytes(b"hello")));
        let (_, back) = round_trip(&Value::Str(Str::Int(-5)));
        assert_eq!(back, Value::Str(Str::Int(-5)));
        let mut l = List::new();
        l.push_args(false, &[&b"a"[..], b"b", b"1"], -2);
        let (bytes, back) = round_trip(&Value::List(Box::new(l.clone())));
        // Valkey 9.1's DUMP of RPUSH l a b 1, footer aside.
        assert_eq!(
            bytes,
            b"\x12\x01\x02\x0f\x0f\x00\x00\x00\x03\x00\x81a\x02\x81b\x02\x01\x01\xff"
        );
        assert_eq!(back, Value::List(Box::new(l)));
        // A quicklist, with a plain node for a large element.
        let mut l = List::new();
        let big = vec![b'q'; 10_000];
        for i in 0..2000 {
            l.push_args(false, &[format!("element-{i}").as_bytes()], -2);
        }
        l.push_args(false, &[&big], -2);
        let v = Value::List(Box::new(l));
        let (_, back) = round_trip(&v);
        assert_eq!(enc(&back), "quicklist");
        assert_eq!(back, v);
    }

    #[test]
    fn sets_hashes_zsets() {
        let lim = limits();
        let mut ints = Set::new_intset();
        for i in [3, 1, 2] {
            ints.add(i.to_string().as_bytes(), &lim.set);
        }
        let (bytes, back) = round_trip(&Value::Set(Box::new(ints)));
        assert_eq!(bytes[0], TYPE_SET_INTSET);
        assert_eq!(enc(&back), "intset");
        let mut pack = Set::create(b"a", 1, &lim.set);
        pack.add(b"a", &lim.set);
        pack.add(b"7", &lim.set);
        let (bytes, back) = round_trip(&Value::Set(Box::new(pack.clone())));
        assert_eq!(bytes[0], TYPE_SET_LISTPACK);
        assert_eq!(back, Value::Set(Box::new(pack)));
        let mut table = Set::create(b"x", 1000, &lim.set);
        for i in 0..1000 {
            table.add(format!("m{i}").as_bytes(), &lim.set);
        }
        let (bytes, back) = round_trip(&Value::Set(Box::new(table)));
        assert_eq!(bytes[0], TYPE_SET);
        assert_eq!(enc(&back), "hashtable");
        assert_eq!(back.type_name(), "set");

        let mut h = Hash::new();
        h.set(b"f", b"v", lim.hash);
        h.set(b"n", b"12", lim.hash);
        let (bytes, back) = round_trip(&Value::Hash(h.clone()));
        assert_eq!(bytes[0], TYPE_HASH_LISTPACK);
        assert_eq!(back, Value::Hash(h));
        let mut big = Hash::new();
        for i in 0..200 {
            big.set(format!("f{i}").as_bytes(), b"v", lim.hash);
        }
        let (bytes, back) = round_trip(&Value::Hash(big));
        assert_eq!((bytes[0], enc(&back)), (TYPE_HASH, "hashtable"));

        let mut z = ZSet::with_hint(2, 1, lim.zset);
        z.insert_new(b"a", 1.5, lim.zset);
        z.insert_new(b"b", -3.0, lim.zset);
        let (bytes, back) = round_trip(&Value::ZSet(Box::new(z.clone())));
        assert_eq!(bytes[0], TYPE_ZSET_LISTPACK);
        assert_eq!(back, Value::ZSet(Box::new(z)));
        let mut z = ZSet::with_hint(300, 1, lim.zset);
        for i in 0..300 {
            z.insert_new(format!("m{i}").as_bytes(), f64::from(i) / 3.0, lim.zset);
        }
        z.insert_new(b"inf", f64::INFINITY, lim.zset);
        let v = Value::ZSet(Box::new(z));
        let (bytes, back) = round_trip(&v);
        assert_eq!((bytes[0], enc(&back)), (TYPE_ZSET_2, "skiplist"));
        assert_eq!(back, v);
    }

    #[test]
    fn loads_convert_to_valkeys_encodings() {
        let lim = limits();
        // A hashtable-encoded set of 3 integers comes back an intset; a
        // plain hash of 1 pair a listpack.
        let v = b"\x02\x03\xc0\x01\xc0\x02\xc0\x03";
        let mut r = Reader::new(v);
        let t = read_type(&mut r).unwrap();
        assert_eq!(enc(&read_value(&mut r, t, &lim).unwrap()), "intset");
        let v = b"\x04\x01\x01f\x01v";
        let mut r = Reader::new(v);
        let t = read_type(&mut r).unwrap();
        assert_eq!(enc(&read_value(&mut r, t, &lim).unwrap()), "listpack");
        // An intset past set-max-intset-entries becomes a hashtable.
        let small = Limits {
            set: SetLimits {
                max_intset_entries: 2,
                ..lim.set
            },
            ..lim
        };
        let mut v = vec![TYPE_SET_INTSET];
        write_string(&mut v, &intset_blob(&[1, 2, 3]), false);
        let mut r = Reader::new(&v);
        let t = read_type(&mut r).unwrap();
        assert_eq!(enc(&read_value(&mut r, t, &small).unwrap()), "hashtable");
    }

    #[test]
    fn refusals() {
        let lim = limits();
        let bad: &[&[u8]] = &[
            b"\x02\x00",                                      // empty set
            b"\x02\x02\x01a\x01a",                            // duplicate member
            b"\x04\x02\x01f\x01v\x01f\x01w",                  // duplicate field
            b"\x05\x01\x01a",                                 // score cut short
            b"\x05\x01\x01a\x00\x00\x00\x00\x00\x00\xf8\x7f", // NaN
            b"\x03\x01\x01a\xfd",                             // NaN (text)
            b"\x12\x01\x03\x01a",                             // bad container
            b"\x12\x01\x02\x03abc",                           // not a listpack
            b"\x01\x80\xff\xff\xff\xff",                      // count past the input
            b"\x0f\x00",                                      // stream
            b"\x15\x00",                                      // stream
            b"\x16\x00",                                      // hash with TTLs
            b"\x07\x00",                                      // module
            b"\x0b\x00",                                      // empty intset blob
        ];
        for v in bad {
            let mut r = Reader::new(v);
            let t = read_type(&mut r).unwrap();
            assert!(read_value(&mut r, t, &lim).is_err(), "{v:?}");
        }
        assert!(read_type(&mut Reader::new(b"\x08")).is_err());
        assert!(read_type(&mut Reader::new(b"\x17")).is_err());
        let e = {
            let mut v = vec![TYPE_MODULE_2];
            // "ReJSON-RL" with encoding version 3.
            let name = b"ReJSON-RL";
            let charset = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut id: u64 = 0;
            for c in name {
                id = (id << 6) | charset.iter().position(|x| x == c).unwrap() as u64;
            }
            write_len(&mut v, (id << 10) | 3);
            let mut r = Reader::new(&v);
            let t = read_type(&mut r).unwrap();
            read_value(&mut r, t, &lim).unwrap_err()
        };
        assert!(e.what.contains("'ReJSON-RL'"), "{e}");
    }
}
