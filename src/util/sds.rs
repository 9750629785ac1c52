//! Valkey's sds string helpers that files and protocols share: the
//! argument splitter of config lines, inline requests and AOF manifests
//! (`sdssplitargs`), and the quoting of `sdscatrepr` (MONITOR lines,
//! manifest file names, log lines).

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits a configuration line (or a multi-word config value) into
/// arguments as Valkey's `sdssplitargs` does; None if quotes are unbalanced.
/// The line ends at a NUL byte, as the C string it is there.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match memchr::memchr(0, line) {
        Some(nul) => &line[..nul],
        None => line,
    };
    split(line, 1)
}

/// Splits an inline request line (without its `\r\n`) as Valkey 9 does with
/// its length-bounded `sdsnsplitargs`. The one difference from
/// [`split_args`]: a backslash is an escape only if a byte follows the
/// escaped one, so `"abc\"` at the end of the line is `abc\` there.
pub fn split_inline_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    split(line, 2)
}

/// Valkey's argument splitter (sds.c, as of 9.1), byte for byte:
/// - arguments are separated by space, tab, CR or LF; leading blanks
///   (those and also VT, FF: C's `isspace`) are skipped;
/// - quoted and unquoted parts join into one argument, as in a shell
///   (`a"b c"'d'` is `ab cd`);
/// - in `"..."`: `\xHH`, `\n \r \t \b \a`, and `\` before any other byte
///   gives that byte; in `'...'` only `\'` is an escape;
/// - a raw 0xFF byte is dropped wherever it appears (a `char`/EOF mix-up in
///   the C code), while `\xff` gives the byte;
/// - an unclosed quote makes the whole line invalid (None).
///
/// `escape_room` is how many bytes must follow a backslash for it to escape
/// (1 for NUL-terminated lines, 2 for length-bounded inline lines).
fn split(line: &[u8], escape_room: usize) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    let push = |cur: &mut Vec<u8>, c: u8| {
        if c != 0xff {
            cur.push(c);
        }
    };
    loop {
        while i < n && matches!(line[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        while i < n && !matches!(line[i], b' ' | b'\t' | b'\n' | b'\r') {
            let q = line[i];
            if q != b'"' && q != b'\'' {
                push(&mut cur, q);
                i += 1;
                continue;
            }
            i += 1;
            loop {
                let c = *line.get(i)?;
                if q == b'"' && c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(line[i + 2]), hex_val(line[i + 3])) {
                        cur.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + escape_room < n && (q == b'"' || line[i + 1] == q) {
                    let e = line[i + 1];
                    let e = match (q, e) {
                        (b'"', b'n') => b'\n',
                        (b'"', b'r') => b'\r',
                        (b'"', b't') => b'\t',
                        (b'"', b'b') => 8,
                        (b'"', b'a') => 7,
                        _ => e,
                    };
                    push(&mut cur, e);
                    i += 2;
                    continue;
                }
                i += 1;
                if c == q {
                    break;
                }
                push(&mut cur, c);
            }
        }
        out.push(cur);
    }
}

/// `a` in double quotes as Valkey's `sdscatrepr` writes it: `\\`, `\"`,
/// `\n`, `\r`, `\t`, `\a`, `\b`, printable ASCII as is, any other byte as
/// `\xHH`.
pub fn quote(out: &mut Vec<u8>, a: &[u8]) {
    out.push(b'"');
    for &b in a {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b' '..=b'~' => out.push(b),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 15)],
                ]);
            }
        }
    }
    out.push(b'"');
}
