//! Sorted set values: `listpack` while small (`zset-max-listpack-entries/value`), `skiplist` (ordered index + member map) beyond.
//!
//! (Placeholder shape: the family's engineer replaces the representation;
//! the methods below are what the rest of the server relies on.)

/// A zset value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {
    len: usize,
}

impl ZSet {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// Rough cost of dropping (elements to free), for lazy free.
    pub fn free_effort(&self) -> usize {
        self.len
    }

    /// Heap bytes owned, for MEMORY USAGE.
    pub fn heap_bytes(&self) -> usize {
        0
    }
}
