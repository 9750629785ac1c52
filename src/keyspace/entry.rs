//! One key's record: key, value and metadata in a single exact-size block.
//!
//! The keyspace table holds one pointer per key, so everything about a key
//! lives behind that pointer in one allocation sized to fit: an 8-byte
//! header, the key's length when it does not fit the header, the expire time
//! only for keys that have one, the value, then the key's bytes. Integers
//! and strings of up to 22 bytes (the common case) are embedded as such, so
//! a 16-byte key with a 16-byte value takes 40 bytes, one 48-byte malloc
//! chunk, instead of a node, a boxed key and a boxed value. Other values are
//! stored as a whole `Value` (32 bytes) and own their data as before.
//!
//! Readers get the value as a `View`: borrowed for stored `Value`s, or a
//! `Value` rebuilt on the stack for embedded strings (no allocation: at most
//! 22 bytes are copied). Writers that need `&mut Value` get the entry
//! converted to the stored-`Value` form first.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

use super::value::{Bytes24, Str, StrRef, Value};

/// Value kinds (low two bits of the flags).
const KIND: u8 = 0b11;
/// The value's bytes follow the key's.
const EMB: u8 = 0;
/// An `i64` (a string with the `int` encoding) before the key.
const INT: u8 = 1;
/// A whole `Value` before the key.
const VAL: u8 = 2;
/// An `i64` expire time follows the header.
const EXPIRE: u8 = 1 << 2;
/// The key's length is a `u64` after the header, not the header's `u16`.
const LONG_KEY: u8 = 1 << 3;
/// The snapshot mark (`snapshot.rs`): the entry is in the snapshot whose
/// parity this bit equals. Kept across every rebuild of the block.
const SNAP: u8 = 1 << 4;

/// Longest string embedded as raw bytes: what a `View` can rebuild inline.
pub const EMBED_MAX: usize = Bytes24::INLINE_MAX;

#[repr(C)]
struct Header {
    flags: u8,
    /// Length of an embedded value.
    emb_len: u8,
    /// Key length unless `LONG_KEY`.
    key_len: u16,
    /// LRU clock (seconds) or LFU data, by `maxmemory-policy`, as Valkey's
    /// 24-bit `lru` field.
    access: u32,
}

/// Where each part of a block lives, from its flags and lengths.
#[derive(Clone, Copy)]
struct Shape {
    flags: u8,
    key_len: usize,
    emb_len: usize,
}

impl Shape {
    #[inline]
    fn expire_off(self) -> usize {
        if self.flags & LONG_KEY != 0 {
            16
        } else {
            8
        }
    }
    #[inline]
    fn value_off(self) -> usize {
        self.expire_off() + if self.flags & EXPIRE != 0 { 8 } else { 0 }
    }
    #[inline]
    fn key_off(self) -> usize {
        self.value_off()
            + match self.flags & KIND {
                INT => 8,
                VAL => std::mem::size_of::<Value>(),
                _ => 0,
            }
    }
    #[inline]
    fn size(self) -> usize {
        self.key_off()
            + self.key_len
            + if self.flags & KIND == EMB {
                self.emb_len
            } else {
                0
            }
    }
    #[inline]
    fn layout(self) -> Layout {
        match Layout::from_size_align(self.size(), 8) {
            Ok(l) => l,
            // Only for sizes near isize::MAX, which no key can reach.
            Err(_) => handle_alloc_error(Layout::new::<Header>()),
        }
    }
}

/// The value of an entry for reading.
pub enum View<'a> {
    Ref(&'a Value),
    /// An embedded string, rebuilt (inline, no allocation).
    Own(Value),
}

impl std::ops::Deref for View<'_> {
    type Target = Value;
    #[inline]
    fn deref(&self) -> &Value {
        match self {
            View::Ref(v) => v,
            View::Own(v) => v,
        }
    }
}

impl<'a> View<'a> {
    pub fn into_owned(self) -> Value {
        match self {
            View::Ref(v) => v.clone(),
            View::Own(v) => v,
        }
    }

    /// The stored Value; None for an embedded string, so a caller that
    /// wants a list, hash, set or sorted set can treat None as WRONGTYPE.
    pub fn stored(self) -> Option<&'a Value> {
        match self {
            View::Ref(v) => Some(v),
            View::Own(_) => None,
        }
    }
}

