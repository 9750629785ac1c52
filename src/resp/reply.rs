//! Reply encoder: RESP2 or RESP3, into one growable byte buffer.
//!
//! Commands call these methods in the order the reply is read; the protocol
//! version decides the wire form of nulls, maps, sets, doubles and booleans.

use std::sync::Arc;

use crate::util::num::{double_str, push_int};

/// Bytes of one client's replies for one batch of its commands.
#[derive(Debug, Default)]
pub struct ReplyBuf {
    pub buf: Vec<u8>,
    /// Large values sent by reference, each inserted at its offset in `buf`
    /// (see `Encoded`).
    pub shared: Vec<(usize, SharedBytes)>,
    /// Protocol version: 2 or 3.
    pub resp: u8,
}

/// A stored value a reply sends by reference: one set whole, or one grown
/// in place (a `Vec` behind the count, so it can keep growing in place
/// while no reply holds it).
#[derive(Debug, Clone)]
pub enum SharedBytes {
    Slice(Arc<[u8]>),
    Vec(Arc<Vec<u8>>),
}

impl std::ops::Deref for SharedBytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            SharedBytes::Slice(b) => b,
            SharedBytes::Vec(v) => v,
        }
    }
}

/// Written-out reply buffers kept per thread for the next batch's replies
/// (at `io-threads 1` replies are written on the thread that encodes them,
/// so each batch reuses a buffer instead of allocating one).
const SPARE_MAX: usize = 256;
/// Buffers that grew larger than this (a big reply) are freed instead.
const SPARE_CAPACITY_MAX: usize = 16 * 1024;

thread_local! {
    static SPARE_BUFS: std::cell::RefCell<Vec<Vec<u8>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Gives a written-out reply buffer back for reuse on this thread.
pub fn recycle(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > SPARE_CAPACITY_MAX {
        return;
    }
    buf.clear();
    let _ = SPARE_BUFS.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            if s.len() < SPARE_MAX {
                s.push(buf);
            }
        }
    });
}

/// Encoded replies ready to write: `bytes`, with each shared value spliced
/// in at its offset. Large string values are not copied into the reply:
/// the reply holds a reference to the stored value and the connection
/// writes it with a vectored write, so a GET of a 1 MB value costs no 1 MB
/// copy on the main thread, and a value deleted meanwhile stays alive until
/// written (its memory is then freed on the writing thread).
#[derive(Debug, Default)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub shared: Vec<(usize, SharedBytes)>,
}

