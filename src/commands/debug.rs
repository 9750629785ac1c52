//! DEBUG: the subcommands of Valkey's that need no persistence, with its
//! argument checks and reply texts, available as `enable-debug-command`
//! allows.
//!
//! Each one acts on the real thing: SET-ACTIVE-EXPIRE and PAUSE-CRON switch
//! the cron's parts off (`exec::cron`), DICT-RESIZING stops the keys and
//! expires tables from starting a resize, QUICKLIST-PACKED-THRESHOLD moves
//! the size from which a list element gets a plain node of its own,
//! CHANGE-REPL-ID makes a new replication id, OBJECT reports the stored
//! value (`serializedlength` per `rdb_len`), DIGEST / DIGEST-VALUE give
//! Valkey's signatures (`digest`), RELOAD saves and loads back and LOADAOF
//! loads the AOF again (`reload`).
//! Not here: REPLYBUFFER (ferrokey's reply
//! buffers have no peak-tracking resize cron to tune), and names Valkey does
//! not have (JMAP, STRINGMATCH-LEN: Valkey's is STRINGMATCH-TEST).

use std::fmt::Write as _;
use std::time::Duration;

use super::args::is;
use super::flags::*;
use super::meta::{Doc, Group};
use super::server::{reply_help, subcommand_syntax_error};
use super::{CommandSpec, Ctx, KeySpec};
use crate::config::directives::parse_memory;
use crate::error::{CmdError, CmdResult, DEBUG_NOT_ALLOWED, NO_SUCH_KEY};
use crate::keyspace::list::{listpack_blob, packed_threshold_for, set_packed_threshold, Elem};
use crate::keyspace::{Access, Value};

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "debug",
    arity: -2,
    flags: ADMIN | NOSCRIPT | LOADING | STALE,
    keys: KeySpec::NONE,
    handler: debug,
    subcommands: &[],
    doc: &Doc {
        summary: "DEBUG subcommands: testing and diagnostics.",
        complexity: "Depends on the subcommand.",
        doc_flags: super::meta::doc_flags::SYSCMD,
        ..Doc::new(Group::Server, "1.0.0", 0)
    },
}];

fn debug_allowed(ctx: &Ctx) -> bool {
    match ctx.config().enable_debug_command.as_str() {
        "yes" => true,
        "local" => ctx.client_ref().addr.ip().is_loopback(),
        _ => false,
    }
}

const HELP: &[&str] = &[
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "DICT-RESIZING <0|1>",
    "    Enable or disable the main dict and expire dict resizing.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a RESP protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate error replies.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key> [fast]",
    "    Show low level info about `key` and associated value.",
    "    Some fields of the default behavior may be time consuming to fetch,",
    "    and `fast` can be passed to avoid fetching them.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the behavior). Setting it to 1 reenables back the",
    "    default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
];

