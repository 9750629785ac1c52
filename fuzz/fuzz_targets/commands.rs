//! Random commands through the real dispatch onto a real keyspace
//! (`exec::Harness`: `the `call` path`, no sockets), with invariants
//! checked after every command:
//! - no panic;
//! - in every db, DBSIZE = the table's length = the distinct keys a full
//!   scan of the table visits;
//! - no empty list, hash, set or sorted set is left in the keyspace;
//! - compact encodings stay within their thresholds, which are set small
//!   (4 entries, 8-byte values) so conversions happen: a listpack list has
//!   at most 4 elements; a listpack hash, set or zset at most 4 entries of
//!   at most 8 bytes; an intset at most 4 members, all integers.
//!
//! Input: a byte stream decoded into commands. Each command name comes from
//! the command table (minus blocking commands, DEBUG, SHUTDOWN and the
//! CLIENT/CONFIG subcommands that act on the process); each argument is a
//! key, a member, a number, a keyword from dictionaries, or raw input bytes.
//! Encoding: name (0xFF then the name and a space, or two bytes indexing the
//! table), argument count, then per argument a kind byte and a choice byte
//! (kind 7: the choice is a length and that many raw bytes follow).

#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use bytes::Bytes;
use ferrokey::commands::CMD_TABLE;
use ferrokey::config::Config;
use ferrokey::exec::Harness;
use ferrokey::keyspace::value::Value;
use ferrokey::util::num::parse_i64;
use libfuzzer_sys::fuzz_target;

const ENTRIES: usize = 4;
const VALUE_BYTES: usize = 8;

const EXCLUDED: &[&str] = &[
    "blmove",
    "blmpop",
    "blpop",
    "brpop",
    "brpoplpush",
    "bzmpop",
    "bzpopmax",
    "bzpopmin",
    "debug",
    "shutdown",
    "wait",
    "waitaof",
    "monitor",
    "sync",
    "psync",
    "replicaof",
    "slaveof",
    "save",
    "bgsave",
    "bgrewriteaof",
];

const KEYS: &[&str] = &["k1", "k2", "k3", "{t}a", "{t}b", "k*", "nokey"];
const MEMBERS: &[&str] = &[
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "1",
    "2",
    "3",
    "10",
    "-5",
    "007",
    "longer-than-8",
    "a-long-value-that-does-not-fit",
    "",
];
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "4",
    "5",
    "10",
    "100",
    "-100",
    "1.5",
    "-0.5",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "(1",
    "(2",
    "[a",
    "[c",
    "(b",
    "-",
    "+",
    "0.0001",
    "1e3",
    "2147483648",
    "-2147483649",
];
const WORDS: &[&str] = &[
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "WITHSCORES",
    "WITHSCORE",
    "LIMIT",
    "BY",
    "STORE",
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "KEEPTTL",
    "GET",
    "PERSIST",
    "LEFT",
    "RIGHT",
    "BEFORE",
    "AFTER",
    "COUNT",
    "MATCH",
    "TYPE",
    "REV",
    "BYSCORE",
    "BYLEX",
    "WEIGHTS",
    "AGGREGATE",
    "SUM",
    "MIN",
    "MAX",
    "ALPHA",
    "ASC",
    "DESC",
    "RANK",
    "MAXLEN",
    "IDX",
    "LEN",
    "MINMATCHLEN",
    "WITHMATCHLEN",
    "FIELDS",
    "ENCODING",
    "FREQ",
    "IDLETIME",
    "REFCOUNT",
    "HELP",
    "LIST",
    "INFO",
    "DOCS",
    "GETKEYS",
    "SETNAME",
    "GETNAME",
    "REPLY",
    "ON",
    "OFF",
    "SKIP",
    "ID",
    "NO-EVICT",
    "NO-TOUCH",
    "USAGE",
    "RESET",
    "DOCTOR",
    "HISTORY",
    "LATEST",
    "HISTOGRAM",
    "string",
    "list",
    "hash",
    "set",
    "zset",
    "ASYNC",
    "SYNC",
    "REPLACE",
    "DB",
    "SETINFO",
    "LIB-NAME",
    "3",
    "2",
    "*",
    "#",
    "k*->f",
    "*->a",
    "nosort",
];

