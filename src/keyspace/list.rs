//! List values: `listpack` while small (`list-max-listpack-size`), `quicklist` beyond.
//!
//! (Placeholder shape: the family's engineer replaces the representation;
//! the methods below are what the rest of the server relies on.)

/// A list value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    len: usize,
}

impl List {
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