fn debug(ctx: &mut Ctx) -> CmdResult {
    if !debug_allowed(ctx) {
        return Err(DEBUG_NOT_ALLOWED.into());
    }
    let sub = &ctx.argv[1];
    let argc = ctx.argv.len();
    if is(sub, "help") && argc == 2 {
        reply_help(ctx, "DEBUG", HELP);
    } else if is(sub, "sleep") && argc == 3 {
        // Blocks the main thread on purpose: tests use it to make a
        // command slow. Like strtod, a malformed number counts as 0, and a
        // negative one does not sleep.
        let secs = strtod_prefix(&ctx.argv[2]);
        if let Ok(d) = Duration::try_from_secs_f64(secs) {
            std::thread::sleep(d);
        }
        ctx.out.ok();
    } else if is(sub, "protocol") && argc == 3 {
        return debug_protocol(ctx);
    } else if is(sub, "object") && (argc == 3 || argc == 4) {
        return debug_object(ctx);
    } else if is(sub, "listpack") && argc == 3 {
        return debug_listpack(ctx);
    } else if is(sub, "set-active-expire") && argc == 3 {
        ctx.admin().state.debug.active_expire = atoi(&ctx.argv[2]) != 0;
        ctx.out.ok();
    } else if is(sub, "set-disable-deny-scripts") && argc == 3 {
        ctx.admin().state.debug.allow_noscript = atoi(&ctx.argv[2]) != 0;
        ctx.out.ok();
    } else if is(sub, "set-skip-checksum-validation") && argc == 3 {
        crate::persist::set_skip_checksum(atoi(&ctx.argv[2]) != 0);
        ctx.out.ok();
    } else if is(sub, "aof-flush-sleep") && argc == 3 {
        // Microseconds the AOF writer sleeps before each write (tests).
        ctx.admin().state.aof.flush_sleep_us = atoi(&ctx.argv[2]).max(0) as u64;
        ctx.out.ok();
    } else if is(sub, "pause-cron") && argc == 3 {
        ctx.admin().state.debug.pause_cron = atoi(&ctx.argv[2]) != 0;
        ctx.out.ok();
    } else if is(sub, "dict-resizing") && argc == 3 {
        let on = atoi(&ctx.argv[2]) != 0;
        for db in &mut ctx.admin().state.dbs {
            db.set_resize_allowed(on);
        }
        ctx.out.ok();
    } else if is(sub, "quicklist-packed-threshold") && argc == 3 {
        let sz = std::str::from_utf8(&ctx.argv[2])
            .ok()
            .and_then(|s| parse_memory(s).ok())
            .and_then(packed_threshold_for);
        let Some(sz) = sz else {
            return Err(
                "ERR argument must be a memory value bigger than 1 and smaller than 4gb".into(),
            );
        };
        set_packed_threshold(sz);
        ctx.out.ok();
    } else if is(sub, "change-repl-id") && argc == 2 {
        tracing::info!("Changing replication IDs after receiving DEBUG change-repl-id");
        let st = ctx.admin().state;
        st.replid = st.new_replid();
        ctx.out.ok();
    } else if is(sub, "stringmatch-test") && argc == 2 {
        stringmatch_fuzz();
        ctx.out
            .simple("Apparently the server did not crash: test passed");
    } else if is(sub, "digest") && argc == 2 {
        let now = ctx.now;
        let dbs = ctx.admin().state.dbs.iter().map(|db| {
            let keys = db
                .table()
                .iter()
                .map(|e| super::digest::key_digest(e.key(), e, now))
                .collect();
            (db.id, keys)
        });
        let d = super::digest::dataset_digest(dbs);
        ctx.out.simple(&super::digest::hex(&d));
    } else if is(sub, "digest-value") && argc >= 2 {
        // Logically expired keys count too, as Valkey's dbFind sees them.
        let keys: Vec<_> = ctx.argv[2..].to_vec();
        let now = ctx.now;
        ctx.out.array(keys.len());
        for k in keys {
            let mut d = [0u8; 20];
            if let Some(e) = ctx.db().table().get(&k) {
                super::digest::object_digest(&mut d, e, now);
            }
            let h = super::digest::hex(&d);
            ctx.out.simple(&h);
        }
    } else if is(sub, "config-rewrite-force-all") && argc == 2 {
        return super::config::rewrite_config_file(ctx, true);
    } else if is(sub, "reload") {
        return super::reload::debug_reload(ctx);
    } else if is(sub, "loadaof") && argc == 2 {
        return super::reload::debug_loadaof(ctx);
    } else if is(sub, "populate") && (3..=5).contains(&argc) {
        return debug_populate(ctx);
    } else if is(sub, "log") && argc == 3 {
        tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&ctx.argv[2]));
        ctx.out.ok();
    } else if is(sub, "error") && argc == 3 {
        // Newlines would break the error line.
        let msg: Vec<u8> = ctx.argv[2]
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
            .collect();
        let mut line = Vec::with_capacity(msg.len() + 3);
        line.push(b'-');
        line.extend_from_slice(&msg);
        line.extend_from_slice(b"\r\n");
        ctx.out.raw(&line);
    } else {
        return Err(subcommand_syntax_error(sub, "DEBUG"));
    }
    Ok(())
}

/// Valkey's getPositiveLongFromObjectOrReply: one message for a
/// negative number and for no number at all.
fn positive_long(a: &[u8]) -> Result<i64, CmdError> {
    match crate::util::num::parse_i64(a) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err("ERR value is out of range, must be positive".into()),
    }
}

/// `DEBUG POPULATE count [prefix] [size]`: string keys `prefix:n` holding
/// `value:n` (zero-padded or cut to `size` bytes); existing keys are left
/// alone.
fn debug_populate(ctx: &mut Ctx) -> CmdResult {
    let count = positive_long(&ctx.argv[2])?;
    let size = match ctx.argv.get(4) {
        Some(a) => positive_long(a)? as u64,
        None => 0,
    };
    // Valkey would try any size; one value is bounded like any string here.
    if size > ctx.config().proto_max_bulk_len as u64 {
        return Err(crate::error::STRING_TOO_LONG.into());
    }
    let prefix = ctx
        .argv
        .get(3)
        .map_or_else(|| b"key".to_vec(), |p| p.to_vec());
    let now = ctx.now;
    for j in 0..count {
        let mut key = prefix.clone();
        key.push(b':');
        key.extend_from_slice(j.to_string().as_bytes());
        if ctx.db().lookup(&key, now, Access::PEEK).is_some() {
            continue;
        }
        let mut val = format!("value:{j}").into_bytes();
        if size > 0 {
            val.resize(size as usize, 0);
        }
        let value = Value::Str(crate::keyspace::value::Str::from_bytes(&val));
        ctx.db().add(&key, value, now);
        ctx.signal_ready(&key);
    }
    ctx.out.ok();
    Ok(())
}

