//! Values and their in-memory encodings.
//!
//! Short byte strings (keys and values up to 22 bytes) live inline, with no
//! allocation of their own; integers are stored as `i64` as Valkey's `int`
//! encoding does.

use std::sync::Arc;

use crate::util::num::{int_len, parse_i64, push_int};

/// Bytes stored inline when short, else in one exact-size allocation;
/// large ones reference-counted, so replies can send them without a copy.
#[derive(Clone, PartialEq, Eq)]
pub enum Bytes24 {
    Inline { len: u8, data: [u8; 22] },
    Heap(Box<[u8]>),
    Shared(Arc<[u8]>),
}

impl Bytes24 {
    pub const INLINE_MAX: usize = 22;
    /// From this size on, string values are shared with the replies that
    /// send them (16 KiB: below it, copying into the reply buffer costs
    /// less than an extra piece in the write).
    pub const SHARED_MIN: usize = 16 * 1024;

    pub fn new(s: &[u8]) -> Self {
        if s.len() <= Self::INLINE_MAX {
            let mut data = [0u8; 22];
            data[..s.len()].copy_from_slice(s);
            Bytes24::Inline {
                len: s.len() as u8,
                data,
            }
        } else {
            Bytes24::Heap(s.into())
        }
    }

    /// A string value: like `new`, but large values are shared.
    pub fn value(s: &[u8]) -> Self {
        if s.len() >= Self::SHARED_MIN {
            Bytes24::Shared(s.into())
        } else {
            Self::new(s)
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes24::Inline { len, data } => &data[..*len as usize],
            Bytes24::Heap(b) => b,
            Bytes24::Shared(b) => b,
        }
    }

    /// Address of out-of-line data, for prefetching.
    #[inline]
    pub fn heap_ptr(&self) -> Option<*const u8> {
        match self {
            Bytes24::Inline { .. } => None,
            Bytes24::Heap(b) => Some(b.as_ptr()),
            Bytes24::Shared(b) => Some(b.as_ptr()),
        }
    }
}

impl std::fmt::Debug for Bytes24 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

/// A string value.
#[derive(Clone, Debug, PartialEq)]
pub enum Str {
    /// `int` encoding: the decimal form fits an i64 and reads back the same.
    Int(i64),
    /// Set whole (`SET`, `GETSET`, ...): `embstr` or `raw` by size.
    Fixed(Bytes24),
    /// Grown in place (`APPEND`, `SETRANGE`): always `raw`, with spare room.
    Growable(Vec<u8>),
    /// A `Growable` that reached `Bytes24::SHARED_MIN`: reference-counted
    /// so that replies send it by reference, however it was built. Edits
    /// still happen in place (amortized O(1) APPEND) while no pending reply
    /// holds it; otherwise the first edit copies it once (`Arc::make_mut`).
    Big(Arc<Vec<u8>>),
}

impl Str {
    /// Stores `s` with the encoding Valkey would pick for it.
    pub fn from_bytes(s: &[u8]) -> Self {
        if s.len() <= 20 {
            if let Some(n) = parse_i64(s) {
                return Str::Int(n);
            }
        }
        Str::Fixed(Bytes24::value(s))
    }