/// A key with its value, expire time and access data.
pub struct Entry {
    ptr: NonNull<Header>,
}

// SAFETY: an Entry is the only handle to its block (it is not Clone and
// hands out borrows tied to itself), and what the block holds — bytes, or a
// `Value`, which is Send and Sync — may move to or be read from any thread.
unsafe impl Send for Entry {}
unsafe impl Sync for Entry {}

/// The kind a value is stored as.
#[inline]
fn kind_of(v: &Value) -> u8 {
    match v {
        Value::Str(Str::Int(_)) => INT,
        Value::Str(Str::Fixed(Bytes24::Inline { .. })) => EMB,
        _ => VAL,
    }
}

impl Entry {
    /// A new entry. `expire` 0 means none; `access` is the LRU/LFU word.
    pub fn new(key: &[u8], value: Value, expire: i64, access: u32) -> Entry {
        Self::build(key, value, expire, access, false, false)
    }

    /// `new` with the snapshot mark set to `mark`.
    pub fn new_marked(key: &[u8], value: Value, expire: i64, access: u32, mark: bool) -> Entry {
        Self::build(key, value, expire, access, false, mark)
    }

    fn build(
        key: &[u8],
        value: Value,
        expire: i64,
        access: u32,
        force_val: bool,
        mark: bool,
    ) -> Entry {
        let kind = if force_val { VAL } else { kind_of(&value) };
        let emb_len = match &value {
            Value::Str(Str::Fixed(Bytes24::Inline { len, .. })) if kind == EMB => *len as usize,
            _ => 0,
        };
        let mut flags = kind | if mark { SNAP } else { 0 };
        if expire != 0 {
            flags |= EXPIRE;
        }
        if key.len() > u16::MAX as usize {
            flags |= LONG_KEY;
        }
        let shape = Shape {
            flags,
            key_len: key.len(),
            emb_len,
        };
        let layout = shape.layout();
        // SAFETY: the layout has a non-zero size (at least the header) and
        // align 8; every part written below lies inside it, at the offsets
        // `Shape` gives, each suitably aligned (header, u64, i64 and Value
        // offsets are multiples of 8; the block is 8-aligned).
        unsafe {
            let base = alloc(layout);
            if base.is_null() {
                handle_alloc_error(layout);
            }
            base.cast::<Header>().write(Header {
                flags,
                emb_len: emb_len as u8,
                key_len: if flags & LONG_KEY != 0 {
                    0
                } else {
                    key.len() as u16
                },
                access,
            });
            if flags & LONG_KEY != 0 {
                base.add(8).cast::<u64>().write(key.len() as u64);
            }
            if expire != 0 {
                base.add(shape.expire_off()).cast::<i64>().write(expire);
            }
            let key_off = shape.key_off();
            std::ptr::copy_nonoverlapping(key.as_ptr(), base.add(key_off), key.len());
            match kind {
                INT => {
                    let n = match value {
                        Value::Str(Str::Int(n)) => n,
                        _ => 0,
                    };
                    base.add(shape.value_off()).cast::<i64>().write(n);
                }
                VAL => base.add(shape.value_off()).cast::<Value>().write(value),
                _ => {
                    if let Value::Str(Str::Fixed(Bytes24::Inline { data, .. })) = &value {
                        std::ptr::copy_nonoverlapping(
                            data.as_ptr(),
                            base.add(key_off + key.len()),
                            emb_len,
                        );
                    }
                }
            }
            Entry {
                ptr: NonNull::new_unchecked(base.cast::<Header>()),
            }
        }
    }

    #[inline]
    fn header(&self) -> &Header {
        // SAFETY: the block starts with an initialised header and lives as
        // long as `self`.
        unsafe { self.ptr.as_ref() }
    }

    #[inline]
    fn base(&self) -> *mut u8 {
        self.ptr.as_ptr().cast::<u8>()
    }

    #[inline]
    fn shape(&self) -> Shape {
        let h = self.header();
        let key_len = if h.flags & LONG_KEY != 0 {
            // SAFETY: LONG_KEY blocks hold the key length at offset 8.
            unsafe { self.base().add(8).cast::<u64>().read() as usize }
        } else {
            h.key_len as usize
        };
        Shape {
            flags: h.flags,
            key_len,
            emb_len: h.emb_len as usize,
        }
    }

