//! The config file parser (`config::file::apply_text`), on arbitrary text
//! and on lines built from the directive table. Properties: no panic; an
//! error names a line that exists; after a successful parse every directive
//! can be read back (CONFIG GET), and reading it does not panic; the same
//! text always gives the same result.
//!
//! Input: byte 0 chooses raw text (even) or structured lines (odd); in
//! structured mode each line is a directive name from the table (or an
//! alias-like variant) followed by words cut from the input.

#![no_main]

use std::sync::OnceLock;

use ferrokey::config::file::apply_text;
use ferrokey::config::{Config, DIRECTIVES};
use libfuzzer_sys::fuzz_target;

const WORDS: &[&str] = &[
    "yes",
    "no",
    "0",
    "1",
    "-1",
    "100",
    "1gb",
    "10mb",
    "512k",
    "4",
    "-2",
    "\"\"",
    "''",
    "\"a b\"",
    "allkeys-lru",
    "noeviction",
    "warning",
    "notice",
    "debug",
    "3600",
    "300 10",
    "9223372036854775807",
    "18446744073709551616",
    "0x10",
    "1.5",
    "inf",
    "nan",
    "\"\\x41\"",
    "'it\\'s'",
    "*",
    "::1",
    "127.0.0.1",
    "#",
    "\"unbalanced",
    "abc\"",
    "everysec",
    "always",
    "/tmp",
    "dump.rdb",
];

fn structured(data: &[u8]) -> String {
    let mut text = String::new();
    let mut it = data.iter().copied();
    while let Some(b) = it.next() {
        let d = &DIRECTIVES[b as usize % DIRECTIVES.len()];
        match it.next().unwrap_or(0) % 8 {
            0 => text.push_str(&d.name.to_uppercase()),
            1 => text.push_str(&format!("  {}", d.name)),
            _ => text.push_str(d.name),
        }
        let nargs = it.next().unwrap_or(0) % 4;
        for _ in 0..nargs {
            text.push(' ');
            let w = it.next().unwrap_or(0);
            if w < 200 {
                text.push_str(WORDS[w as usize % WORDS.len()]);
            } else {
                // A short run of raw input, as text.
                let n = (w - 200) as usize % 8;
                let raw: Vec<u8> = it.by_ref().take(n).collect();
                text.push_str(&String::from_utf8_lossy(&raw));
            }
        }
        text.push_str(if it.next().unwrap_or(0) % 5 == 0 {
            "\r\n"
        } else {
            "\n"
        });
    }
    text
}

fn parse(text: &str) -> (Result<(), (usize, String)>, Vec<String>) {
    // Built once: the defaults are parsed from the table each time.
    static DEFAULT: OnceLock<Config> = OnceLock::new();
    let mut cfg = DEFAULT.get_or_init(Config::default).clone();
    let r = apply_text(&mut cfg, text, "fuzz.conf").map_err(|e| (e.line, e.reason));
    let values = DIRECTIVES.iter().map(|d| (d.get)(&cfg)).collect();
    (r, values)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = if mode % 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        structured(rest)
    };
    let first = parse(&text);
    if let Err((line, _)) = &first.0 {
        assert!(*line >= 1 && *line <= text.lines().count(), "line {line}");
    }
    // Deterministic (a cheap re-run on short texts only).
    if text.len() < 256 {
        assert_eq!(first, parse(&text));
    }
});