    /// Appends the bytes of this string to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Str::Int(n) => push_int(out, *n),
            Str::Fixed(b) => out.extend_from_slice(b.as_slice()),
            Str::Growable(v) => out.extend_from_slice(v),
            Str::Big(v) => out.extend_from_slice(v),
        }
    }

    /// The bytes, borrowed when stored as bytes, formatted when an integer.
    pub fn to_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Str::Int(n) => std::borrow::Cow::Owned(n.to_string().into_bytes()),
            Str::Fixed(b) => std::borrow::Cow::Borrowed(b.as_slice()),
            Str::Growable(v) => std::borrow::Cow::Borrowed(v),
            Str::Big(v) => std::borrow::Cow::Borrowed(v),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => int_len(*n),
            Str::Fixed(b) => b.as_slice().len(),
            Str::Growable(v) => v.len(),
            Str::Big(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The integer value, if the string holds one (strictly formatted).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Str::Int(n) => Some(*n),
            Str::Fixed(b) => parse_i64(b.as_slice()),
            Str::Growable(v) => parse_i64(v),
            Str::Big(_) => None,
        }
    }

    /// Turns the value into a growable buffer (for in-place edits). A
    /// `Big` one stays `Big`: it is unshared first, which copies it only
    /// while a reply still holds it. Call `settle` after the edit.
    pub fn make_growable(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Growable(_) | Str::Big(_)) {
            let bytes = self.to_bytes().into_owned();
            *self = Str::Growable(bytes);
        }
        match self {
            Str::Growable(v) => v,
            Str::Big(v) => Arc::make_mut(v),
            _ => unreachable!("just made growable"),
        }
    }

    /// After an in-place edit: a growable string that has reached
    /// `SHARED_MIN` becomes `Big`, so replies share it instead of copying
    /// it (no copy here: the buffer moves behind the reference count).
    pub fn settle(&mut self) {
        if let Str::Growable(v) = self {
            if v.len() >= Bytes24::SHARED_MIN {
                *self = Str::Big(Arc::new(std::mem::take(v)));
            }
        }
    }

    /// A growable string from `v`, shared when large (see `settle`).
    pub fn grown(v: Vec<u8>) -> Self {
        let mut s = Str::Growable(v);
        s.settle();
        s
    }

    /// A string value replacing a key that had an expire: Valkey 9.1 sizes
    /// the new object with the old expire's 8 bytes, so a string embedded
    /// only without them is made `raw` for good (`Growable`), even once
    /// the expire is dropped. (Added to an existing embedded string later,
    /// an expire does not change its encoding: see `encoding`.)
    pub fn created_with_expire(&mut self, key_len: usize) {
        if let Str::Fixed(b) = self {
            let len = key_len + b.as_slice().len();
            let limit = embed_limit(key_len);
            if len <= limit && len + 8 > limit {
                self.make_growable();
            }
        }
    }

    /// `OBJECT ENCODING` name. Valkey embeds key and value in one
    /// allocation while they fit in its 128-byte size class; an expire
    /// added later keeps an embedded string embedded (as do EXPIRE,
    /// GETEX, SET ... EX on a new key), and one present when the value
    /// replaced its key's old one is accounted by `created_with_expire`.
    pub fn encoding(&self, key_len: usize, _has_expire: bool) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Growable(_) | Str::Big(_) => "raw",
            Str::Fixed(b) => {
                if key_len + b.as_slice().len() <= embed_limit(key_len) {
                    "embstr"
                } else {
                    "raw"
                }
            }
        }
    }

    pub fn heap_ptr(&self) -> Option<*const u8> {
        match self {
            Str::Int(_) => None,
            Str::Fixed(b) => b.heap_ptr(),
            Str::Growable(v) => Some(v.as_ptr()),
            Str::Big(v) => Some(v.as_ptr()),
        }
    }
}

/// Longest key plus value that Valkey embeds in one object (`embstr`):
/// 113 bytes, 111 once the key needs a 3-byte sds header (32 bytes on).
fn embed_limit(key_len: usize) -> usize {
    if key_len < 32 {
        113
    } else {
        111
    }
}