    /// Address of the block, for prefetching.
    #[inline]
    pub fn addr(&self) -> *const u8 {
        self.base()
    }

    #[inline]
    pub fn key(&self) -> &[u8] {
        let s = self.shape();
        // SAFETY: the key's bytes were written at `key_off` when the block
        // was built and are never changed; the borrow is tied to `self`.
        unsafe { std::slice::from_raw_parts(self.base().add(s.key_off()), s.key_len) }
    }

    /// Absolute expire time in Unix ms; 0 when the key does not expire.
    #[inline]
    pub fn expire(&self) -> i64 {
        let s = self.shape();
        if s.flags & EXPIRE == 0 {
            return 0;
        }
        // SAFETY: EXPIRE blocks hold an i64 at `expire_off`.
        unsafe { self.base().add(s.expire_off()).cast::<i64>().read() }
    }

    /// Sets (or, with 0, clears) the expire time. The block grows the first
    /// time a key gets one; clearing keeps the room.
    pub fn set_expire(&mut self, when: i64) {
        let s = self.shape();
        if s.flags & EXPIRE == 0 {
            if when == 0 {
                return;
            }
            self.reshape_with_expire();
        }
        let s = self.shape();
        // SAFETY: the block now has the EXPIRE slot at `expire_off`.
        unsafe { self.base().add(s.expire_off()).cast::<i64>().write(when) }
    }

    /// The LRU/LFU word.
    #[inline]
    pub fn access(&self) -> u32 {
        self.header().access
    }

    /// The snapshot mark bit (see `snapshot.rs`).
    #[inline]
    pub fn snap_mark(&self) -> bool {
        self.header().flags & SNAP != 0
    }

    #[inline]
    pub fn set_snap_mark(&mut self, on: bool) {
        // SAFETY: the header is ours to change through `&mut self`; SNAP
        // takes part in no offset or size.
        unsafe {
            let h = &mut *self.ptr.as_ptr();
            h.flags = (h.flags & !SNAP) | if on { SNAP } else { 0 };
        }
    }

    #[inline]
    pub fn set_access(&mut self, a: u32) {
        // SAFETY: the header is ours to change through `&mut self`.
        unsafe { (*self.ptr.as_ptr()).access = a }
    }