fn commands() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        CMD_TABLE
            .specs
            .iter()
            .map(|s| s.name)
            .filter(|n| !n.contains('|') && !EXCLUDED.contains(n))
            .collect()
    })
}

/// FUZZ_TRACE=1 prints each command and the start of its reply (to read
/// a crash input: `FUZZ_TRACE=1 cargo +nightly fuzz run commands FILE`).
fn trace() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, rest) = self.0.split_at(n);
        self.0 = rest;
        a
    }
}

fn pick<'a>(list: &[&'a str], b: u8) -> &'a str {
    list[b as usize % list.len()]
}

fn arg(inp: &mut Input) -> Option<Bytes> {
    let kind = inp.byte()?;
    let b = inp.byte().unwrap_or(0);
    Some(match kind % 8 {
        0 | 1 => Bytes::from_static(pick(KEYS, b).as_bytes()),
        2 | 3 => Bytes::from_static(pick(MEMBERS, b).as_bytes()),
        4 => Bytes::from_static(pick(NUMBERS, b).as_bytes()),
        5 | 6 => Bytes::from_static(pick(WORDS, b).as_bytes()),
        _ => {
            let n = b as usize % 24;
            Bytes::copy_from_slice(inp.take(n))
        }
    })
}

fn command(inp: &mut Input) -> Option<Vec<Bytes>> {
    let names = commands();
    let c = inp.byte()?;
    let name = if c == 0xff {
        // A name spelled out up to a space (how the seeds are written).
        let n = inp.0.iter().position(|&b| b == b' ').unwrap_or(inp.0.len());
        let spelled = inp.take(n).to_ascii_lowercase();
        inp.byte();
        let found = names.iter().find(|n| n.as_bytes() == spelled.as_slice());
        found.copied().unwrap_or("ping")
    } else {
        names[(c as usize * 7 + inp.byte()? as usize) % names.len()]
    };
    let nargs = inp.byte()? % 9;
    let mut argv = vec![Bytes::from_static(name.as_bytes())];
    for _ in 0..nargs {
        argv.push(arg(inp)?);
    }
    let sub = argv.get(1).map(|a| a.to_ascii_lowercase());
    let sub = sub.as_deref().unwrap_or(b"");
    match name {
        "client" if matches!(sub, b"kill" | b"pause" | b"unpause") => {
            argv.truncate(1);
            argv.push(Bytes::from_static(b"ID"));
        }
        // A random-member count of -N replies N elements, as in Valkey (a
        // 2^31-element reply takes minutes and gigabytes): kept small here.
        "srandmember" | "zrandmember" | "hrandfield"
            if argv
                .get(2)
                .and_then(|a| parse_i64(a))
                .is_some_and(|n| n.unsigned_abs() > 1000) =>
        {
            argv[2] = Bytes::from_static(b"-1000");
        }
        "config" if sub != b"get" => {
            argv.truncate(1);
            argv.push(Bytes::from_static(b"GET"));
            argv.push(Bytes::from_static(b"*max*"));
        }
        _ => {}
    }
    Some(argv)
}

/// Bulk strings of a RESP2 array reply (nested arrays flattened).
fn bulks(reply: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < reply.len() {
        let Some(nl) = reply[i..].iter().position(|&c| c == b'\n') else {
            break;
        };
        let line = &reply[i..i + nl - 1];
        i += nl + 1;
        if line.first() == Some(&b'$') {
            let Some(n) = parse_i64(&line[1..]) else {
                continue;
            };
            if n >= 0 {
                out.push(reply[i..i + n as usize].to_vec());
                i += n as usize + 2;
            }
        }
    }
    out
}

