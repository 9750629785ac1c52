//! The RESP request parser, two ways on the same bytes: whole (the fast path
//! takes every complete multibulk) and cut at up to three points chosen by
//! the input (the incremental parser resumes across the cuts). Both must
//! give the same commands, the same error, and end in the same state; no
//! argument may exceed the bulk limit, and the buffer may never have been
//! given room far beyond the bytes that arrived.
//!
//! Input: byte 0 picks the limits, bytes 1..7 the cut points, the rest is
//! what the client sent.

#![no_main]

use bytes::BytesMut;
use ferrokey::resp::parser::BULK_READ_AHEAD;
use ferrokey::resp::{Argv, Limits, Parser, ProtocolError};
use libfuzzer_sys::fuzz_target;

/// Everything parsed from the chunks, in order, and the final state.
#[derive(Debug, PartialEq)]
struct Outcome {
    cmds: Vec<Vec<Vec<u8>>>,
    error: Option<ProtocolError>,
    rest: Vec<u8>,
    in_progress: bool,
    bulk_needs: usize,
}

fn run(chunks: &[&[u8]], lim: &Limits) -> Outcome {
    let total: usize = chunks.iter().map(|c| c.len()).sum();
    let mut p = Parser::new();
    let mut buf = BytesMut::new();
    let mut cmds = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let r = p.parse(&mut buf, lim);
            // Room reserved is bounded by what arrived plus the read-ahead,
            // whatever length the client declared.
            assert!(
                buf.capacity() <= 2 * total + BULK_READ_AHEAD + 4096,
                "capacity {} for {} bytes",
                buf.capacity(),
                total
            );
            match r {
                Ok(Some(argv)) => {
                    check_argv(&argv, lim);
                    cmds.push(argv.iter().map(|a| a.to_vec()).collect());
                }
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        cmds,
                        error: Some(e),
                        rest: Vec::new(),
                        in_progress: false,
                        bulk_needs: 0,
                    }
                }
            }
        }
    }
    Outcome {
        cmds,
        error: None,
        rest: buf.to_vec(),
        in_progress: p.in_progress(),
        bulk_needs: p.bulk_needs(),
    }
}

fn check_argv(argv: &Argv, lim: &Limits) {
    assert!(
        !argv.is_empty(),
        "an empty command is skipped, not returned"
    );
    for a in argv {
        assert!(a.len() <= lim.max_bulk_len.max(64 * 1024));
    }
    if !lim.authenticated {
        assert!(argv.len() <= 10 || argv.iter().all(|a| a.len() <= 64 * 1024));
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 7 || data.len() > 256 * 1024 {
        return;
    }
    let (ctl, wire) = data.split_at(7);
    let lim = Limits {
        max_bulk_len: match ctl[0] & 3 {
            0 => 512 << 20,
            1 => 16,
            2 => 0,
            _ => i64::MAX as usize,
        },
        authenticated: ctl[0] & 4 == 0,
    };
    let whole = run(&[wire], &lim);
    let mut cuts: Vec<usize> = ctl[1..]
        .chunks(2)
        .map(|c| (u16::from_le_bytes([c[0], c[1]]) as usize) % (wire.len() + 1))
        .collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut at = 0;
    for c in cuts {
        chunks.push(&wire[at..c]);
        at = c;
    }
    chunks.push(&wire[at..]);
    let split = run(&chunks, &lim);
    assert_eq!(
        whole,
        split,
        "cuts {:?}",
        chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
    );
});
