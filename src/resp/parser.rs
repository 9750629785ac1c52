//! Incremental request parser.
//!
//! Keeps the state of a half-read multibulk between calls so a large request
//! arriving in many reads is scanned once, not from the start each time.
//! Arguments are slices of the read buffer (`Bytes`), not copies.

use bytes::{Buf, Bytes, BytesMut};

pub use super::argv::Argv;
use crate::util::num::parse_i64;
pub use crate::util::sds::{split_args, split_inline_args};

/// Longest inline request or count line, as in Valkey (PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX: usize = 64 * 1024;
/// Largest multibulk count accepted (Valkey 9 takes up to INT_MAX).
pub const MULTIBULK_MAX: i64 = i32::MAX as i64;
/// Bulks at least this big get buffer room reserved up front...
const BIG_ARG: usize = 32 * 1024;
/// ...but at most this much beyond what is buffered: more of a big bulk is
/// reserved as it arrives (the buffer grows geometrically), so a declared
/// length never allocates memory the client has not sent.
pub const BULK_READ_AHEAD: usize = 1024 * 1024;

/// Limits that depend on configuration and on the client's state.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: usize,
    /// False while `requirepass` is set and the client has not authenticated:
    /// then requests are limited to 10 arguments of 16 KiB, as in Valkey.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        }
    }
}

/// A malformed request. The text follows `Protocol error: ` in the reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(s: &str) -> Self {
        ProtocolError(s.to_string())
    }
    /// The full error line as replied, without the leading `-`.
    pub fn reply_text(&self) -> String {
        format!("ERR Protocol error: {}", self.0)
    }
}

#[derive(Default, Debug)]
pub struct Parser {
    /// Arguments still expected by the multibulk being read (0: none open).
    remaining: usize,
    /// Length of the bulk being read, once its `$len` line is consumed.
    bulk_len: Option<usize>,
    args: Vec<Bytes>,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// True when a request is partly read.
    pub fn in_progress(&self) -> bool {
        self.remaining > 0
    }

    /// Bytes the parser still needs in the buffer before it can go on: the
    /// rest of a bulk whose length line is read (0 if none is pending).
    pub fn bulk_needs(&self) -> usize {
        self.bulk_len.map_or(0, |l| l + 2)
    }

    /// Parses the next complete command from `buf`, consuming its bytes.
    /// `Ok(None)` means more input is needed; empty requests are skipped.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Argv>, ProtocolError> {
        loop {
            if self.remaining == 0 {
                if buf.is_empty() {
                    return Ok(None);
                }
                if let Some(argv) = whole_command(buf, limits) {
                    return Ok(Some(argv));
                }
                if buf[0] != b'*' {
                    match parse_inline(buf)? {
                        None => return Ok(None),
                        Some(argv) if argv.is_empty() => continue,
                        Some(argv) => return Ok(Some(argv)),
                    }
                }
                let Some((count, used)) = read_line_number(buf, 1, "too big mbulk count string")?
                else {
                    return Ok(None);
                };
                let count = match count {
                    Some(n) if n <= MULTIBULK_MAX => n,
                    _ => return Err(ProtocolError::new("invalid multibulk length")),
                };
                if !limits.authenticated && count > 10 {
                    return Err(ProtocolError::new("unauthenticated multibulk length"));
                }
                buf.advance(used);
                if count <= 0 {
                    continue;
                }
                self.remaining = count as usize;
                // Never trust the count for the allocation: a client may lie.
                self.args = Vec::with_capacity(self.remaining.min(1024));
            }
            while self.remaining > 0 {
                let len = match self.bulk_len {
                    Some(len) => len,
                    None => {
                        if buf.is_empty() {
                            return Ok(None);
                        }
                        if buf[0] != b'$' {
                            return Err(ProtocolError(format!(
                                "expected '$', got '{}'",
                                char::from(buf[0])
                            )));
                        }
                        let Some((len, used)) =
                            read_line_number(buf, 1, "too big bulk count string")?
                        else {
                            return Ok(None);
                        };
                        let len = match len {
                            Some(n) if n >= 0 && (n as u64) <= limits.max_bulk_len as u64 => {
                                n as usize
                            }
                            _ => return Err(ProtocolError::new("invalid bulk length")),
                        };
                        if !limits.authenticated && len > 16384 {
                            return Err(ProtocolError::new("unauthenticated bulk length"));
                        }
                        buf.advance(used);
                        self.bulk_len = Some(len);
                        if len >= BIG_ARG && buf.len() < len + 2 {
                            // Room for the bulk, but never more than a bounded
                            // read-ahead: the length is the client's word, and
                            // `proto-max-bulk-len` may be set to anything.
                            buf.reserve((len + 2 - buf.len()).min(BULK_READ_AHEAD));
                        }
                        len
                    }
                };
                if buf.len() < len + 2 {
                    return Ok(None);
                }
                if buf[len..len + 2] != *b"\r\n" {
                    return Err(ProtocolError::new("invalid CRLF in request"));
                }
                let arg = buf.split_to(len).freeze();
                buf.advance(2);
                self.args.push(arg);
                self.bulk_len = None;
                self.remaining -= 1;
            }
            return Ok(Some(std::mem::take(&mut self.args)));
        }
    }
}