fn check(h: &mut Harness, checker: usize) {
    let now = ferrokey::keyspace::now_ms();
    for d in 0..h.state.dbs.len() {
        let db = &h.state.dbs[d];
        let mut keys = HashSet::new();
        let mut compact = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = db.table().scan(cursor, |e| {
                keys.insert(e.key().to_vec());
                let live = e.expire() == 0 || e.expire() > now;
                let v = e.value();
                let (len, enc) = match &*v {
                    // An emptied stream stays, as in Valkey.
                    Value::Str(_) | Value::Stream(_) => return,
                    Value::List(l) => (l.len(), l.encoding()),
                    Value::Hash(x) => (x.len(), x.encoding()),
                    Value::Set(x) => (x.len(), x.encoding()),
                    Value::ZSet(x) => (x.len(), x.encoding()),
                };
                let key = String::from_utf8_lossy(e.key());
                assert!(len > 0, "empty {} left at {key:?} in db {d}", v.type_name());
                if enc == "listpack" || enc == "intset" {
                    assert!(
                        len <= ENTRIES,
                        "{enc} {} of {len} at {key:?}",
                        v.type_name()
                    );
                    if live && v.type_name() != "list" {
                        compact.push((e.key().to_vec(), v.type_name(), enc));
                    }
                }
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(keys.len(), db.len(), "scan vs length in db {d}");
        h.clients.at_mut(checker).db = d;
        let size = h.run(checker, &[Bytes::from_static(b"DBSIZE")]);
        assert_eq!(
            size,
            format!(":{}\r\n", keys.len()).into_bytes(),
            "DBSIZE in db {d}"
        );
        for (key, ty, enc) in compact {
            let key = Bytes::from(key);
            let argv: Vec<Bytes> = match ty {
                "hash" => vec![Bytes::from_static(b"HGETALL"), key.clone()],
                "set" => vec![Bytes::from_static(b"SMEMBERS"), key.clone()],
                _ => vec![
                    Bytes::from_static(b"ZRANGE"),
                    key.clone(),
                    Bytes::from_static(b"0"),
                    Bytes::from_static(b"-1"),
                ],
            };
            let items = bulks(&h.run(checker, &argv));
            for it in &items {
                // An intset's limit is its count; its members must be integers.
                if enc == "intset" {
                    assert!(parse_i64(it).is_some(), "intset {key:?} holds {it:?}");
                } else {
                    assert!(it.len() <= VALUE_BYTES, "{enc} {ty} {key:?} holds {it:?}");
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The configuration is built once: small thresholds, so that encodings
    // convert within a few commands.
    static BASE: OnceLock<Config> = OnceLock::new();
    let cfg = BASE.get_or_init(|| {
        let mut cfg = Config::default();
        cfg.databases = 3;
        for (name, value) in [
            ("list-max-listpack-size", "4"),
            ("hash-max-listpack-entries", "4"),
            ("hash-max-listpack-value", "8"),
            ("set-max-intset-entries", "4"),
            ("set-max-listpack-entries", "4"),
            ("set-max-listpack-value", "8"),
            ("zset-max-listpack-entries", "4"),
            ("zset-max-listpack-value", "8"),
        ] {
            cfg.set(name, &[value.to_string()]).expect("threshold");
        }
        cfg
    });
    let mut h = Harness::new(cfg.clone());
    let user = h.add_client();
    let checker = h.add_client();
    let mut inp = Input(data);
    for _ in 0..64 {
        let Some(argv) = command(&mut inp) else {
            break;
        };
        if trace() {
            let shown: Vec<String> = argv
                .iter()
                .map(|a| format!("{:?}", String::from_utf8_lossy(a)))
                .collect();
            eprintln!("> {}", shown.join(" "));
        }
        let reply = h.run(user, &argv);
        if trace() {
            eprintln!(
                "< {:?}",
                String::from_utf8_lossy(&reply[..reply.len().min(200)])
            );
        }
        check(&mut h, checker);
    }
});