/// C's `atoi`: optional spaces and sign, then digits; 0 if none.
fn atoi(a: &[u8]) -> i64 {
    let s = std::str::from_utf8(a).unwrap_or("").trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    let n: i64 = digits[..end]
        .bytes()
        .take(18)
        .fold(0, |n, b| n * 10 + i64::from(b - b'0'));
    if neg {
        -n
    } else {
        n
    }
}

/// The number at the start of `a`, as C's `strtod` reads it; 0 if none.
fn strtod_prefix(a: &[u8]) -> f64 {
    let s = std::str::from_utf8(a).unwrap_or("");
    let s = s.trim_start();
    // The longest prefix that parses: at most a few dozen tries for any
    // sane input, and inputs are bounded by the protocol's bulk limit.
    let limit = s.len().min(64);
    (1..=limit)
        .rev()
        .filter(|&i| s.is_char_boundary(i))
        .find_map(|i| {
            let p = &s[..i];
            // Rust accepts "inf"/"nan" spellings; strtod's would sleep
            // forever or not at all, so they count as 0 here.
            if p.bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            {
                p.parse::<f64>().ok()
            } else {
                None
            }
        })
        .unwrap_or(0.0)
}

/// `Value at:... refcount:... encoding:... serializedlength:... lru:...
/// lru_seconds_idle:...` (or `lfu_freq:... lfu_access_time_minutes:...`
/// under an LFU policy), plus `ql_*` fields for a quicklist, as Valkey 9.1
/// prints them.
fn debug_object(ctx: &mut Ctx) -> CmdResult {
    let fast = ctx.argv.len() == 4 && is(&ctx.argv[3], "fast");
    let key = ctx.argv[2].clone();
    let now = ctx.now;
    let lfu = ctx.config().lfu_policy();
    let compress = ctx.config().extra.get("rdbcompression").map(String::as_str) != Some("no");
    let fill = ctx.config().list_max_listpack_size;
    let compressed = ctx.config().list_compress_depth != 0;
    // As Valkey's dbFind: an expired key is shown, not expired.
    let Some(e) = ctx.db().find(&key) else {
        return Err(NO_SUCH_KEY.into());
    };
    let view = e.value();
    let v: &Value = &view;
    let mut s = format!(
        "Value at:{:p} refcount:1 encoding:{}",
        e as *const _,
        v.encoding(key.len(), e.expire() != 0)
    );
    if !fast {
        let _ = write!(
            s,
            " serializedlength:{}",
            super::rdb_len::serialized_len(e, compress)
        );
    }
    if lfu {
        let _ = write!(
            s,
            " lfu_freq:{} lfu_access_time_minutes:{}",
            e.freq(now),
            e.access() >> 8
        );
    } else {
        // Valkey's LRU clock is 24 bits of seconds.
        let _ = write!(
            s,
            " lru:{} lru_seconds_idle:{}",
            e.access() & ((1 << 24) - 1),
            e.idle_secs(now)
        );
    }
    if let Value::List(l) = v {
        if l.encoding() == "quicklist" {
            let (nodes, sz) = l.node_stats();
            let avg = l.len() as f64 / nodes.max(1) as f64;
            let _ = write!(
                s,
                " ql_nodes:{nodes} ql_avg_node:{avg:.2} ql_listpack_max:{} ql_compressed:{}",
                // As the quicklist holds it (quicklistSetFill).
                fill.clamp(-5, 1 << 15),
                u8::from(compressed)
            );
            if !fast {
                let _ = write!(s, " ql_uncompressed_size:{sz}");
            }
        }
    }
    drop(view);
    ctx.out.simple(&s);
    Ok(())
}

