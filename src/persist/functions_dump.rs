//! FUNCTION DUMP's payload, and FUNCTION RESTORE's reading of one.
//!
//! For the formats a function library is just its source code (`#!lua
//! name=<lib>` first). A payload is what an RDB file holds of them: per
//! library a `FUNCTION2` opcode and the code as an RDB string (LZF-
//! compressed with `rdbcompression yes`, as `rdbSaveRawString` does), then
//! the footer every DUMP payload has: the 2-byte RDB version and the
//! CRC-64 of all before it (`persist::finish_payload`).
//!
//! Decoding follows Valkey's functionRestoreCommand step by step, with its
//! error replies: the footer is checked first, then records are read from
//! the start while more than the 10 footer bytes remain (so, as there, a
//! string may run into the footer). Compiling the codes is the scripting
//! engine's business; only the codes come out of here.

use bytes::Bytes;

use super::codec::{write_string, Reader};
use super::rdb_read::{OP_FUNCTION2, OP_FUNCTION_PRE_GA};
use super::verify_payload;

/// Why FUNCTION RESTORE refuses a payload (before any library compiles).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreError {
    /// The version is not accepted or the checksum does not match.
    BadPayload,
    /// No type byte where a record starts.
    NoType,
    /// The pre-release function format (opcode 246).
    PreGa,
    /// A record that is not a function library.
    NotAFunction,
    /// The library's string cannot be read.
    BadLibrary,
}

impl RestoreError {
    /// Valkey's error reply.
    pub fn message(self) -> &'static str {
        match self {
            RestoreError::BadPayload => "ERR DUMP payload version or checksum are wrong",
            RestoreError::NoType => "ERR can not read data type",
            RestoreError::PreGa => "ERR Pre-GA function format not supported",
            RestoreError::NotAFunction => "ERR given type is not a function",
            RestoreError::BadLibrary => "ERR Failed loading library payload",
        }
    }
}

/// FUNCTION DUMP's payload of `codes` (in the order given), footer
/// included: ferrokey's RDB version, as DUMP's.
pub fn dump_payload<C: AsRef<[u8]>>(codes: impl IntoIterator<Item = C>, compress: bool) -> Vec<u8> {
    let mut out = dump_body(codes, compress);
    super::finish_payload(&mut out);
    out
}

/// The records alone: per library `FUNCTION2` and its code.
fn dump_body<C: AsRef<[u8]>>(codes: impl IntoIterator<Item = C>, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OP_FUNCTION2);
        write_string(&mut out, code.as_ref(), compress);
    }
    out
}

/// The library codes a FUNCTION RESTORE payload holds, in payload order.
/// `check_crc`: the checksum is compared (not skipped by DEBUG
/// SET-SKIP-CHECKSUM-VALIDATION); `relaxed`: `rdb-version-check relaxed`.
pub fn restore_payload(
    payload: &[u8],
    check_crc: bool,
    relaxed: bool,
) -> Result<Vec<Bytes>, RestoreError> {
    if verify_payload(payload, check_crc, relaxed).is_none() {
        return Err(RestoreError::BadPayload);
    }
    let mut r = Reader::new(payload);
    let mut codes = Vec::new();
    while payload.len() - r.pos() > 10 {
        let t = r.byte("a type").map_err(|_| RestoreError::NoType)?;
        match t {
            OP_FUNCTION_PRE_GA => return Err(RestoreError::PreGa),
            OP_FUNCTION2 => {}
            _ => return Err(RestoreError::NotAFunction),
        }
        let code = r.string().map_err(|_| RestoreError::BadLibrary)?;
        codes.push(Bytes::copy_from_slice(&code));
    }
    Ok(codes)
}

