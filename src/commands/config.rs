//! CONFIG GET, SET, RESETSTAT, REWRITE and HELP, on the directive table in
//! `crate::config`: SET validates every pair on a copy of the
//! configuration and commits all or nothing; REWRITE keeps the file's
//! comments and order and writes it atomically.

use crate::util::strerror;
use bytes::Bytes;

use super::server::{reply_help, unix_now};
use super::Ctx;
use crate::config::directives::{HIDDEN, MULTI_ARG, PROTECTED, SAME_ONLY};
use crate::config::{Config, Directive};
use crate::error::{CmdError, CmdResult, NO_CONFIG_FILE, SYNTAX};
use crate::state::State;
use crate::util::glob::glob_match;

// ---------------------------------------------------------------- CONFIG

fn is_glob(p: &[u8]) -> bool {
    p.iter().any(|c| matches!(c, b'*' | b'?' | b'['))
}

pub(super) fn config_get(ctx: &mut Ctx) -> CmdResult {
    // (name as replied, value). Names are unique case-insensitively; an
    // exact (non-pattern) lookup replies with the name as the user spelled it.
    let mut pairs: Vec<(String, String)> = Vec::new();
    let seen =
        |pairs: &[(String, String)], n: &str| pairs.iter().any(|(p, _)| p.eq_ignore_ascii_case(n));
    for pat in &ctx.argv[2..] {
        if !is_glob(pat) {
            let Ok(name) = std::str::from_utf8(pat) else {
                continue;
            };
            if seen(&pairs, name) {
                continue;
            }
            if let Some(d) = Config::directive(name) {
                pairs.push((name.to_string(), (d.get)(ctx.config())));
            }
            continue;
        }
        // Names and aliases alike, as Valkey lists them; hidden ones only
        // by exact name.
        for d in crate::config::all().filter(|d| !d.has(HIDDEN)) {
            for n in std::iter::once(d.name).chain(d.alias) {
                if glob_match(pat, n.as_bytes(), true) && !seen(&pairs, n) {
                    pairs.push((n.to_string(), (d.get)(ctx.config())));
                }
            }
        }
    }
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    ctx.out.map(pairs.len());
    for (n, v) in pairs {
        ctx.out.bulk(n.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
    Ok(())
}

fn config_set_failed(name: &[u8], reason: &str) -> CmdError {
    CmdError::owned(format!(
        "ERR CONFIG SET failed (possibly related to argument '{}') - {reason}",
        crate::error::excerpt(name, 128)
    ))
}

pub(super) fn config_set(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if !argv.len().is_multiple_of(2) {
        return Err(SYNTAX.into());
    }
    // First pass, as Valkey: names known, mutable, not repeated; the first
    // problem found is the one reported.
    let mut chosen: Vec<(&'static Directive, &Bytes, &Bytes)> = Vec::new();
    for pair in argv[2..].chunks_exact(2) {
        let (name, value) = (&pair[0], &pair[1]);
        let d = std::str::from_utf8(name).ok().and_then(Config::directive);
        let Some(d) = d else {
            return Err(CmdError::owned(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                crate::error::excerpt(name, 128)
            )));
        };
        if !d.mutable {
            return Err(config_set_failed(name, "can't set immutable config"));
        }
        if d.has(PROTECTED) && !protected_allowed(ctx) {
            return Err(config_set_failed(name, "can't set protected config"));
        }
        // A name and its alias are separate entries in Valkey: both may be
        // given (the later wins); only the same spelling twice is refused.
        let shown = d.matched_name(&String::from_utf8_lossy(name));
        let dup = chosen.iter().any(|(c, n, _)| {
            std::ptr::eq(*c, d) && c.matched_name(&String::from_utf8_lossy(n)) == shown
        });
        if dup {
            return Err(config_set_failed(name, "duplicate parameter"));
        }
        chosen.push((d, name, value));
    }
    // Second pass on a copy: nothing changes unless every value is valid.
    let mut cfg = ctx.config().clone();
    for (d, name, value) in &chosen {
        let text = String::from_utf8_lossy(value);
        let args = if d.has(MULTI_ARG) {
            // Valkey splits on single spaces, not the config file's rules.
            text.split(' ').map(String::from).collect()
        } else {
            vec![text.into_owned()]
        };
        // Valkey names the directive as registered (lower case) here.
        let shown = d.matched_name(&String::from_utf8_lossy(name));
        (d.set)(&mut cfg, &args).map_err(|e| config_set_failed(shown.as_bytes(), &e))?;
        if d.has(SAME_ONLY) && (d.get)(&cfg) != (d.get)(ctx.config()) {
            return Err(config_set_failed(
                shown.as_bytes(),
                "changing it at run time is not supported by ferrokey",
            ));
        }
    }
    // Side effects that can fail come before the commit; one that fails
    // undoes those before it. New listening sockets (`port`, `bind`) come
    // first: dropping them is their undo. The first of the two given names
    // a failure, as Valkey applies in the order given.
    let old = ctx.config();
    let moved = chosen.iter().find(|(d, _, _)| {
        (d.name == "port" && cfg.port != old.port) || (d.name == "bind" && cfg.bind != old.bind)
    });
    let listeners = match moved {
        Some((d, _, _)) => Some(listen_anew(&cfg, d.name)?),
        None => None,
    };
    if let Some((_, name, _)) = chosen.iter().find(|(d, _, _)| d.name == "dir") {
        std::env::set_current_dir(&cfg.dir).map_err(|e| config_set_failed(name, &strerror(&e)))?;
        // Like Valkey's getcwd(): CONFIG GET dir shows the absolute path.
        if let Ok(abs) = std::env::current_dir() {
            cfg.dir = abs.display().to_string();
        }
    }
    // The IO side's limits, output limits included, apply from now on.
    ctx.admin().state.net_limits.sync(&cfg);
    // Access words switch meaning with the policy (the data adjusts over
    // time, as Valkey warns in OBJECT FREQ's error).
    let lfu = cfg.lfu_policy();
    ctx.admin().state.dbs.iter_mut().for_each(|d| d.lfu = lfu);
    crate::log::set_level(&cfg.loglevel);
    let in_exec = !ctx.may_block();
    let st = ctx.admin().state;
    st.config = cfg;
    st.config_changed();
    if let Err(e) = crate::commands::aof::apply_config(st, in_exec) {
        st.config.appendonly = false;
        return Err(config_set_failed(b"appendonly", e));
    }
    if listeners.is_some() {
        // The main loop swaps them in after this batch.
        st.new_listeners = listeners;
    }
    ctx.out.ok();
    Ok(())
}

/// CONFIG SET port or bind (`which`): sockets on every `bind` address
/// and `port` (none for port 0: no TCP, as Valkey), or Valkey's error for
/// `which`, the cause in the log.
fn listen_anew(cfg: &Config, which: &str) -> Result<crate::state::Listeners, CmdError> {
    crate::net::listener::bind_tcp(&cfg.bind, cfg.port, cfg.tcp_backlog).map_err(|e| {
        tracing::warn!("Warning: {}", strerror(&e));
        tracing::warn!(
            "Failed applying new configuration. Possibly related to new {which} setting. \
             Restoring previous settings."
        );
        let reason = if which == "port" {
            "Unable to listen on this port. Check server logs."
        } else {
            "Failed to bind to specified addresses."
        };
        config_set_failed(which.as_bytes(), reason)
    })
}

/// `enable-protected-configs`: yes, or local for a loopback client.
fn protected_allowed(ctx: &Ctx) -> bool {
    match ctx
        .config()
        .extra
        .get("enable-protected-configs")
        .map(String::as_str)
    {
        Some("yes") => true,
        Some("local") => ctx.client_ref().addr.ip().is_loopback(),
        _ => false,
    }
}

pub(super) fn config_resetstat(ctx: &mut Ctx) -> CmdResult {
    reset_stats(ctx.admin().state);
    ctx.out.ok();
    Ok(())
}

/// CONFIG RESETSTAT: counters and latency histograms back to zero; gauges
/// (pending lazy frees), the slow log and the latency monitor stay.
pub(super) fn reset_stats(st: &mut State) {
    let n = st.stats.commands.len();
    st.stats = Default::default();
    st.stats.commands = vec![Default::default(); n];
    st.lazyfree.reset_freed();
    if let Some(e) = st.scripting.as_mut() {
        e.evicted = 0;
    }
    st.scripting_seen.evicted = 0;
    for db in &mut st.dbs {
        db.expired_keys = 0;
        db.hits = 0;
        db.misses = 0;
    }
    crate::alloc::reset_peak();
    st.rates = Default::default();
}

pub(super) fn config_rewrite(ctx: &mut Ctx) -> CmdResult {
    rewrite_config_file(ctx, false)
}

/// CONFIG REWRITE, or with `force_all` DEBUG CONFIG-REWRITE-FORCE-ALL
/// (every directive written, defaults too).
pub(super) fn rewrite_config_file(ctx: &mut Ctx, force_all: bool) -> CmdResult {
    let Some(path) = ctx.config().config_file.clone() else {
        return Err(NO_CONFIG_FILE.into());
    };
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        // A config file removed since startup is written anew, as Valkey does.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(rewrite_error(&e)),
    };
    let text = rewrite_text(&old, ctx.config(), &Config::default(), force_all);
    write_atomically(&path, text.as_bytes()).map_err(|e| rewrite_error(&e))?;
    ctx.out.ok();
    Ok(())
}

fn rewrite_error(e: &std::io::Error) -> CmdError {
    CmdError::owned(format!("ERR Rewriting config file: {}", strerror(e)))
}

/// Marks lines CONFIG REWRITE appended, as Valkey's signature does.
const REWRITE_SIGNATURE: &str = "# Generated by CONFIG REWRITE";

/// The new config file text: comments, blank lines and lines we do not
/// recognise stay where they are; each directive's first line is replaced
/// by its current value (later duplicates are dropped); directives not in
/// the file are appended after the signature when they differ from the
/// default, or all of them with `force_all`.
pub fn rewrite_text(old: &str, cfg: &Config, defaults: &Config, force_all: bool) -> String {
    let mut lines: Vec<Option<String>> = Vec::new();
    // Directive name → indexes of its lines.
    let mut at: Vec<(&'static str, Vec<usize>)> = Vec::new();
    let mut has_signature = false;
    for raw in old.lines() {
        let t = raw.trim();
        if t == REWRITE_SIGNATURE {
            has_signature = true;
        }
        let name = if t.is_empty() || t.starts_with('#') {
            None
        } else {
            crate::resp::parser::split_args(t.as_bytes())
                .and_then(|a| a.into_iter().next())
                .and_then(|n| Config::directive(&String::from_utf8_lossy(&n)))
                .map(|d| d.name)
        };
        if let Some(n) = name {
            match at.iter_mut().find(|(m, _)| *m == n) {
                Some((_, v)) => v.push(lines.len()),
                None => at.push((n, vec![lines.len()])),
            }
        }
        lines.push(Some(raw.to_string()));
    }
    let mut tail: Vec<String> = Vec::new();
    for d in crate::config::all() {
        let value = (d.get)(cfg);
        let line = format!("{} {}", d.name, format_value(d, &value));
        match at.iter().find(|(m, _)| *m == d.name) {
            Some((_, idx)) => {
                for (k, &i) in idx.iter().enumerate() {
                    lines[i] = if k == 0 { Some(line.clone()) } else { None };
                }
            }
            None if force_all || value != (d.get)(defaults) => tail.push(line),
            None => {}
        }
    }
    let mut out = String::new();
    for l in lines.into_iter().flatten() {
        out.push_str(&l);
        out.push('\n');
    }
    if !tail.is_empty() {
        if !has_signature {
            out.push_str(REWRITE_SIGNATURE);
            out.push('\n');
        }
        for l in tail {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

/// A value as the config file reads it back: quoted and escaped when it is
/// empty or holds spaces, quotes or control bytes.
fn format_value(d: &Directive, value: &str) -> String {
    let plain = |v: &str| {
        !v.is_empty()
            && v.bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'))
    };
    if d.has(MULTI_ARG) && value.split(' ').all(plain) {
        return value.to_string();
    }
    if plain(value) {
        return value.to_string();
    }
    crate::config::file::repr(value)
}

/// Writes `data` to a temporary file beside `path`, then renames it over
/// `path`, so a crash never leaves a half-written config file.
fn write_atomically(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        unix_now().as_micros()
    ));
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

pub(super) fn config_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_keeps_comments_and_order() {
        let old = "# top comment\nport 6379\n\n# limits\nmaxclients 100\nmaxclients 200\nhz 10\n";
        let cfg = Config {
            maxclients: 50,
            hz: 20,
            timeout: 7,
            requirepass: Some("a b".into()),
            ..Config::default()
        };
        let text = rewrite_text(old, &cfg, &Config::default(), false);
        assert_eq!(
            text,
            "# top comment\nport 6379\n\n# limits\nmaxclients 50\nhz 20\n\
             # Generated by CONFIG REWRITE\nrequirepass \"a b\"\ntimeout 7\n"
        );
        // Rewriting again changes nothing and adds no second signature.
        assert_eq!(rewrite_text(&text, &cfg, &Config::default(), false), text);
        // Forced, every directive is written, and the file loads back to
        // the same values.
        let all = rewrite_text(old, &cfg, &Config::default(), true);
        let mut back = Config::default();
        crate::config::file::apply_text(&mut back, &all, "t").unwrap();
        for d in crate::config::all() {
            assert_eq!((d.get)(&back), (d.get)(&cfg), "{}", d.name);
            assert!(
                all.lines().any(|l| l.split(' ').next() == Some(d.name)),
                "{} not written",
                d.name
            );
        }
        // The result parses back to the same values.
        let mut back = Config::default();
        crate::config::file::apply_text(&mut back, &text, "t").unwrap();
        assert_eq!(back.maxclients, 50);
        assert_eq!(back.requirepass.as_deref(), Some("a b"));
    }

    #[test]
    fn values_quoted_only_when_needed() {
        let d = |n: &str| Config::directive(n).unwrap();
        assert_eq!(format_value(d("logfile"), ""), "\"\"");
        assert_eq!(format_value(d("save"), ""), "\"\"");
        assert_eq!(format_value(d("bind"), "127.0.0.1 -::1"), "127.0.0.1 -::1");
        assert_eq!(format_value(d("requirepass"), "x\"y\n"), "\"x\\\"y\\n\"");
        assert_eq!(format_value(d("hz"), "10"), "10");
    }
}