/// Prints a listpack-encoded value's listpack to stdout, entry by entry
/// (Valkey's `lpRepr` layout, for the fields ferrokey keeps).
fn debug_listpack(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.argv[2].clone();
    let now = ctx.now;
    let Some(e) = ctx.db().lookup(&key, now, Access::PEEK) else {
        return Err(NO_SUCH_KEY.into());
    };
    let view = e.value();
    let v: &Value = &view;
    let items: Option<Vec<Vec<u8>>> = match v {
        Value::List(l) if l.encoding() == "listpack" => {
            Some(l.iter().map(|x| x.to_vec()).collect())
        }
        Value::Hash(h) if h.encoding() == "listpack" => Some(
            h.iter()
                .flat_map(|(k, v)| [k.to_vec(), v.to_vec()])
                .collect(),
        ),
        Value::Set(st) if st.encoding() == "listpack" => {
            Some(st.members().map(|m| m.to_bytes().into_owned()).collect())
        }
        Value::ZSet(z) if z.encoding() == "listpack" => Some(
            z.iter()
                .flat_map(|(m, sc)| [m.to_vec(), crate::util::num::format_double(sc).into_bytes()])
                .collect(),
        ),
        _ => None,
    };
    drop(view);
    let Some(items) = items else {
        return Err("ERR Not a listpack encoded object.".into());
    };
    let blob = listpack_blob(items.iter().map(|b| Elem::of(b)));
    let mut text = format!(
        "{{total bytes {}}} {{num entries {}}}\n",
        blob.len(),
        items.len()
    );
    let mut off = 6;
    for (i, item) in items.iter().enumerate() {
        let one = listpack_blob([Elem::of(item)]).len() - 7;
        let _ = write!(
            text,
            "{{\n\tindex: {i:>2},\n\toffset: {off:>5},\n\thdr+entrylen+backlen: {one:>2},\n"
        );
        match Elem::of(item) {
            Elem::Int(n) => {
                let _ = writeln!(text, "\t[int]{n}");
            }
            Elem::Bytes(b) => {
                let _ = writeln!(text, "\t[str]{}", String::from_utf8_lossy(b));
            }
        }
        text.push_str("}\n");
        off += one;
    }
    text.push_str("{end}\n");
    // Valkey prints to stdout too, whatever the log file.
    print!("{text}");
    ctx.out.simple("Listpack structure printed on stdout");
    Ok(())
}

/// Valkey's `stringmatchlen_fuzz_test`: random patterns against random
/// strings (32 bytes at most, 7-bit), checking the matcher survives.
fn stringmatch_fuzz() {
    let mut rng = crate::util::rng::Rng::default();
    let mut total: u64 = 0;
    let mut pat = [0u8; 32];
    let mut s = [0u8; 32];
    for _ in 0..10_000_000u32 {
        let sl = rng.below(32);
        let pl = rng.below(32);
        for b in s.iter_mut().take(sl) {
            *b = rng.below(128) as u8;
        }
        for b in pat.iter_mut().take(pl) {
            *b = rng.below(128) as u8;
        }
        total += u64::from(crate::util::glob::glob_match(&pat[..pl], &s[..sl], false));
    }
    println!("{total}");
}

fn debug_protocol(ctx: &mut Ctx) -> CmdResult {
    let t = &ctx.argv[2];
    let out = &mut *ctx.out;
    if is(t, "string") {
        out.bulk(b"Hello World");
    } else if is(t, "integer") {
        out.int(12345);
    } else if is(t, "double") {
        // Valkey's fixed test value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        out.double(3.141);
    } else if is(t, "bignum") {
        out.big_number("1234567999999999999999999999999999999");
    } else if is(t, "null") {
        out.null();
    } else if is(t, "array") {
        out.array(3);
        for j in 0..3 {
            out.int(j);
        }
    } else if is(t, "set") {
        out.set(3);
        for j in 0..3 {
            out.int(j);
        }
    } else if is(t, "map") {
        out.map(3);
        for j in 0..3 {
            out.int(j);
            out.boolean(j == 1);
        }
    } else if is(t, "attrib") {
        if out.is_resp3() {
            // An attribute map (RESP3 `|`) comes before the reply it annotates.
            out.raw(b"|1\r\n");
            out.bulk(b"key-popularity");
            out.array(2);
            out.bulk(b"key:123");
            out.int(90);
        }
        out.bulk(b"Some real reply following the attribute");
    } else if is(t, "push") {
        if !out.is_resp3() {
            return Err("ERR RESP2 is not supported by this command".into());
        }
        // Valkey's bytes show the ordinary reply first, then the push.
        out.bulk(b"Some real reply following the push reply");
        out.push(2);
        out.bulk(b"server-cpu-usage");
        out.int(42);
    } else if is(t, "verbatim") {
        out.verbatim(b"This is a verbatim\nstring");
    } else if is(t, "true") {
        out.boolean(true);
    } else if is(t, "false") {
        out.boolean(false);
    } else {
        return Err("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_prefixes() {
        assert_eq!(strtod_prefix(b"0.5"), 0.5);
        assert_eq!(strtod_prefix(b"2abc"), 2.0);
        assert_eq!(strtod_prefix(b"abc"), 0.0);
        assert_eq!(strtod_prefix(b" 1e-3"), 0.001);
        assert_eq!(strtod_prefix(b"-1"), -1.0);
        assert_eq!(strtod_prefix(b"inf"), 0.0);
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b"0"), 0);
        assert_eq!(atoi(b" 12abc"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"99999999999999999999999"), 999_999_999_999_999_999);
    }
}
