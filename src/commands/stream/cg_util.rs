//! What the consumer-group commands share: stream id parsing and replies
//! with Valkey's errors, the NOGROUP messages, and the commands a group
//! change propagates as (Valkey's streamPropagateXCLAIM and
//! streamPropagateGroupID).

use bytes::Bytes;

use crate::error::{excerpt, CmdError};
use crate::keyspace::stream::cgroup::{Group, Nack};
use crate::keyspace::stream::StreamId;
use crate::resp::ReplyBuf;
use crate::util::num::{parse_i64, push_int};

pub const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
pub const INVALID_START: &str = "ERR invalid start ID for the interval";
pub const INVALID_END: &str = "ERR invalid end ID for the interval";

/// C's strtoull over the whole argument (Valkey's string2ull): a strict
/// integer first, else leading blanks, a sign (`-` wraps around), digits
/// to the end, no overflow.
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(n) = parse_i64(s) {
        return u64::try_from(n).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    if i >= s.len() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// A stream id as Valkey's streamGenericParseIDOrReply reads it: `<ms>`
/// (sequence `missing_seq`) or `<ms>-<seq>`; `-` and `+` the smallest and
/// greatest ids unless `strict`.
pub fn parse_id(a: &[u8], missing_seq: u64, strict: bool) -> Option<StreamId> {
    if a.len() > 127 {
        return None;
    }
    // C strings: the argument ends at a NUL byte.
    let a = match a.iter().position(|&b| b == 0) {
        Some(n) => &a[..n],
        None => a,
    };
    match a {
        b"-" if !strict => return Some(StreamId::MIN),
        b"+" if !strict => return Some(StreamId::MAX),
        b"-" | b"+" => return None,
        _ => {}
    }
    match a.iter().position(|&b| b == b'-') {
        Some(dash) => Some(StreamId {
            ms: string2ull(&a[..dash])?,
            seq: string2ull(&a[dash + 1..])?,
        }),
        None => Some(StreamId {
            ms: string2ull(a)?,
            seq: missing_seq,
        }),
    }
}

/// `parse_id` with Valkey's error.
pub fn id_arg(a: &[u8], missing_seq: u64, strict: bool) -> Result<StreamId, CmdError> {
    parse_id(a, missing_seq, strict).ok_or(CmdError::from(INVALID_ID))
}

/// An interval end (XPENDING, XAUTOCLAIM): `(` makes it exclusive and
/// then the id is strict. Returns the id and whether it was exclusive.
pub fn interval_arg(a: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if a.len() > 1 && a[0] == b'(' {
        Ok((id_arg(&a[1..], missing_seq, true)?, true))
    } else {
        Ok((id_arg(a, missing_seq, false)?, false))
    }
}

/// The id after `id`, None past the last one.
pub fn incr(id: StreamId) -> Option<StreamId> {
    if id.seq == u64::MAX {
        if id.ms == u64::MAX {
            return None;
        }
        return Some(StreamId {
            ms: id.ms + 1,
            seq: 0,
        });
    }
    Some(StreamId {
        ms: id.ms,
        seq: id.seq + 1,
    })
}

/// The id before `id`, None before 0-0.
pub fn decr(id: StreamId) -> Option<StreamId> {
    if id.seq == 0 {
        if id.ms == 0 {
            return None;
        }
        return Some(StreamId {
            ms: id.ms - 1,
            seq: u64::MAX,
        });
    }
    Some(StreamId {
        ms: id.ms,
        seq: id.seq - 1,
    })
}

/// `<ms>-<seq>`, on the stack.
pub struct IdText {
    buf: [u8; 41],
    len: usize,
}

impl IdText {
    pub fn new(id: StreamId) -> IdText {
        let mut buf = [0u8; 41];
        let mut len = 0;
        for (i, part) in [id.ms, id.seq].into_iter().enumerate() {
            if i == 1 {
                buf[len] = b'-';
                len += 1;
            }
            let mut tmp = [0u8; 20];
            let mut n = tmp.len();
            let mut v = part;
            loop {
                n -= 1;
                tmp[n] = b'0' + (v % 10) as u8;
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            let digits = &tmp[n..];
            buf[len..len + digits.len()].copy_from_slice(digits);
            len += digits.len();
        }
        IdText { buf, len }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Replies `id` as a bulk string.
#[inline]
pub fn reply_id(out: &mut ReplyBuf, id: StreamId) {
    out.bulk(IdText::new(id).as_bytes());
}

pub fn id_bytes(id: StreamId) -> Bytes {
    Bytes::copy_from_slice(IdText::new(id).as_bytes())
}

fn int_bytes(n: i64) -> Bytes {
    let mut v = Vec::with_capacity(20);
    push_int(&mut v, n);
    Bytes::from(v)
}

/// `NOGROUP No such key 'k' or consumer group 'g'` (+ a suffix).
pub fn no_key_or_group(key: &[u8], group: &[u8], suffix: &str) -> CmdError {
    CmdError::owned(format!(
        "NOGROUP No such key '{}' or consumer group '{}'{suffix}",
        cstr(key),
        cstr(group)
    ))
}

/// `NOGROUP No such consumer group 'g' for key name 'k'`.
pub fn no_group_for_key(group: &[u8], key: &[u8]) -> CmdError {
    CmdError::owned(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        cstr(group),
        cstr(key)
    ))
}

/// Text of an argument as Valkey's `%s` prints it: up to a NUL byte.
pub fn cstr(a: &[u8]) -> String {
    let end = a.iter().position(|&b| b == 0).unwrap_or(a.len());
    excerpt(&a[..end], usize::MAX)
}

/// `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID
/// LASTID last`: how a delivery or claim of `id` is propagated, so that
/// it replays the same on a replica or from the AOF.
pub fn xclaim_argv(key: &Bytes, group_name: &Bytes, g: &Group, id: &Bytes, n: &Nack) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XCLAIM"),
        key.clone(),
        group_name.clone(),
        Bytes::copy_from_slice(g.owner_name(n)),
        Bytes::from_static(b"0"),
        id.clone(),
        Bytes::from_static(b"TIME"),
        int_bytes(n.delivery_time),
        Bytes::from_static(b"RETRYCOUNT"),
        int_bytes(n.delivery_count as i64),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        id_bytes(g.last_id),
    ]
}

/// `XGROUP SETID key group last ENTRIESREAD n`: a group's position.
pub fn setid_argv(key: &Bytes, group_name: &Bytes, g: &Group) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        key.clone(),
        group_name.clone(),
        id_bytes(g.last_id),
        Bytes::from_static(b"ENTRIESREAD"),
        int_bytes(g.entries_read),
    ]
}