    /// The value, for reading.
    #[inline]
    pub fn value(&self) -> View<'_> {
        let s = self.shape();
        // SAFETY: each kind's payload was written at the offsets `Shape`
        // gives; a stored Value is initialised and lives as long as `self`.
        unsafe {
            match s.flags & KIND {
                VAL => View::Ref(&*self.base().add(s.value_off()).cast::<Value>()),
                INT => View::Own(Value::Str(Str::Int(
                    self.base().add(s.value_off()).cast::<i64>().read(),
                ))),
                _ => {
                    let mut data = [0u8; EMBED_MAX];
                    std::ptr::copy_nonoverlapping(
                        self.base().add(s.key_off() + s.key_len),
                        data.as_mut_ptr(),
                        s.emb_len,
                    );
                    View::Own(Value::Str(Str::Fixed(Bytes24::Inline {
                        len: s.emb_len as u8,
                        data,
                    })))
                }
            }
        }
    }

    /// The string's contents, borrowed (no copy even when embedded); None
    /// when the value is not a string.
    #[inline]
    pub fn str_ref(&self) -> Option<StrRef<'_>> {
        let s = self.shape();
        // SAFETY: as in `value`; embedded bytes live as long as `self`.
        unsafe {
            match s.flags & KIND {
                VAL => match &*self.base().add(s.value_off()).cast::<Value>() {
                    Value::Str(st) => Some(st.as_str_ref()),
                    _ => None,
                },
                INT => Some(StrRef::Int(
                    self.base().add(s.value_off()).cast::<i64>().read(),
                )),
                _ => Some(StrRef::Bytes(std::slice::from_raw_parts(
                    self.base().add(s.key_off() + s.key_len),
                    s.emb_len,
                ))),
            }
        }
    }

    /// The value, for changing in place (an embedded string is converted to
    /// a stored `Value` first).
    pub fn value_mut(&mut self) -> &mut Value {
        let s = self.shape();
        if s.flags & KIND != VAL {
            let v = self.value().into_owned();
            let mark = self.snap_mark();
            let rebuilt = Self::build(self.key(), v, self.expire(), self.access(), true, mark);
            // The old block held no heap data (an embedded string).
            drop(std::mem::replace(self, rebuilt));
        }
        let s = self.shape();
        // SAFETY: VAL blocks hold an initialised Value at `value_off`;
        // `&mut self` gives exclusive access.
        unsafe { &mut *self.base().add(s.value_off()).cast::<Value>() }
    }

    /// Replaces the value (expire and access data stay); returns the old one
    /// when it owned heap data (for the lazy-free rule), else None.
    pub fn replace_value(&mut self, v: Value) -> Option<Value> {
        let s = self.shape();
        let new_kind = kind_of(&v);
        match (s.flags & KIND, new_kind, &v) {
            (EMB, EMB, Value::Str(Str::Fixed(Bytes24::Inline { len, data })))
                if *len as usize == s.emb_len =>
            {
                // SAFETY: same length, same place: the embedded bytes.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        data.as_ptr(),
                        self.base().add(s.key_off() + s.key_len),
                        s.emb_len,
                    )
                };
                None
            }
            (INT, INT, Value::Str(Str::Int(n))) => {
                // SAFETY: INT blocks hold an i64 at `value_off`.
                unsafe { self.base().add(s.value_off()).cast::<i64>().write(*n) };
                None
            }
            (VAL, VAL, _) => Some(std::mem::replace(self.value_mut(), v)),
            _ => {
                let mark = self.snap_mark();
                let rebuilt = Self::build(self.key(), v, self.expire(), self.access(), false, mark);
                std::mem::replace(self, rebuilt).into_stored_value()
            }
        }
    }

    /// The same entry under another key (RENAME, COPY).
    pub fn with_key(self, key: &[u8]) -> Entry {
        if self.key() == key {
            return self;
        }
        let (expire, access, mark) = (self.expire(), self.access(), self.snap_mark());
        let v = self.into_value();
        Self::build(key, v, expire, access, false, mark)
    }

    /// Takes the value out, freeing the block.
    pub fn into_value(self) -> Value {
        let s = self.shape();
        let v = if s.flags & KIND == VAL {
            // SAFETY: VAL blocks hold an initialised Value; it is moved out
            // here and the block is freed below without dropping it again.
            unsafe { self.base().add(s.value_off()).cast::<Value>().read() }
        } else {
            self.value().into_owned()
        };
        self.free_block(s);
        v
    }

    /// The stored `Value` if there is one (something to lazily free).
    fn into_stored_value(self) -> Option<Value> {
        if self.shape().flags & KIND == VAL {
            Some(self.into_value())
        } else {
            None
        }
    }

    /// Heap data owned by the value, worth prefetching before a command.
    #[inline]
    pub fn value_heap_ptr(&self) -> Option<*const u8> {
        let s = self.shape();
        if s.flags & KIND != VAL {
            return None;
        }
        // SAFETY: as in `value`.
        unsafe { (*self.base().add(s.value_off()).cast::<Value>()).heap_ptr() }
    }

    /// Bytes of the block itself (MEMORY USAGE).
    pub fn block_size(&self) -> usize {
        self.shape().size()
    }

    /// Rebuilds the block with room for an expire time, moving the parts
    /// bitwise (a stored Value moves without being dropped).
    fn reshape_with_expire(&mut self) {
        let old = self.shape();
        let new = Shape {
            flags: old.flags | EXPIRE,
            ..old
        };
        let layout = new.layout();
        // SAFETY: the new block is sized for `new`; the header and long key
        // length (first `expire_off` bytes) are copied to the same offsets,
        // the payload and key (everything from `value_off`) are copied after
        // the new expire slot, which the caller writes next. The old block
        // is then freed without dropping its Value, which now lives in the
        // new block.
        unsafe {
            let base = alloc(layout);
            if base.is_null() {
                handle_alloc_error(layout);
            }
            let src = self.base();
            std::ptr::copy_nonoverlapping(src, base, old.expire_off());
            std::ptr::copy_nonoverlapping(
                src.add(old.value_off()),
                base.add(new.value_off()),
                old.size() - old.value_off(),
            );
            (*base.cast::<Header>()).flags = new.flags;
            base.add(new.expire_off()).cast::<i64>().write(0);
            dealloc(src, old.layout());
            self.ptr = NonNull::new_unchecked(base.cast::<Header>());
        }
    }

    /// Frees the block without dropping a stored Value (already moved out).
    fn free_block(self, s: Shape) {
        // SAFETY: the block was allocated with `s.layout()`; `forget` keeps
        // `Drop` from freeing it a second time.
        unsafe { dealloc(self.base(), s.layout()) };
        std::mem::forget(self);
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let s = self.shape();
        // SAFETY: a VAL block holds an initialised Value, dropped once here;
        // the block was allocated with `s.layout()`.
        unsafe {
            if s.flags & KIND == VAL {
                std::ptr::drop_in_place(self.base().add(s.value_off()).cast::<Value>());
            }
            dealloc(self.base(), s.layout());
        }
    }
}

