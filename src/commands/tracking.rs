//! CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO: a connection's
//! client-side caching mode (Valkey's checks, in Valkey's order, with its
//! error texts). The tables and invalidations are `state::tracking`.

use bytes::Bytes;

use super::args::is;
use super::Ctx;
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::state::tracking::{Options, Tracking};
use crate::util::num::parse_i64;

const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN]
/// [OPTOUT] [NOLOOP].
pub fn client_tracking(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let mut redirect: i64 = 0;
    let mut opts = Options::default();
    let mut prefixes: Vec<Bytes> = Vec::new();
    let mut j = 3;
    while j < argv.len() {
        let a = &argv[j];
        let more = j + 1 < argv.len();
        if is(a, "REDIRECT") && more {
            j += 1;
            if redirect != 0 {
                return Err("ERR A client can only redirect to a single other client".into());
            }
            redirect = parse_i64(&argv[j]).ok_or(CmdError::from(NOT_INTEGER))?;
            // Checked now, though the target may still go away later.
            let exists = u64::try_from(redirect)
                .ok()
                .is_some_and(|id| ctx.admin().clients.by_id(id).is_some());
            if !exists {
                return Err("ERR The client ID you want redirect to does not exist".into());
            }
        } else if is(a, "BCAST") {
            opts.bcast = true;
        } else if is(a, "OPTIN") {
            opts.optin = true;
        } else if is(a, "OPTOUT") {
            opts.optout = true;
        } else if is(a, "NOLOOP") {
            opts.noloop = true;
        } else if is(a, "PREFIX") && more {
            j += 1;
            // A copy: the argument may share a large request buffer.
            prefixes.push(Bytes::copy_from_slice(&argv[j]));
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let a = ctx.admin();
    let c = a.clients.at_mut(a.me);
    if is(&argv[2], "ON") {
        if !opts.bcast && !prefixes.is_empty() {
            return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
        }
        if let Some(t) = c.tracking.as_deref() {
            if t.bcast != opts.bcast {
                return Err(
                    "ERR You can't switch BCAST mode on/off before disabling tracking \
                            for this client, and then re-enabling it with a different mode."
                        .into(),
                );
            }
        }
        if opts.bcast && (opts.optin || opts.optout) {
            return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
        }
        if opts.optin && opts.optout {
            return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
        }
        let switches = c
            .tracking
            .as_deref()
            .is_some_and(|t| (opts.optin && t.optout) || (opts.optout && t.optin));
        if switches {
            return Err(
                "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking \
                        for this client, and then re-enabling it with a different mode."
                    .into(),
            );
        }
        if opts.bcast {
            if let Some(e) = Tracking::prefix_collision(c.tracking.as_deref(), &prefixes) {
                return Err(CmdError::owned(e));
            }
        }
        a.state.tracking_on(c, redirect as u64, opts, &prefixes);
    } else if is(&argv[2], "OFF") {
        a.state.tracking_off(c);
    } else {
        return Err(SYNTAX.into());
    }
    ctx.out.ok();
    Ok(())
}

/// CLIENT CACHING YES|NO: whether the next command's keys are tracked
/// (OPTIN: yes; OPTOUT: no).
pub fn client_caching(ctx: &mut Ctx) -> CmdResult {
    let mode = &ctx.argv[2];
    let Some(t) = ctx.client().tracking.as_deref_mut() else {
        return Err(
            "ERR CLIENT CACHING can be called only when the client is in tracking \
                    mode with OPTIN or OPTOUT mode enabled"
                .into(),
        );
    };
    if is(mode, "YES") {
        if !t.optin {
            return Err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
                    .into(),
            );
        }
    } else if is(mode, "NO") {
        if !t.optout {
            return Err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
                    .into(),
            );
        }
    } else {
        return Err(SYNTAX.into());
    }
    t.caching = true;
    ctx.out.ok();
    Ok(())
}

/// CLIENT GETREDIR: the redirect target, 0 for none, -1 when not tracking.
pub fn client_getredir(ctx: &mut Ctx) -> CmdResult {
    let r = ctx
        .client_ref()
        .tracking
        .as_deref()
        .map_or(-1, |t| t.redirect as i64);
    ctx.out.int(r);
    Ok(())
}

/// CLIENT TRACKINGINFO: flags (a set), redirect and prefixes.
pub fn client_trackinginfo(ctx: &mut Ctx) -> CmdResult {
    let t = ctx.client_ref().tracking.clone();
    let mut flags: Vec<&str> = Vec::new();
    match t.as_deref() {
        None => flags.push("off"),
        Some(t) => {
            flags.push("on");
            if t.bcast {
                flags.push("bcast");
            }
            if t.optin {
                flags.push("optin");
                if t.caching {
                    flags.push("caching-yes");
                }
            }
            if t.optout {
                flags.push("optout");
                if t.caching {
                    flags.push("caching-no");
                }
            }
            if t.noloop {
                flags.push("noloop");
            }
            if t.broken_redirect {
                flags.push("broken_redirect");
            }
        }
    }
    let out = &mut *ctx.out;
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"redirect");
    out.int(t.as_deref().map_or(-1, |t| t.redirect as i64));
    out.bulk(b"prefixes");
    let prefixes: Vec<&Bytes> = t
        .as_deref()
        .map_or(Vec::new(), |t| t.prefixes.iter().collect());
    out.array(prefixes.len());
    for p in prefixes {
        out.bulk(p);
    }
    Ok(())
}