impl Encoded {
    pub fn len(&self) -> usize {
        self.bytes.len() + self.shared.iter().map(|(_, s)| s.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` on the pieces in order, leaving out the first `skip`
    /// bytes, while `f` returns true.
    pub fn pieces_from<'a>(&'a self, mut skip: usize, mut f: impl FnMut(&'a [u8]) -> bool) {
        let mut emit = |piece: &'a [u8]| -> bool {
            if skip >= piece.len() {
                skip -= piece.len();
                return true;
            }
            let piece = &piece[skip..];
            skip = 0;
            f(piece)
        };
        let mut start = 0;
        for (off, chunk) in &self.shared {
            let off = (*off).clamp(start, self.bytes.len());
            if !emit(&self.bytes[start..off]) || !emit(chunk) {
                return;
            }
            start = off;
        }
        emit(&self.bytes[start..]);
    }
}

impl From<Vec<u8>> for Encoded {
    fn from(bytes: Vec<u8>) -> Self {
        Encoded {
            bytes,
            shared: Vec::new(),
        }
    }
}

const CRLF: &[u8] = b"\r\n";

impl ReplyBuf {
    pub fn new(resp: u8) -> Self {
        ReplyBuf {
            buf: Vec::new(),
            shared: Vec::new(),
            resp,
        }
    }

    /// A buffer sized for the replies of `cmds` commands, so the usual
    /// small replies of a pipeline are written without growing it: a
    /// written-out buffer of this thread when there is one (`recycle`),
    /// else a new one of at most 1 KiB, which glibc serves from its
    /// per-thread cache without sorting its free lists first.
    pub fn for_commands(resp: u8, cmds: usize) -> Self {
        let want = (cmds * 40).clamp(32, 1000);
        let spare = SPARE_BUFS
            .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.pop()))
            .ok()
            .flatten();
        let buf = match spare {
            Some(mut b) => {
                b.reserve(want);
                b
            }
            None => Vec::with_capacity(want),
        };
        ReplyBuf {
            buf,
            shared: Vec::new(),
            resp,
        }
    }

    pub fn is_resp3(&self) -> bool {
        self.resp >= 3
    }

    #[inline]
    fn header(&mut self, tag: u8, n: i64) {
        // Most headers are short counts and lengths: one fixed-size copy.
        if (0..10).contains(&n) {
            self.buf
                .extend_from_slice(&[tag, b'0' + n as u8, b'\r', b'\n']);
        } else if (10..100).contains(&n) {
            self.buf.extend_from_slice(&[
                tag,
                b'0' + (n / 10) as u8,
                b'0' + (n % 10) as u8,
                b'\r',
                b'\n',
            ]);
        } else {
            self.buf.push(tag);
            push_int(&mut self.buf, n);
            self.buf.extend_from_slice(CRLF);
        }
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// `+text`: the text must not hold CR or LF.
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(CRLF);
    }

    /// `-CODE message`: CR and LF inside are turned into spaces.
    pub fn error(&mut self, msg: &str) {
        self.buf.push(b'-');
        let start = self.buf.len();
        self.buf.extend_from_slice(msg.as_bytes());
        for b in &mut self.buf[start..] {
            if *b == b'\r' || *b == b'\n' {
                *b = b' ';
            }
        }
        self.buf.extend_from_slice(CRLF);
    }

    #[inline]
    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    #[inline]
    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(CRLF);
    }

    /// A bulk string sent by reference to the stored value (no copy).
    pub fn bulk_shared(&mut self, data: &Arc<[u8]>) {
        self.header(b'$', data.len() as i64);
        self.shared
            .push((self.buf.len(), SharedBytes::Slice(Arc::clone(data))));
        self.buf.extend_from_slice(CRLF);
    }

    /// `bulk_shared` for a value grown in place.
    pub fn bulk_shared_vec(&mut self, data: &Arc<Vec<u8>>) {
        self.header(b'$', data.len() as i64);
        self.shared
            .push((self.buf.len(), SharedBytes::Vec(Arc::clone(data))));
        self.buf.extend_from_slice(CRLF);
    }

    /// Bytes of reply so far (a mark for `truncate`).
    pub fn mark(&self) -> usize {
        self.buf.len()
    }

    /// Drops everything written after `mark` (CLIENT REPLY OFF / SKIP).
    pub fn truncate(&mut self, mark: usize) {
        self.buf.truncate(mark);
        while self.shared.last().is_some_and(|(off, _)| *off >= mark) {
            self.shared.pop();
        }
    }

    /// Everything written so far, leaving the buffer empty.
    pub fn take(&mut self) -> Encoded {
        Encoded {
            bytes: std::mem::take(&mut self.buf),
            shared: std::mem::take(&mut self.shared),
        }
    }

    /// Total bytes of reply (shared values included).
    pub fn len(&self) -> usize {
        self.buf.len() + self.shared.iter().map(|(_, s)| s.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty() && self.shared.is_empty()
    }

    /// An integer as a bulk string (`GET` of an integer-encoded value).
    pub fn bulk_int(&mut self, n: i64) {
        let mut tmp = Vec::with_capacity(20);
        push_int(&mut tmp, n);
        self.bulk(&tmp);
    }

    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        if self.is_resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// A missing aggregate: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        if self.is_resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    pub fn array(&mut self, len: usize) {
        self.header(b'*', len as i64);
    }

    /// A map of `len` pairs; a flat array of 2*len in RESP2.
    pub fn map(&mut self, len: usize) {
        if self.is_resp3() {
            self.header(b'%', len as i64);
        } else {
            self.header(b'*', 2 * len as i64);
        }
    }

    /// A set; an array in RESP2.
    pub fn set(&mut self, len: usize) {
        if self.is_resp3() {
            self.header(b'~', len as i64);
        } else {
            self.header(b'*', len as i64);
        }
    }

    /// An out-of-band push (pub/sub); an array in RESP2.
    pub fn push(&mut self, len: usize) {
        if self.is_resp3() {
            self.header(b'>', len as i64);
        } else {
            self.header(b'*', len as i64);
        }
    }

    /// A double, formatted as Valkey does; a bulk string in RESP2.
    pub fn double(&mut self, d: f64) {
        let mut buf = [0u8; crate::util::fpconv::MAX_LEN];
        let s = double_str(d, &mut buf);
        if self.is_resp3() {
            self.buf.push(b',');
            self.buf.extend_from_slice(s);
            self.buf.extend_from_slice(CRLF);
        } else {
            self.bulk(s);
        }
    }

    /// A boolean; `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.is_resp3() {
            self.buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// Verbatim text (`INFO`, `CLIENT LIST`): `=len\r\ntxt:...` in RESP3.
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.is_resp3() {
            self.header(b'=', text.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(CRLF);
        } else {
            self.bulk(text);
        }
    }

    /// A big number (decimal digits); a bulk string in RESP2.
    pub fn big_number(&mut self, digits: &str) {
        if self.is_resp3() {
            self.buf.push(b'(');
            self.buf.extend_from_slice(digits.as_bytes());
            self.buf.extend_from_slice(CRLF);
        } else {
            self.bulk(digits.as_bytes());
        }
    }

    /// Appends bytes already encoded as RESP.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_buffers_are_reused_on_the_same_thread() {
        let mut r = ReplyBuf::for_commands(2, 4);
        r.ok();
        let e = r.take();
        let p = e.bytes.as_ptr();
        recycle(e.bytes);
        let r2 = ReplyBuf::for_commands(2, 4);
        assert!(r2.buf.is_empty());
        assert_eq!(r2.buf.as_ptr(), p, "the written buffer comes back");
        // A buffer grown by a big reply is not kept.
        let cached = || SPARE_BUFS.with(|s| s.borrow().len());
        let before = cached();
        recycle(Vec::with_capacity(SPARE_CAPACITY_MAX + 1));
        assert_eq!(cached(), before);
        recycle(r2.buf);
        assert_eq!(cached(), before + 1);
    }

    fn flatten(e: &Encoded, skip: usize) -> Vec<u8> {
        let mut v = Vec::new();
        e.pieces_from(skip, |p| {
            v.extend_from_slice(p);
            true
        });
        v
    }

    #[test]
    fn grown_values_are_sent_by_reference() {
        let grown = Arc::new(b"GROWN".to_vec());
        let mut r = ReplyBuf::new(2);
        r.bulk_shared_vec(&grown);
        assert_eq!(Arc::strong_count(&grown), 2, "the reply holds the value");
        let e = r.take();
        assert_eq!(flatten(&e, 0), b"$5\r\nGROWN\r\n");
        drop(e);
        assert_eq!(Arc::strong_count(&grown), 1);
    }

    #[test]
    fn shared_values_splice_in_order_and_truncate() {
        let big: Arc<[u8]> = Arc::from(&b"BIGVALUE"[..]);
        let mut r = ReplyBuf::new(2);
        r.ok();
        r.bulk_shared(&big);
        let mark = r.mark();
        r.bulk_shared(&big);
        r.ok();
        r.truncate(mark);
        r.bulk(b"x");
        assert_eq!(r.len(), 5 + 14 + 7);
        let e = r.take();
        assert!(r.is_empty());
        assert_eq!(e.len(), 26);
        let all = flatten(&e, 0);
        assert_eq!(all, b"+OK\r\n$8\r\nBIGVALUE\r\n$1\r\nx\r\n");
        for skip in 0..=all.len() {
            assert_eq!(flatten(&e, skip), &all[skip..], "skip {skip}");
        }
        // Stopping early: the callback's false ends the walk.
        let mut n = 0;
        e.pieces_from(0, |_| {
            n += 1;
            n < 2
        });
        assert_eq!(n, 2);
    }

    #[test]
    fn resp2_and_resp3_shapes() {
        let mut r = ReplyBuf::new(2);
        r.null();
        r.map(1);
        r.double(1.5);
        r.boolean(true);
        assert_eq!(r.buf, b"$-1\r\n*2\r\n$3\r\n1.5\r\n:1\r\n");
        let mut r = ReplyBuf::new(3);
        r.null();
        r.map(1);
        r.double(1.5);
        r.boolean(true);
        assert_eq!(r.buf, b"_\r\n%1\r\n,1.5\r\n#t\r\n");
    }

    #[test]
    fn ints_and_errors() {
        let mut r = ReplyBuf::new(2);
        r.int(-1234);
        r.int(i64::MIN);
        r.error("ERR bad\r\nthing");
        assert_eq!(
            r.buf,
            b":-1234\r\n:-9223372036854775808\r\n-ERR bad  thing\r\n".to_vec()
        );
    }
}
