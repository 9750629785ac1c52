//! The inline splitter (`split_inline_args`) and the config splitter
//! (`split_args`), which share Valkey's rules. Properties:
//! - neither panics, on any bytes;
//! - they agree unless a backslash is the line's second-to-last byte (the
//!   one place Valkey's length-bounded and NUL-terminated splitters differ);
//! - the parser's inline path gives the same arguments as the splitter for
//!   a line it can see whole (no NUL or LF inside, not a multibulk);
//! - round trip: any arguments, each written quoted with escapes, split
//!   back to exactly themselves (both splitters), and arguments without
//!   blanks, quotes, 0xFF or a leading VT/FF come back unquoted too.

#![no_main]

use bytes::BytesMut;
use ferrokey::resp::parser::{split_args, split_inline_args};
use ferrokey::resp::{Limits, Parser};
use libfuzzer_sys::fuzz_target;

/// Writes `arg` so that the splitters read it back: `"..."` with `\\`,
/// `\"` and `\xHH` for every byte outside printable ASCII.
fn quote(arg: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in arg {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

fn plain_ok(arg: &[u8]) -> bool {
    !arg.is_empty()
        && !arg
            .iter()
            .any(|&c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0 | b'"' | b'\'' | 0xff))
        && !matches!(arg[0], 0x0b | 0x0c)
}

fuzz_target!(|data: &[u8]| {
    let inline = split_inline_args(data);
    let config = split_args(data);
    let n = data.len();
    if !data.contains(&0) && (n < 2 || data[n - 2] != b'\\') {
        assert_eq!(inline, config);
    }
    if let Some(args) = &inline {
        for a in args {
            // A raw 0xFF is dropped: one in the output came from `\xff`.
            assert!(
                !a.contains(&0xff)
                    || data
                        .windows(4)
                        .any(|w| w[..2] == *b"\\x" && w[2..].eq_ignore_ascii_case(b"ff"))
            );
        }
    }

    // The parser sees the same line the same way.
    if n <= 60 * 1024
        && !data.contains(&0)
        && !data.contains(&b'\n')
        && data.first() != Some(&b'*')
        && data.last() != Some(&b'\r')
    {
        let mut buf = BytesMut::from(data);
        buf.extend_from_slice(b"\r\n");
        let got = Parser::new().parse(&mut buf, &Limits::default());
        match (&inline, got) {
            (None, Err(e)) => assert_eq!(e.0, "unbalanced quotes in request"),
            (Some(v), Ok(None)) => assert!(v.is_empty()),
            (Some(v), Ok(Some(argv))) => {
                let got: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
                assert_eq!(&got, v);
            }
            (want, got) => panic!("splitter {want:?}, parser {got:?}"),
        }
    }

    // Round trip: the input, cut at 0x00 bytes, as a list of arguments.
    let args: Vec<&[u8]> = data.split(|&c| c == 0).collect();
    let mut line = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        if i % 2 == 1 && plain_ok(a) {
            line.extend_from_slice(a);
        } else {
            quote(a, &mut line);
        }
    }
    let want: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    assert_eq!(split_inline_args(&line).as_ref(), Some(&want));
    assert_eq!(split_args(&line).as_ref(), Some(&want));
});
