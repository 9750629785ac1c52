//! Persistence in Valkey's file formats: the RDB object codec shared by
//! DUMP / RESTORE and RDB files, the files' writer and parser, and the
//! append-only file's pieces.
//!
//! - `lzf`: liblzf's compression format (RDB string encoding 3);
//! - `codec`: RDB lengths, integer-encoded and compressed strings, doubles,
//!   read through a bounds-checked `Reader`;
//! - `compact`: the packed blobs a loader meets (intset, ziplist, listpack,
//!   zipmap), every length, count and offset checked;
//! - `object`: a value's type byte and serialization, both ways;
//! - `functions_dump`: FUNCTION DUMP's payload, and FUNCTION RESTORE's
//!   reading of one;
//! - `rdb_read`: RDB files, read as a stream of keys;
//! - `rdb_write`: RDB files, written on a thread of their own from a
//!   snapshot's records, which reach it through `save_sink`'s flat batches;
//! - `save_state`: what INFO and the schedule keep about saves;
//! - `aof_manifest`: the multi-part AOF's manifest (which BASE, INCR and
//!   HISTORY files make up the AOF);
//! - `aof_write`: the AOF writer (RESP encoding, write and fsync policy);
//! - `aof_rewrite`: a rewrite's BASE, on the save writer thread.
//!
//! A payload is untrusted network input: decoding returns an `Error` (the
//! offset and what was expected) and never panics, and no buffer is sized
//! from a length read from the input before that length is checked against
//! the bytes that remain.

pub mod aof_check;
pub mod aof_manifest;
pub mod aof_read;
pub mod aof_rewrite;
pub mod aof_write;
pub mod codec;
pub mod compact;
pub mod functions_dump;
pub mod lzf;
pub mod object;
pub mod rdb_read;
pub mod rdb_write;
pub mod save_sink;
pub mod save_state;
pub mod stream;

use std::fmt;

/// The RDB version ferrokey writes: Valkey 8's (Redis 7.2's), which Valkey
/// 8 and 9 and Redis 7.2 accept.
pub const RDB_VERSION: u16 = 11;
/// Valkey 9's own version number (`VALKEY080` files, DUMP footers).
pub const VALKEY_RDB_VERSION: u16 = 80;

/// Redis's CRC-64 (Jones polynomial, reflected, init 0), used by RDB files
/// and DUMP payloads.
pub fn crc64(data: &[u8]) -> u64 {
    const CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);
    CRC.checksum(data)
}

/// Whether a payload or file of RDB version `v` may be read: with
/// `rdb-version-check strict`, every version up to Valkey 9's less the
/// range 12..=79 that Redis 7.4+ and other forks use for formats Valkey
/// does not know; with `relaxed`, any (see `is_foreign_version`).
pub fn version_accepted(v: u16, relaxed: bool) -> bool {
    if relaxed {
        return v >= 1;
    }
    (1..=VALKEY_RDB_VERSION).contains(&v) && !is_foreign_version(v)
}

/// Versions of other forks' formats (Redis 7.4 on): read only in relaxed
/// mode, and then only value types that existed before the split.
pub fn is_foreign_version(v: u16) -> bool {
    (12..80).contains(&v)
}

/// The first value type a foreign-version payload may not hold (types
/// from here on mean different things in Valkey and in other forks).
pub const FOREIGN_TYPE_MIN: u8 = 22;

/// DEBUG SET-SKIP-CHECKSUM-VALIDATION: process-wide, as in Valkey (tests
/// use it to feed RESTORE corrupt payloads whose checksum was not redone).
static SKIP_CHECKSUM: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn set_skip_checksum(on: bool) {
    SKIP_CHECKSUM.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Whether checksums are to be checked (not skipped by DEBUG).
pub fn checksums_checked() -> bool {
    !SKIP_CHECKSUM.load(std::sync::atomic::Ordering::Relaxed)
}

/// A decoding failure: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub offset: usize,
    pub what: String,
}

impl Error {
    pub fn new(offset: usize, what: impl Into<String>) -> Self {
        Error {
            offset,
            what: what.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at offset {}: {}", self.offset, self.what)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// A DUMP payload's body (type byte and serialized value) after its footer
/// was checked: the 2-byte little-endian RDB version must be accepted and,
/// unless `check_crc` is off, the CRC-64 of everything before the last 8
/// bytes must match them (little-endian). None: Valkey's "DUMP payload
/// version or checksum are wrong".
pub fn verify_payload(p: &[u8], check_crc: bool, relaxed: bool) -> Option<(u16, &[u8])> {
    if p.len() < 10 {
        return None;
    }
    let body_end = p.len() - 10;
    let version = u16::from_le_bytes([p[body_end], p[body_end + 1]]);
    if !version_accepted(version, relaxed) {
        return None;
    }
    if check_crc {
        let mut want = [0u8; 8];
        want.copy_from_slice(&p[p.len() - 8..]);
        if crc64(&p[..p.len() - 8]) != u64::from_le_bytes(want) {
            return None;
        }
    }
    Some((version, &p[..body_end]))
}

/// Appends DUMP's footer to a serialized object: RDB version, then the
/// CRC-64 of all that precedes it. The version is Valkey 9's 80 whatever
/// the value's type, as Valkey 9.1's DUMP, MIGRATE and FUNCTION DUMP
/// write it (files keep `RDB_VERSION`).
pub fn finish_payload(out: &mut Vec<u8>) {
    out.extend_from_slice(&VALKEY_RDB_VERSION.to_le_bytes());
    let crc = crc64(out);
    out.extend_from_slice(&crc.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_redis_variant() {
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
        assert_eq!(crc64(b""), 0);
    }

    #[test]
    fn payload_footer() {
        // Captured from Valkey 9.1: DUMP of "hello" (version 80).
        let p = b"\x00\x05helloP\x00\xacX\x16\xe7\xfbfG\xfe";
        assert_eq!(
            verify_payload(p, true, false),
            Some((80, &b"\x00\x05hello"[..]))
        );
        // Redis 7.0 (version 10).
        let p = b"\x00\x05hello\n\x00cr\xdfve4 \n";
        assert_eq!(verify_payload(p, true, false).map(|x| x.0), Some(10));
        let mut bad = p.to_vec();
        bad[3] ^= 1;
        assert_eq!(verify_payload(&bad, true, false), None);
        assert!(verify_payload(&bad, false, false).is_some());
        assert_eq!(verify_payload(b"\x00\x01", true, false), None);
        // Ours is Valkey 9.1's, byte for byte.
        let mut ours = b"\x00\x05hello".to_vec();
        finish_payload(&mut ours);
        assert_eq!(ours, b"\x00\x05helloP\x00\xacX\x16\xe7\xfbfG\xfe");
    }

    #[test]
    fn versions() {
        for v in [1, 9, 10, 11, 80] {
            assert!(version_accepted(v, false), "{v}");
        }
        for v in [0, 12, 13, 79, 81, 0xffff] {
            assert!(!version_accepted(v, false), "{v}");
        }
        for v in [12, 79, 81] {
            assert!(version_accepted(v, true), "{v}");
        }
        assert!(!version_accepted(0, true));
    }
}