/// `XGROUP CREATECONSUMER key group consumer`.
pub fn createconsumer_argv(key: &Bytes, group_name: &Bytes, consumer: &Bytes) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"CREATECONSUMER"),
        key.clone(),
        group_name.clone(),
        consumer.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    #[test]
    fn ids_parse_as_valkey() {
        assert_eq!(parse_id(b"5", 0, true), Some(id(5, 0)));
        assert_eq!(parse_id(b"5", u64::MAX, true), Some(id(5, u64::MAX)));
        assert_eq!(parse_id(b"5-3", 0, true), Some(id(5, 3)));
        assert_eq!(parse_id(b"-", 0, false), Some(id(0, 0)));
        assert_eq!(parse_id(b"+", 0, false), Some(StreamId::MAX));
        assert_eq!(parse_id(b"-", 0, true), None);
        assert_eq!(parse_id(b"+", 0, true), None);
        assert_eq!(parse_id(b"", 0, false), None);
        assert_eq!(parse_id(b"5-", 0, false), None);
        assert_eq!(parse_id(b"-5", 0, false), None);
        assert_eq!(parse_id(b"a-1", 0, false), None);
        assert_eq!(parse_id(b"5-*", 0, false), None);
        assert_eq!(
            parse_id(b"18446744073709551615-18446744073709551615", 0, true),
            Some(StreamId::MAX)
        );
        assert_eq!(parse_id(b"18446744073709551616", 0, true), None);
        assert_eq!(parse_id(b"+7", 0, true), Some(id(7, 0)));
        assert_eq!(parse_id(&[b'1'; 128], 0, true), None);
        assert_eq!(interval_arg(b"(5-1", 0), Ok((id(5, 1), true)));
        assert_eq!(interval_arg(b"(", 0), Err(INVALID_ID.into()));
        assert!(interval_arg(b"(-", 0).is_err());
    }

    #[test]
    fn ids_step_and_print() {
        assert_eq!(incr(id(1, u64::MAX)), Some(id(2, 0)));
        assert_eq!(incr(StreamId::MAX), None);
        assert_eq!(decr(id(2, 0)), Some(id(1, u64::MAX)));
        assert_eq!(decr(id(0, 0)), None);
        assert_eq!(IdText::new(id(0, 0)).as_bytes(), b"0-0");
        assert_eq!(
            IdText::new(StreamId::MAX).as_bytes(),
            b"18446744073709551615-18446744073709551615"
        );
    }
}