/// The fast path: a multibulk that is entirely in `buf` and well formed
/// is cut out with one `split_to`, its arguments being slices of that one
/// frame (no per-line `advance`, no per-argument split). Anything else
/// (incomplete, malformed, over a limit) returns None and goes through the
/// incremental parser, which keeps partial state and gives the errors.
fn whole_command(buf: &mut BytesMut, limits: &Limits) -> Option<Argv> {
    let b = &buf[..];
    if b.first() != Some(&b'*') {
        return None;
    }
    let (count, cr) = plain_number(b, 1)?;
    if count <= 0 || count > 1024 || (!limits.authenticated && count > 10) {
        return None;
    }
    let mut pos = cr + 2;
    // Argument bounds: on the stack for the usual short commands, so the
    // only allocation is the argv itself.
    let mut short = [(0usize, 0usize); 8];
    let mut long = Vec::new();
    if count as usize > short.len() {
        long.reserve(count as usize);
    }
    for i in 0..count as usize {
        if b.get(pos) != Some(&b'$') {
            return None;
        }
        let (len, cr) = plain_number(b, pos + 1)?;
        if len as u64 > limits.max_bulk_len as u64 || (!limits.authenticated && len > 16384) {
            return None;
        }
        let start = cr + 2;
        let end = start.checked_add(len as usize)?;
        if end.checked_add(2)? > b.len() || b[end..end + 2] != *b"\r\n" {
            return None;
        }
        match short.get_mut(i) {
            Some(r) if long.capacity() == 0 => *r = (start, end),
            _ => long.push((start, end)),
        }
        pos = end + 2;
    }
    let ranges = if long.capacity() == 0 {
        &short[..count as usize]
    } else {
        &long[..]
    };
    let frame = buf.split_to(pos).freeze();
    let mut argv = super::argv::with_capacity(ranges.len());
    argv.extend(ranges.iter().map(|&(s, e)| frame.slice(s..e)));
    Some(argv)
}

/// The fast path's number reader: the digits at `b[start..]` up to a `\r`,
/// and the index of that `\r`. Only plain forms (no sign, no leading zero,
/// at most 18 digits) are taken; anything else is left to the incremental
/// parser, which gives Valkey's errors and handles the rarer forms.
#[inline]
fn plain_number(b: &[u8], start: usize) -> Option<(i64, usize)> {
    let digits = b.get(start..)?;
    let mut n: i64 = 0;
    for (i, &c) in digits.iter().enumerate().take(19) {
        match c {
            b'0'..=b'9' => {
                // A leading zero, or a 19th digit (which could overflow).
                if (i == 1 && n == 0) || i == 18 {
                    return None;
                }
                n = n * 10 + (c - b'0') as i64;
            }
            b'\r' if i > 0 => return Some((n, start + i)),
            _ => return None,
        }
    }
    None
}

/// Reads `<prefix><integer>\r\n` at the start of `buf`, skipping `skip` prefix
/// bytes. Returns the number (None if not a valid integer) and the bytes used,
/// or `Ok(None)` if the line is not complete yet.
#[allow(clippy::type_complexity)]
fn read_line_number(
    buf: &[u8],
    skip: usize,
    too_big: &str,
) -> Result<Option<(Option<i64>, usize)>, ProtocolError> {
    match memchr::memchr(b'\r', buf) {
        None => {
            if buf.len() > INLINE_MAX {
                Err(ProtocolError::new(too_big))
            } else {
                Ok(None)
            }
        }
        Some(cr) => {
            if cr > INLINE_MAX {
                return Err(ProtocolError::new(too_big));
            }
            if buf.len() < cr + 2 {
                return Ok(None);
            }
            Ok(Some((parse_i64(&buf[skip..cr]), cr + 2)))
        }
    }
}

