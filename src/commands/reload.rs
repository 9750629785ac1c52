//! DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dataset, then load the
//! file back in place of it, as Valkey's debug.c does; the suite uses it to
//! check that every type and encoding survives a save and a load.
//!
//! The file is read into fresh dbs first (the loader lives in
//! `exec::loading`, which registers it in `RDB_LOADER`: commands never
//! import exec) and installed only when the whole file checked out, so a
//! bad file leaves the dataset as it was (Valkey would have emptied it),
//! and duplicated keys without MERGE are an error rather than Valkey's
//! abort.

use std::path::Path;
use std::sync::OnceLock;

use super::args::is;
use super::Ctx;
use crate::config::Config;
use crate::error::CmdResult;
use crate::keyspace::{Db, Free};

const OPTIONS_ERR: &str = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.";
const LOAD_ERR: &str = "ERR Error trying to load the RDB dump, check server logs.";
/// Valkey's `shared.err`, its reply when the save fails.
const SAVE_ERR: &str = "ERR";

/// A file read into fresh dbs (not installed), with its load counts.
pub struct Reloaded {
    pub dbs: Vec<Db>,
    /// The file's function libraries (their code), already checked.
    pub functions: Vec<bytes::Bytes>,
    pub keys_loaded: u64,
    pub keys_expired: u64,
}

/// Reads an RDB file into fresh dbs; None (the reason logged) when it cannot.
pub type RdbLoadFn = fn(&Path, &Config) -> Option<Reloaded>;

/// The loader, registered by `exec` when it builds a server.
pub static RDB_LOADER: OnceLock<RdbLoadFn> = OnceLock::new();

/// Empties the dataset and loads the AOF again (`exec::aof_load`); false,
/// the reason logged, when it cannot.
pub type AofLoadFn = fn(&mut crate::state::State) -> bool;

/// DEBUG LOADAOF's loader, registered by `exec` with `RDB_LOADER`.
pub static AOF_LOADER: OnceLock<AofLoadFn> = OnceLock::new();

/// DEBUG LOADAOF: the dataset is replaced by what the AOF holds, as
/// Valkey's debug.c does; a load that fails stops the server, as there.
pub(super) fn debug_loadaof(ctx: &mut Ctx) -> CmdResult {
    let Some(load) = AOF_LOADER.get() else {
        return Err("ERR DEBUG LOADAOF is not available".into());
    };
    let state = ctx.admin().state;
    // What ran before is in the file first (Valkey's flushAppendOnlyFile
    // with force), so the load replays it.
    if state.aof.is_on() {
        let running = state.effects.set_aside_running();
        if super::aof::flush_turn(state).is_err() || super::aof::flush(state, true).is_err() {
            std::process::exit(1);
        }
        state.effects.resume_running(running);
    }
    // A background save's snapshot must not see its dbs replaced.
    super::save::stop_running(state);
    super::save::finish_abandoned(state);
    for i in 0..ctx.db_count() {
        ctx.db_changing(i, None);
    }
    let state = ctx.admin().state;
    // What the load replays is not a change to propagate (Valkey zeroes
    // `dirty` for that).
    let dirty = state.dirty;
    if !load(state) {
        tracing::warn!("Failed loading the AOF for DEBUG LOADAOF. Exiting.");
        std::process::exit(1);
    }
    state.dirty = dirty;
    tracing::info!("Append Only File loaded by DEBUG LOADAOF");
    ctx.out.ok();
    Ok(())
}

pub(super) fn debug_reload(ctx: &mut Ctx) -> CmdResult {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for a in &ctx.argv[2..] {
        if is(a, "merge") {
            merge = true;
        } else if is(a, "noflush") {
            flush = false;
        } else if is(a, "nosave") {
            save = false;
        } else {
            return Err(OPTIONS_ERR.into());
        }
    }
    let Some(load) = RDB_LOADER.get() else {
        return Err(LOAD_ERR.into());
    };
    let state = ctx.admin().state;
    // A background save's snapshot must not see its dbs replaced: it is
    // stopped (and its walk ended) first.
    super::save::stop_running(state);
    super::save::finish_abandoned(state);
    if save && !super::save::save_sync(state) {
        return Err(SAVE_ERR.into());
    }
    let path = super::save::rdb_path(state);
    let Some(mut fresh) = load(&path, &state.config) else {
        return Err(LOAD_ERR.into());
    };
    let now = ctx.now;
    // The file's libraries: they replace the server's (flush), join them
    // (merge, the file's winning), or must all be new (neither).
    let libraries = {
        let current: Vec<(String, bytes::Bytes)> = ctx
            .admin()
            .state
            .functions
            .as_ref()
            .map(|l| {
                l.libraries()
                    .map(|l| (l.name.clone(), l.code.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let incoming: Vec<String> = fresh
            .functions
            .iter()
            .filter_map(|c| crate::script::library::library_name(c).ok())
            .collect();
        if !flush && !merge && current.iter().any(|(n, _)| incoming.contains(n)) {
            return Err(LOAD_ERR.into());
        }
        let mut codes: Vec<bytes::Bytes> = Vec::new();
        if !flush {
            codes.extend(
                current
                    .into_iter()
                    .filter(|(n, _)| !incoming.contains(n))
                    .map(|(_, c)| c),
            );
        }
        codes.extend(fresh.functions.iter().cloned());
        codes
    };
    if !flush && !merge {
        // Valkey aborts on a key that is both loaded and live; nothing is
        // changed here instead.
        let ks = ctx.keyspace();
        for (i, (live, new)) in ks.dbs.iter_mut().zip(fresh.dbs.iter()).enumerate() {
            for e in new.table().iter() {
                if live
                    .lookup(e.key(), now, crate::keyspace::Access::PEEK)
                    .is_some()
                {
                    tracing::warn!(
                        "RDB has duplicated key '{}' in DB {i}",
                        String::from_utf8_lossy(e.key())
                    );
                    return Err(LOAD_ERR.into());
                }
            }
        }
    }
    // Watchers and client-side caches see the keys change as on a flush.
    for i in 0..ctx.db_count() {
        ctx.db_changing(i, None);
    }
    let ks = ctx.keyspace();
    if flush {
        for (live, new) in ks.dbs.iter_mut().zip(fresh.dbs.iter_mut()) {
            live.swap_contents(new);
        }
        ks.garbage.push(Box::new(std::mem::take(&mut fresh.dbs)));
    } else {
        for (live, new) in ks.dbs.iter_mut().zip(fresh.dbs.iter_mut()) {
            let keys: Vec<Vec<u8>> = new.table().iter().map(|e| e.key().to_vec()).collect();
            for k in keys {
                if let Some(e) = new.take_entry(&k, now) {
                    live.delete(&k, now, Free::Async);
                    live.insert_entry(&k, e, now);
                }
            }
        }
    }
    let state = ctx.admin().state;
    state.functions = if libraries.is_empty() {
        None
    } else {
        match crate::script::library::Libraries::from_codes(&libraries) {
            Ok(l) => Some(Box::new(l)),
            Err((_, reason)) => {
                tracing::warn!("Failed loading library, {reason}");
                None
            }
        }
    };
    state.rdb_load.keys_loaded = fresh.keys_loaded;
    state.rdb_load.keys_expired = fresh.keys_expired;
    tracing::info!("DB reloaded by DEBUG RELOAD");
    ctx.out.ok();
    Ok(())
}