impl Clone for Entry {
    fn clone(&self) -> Entry {
        Self::build(
            self.key(),
            self.value().into_owned(),
            self.expire(),
            self.access(),
            self.shape().flags & KIND == VAL,
            self.snap_mark(),
        )
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("value", &*self.value())
            .field("expire", &self.expire())
            .field("access", &self.access())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[u8]) -> Value {
        Value::Str(Str::from_bytes(v))
    }

    #[test]
    fn small_string_entry_is_one_48_byte_chunk() {
        let e = Entry::new(b"key:000000123456", s(b"xxxxxxxxxxxxxxxx"), 0, 7);
        assert_eq!(e.block_size(), 40);
        assert_eq!(e.key(), b"key:000000123456");
        assert_eq!(&*e.value(), &s(b"xxxxxxxxxxxxxxxx"));
        assert_eq!((e.expire(), e.access()), (0, 7));
        assert_eq!(std::mem::size_of::<Option<Entry>>(), 8);
    }

    #[test]
    fn kinds_round_trip() {
        let big = s(&[b'v'; 100]);
        for (k, v) in [
            (&b"k"[..], s(b"")),
            (b"", s(b"12345")),
            (b"k2", s(&[b'x'; 22])),
            (b"k3", s(&[b'x'; 23])),
            (b"k4", big.clone()),
            (b"k5", Value::List(Box::default())),
        ] {
            let e = Entry::new(k, v.clone(), 0, 1);
            assert_eq!((e.key(), &*e.value()), (k, &v));
            let e2 = e.clone();
            assert_eq!(e2.into_value(), v);
        }
    }

    #[test]
    fn long_keys_and_expire() {
        let key = vec![b'k'; 70_000];
        let mut e = Entry::new(&key, s(b"abc"), 0, 3);
        assert_eq!(e.key(), &key[..]);
        e.set_expire(1234);
        assert_eq!((e.key(), e.expire(), e.access()), (&key[..], 1234, 3));
        assert_eq!(&*e.value(), &s(b"abc"));
        e.set_expire(0);
        assert_eq!(e.expire(), 0);
        let mut e = Entry::new(b"k", s(&[b'z'; 500]), 99, 0);
        assert_eq!(e.expire(), 99);
        e.set_access(42);
        e.set_expire(100);
        assert_eq!((e.expire(), e.access()), (100, 42));
        assert_eq!(&*e.value(), &s(&[b'z'; 500]));
    }

    #[test]
    fn replacing_and_mutating_values() {
        let mut e = Entry::new(b"key", s(b"aaaa"), 0, 0);
        e.set_expire(5);
        assert!(e.replace_value(s(b"bbbb")).is_none());
        assert_eq!(&*e.value(), &s(b"bbbb"));
        assert!(e.replace_value(s(b"77")).is_none());
        assert!(e.replace_value(s(b"78")).is_none());
        assert_eq!(&*e.value(), &Value::Str(Str::Int(78)));
        assert!(e.replace_value(s(&[b'q'; 300])).is_none());
        let old = e.replace_value(s(b"c"));
        assert_eq!(old, Some(s(&[b'q'; 300])));
        // Mutation converts to a stored Value; key and expire stay.
        if let Value::Str(st) = e.value_mut() {
            st.make_growable().extend_from_slice(b"def");
        }
        assert_eq!(&*e.value(), &Value::Str(Str::Growable(b"cdef".to_vec())));
        assert_eq!((e.key(), e.expire()), (&b"key"[..], 5));
        let e = e.with_key(b"other");
        assert_eq!((e.key(), e.expire()), (&b"other"[..], 5));
    }
}