/// An inline (telnet-style) request: one line, split like a shell would.
///
/// Valkey finds the end of the line with `strchr`, so a NUL byte before the
/// `\n` hides it: the line never completes and the request stays pending
/// until the buffer passes the inline limit. That is copied, not fixed: a
/// client sees the same stall and then the same error.
fn parse_inline(buf: &mut BytesMut) -> Result<Option<Argv>, ProtocolError> {
    let nl = match memchr::memchr2(b'\n', 0, buf) {
        Some(i) if buf[i] == b'\n' => i,
        _ => {
            if buf.len() > INLINE_MAX {
                return Err(ProtocolError::new("too big inline request"));
            }
            return Ok(None);
        }
    };
    if nl > INLINE_MAX {
        return Err(ProtocolError::new("too big inline request"));
    }
    let line = buf.split_to(nl + 1);
    let mut end = nl;
    if end > 0 && line[end - 1] == b'\r' {
        end -= 1;
    }
    match split_inline_args(&line[..end]) {
        Some(args) => Ok(Some(args.into_iter().map(Bytes::from).collect())),
        None => Err(ProtocolError::new("unbalanced quotes in request")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_and_incremental_parser_agree() {
        let lim = Limits {
            max_bulk_len: 512 << 20,
            authenticated: true,
        };
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2_000 {
            let argc = 1 + (next() % 12) as usize;
            let args: Vec<Vec<u8>> = (0..argc)
                .map(|_| {
                    let len = match next() % 4 {
                        0 => 0,
                        1 => (next() % 10) as usize,
                        2 => (next() % 200) as usize,
                        _ => (next() % 20_000) as usize,
                    };
                    // Any bytes, CR and LF included.
                    (0..len).map(|_| (next() % 256) as u8).collect()
                })
                .collect();
            let mut wire = format!("*{argc}\r\n").into_bytes();
            for a in &args {
                wire.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                wire.extend_from_slice(a);
                wire.extend_from_slice(b"\r\n");
            }
            // Whole: the fast path takes it.
            let mut buf = BytesMut::from(&wire[..]);
            let fast = Parser::new().parse(&mut buf, &lim).ok().flatten();
            assert!(buf.is_empty());
            // Split at a random point: the incremental parser takes over.
            let cut = 1 + (next() as usize % (wire.len() - 1));
            let mut p = Parser::new();
            let mut buf = BytesMut::from(&wire[..cut]);
            let first = p.parse(&mut buf, &lim).ok().flatten();
            assert!(first.is_none(), "complete before the cut at {cut}");
            buf.extend_from_slice(&wire[cut..]);
            let slow = p.parse(&mut buf, &lim).ok().flatten();
            let want: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
            let as_slices = |v: &Option<Argv>| {
                v.as_ref()
                    .map(|v| v.iter().map(|b| b.to_vec()).collect::<Vec<_>>())
            };
            assert_eq!(
                as_slices(&fast),
                Some(want.iter().map(|a| a.to_vec()).collect())
            );
            assert_eq!(as_slices(&slow), as_slices(&fast));
        }
    }

    #[test]
    fn fast_path_numbers_are_plain_only() {
        assert_eq!(plain_number(b"*2\r\n", 1), Some((2, 2)));
        assert_eq!(plain_number(b"$0\r\n", 1), Some((0, 2)));
        assert_eq!(
            plain_number(b"$123456789012345678\r", 1),
            Some((123456789012345678, 19))
        );
        for bad in [
            &b"$\r\n"[..],
            b"$01\r\n",
            b"$-1\r\n",
            b"$+1\r\n",
            b"$1x\r\n",
            b"$12",
            b"$1234567890123456789\r\n",
            b"$99999999999999999999\r\n",
        ] {
            assert_eq!(
                plain_number(bad, 1),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // What the fast path leaves goes to the incremental parser.
        let mut p = Parser::new();
        let lim = Limits {
            max_bulk_len: 512 << 20,
            authenticated: true,
        };
        let mut buf = BytesMut::from(&b"*1\r\n$03\r\nGET\r\n"[..]);
        assert!(p.parse(&mut buf, &lim).is_err());
        let mut buf = BytesMut::from(&b"*02\r\n$3\r\nGET\r\n$1\r\nk\r\n"[..]);
        assert!(Parser::new().parse(&mut buf, &lim).is_err());
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n"[..]);
        let mut p = Parser::new();
        assert_eq!(
            p.parse(&mut buf, &lim).ok().flatten().map(|a| a.len()),
            Some(2)
        );
        assert_eq!(
            p.parse(&mut buf, &lim).ok().flatten().map(|a| a.len()),
            Some(1)
        );
        assert!(buf.is_empty());
    }

    fn parse_all(input: &[u8]) -> Result<Vec<Argv>, ProtocolError> {
        let mut p = Parser::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(a) = p.parse(&mut buf, &Limits::default())? {
            out.push(a);
        }
        Ok(out)
    }

    fn strs(a: &Argv) -> Vec<&[u8]> {
        a.iter().map(|b| &b[..]).collect()
    }

    #[test]
    fn multibulk_and_inline() {
        let cmds = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a \"b c\"\r\n").unwrap();
        assert_eq!(cmds.len(), 3);
        assert_eq!(strs(&cmds[0]), vec![&b"GET"[..], b"k"]);
        assert_eq!(strs(&cmds[1]), vec![&b"PING"[..]]);
        assert_eq!(strs(&cmds[2]), vec![&b"set"[..], b"a", b"b c"]);
    }

    #[test]
    fn split_at_every_byte_gives_same_commands() {
        let input: &[u8] = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\nINCR x\r\n*0\r\n*1\r\n$4\r\nPING\r\n";
        let whole = parse_all(input).unwrap();
        assert_eq!(whole.len(), 3);
        for split in 0..input.len() {
            let mut p = Parser::new();
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for chunk in [&input[..split], &input[split..]] {
                buf.extend_from_slice(chunk);
                while let Some(a) = p.parse(&mut buf, &Limits::default()).unwrap() {
                    got.push(a);
                }
            }
            assert_eq!(got, whole, "split at {split}");
        }
        // And one byte at a time.
        let mut p = Parser::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in input {
            buf.extend_from_slice(&[*b]);
            while let Some(a) = p.parse(&mut buf, &Limits::default()).unwrap() {
                got.push(a);
            }
        }
        assert_eq!(got, whole);
    }

    #[test]
    fn errors_match_valkey() {
        let e = |i: &[u8]| parse_all(i).unwrap_err().0;
        assert_eq!(e(b"*abc\r\n"), "invalid multibulk length");
        assert_eq!(e(b"*2\r\n$-5\r\n"), "invalid bulk length");
        assert_eq!(e(b"*1\r\n:3\r\n"), "expected '$', got ':'");
        assert_eq!(e(b"set \"a\r\n"), "unbalanced quotes in request");
        assert_eq!(e(b"set a\\\"b\r\n"), "unbalanced quotes in request");
        assert_eq!(e(&vec![b'a'; INLINE_MAX + 1]), "too big inline request");
        let mut big = b"*".to_vec();
        big.extend(vec![b'1'; INLINE_MAX + 1]);
        assert_eq!(e(&big), "too big mbulk count string");
        assert_eq!(e(b"*2147483648\r\n"), "invalid multibulk length");
    }

    #[test]
    fn crlf_after_a_bulk_is_checked() {
        let e = |i: &[u8]| parse_all(i).unwrap_err().0;
        // Whole (the fast path sees it first) and one byte at a time (the
        // incremental parser): both refuse, as Valkey does.
        for input in [
            &b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"[..],
            b"*1\r\n$4\r\nPING\rx",
            b"*1\r\n$4\r\nPING\n\r",
            b"*2\r\n$4\r\nECHO\r\n$1\r\nab\r\n",
        ] {
            assert_eq!(e(input), "invalid CRLF in request");
            let mut p = Parser::new();
            let mut buf = BytesMut::new();
            let mut err = None;
            for b in input {
                buf.extend_from_slice(&[*b]);
                match p.parse(&mut buf, &Limits::default()) {
                    Ok(None) => {}
                    Ok(Some(a)) => panic!("parsed {a:?}"),
                    Err(x) => {
                        err = Some(x.0);
                        break;
                    }
                }
            }
            assert_eq!(err.as_deref(), Some("invalid CRLF in request"));
        }
        // Commands before the bad one are still returned first.
        let mut p = Parser::new();
        let mut buf = BytesMut::from(&b"PING\r\n*1\r\n$4\r\nPINGxx"[..]);
        assert_eq!(
            p.parse(&mut buf, &Limits::default())
                .unwrap()
                .unwrap()
                .len(),
            1
        );
        assert!(p.parse(&mut buf, &Limits::default()).is_err());
        // Not enough bytes yet to tell: wait.
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPINGx"[..]);
        assert_eq!(Parser::new().parse(&mut buf, &Limits::default()), Ok(None));
        // A big bulk (its own reservation path) is checked too.
        let mut big = b"*1\r\n$40000\r\n".to_vec();
        big.extend(vec![b'a'; 40000]);
        big.extend_from_slice(b"xx");
        assert_eq!(e(&big), "invalid CRLF in request");
    }

    #[test]
    fn declared_sizes_reserve_nothing_unsent() {
        let lim = Limits {
            max_bulk_len: i64::MAX as usize,
            authenticated: true,
        };
        for len in ["99999999999", "9223372036854775807", "40000"] {
            let mut p = Parser::new();
            let mut buf = BytesMut::from(format!("*1\r\n${len}\r\n").as_bytes());
            assert_eq!(p.parse(&mut buf, &lim), Ok(None));
            assert!(
                buf.capacity() <= BULK_READ_AHEAD + 64,
                "reserved {} for ${len}",
                buf.capacity()
            );
            assert!(p.bulk_needs() > 0);
        }
        // The argument count is not trusted for the argument vector either.
        let mut p = Parser::new();
        let mut buf = BytesMut::from(&b"*2147483647\r\n$1\r\na\r\n"[..]);
        assert_eq!(p.parse(&mut buf, &lim), Ok(None));
        assert!(p.args.capacity() <= 1024);
        let mut buf = BytesMut::from(&b"*99999999999\r\n"[..]);
        assert_eq!(
            Parser::new().parse(&mut buf, &lim).unwrap_err().0,
            "invalid multibulk length"
        );
        // The fast path's range table is bounded the same way.
        let mut buf = BytesMut::from(&b"*1024\r\n$1\r\na\r\n"[..]);
        assert_eq!(Parser::new().parse(&mut buf, &lim), Ok(None));
    }

    #[test]
    fn nul_hides_the_end_of_an_inline_line() {
        // Valkey looks for the newline with strchr: the request never
        // completes, whatever follows, until the inline limit is passed.
        for input in [
            &b"\x00\r\n"[..],
            b"PING\x00\r\nPING\r\n",
            b"ECHO \"\x00\"\r\n",
        ] {
            let mut buf = BytesMut::from(input);
            assert_eq!(Parser::new().parse(&mut buf, &Limits::default()), Ok(None));
            assert_eq!(&buf[..], input, "nothing consumed");
        }
        let mut input = b"\x00\r\n".to_vec();
        input.extend(vec![b'a'; INLINE_MAX - 3]);
        assert_eq!(parse_all(&input).map(|v| v.len()), Ok(0));
        input.push(b'a');
        assert_eq!(parse_all(&input).unwrap_err().0, "too big inline request");
        // Commands before it run.
        let mut buf = BytesMut::from(&b"PING\r\nECHO a\x00\r\nPING\r\n"[..]);
        let mut p = Parser::new();
        assert!(p.parse(&mut buf, &Limits::default()).unwrap().is_some());
        assert_eq!(p.parse(&mut buf, &Limits::default()), Ok(None));
    }

    /// Each line was sent inline to Valkey 9.1.2 (`RPUSH L <line>`, then
    /// `LRANGE L 0 -1`); these are its results. None: "unbalanced quotes".
    #[test]
    fn inline_splitting_matches_valkey() {
        type Case = (&'static [u8], Option<&'static [&'static [u8]]>);
        let cases: &[Case] = &[
            (b"\"abc\\\"", Some(&[b"abc\\"])),
            (b"\"a\\\" ", None),
            (b"\"a\\\"b", None),
            (b"\"a\\\"b\"", Some(&[b"a\"b"])),
            (b"\"a\\", None),
            (b"\"a\\\\\"", Some(&[b"a\\"])),
            (b"\"\\\"", Some(&[b"\\"])),
            (b"'ab\\'", Some(&[b"ab\\"])),
            (b"'ab\\' ", None),
            (b"'a\\'b'", Some(&[b"a'b"])),
            (b"'a\\\\'", Some(&[b"a\\\\"])),
            (b"'a\\nb'", Some(&[b"a\\nb"])),
            (b"\"abc\"x", Some(&[b"abcx"])),
            (b"'abc'x", Some(&[b"abcx"])),
            (b"\"a\"\"b\"", Some(&[b"ab"])),
            (b"a\"b c\"", Some(&[b"ab c"])),
            (b"\"a b\"c\"d e\"", Some(&[b"a bcd e"])),
            (b"\"a\"'b'", Some(&[b"ab"])),
            (b"a\\\"b", None),
            (b"a\\ b", Some(&[b"a\\", b"b"])),
            (
                b"\"a\\nb\\tc\\rd\\be\\af\\zg\"",
                Some(&[b"a\nb\tc\rd\x08e\x07fzg"]),
            ),
            (b"\"\\x41\\x4g\"", Some(&[b"Ax4g"])),
            (b"\"\\x4\"", Some(&[b"x4"])),
            (b"\"\\x\"", Some(&[b"x"])),
            (b"\"\\xFf\"", Some(&[b"\xff"])),
            (b"\"\\x4142\"", Some(&[b"A42"])),
            (b"x\"\\x41\"", Some(&[b"xA"])),
            (b"\"\\x41", None),
            (b"\"\"", Some(&[b""])),
            (b"''", Some(&[b""])),
            (b"'a\"b'", Some(&[b"a\"b"])),
            (b"\"a'b\"", Some(&[b"a'b"])),
            (b"\"", None),
            (b"", Some(&[])),
            (b"   ", Some(&[])),
            (b" a  b ", Some(&[b"a", b"b"])),
            (b"a\rb", Some(&[b"a", b"b"])),
            (b"a\tb", Some(&[b"a", b"b"])),
            (b"a\x0bb", Some(&[b"a\x0bb"])),
            (b"a\x0cb", Some(&[b"a\x0cb"])),
            (b"\x0bab", Some(&[b"ab"])),
            (b"\x0b ", Some(&[])),
            (b"a\xffb", Some(&[b"ab"])),
            (b"\xff", Some(&[b""])),
            (b"\"a\xffb\"", Some(&[b"ab"])),
            (b"\"\\\xffn\"", Some(&[b"n"])),
            (b"a\x80\xc3\xa9\x01\x7f", Some(&[b"a\x80\xc3\xa9\x01\x7f"])),
        ];
        for (line, want) in cases {
            let got = split_inline_args(line);
            let want = want.map(|w| w.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(line));
        }
    }

    /// The config file's splitter is NUL-terminated in Valkey: a backslash
    /// before the closing quote at the end still escapes (checked with
    /// `dbfilename "abc\"` in a valkey.conf: "Unbalanced quotes").
    #[test]
    fn config_splitting_differs_only_at_the_end() {
        assert_eq!(split_args(b"dbfilename \"abc\\\""), None);
        assert_eq!(split_args(b"dbfilename 'ab\\'"), None);
        assert_eq!(
            split_args(b"dbfilename \"a\\\"b\""),
            Some(vec![b"dbfilename".to_vec(), b"a\"b".to_vec()])
        );
        assert_eq!(
            split_args(b"dbfilename \"a\"b"),
            Some(vec![b"dbfilename".to_vec(), b"ab".to_vec()])
        );
        assert_eq!(
            split_args(b"a b\x00 c"),
            Some(vec![b"a".to_vec(), b"b".to_vec()])
        );
    }

    #[test]
    fn bulk_limit_and_unauthenticated_limits() {
        let mut p = Parser::new();
        let lim = Limits {
            max_bulk_len: 10,
            authenticated: true,
        };
        let mut buf = BytesMut::from(&b"*1\r\n$11\r\n"[..]);
        assert_eq!(
            p.parse(&mut buf, &lim).unwrap_err().0,
            "invalid bulk length"
        );
        let lim = Limits {
            max_bulk_len: 1 << 20,
            authenticated: false,
        };
        let mut p = Parser::new();
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(
            p.parse(&mut buf, &lim).unwrap_err().0,
            "unauthenticated multibulk length"
        );
    }

    #[test]
    fn inline_escapes() {
        let a = split_args(b"a \"\\x41\\n\" 'it\\'s' \"\"").unwrap();
        assert_eq!(
            a,
            vec![
                b"a".to_vec(),
                b"A\n".to_vec(),
                b"it's".to_vec(),
                b"".to_vec()
            ]
        );
        assert_eq!(split_args(b"   ").unwrap().len(), 0);
    }
}