/// `body` framed with the footer of RDB version `version` (tests compare
/// with payloads of servers of other versions).
#[cfg(test)]
fn framed(mut body: Vec<u8>, version: u16) -> Vec<u8> {
    body.extend_from_slice(&version.to_le_bytes());
    let crc = super::crc64(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// The fixtures Valkey 9.1 made (tests/data/functions, see its
/// make_fixtures.py), shared by the persistence tests.
#[cfg(test)]
pub(crate) mod fixtures {
    /// Too short for LZF to pay: stored raw.
    pub const MYLIB: &[u8] = include_bytes!("../../tests/data/functions/mylib.lua");
    /// Repetitive: stored LZF-compressed.
    pub const LIB2: &[u8] = include_bytes!("../../tests/data/functions/lib2.lua");
    /// SAVEd with both libraries, k1 and l in db 0, k2 in db 2.
    pub const RDB: &[u8] = include_bytes!("../../tests/data/functions/valkey-9.1-functions.rdb");

    /// Both libraries in the order the server's dict gave them, which is
    /// their order in `two()` and in `RDB`.
    pub fn valkey_order() -> Vec<&'static [u8]> {
        include_str!("../../tests/data/functions/order.txt")
            .lines()
            .map(|name| if name == "mylib" { MYLIB } else { LIB2 })
            .collect()
    }

    fn hex(s: &str) -> Vec<u8> {
        let s = s.trim();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// FUNCTION DUMP with mylib alone.
    pub fn one() -> Vec<u8> {
        hex(include_str!("../../tests/data/functions/dump-mylib.hex"))
    }

    /// FUNCTION DUMP with both libraries.
    pub fn two() -> Vec<u8> {
        hex(include_str!("../../tests/data/functions/dump-two.hex"))
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{one, two, valkey_order, LIB2, MYLIB};
    use super::*;

    #[test]
    fn valkey_payloads_decode_to_their_codes() {
        assert_eq!(restore_payload(&one(), true, false).unwrap(), [MYLIB]);
        // lib2 is LZF-compressed in the payload, mylib is not.
        let order = valkey_order();
        assert_eq!(order.len(), 2);
        assert_eq!(restore_payload(&two(), true, false).unwrap(), order);
    }

    #[test]
    fn encoding_the_codes_gives_valkeys_bytes() {
        let (one, two, order) = (one(), two(), valkey_order());
        // Valkey 9.1 frames with its version 80; the records are the same.
        assert_eq!(framed(dump_body([MYLIB], true), 80), one);
        assert_eq!(framed(dump_body(&order, true), 80), two);
        // Ours carries Valkey's version too, as DUMP's payloads do: the
        // same bytes.
        let ours = dump_payload(&order, true);
        assert_eq!(ours, two);
        assert_eq!(restore_payload(&ours, true, false).unwrap(), order);
        // Without compression the code is stored raw.
        let raw = dump_payload([LIB2], false);
        assert!(raw.windows(LIB2.len()).any(|w| w == LIB2));
        assert_eq!(restore_payload(&raw, true, false).unwrap(), [LIB2]);
    }

    #[test]
    fn an_empty_payload_is_the_footer_alone() {
        let p = dump_payload(std::iter::empty::<&[u8]>(), true);
        assert_eq!(p.len(), 10);
        assert_eq!(
            restore_payload(&p, true, false).unwrap(),
            Vec::<Bytes>::new()
        );
    }

    #[test]
    fn refusals_are_valkeys() {
        let one = one();
        // Footer: a flipped bit, a short payload, an unknown version.
        let mut bad = one.clone();
        bad[5] ^= 1;
        assert_eq!(
            restore_payload(&bad, true, false),
            Err(RestoreError::BadPayload)
        );
        // Checksum validation skipped: the flipped byte is in the code.
        let codes = restore_payload(&bad, false, false).unwrap();
        assert_ne!(codes, [MYLIB]);
        assert_eq!(
            restore_payload(b"\xf5", true, false),
            Err(RestoreError::BadPayload)
        );
        let future = framed(dump_body([MYLIB], true), 81);
        assert_eq!(
            restore_payload(&future, true, false),
            Err(RestoreError::BadPayload)
        );
        assert_eq!(restore_payload(&future, true, true).unwrap(), [MYLIB]);
        // A key's DUMP is not a function.
        let key = framed(b"\x00\x05hello".to_vec(), 11);
        assert_eq!(
            restore_payload(&key, true, false),
            Err(RestoreError::NotAFunction)
        );
        let pre_ga = framed(vec![OP_FUNCTION_PRE_GA, 1, b'x'], 11);
        assert_eq!(
            restore_payload(&pre_ga, true, false),
            Err(RestoreError::PreGa)
        );
        // A library then garbage: refused whole.
        let mut body = dump_body([MYLIB], true);
        body.push(0);
        body.extend_from_slice(b"\x01k\x01v");
        assert_eq!(
            restore_payload(&framed(body, 11), true, false),
            Err(RestoreError::NotAFunction)
        );
        // A string longer than the payload; a bad LZF string.
        let long = framed(vec![OP_FUNCTION2, 0x40, 0xff, b'x'], 11);
        assert_eq!(
            restore_payload(&long, true, false),
            Err(RestoreError::BadLibrary)
        );
        let lzf = framed(vec![OP_FUNCTION2, 0xc3, 0x02, 0x7f, 0xff, 0xff], 11);
        assert_eq!(
            restore_payload(&lzf, true, false),
            Err(RestoreError::BadLibrary)
        );
        // As in Valkey, a string may run into the footer: the records are
        // read while more than 10 bytes remain.
        let into_footer = framed(vec![OP_FUNCTION2, 8], 11);
        let codes = restore_payload(&into_footer, true, false).unwrap();
        assert_eq!(codes.len(), 1);
        assert_eq!(codes[0][..], into_footer[2..10]);
        for e in [
            RestoreError::BadPayload,
            RestoreError::NoType,
            RestoreError::PreGa,
            RestoreError::NotAFunction,
            RestoreError::BadLibrary,
        ] {
            assert!(e.message().starts_with("ERR "), "{e:?}");
        }
    }
}