/// A string's contents, borrowed: what readers of a string need, whether
/// it is stored as a `Str` or embedded in its keyspace entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrRef<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    /// A large value, which replies send by reference.
    Shared(&'a Arc<[u8]>),
    /// A large value grown in place, which replies send by reference.
    SharedVec(&'a Arc<Vec<u8>>),
}

impl<'a> StrRef<'a> {
    pub fn len(self) -> usize {
        match self {
            StrRef::Int(n) => int_len(n),
            StrRef::Bytes(b) => b.len(),
            StrRef::Shared(b) => b.len(),
            StrRef::SharedVec(b) => b.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The bytes, borrowed when stored as bytes, formatted when an integer.
    pub fn to_bytes(self) -> std::borrow::Cow<'a, [u8]> {
        match self {
            StrRef::Int(n) => std::borrow::Cow::Owned(n.to_string().into_bytes()),
            StrRef::Bytes(b) => std::borrow::Cow::Borrowed(b),
            StrRef::Shared(b) => std::borrow::Cow::Borrowed(&b[..]),
            StrRef::SharedVec(b) => std::borrow::Cow::Borrowed(&b[..]),
        }
    }

    /// The integer value, if the string holds one (strictly formatted).
    pub fn as_int(self) -> Option<i64> {
        match self {
            StrRef::Int(n) => Some(n),
            StrRef::Bytes(b) => parse_i64(b),
            StrRef::Shared(_) | StrRef::SharedVec(_) => None,
        }
    }
}

impl Str {
    pub fn as_str_ref(&self) -> StrRef<'_> {
        match self {
            Str::Int(n) => StrRef::Int(*n),
            Str::Fixed(Bytes24::Shared(b)) => StrRef::Shared(b),
            Str::Fixed(b) => StrRef::Bytes(b.as_slice()),
            Str::Growable(v) => StrRef::Bytes(v),
            Str::Big(v) => StrRef::SharedVec(v),
        }
    }
}

/// A value of any type. Aggregates are boxed so a `Value` stays small.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Str),
    List(Box<super::list::List>),
    /// Inline: a small hash is two words, so it needs no box of its own
    /// (one allocation less per small hash).
    Hash(super::hash::Hash),
    Set(Box<super::set::Set>),
    ZSet(Box<super::zset::ZSet>),
    Stream(Box<super::stream::Stream>),
}

impl Value {
    /// `TYPE` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// `OBJECT ENCODING` name; strings depend on the key and expire too.
    pub fn encoding(&self, key_len: usize, has_expire: bool) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(key_len, has_expire),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// Rough cost of dropping: how many allocations or bytes it frees.
    /// Above `LAZYFREE_THRESHOLD`, the value is freed on an IO thread.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::Str(Str::Growable(v)) => v.capacity() / 1024,
            Value::Str(Str::Big(v)) => v.capacity() / 1024,
            Value::Str(Str::Fixed(b)) => b.as_slice().len() / 1024,
            Value::Str(Str::Int(_)) => 0,
            Value::List(l) => l.free_effort(),
            Value::Hash(h) => h.free_effort(),
            Value::Set(s) => s.free_effort(),
            Value::ZSet(z) => z.free_effort(),
            Value::Stream(s) => s.free_effort(),
        }
    }

    /// Heap bytes owned beyond the value itself (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Str(Str::Int(_)) => 0,
            Value::Str(Str::Fixed(b)) => b.heap_ptr().map_or(0, |_| b.as_slice().len()),
            Value::Str(Str::Growable(v)) => v.capacity(),
            Value::Str(Str::Big(v)) => v.capacity(),
            Value::List(l) => std::mem::size_of_val(&**l) + l.heap_bytes(),
            Value::Hash(h) => h.heap_bytes(),
            Value::Set(s) => std::mem::size_of_val(&**s) + s.heap_bytes(),
            Value::ZSet(z) => std::mem::size_of_val(&**z) + z.heap_bytes(),
            Value::Stream(s) => std::mem::size_of_val(&**s) + s.heap_bytes(),
        }
    }

    /// Out-of-line data worth prefetching before the command runs.
    pub fn heap_ptr(&self) -> Option<*const u8> {
        match self {
            Value::Str(s) => s.heap_ptr(),
            Value::List(l) => Some(&**l as *const _ as *const u8),
            Value::Hash(_) => None,
            Value::Set(s) => Some(&**s as *const _ as *const u8),
            Value::ZSet(z) => Some(&**z as *const _ as *const u8),
            Value::Stream(s) => Some(&**s as *const _ as *const u8),
        }
    }
}

