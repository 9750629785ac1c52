//! The RDB value decoder (what RESTORE runs on a payload) on arbitrary
//! bytes: it must return a value or an error, never panic or allocate
//! from an unchecked length. A value it accepts must serialize and decode
//! back to itself, in the same encoding. The packed-blob parsers and LZF are fed the same bytes
//! directly, and the DUMP footer check runs on them too.
//!
//! Input: byte 0 picks the encoding limits (small ones exercise the
//! conversions), the rest is the payload body (type byte, then the value).

#![no_main]

use ferrokey::keyspace::hash::Limits as HashLimits;
use ferrokey::keyspace::set::Limits as SetLimits;
use ferrokey::keyspace::zset::Limits as ZSetLimits;
use ferrokey::persist::codec::Reader;
use ferrokey::persist::object::{read_type, read_value, write_value, Limits};
use ferrokey::persist::{compact, lzf, verify_payload};
use libfuzzer_sys::fuzz_target;

fn limits(b: u8) -> Limits {
    let small = b & 1 == 1;
    let n = if small { 2 } else { 128 };
    Limits {
        list_fill: if b & 2 == 2 { 2 } else { -2 },
        set: SetLimits {
            max_intset_entries: if small { 2 } else { 512 },
            max_listpack_entries: n,
            max_listpack_value: if small { 4 } else { 64 },
        },
        hash: HashLimits {
            max_entries: n as u64,
            max_value: if small { 4 } else { 64 },
        },
        zset: ZSetLimits::new(n as u64, if small { 4 } else { 64 }),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let lim = limits(pick);
    let mut r = Reader::new(body);
    let mut loaded_type = None;
    let value = read_type(&mut r).and_then(|t| {
        loaded_type = Some(t);
        read_value(&mut r, t, &lim)
    });
    if let Ok(v) = value {
        for compress in [false, true] {
            let mut out = Vec::new();
            write_value(&mut out, &v, compress);
            let mut r2 = Reader::new(&out);
            let back = read_type(&mut r2)
                .and_then(|t| read_value(&mut r2, t, &lim))
                .expect("a value written decodes");
            assert!(r2.is_empty());
            // The same value in the same encoding (a hashtable's member
            // order may differ, which the values' equality ignores).
            assert_eq!(back, v);
            // A hash read from a type-22 record (field TTLs) is a hashtable;
            // with no field TTL left it is written as a plain hash, which
            // loads by the size limits: Valkey 9.1's DUMP/RESTORE does the
            // same (hashtable in, listpack out).
            let retyped = loaded_type.is_some_and(|t| out.first() != Some(&t));
            if !retyped {
                assert_eq!(back.encoding(1, false), v.encoding(1, false));
            }
        }
    }
    let _ = compact::listpack(body);
    let _ = compact::ziplist(body);
    let _ = compact::intset(body);
    let _ = compact::zipmap(body);
    let _ = lzf::decompress(body, usize::from(pick) * 64);
    let _ = verify_payload(body, true, pick & 4 != 0);
});
