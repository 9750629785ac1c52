//! The keyspace: databases of keys to values, with expiry.
//!
//! Owned by the main thread alone and never shared, so it has no locks. It
//! knows nothing of sockets, rings or replies: commands read and change it
//! through `Db`, and values too large to drop cheaply are handed back in
//! `Db::garbage` for the caller to free elsewhere.

pub mod db;
pub mod dict;
pub mod entry;
pub mod expire;
pub mod hash;
pub mod hash_ttl;
pub mod hll;
pub mod kvtable;
pub mod list;
pub mod set;
pub mod snapshot;
pub mod stream;
pub mod value;
pub mod zset;

pub use db::{Access, Db, Entry, Free, View};
pub use dict::Dict;
pub use value::{Bytes24, Str, StrRef, Value};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