/// Values whose `free_effort` is above this are freed off the main thread
/// (64, like Valkey's LAZYFREE_THRESHOLD; strings count one per KiB).
pub const LAZYFREE_THRESHOLD: usize = 64;

#[cfg(test)]
impl Value {
    /// The value's contents whatever its encoding (sets and hashes sorted),
    /// for tests that compare values across encodings: a big value copied
    /// in parts comes back in its plain encoding.
    pub fn content(&self) -> String {
        match self {
            Value::Str(s) => format!("str {:?}", s.to_bytes()),
            Value::List(l) => format!(
                "list {:?}",
                l.iter().map(|e| e.to_vec()).collect::<Vec<_>>()
            ),
            Value::Set(s) => {
                let mut m: Vec<Vec<u8>> = s.members().map(|m| m.to_bytes().into_owned()).collect();
                m.sort();
                format!("set {m:?}")
            }
            Value::Hash(h) => {
                let mut p: Vec<(Vec<u8>, Vec<u8>)> =
                    h.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
                p.sort();
                format!("hash {p:?}")
            }
            Value::ZSet(z) => format!(
                "zset {:?}",
                z.iter().map(|(m, s)| (m.to_vec(), s)).collect::<Vec<_>>()
            ),
            Value::Stream(s) => format!(
                "stream {:?} last {} first {} maxdel {} added {}",
                s.entries(),
                s.last_id,
                s.first_id,
                s.max_deleted_entry_id,
                s.entries_added
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(Str::from_bytes(b"123"), Str::Int(123));
        assert!(matches!(Str::from_bytes(b"0123"), Str::Fixed(_)));
        assert!(matches!(
            Str::from_bytes(b"-9223372036854775809"),
            Str::Fixed(_)
        ));
        assert_eq!(Str::from_bytes(b"abc").encoding(1, false), "embstr");
        let long = vec![b'x'; 112];
        assert_eq!(Str::from_bytes(&long).encoding(1, false), "embstr");
        assert_eq!(Str::from_bytes(&long).encoding(2, false), "raw");
        // A key of 32 bytes or more has a longer header.
        assert_eq!(Str::from_bytes(&long[..81]).encoding(31, false), "embstr");
        assert_eq!(Str::from_bytes(&long[..82]).encoding(31, false), "embstr");
        assert_eq!(Str::from_bytes(&long[..79]).encoding(32, false), "embstr");
        assert_eq!(Str::from_bytes(&long[..80]).encoding(32, false), "raw");
        // An expire added later does not count...
        assert_eq!(Str::from_bytes(&long[..112]).encoding(1, true), "embstr");
        // ...one on the key the value replaced does.
        let mut s = Str::from_bytes(&long[..104]);
        s.created_with_expire(1);
        assert_eq!(s.encoding(1, false), "embstr");
        let mut s = Str::from_bytes(&long[..105]);
        s.created_with_expire(1);
        assert_eq!(s.encoding(1, false), "raw");
        let mut s = Str::from_bytes(b"5");
        s.make_growable().push(b'1');
        assert_eq!(s.encoding(1, false), "raw");
        assert_eq!(s.as_int(), Some(51));
    }

    #[test]
    fn inline_and_heap_bytes() {
        let a = Bytes24::new(b"0123456789012345678901");
        assert!(matches!(a, Bytes24::Inline { .. }));
        let b = Bytes24::new(b"01234567890123456789012");
        assert!(matches!(b, Bytes24::Heap(_)));
        assert_eq!(b.as_slice(), b"01234567890123456789012");
        assert_eq!(std::mem::size_of::<Bytes24>(), 24);
        // Keyspace entries holding a whole Value assume 32 bytes.
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }
}
