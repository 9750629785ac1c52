//! FUNCTION and FCALL/FCALL_RO: libraries of named Lua functions, loaded
//! once (FUNCTION LOAD), kept in the RDB and the AOF, and called by name.
//!
//! The libraries and their Lua state are `script::library::Libraries`;
//! running a function uses the same host as EVAL (`scripting`): its
//! server calls go through the call path as the script's client. FUNCTION
//! LOAD, DELETE, FLUSH and RESTORE are writes: they propagate as they are.

use bytes::Bytes;

use super::flags::*;
use super::meta::{acl, arg, ks, Arg, Doc, Group};
use super::scripting::{numkeys, prepare, with_script_client};
use super::server::{reply_help, subcommand_syntax_error};
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::script::library::Libraries;
use crate::state::script_run::ScriptKind;

static FLUSH_TYPES: &[Arg] = &[arg::pure("async", "ASYNC"), arg::pure("sync", "SYNC")];
static POLICIES: &[Arg] = &[
    arg::pure("flush", "FLUSH"),
    arg::pure("append", "APPEND"),
    arg::pure("replace", "REPLACE"),
];

macro_rules! fcall_row {
    ($name:literal, $handler:ident, $flags:expr, $summary:literal, $keyspec:expr) => {
        CommandSpec {
            name: $name,
            arity: -3,
            flags: $flags | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | RUNS_SCRIPT,
            keys: KeySpec::numkeys(2),
            handler: $handler,
            subcommands: &[],
            doc: &Doc {
                summary: $summary,
                complexity: "Depends on the function that is executed.",
                key_specs: &[$keyspec],
                args: &[
                    arg::string("function"),
                    arg::integer("numkeys"),
                    arg::key("key", 0).optional().multiple(),
                    arg::string("arg").optional().multiple(),
                ],
                ..Doc::new(Group::Scripting, "7.0.0", acl::SCRIPTING)
            },
        }
    };
}

macro_rules! function_sub {
    ($name:literal, $arity:expr, $flags:expr, $handler:ident, $summary:literal, $complexity:literal, $tips:expr, $args:expr) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            keys: KeySpec::NONE,
            handler: $handler,
            subcommands: &[],
            doc: &Doc {
                summary: $summary,
                complexity: $complexity,
                tips: $tips,
                args: $args,
                ..Doc::new(Group::Scripting, "7.0.0", acl::SCRIPTING)
            },
        }
    };
}

const ALL_SHARDS: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];

pub static COMMANDS: &[CommandSpec] = &[
    fcall_row!(
        "fcall",
        fcall,
        MAY_REPLICATE,
        "Runs a function of a loaded library.",
        ks::keynum(2, ks::RW | ks::ACCESS | ks::UPDATE).notes(
            "The keys a function may touch, as the caller declares them: the function decides what it does with each."
        )
    ),
    fcall_row!(
        "fcall_ro",
        fcall_ro,
        READONLY,
        "Runs a function of a loaded library that does not write.",
        ks::keynum(2, ks::RO | ks::ACCESS)
            .notes("The keys a read-only function may read, as the caller declares them.")
    ),
    CommandSpec {
        name: "function",
        arity: -2,
        flags: 0,
        keys: KeySpec::NONE,
        handler: super::container,
        subcommands: &[
            function_sub!(
                "function|delete",
                3,
                WRITE | NOSCRIPT,
                function_delete,
                "Deletes a library and its functions.",
                "O(1)",
                ALL_SHARDS,
                &[arg::string("library-name")]
            ),
            function_sub!(
                "function|dump",
                2,
                NOSCRIPT,
                function_dump,
                "Returns every library as one payload for FUNCTION RESTORE.",
                "O(N), N being the number of functions.",
                &[],
                &[]
            ),
            function_sub!(
                "function|flush",
                -2,
                WRITE | NOSCRIPT,
                function_flush,
                "Deletes every library.",
                "O(N), N being the number of functions deleted.",
                ALL_SHARDS,
                &[arg::oneof("flush-type", FLUSH_TYPES).optional()]
            ),
            function_sub!(
                "function|help",
                2,
                LOADING | STALE,
                function_help,
                "Lists the FUNCTION subcommands.",
                "O(1)",
                &[],
                &[]
            ),
            function_sub!(
                "function|kill",
                2,
                NOSCRIPT | ALLOW_BUSY,
                function_kill,
                "Stops the running function, if it has not written.",
                "O(1)",
                &["request_policy:all_shards", "response_policy:one_succeeded"],
                &[]
            ),
            function_sub!(
                "function|list",
                -2,
                NOSCRIPT,
                function_list,
                "Describes the loaded libraries and their functions.",
                "O(N), N being the number of functions.",
                &["nondeterministic_output_order"],
                &[
                    arg::string("library-name-pattern")
                        .token("LIBRARYNAME")
                        .optional(),
                    arg::pure("withcode", "WITHCODE").optional(),
                ]
            ),
            function_sub!(
                "function|load",
                -3,
                WRITE | DENYOOM | NOSCRIPT,
                function_load,
                "Loads a library of functions.",
                "O(1) (the library's own code aside).",
                ALL_SHARDS,
                &[
                    arg::pure("replace", "REPLACE").optional(),
                    arg::string("function-code"),
                ]
            ),
            function_sub!(
                "function|restore",
                -3,
                WRITE | DENYOOM | NOSCRIPT,
                function_restore,
                "Loads the libraries of a FUNCTION DUMP payload.",
                "O(N), N being the number of functions in the payload.",
                ALL_SHARDS,
                &[
                    arg::string("serialized-value"),
                    arg::oneof("policy", POLICIES).optional(),
                ]
            ),
            function_sub!(
                "function|stats",
                2,
                NOSCRIPT | ALLOW_BUSY,
                function_stats,
                "Tells which function runs now and how many libraries and functions are loaded.",
                "O(1)",
                &[
                    "nondeterministic_output",
                    "request_policy:all_shards",
                    "response_policy:special",
                ],
                &[]
            ),
        ],
        doc: &Doc {
            summary: "A container for function commands.",
            complexity: "Depends on subcommand.",
            ..Doc::new(Group::Scripting, "7.0.0", 0)
        },
    },
];

/// Runs `f` on the libraries, taken out of the server state meanwhile.
fn with_libraries<T>(
    ctx: &mut Ctx,
    f: impl FnOnce(&mut Ctx, &mut Libraries) -> T,
) -> Result<T, CmdError> {
    let mut libs = ctx.take_functions().map_err(CmdError::owned)?;
    let r = f(ctx, &mut libs);
    ctx.put_functions(libs);
    Ok(r)
}

fn fcall(ctx: &mut Ctx) -> CmdResult {
    fcall_generic(ctx, false)
}

fn fcall_ro(ctx: &mut Ctx) -> CmdResult {
    fcall_generic(ctx, true)
}

fn fcall_generic(ctx: &mut Ctx, ro: bool) -> CmdResult {
    with_libraries(ctx, |ctx, libs| {
        let asked = String::from_utf8_lossy(ctx.arg(1)).into_owned();
        let Some((_, info)) = libs.function(&asked) else {
            return Err(CmdError::from("ERR Function not found"));
        };
        let flags = info.flags;
        // Found in any case; FUNCTION STATS names it as registered.
        let name = info.name.clone();
        // FCALL words a numkeys that is no number its own way.
        if crate::util::num::parse_i64(ctx.arg(2)).is_none() {
            return Err(CmdError::from("ERR Bad number of keys provided"));
        }
        let nkeys = numkeys(ctx)?;
        let read_only = prepare(ctx, flags, ro)?;
        // The command line outlives `ctx`'s borrow: no copy of it is needed.
        let argv = ctx.argv;
        let (keys, args) = argv[3..].split_at(nkeys);
        let r = with_script_client(
            ctx,
            read_only,
            ScriptKind::Function,
            name.clone(),
            |host, out| libs.call(&name, keys, args, host, out),
        );
        if r.is_err() {
            if libs.error_counted() {
                ctx.error_already_counted();
            } else {
                ctx.error_is_custom();
            }
        }
        // The function's commands propagate themselves; FCALL adds nothing.
        ctx.prevent_propagation();
        r
    })?
}

fn function_load(ctx: &mut Ctx) -> CmdResult {
    // Options, then the code last.
    let mut replace = false;
    for a in &ctx.argv[2..ctx.argv.len() - 1] {
        if a.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else {
            return Err(CmdError::owned(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(a)
            )));
        }
    }
    let code = ctx.argv[ctx.argv.len() - 1].clone();
    let name =
        with_libraries(ctx, |_, libs| libs.load(&code, replace))?.map_err(CmdError::owned)?;
    ctx.dirty(1);
    ctx.out.bulk(name.as_bytes());
    Ok(())
}

fn function_delete(ctx: &mut Ctx) -> CmdResult {
    let name = String::from_utf8_lossy(ctx.arg(2)).into_owned();
    with_libraries(ctx, |_, libs| libs.delete(&name))?.map_err(CmdError::owned)?;
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

fn function_flush(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(subcommand_syntax_error(ctx.arg(1), "FUNCTION"));
    }
    if ctx.argv.len() == 3
        && !ctx.arg(2).eq_ignore_ascii_case(b"async")
        && !ctx.arg(2).eq_ignore_ascii_case(b"sync")
    {
        return Err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option".into());
    }
    let fresh = Libraries::new().map_err(|e| CmdError::owned(format!("ERR {e}")))?;
    ctx.put_functions(Box::new(fresh));
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

fn function_list(ctx: &mut Ctx) -> CmdResult {
    let mut pattern: Option<Vec<u8>> = None;
    let mut with_code = false;
    let mut i = 2;
    while i < ctx.argv.len() {
        let a = ctx.arg(i);
        if a.eq_ignore_ascii_case(b"withcode") && !with_code {
            with_code = true;
        } else if a.eq_ignore_ascii_case(b"libraryname") && pattern.is_none() {
            let Some(p) = ctx.argv.get(i + 1) else {
                return Err("ERR library name argument was not given".into());
            };
            pattern = Some(p.to_vec());
            i += 1;
        } else {
            return Err(CmdError::owned(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(a)
            )));
        }
        i += 1;
    }
    let libs: Vec<_> = with_libraries(ctx, |_, libs| {
        libs.libraries()
            .filter(|l| {
                pattern
                    .as_ref()
                    .is_none_or(|p| crate::util::glob::glob_match(p, l.name.as_bytes(), false))
            })
            .cloned()
            .collect()
    })?;
    let out = &mut *ctx.out;
    out.array(libs.len());
    for lib in &libs {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d.as_bytes()),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names: Vec<&str> = crate::script::flags::NAMES
                .iter()
                .filter(|(_, bit)| f.flags & bit != 0)
                .map(|(n, _)| *n)
                .collect();
            out.set(names.len());
            for n in names {
                out.simple(n);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

fn function_dump(ctx: &mut Ctx) -> CmdResult {
    let compress = ctx.config().extra.get("rdbcompression").map(String::as_str) != Some("no");
    let codes: Vec<Bytes> = with_libraries(ctx, |_, libs| {
        libs.libraries().map(|l| l.code.clone()).collect()
    })?;
    let payload = crate::persist::functions_dump::dump_payload(&codes, compress);
    ctx.out.bulk(&payload);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Policy {
    Flush,
    Append,
    Replace,
}

fn function_restore(ctx: &mut Ctx) -> CmdResult {
    let policy = match ctx.argv.len() {
        3 => Policy::Append,
        4 => match ctx.arg(3).to_ascii_lowercase().as_slice() {
            b"flush" => Policy::Flush,
            b"append" => Policy::Append,
            b"replace" => Policy::Replace,
            _ => return Err(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
                    .into(),
            ),
        },
        _ => return Err(subcommand_syntax_error(ctx.arg(1), "FUNCTION")),
    };
    let relaxed = ctx
        .config()
        .extra
        .get("rdb-version-check")
        .map(String::as_str)
        == Some("relaxed");
    let codes = crate::persist::functions_dump::restore_payload(ctx.arg(2), true, relaxed)
        .map_err(|e| CmdError::from(e.message()))?;
    // Built aside and swapped in whole: a failure changes nothing.
    let current: Vec<(String, Bytes)> = with_libraries(ctx, |_, libs| {
        libs.libraries()
            .map(|l| (l.name.clone(), l.code.clone()))
            .collect()
    })?;
    let mut fresh = Libraries::new().map_err(|e| CmdError::owned(format!("ERR {e}")))?;
    let incoming: Vec<String> = codes
        .iter()
        .filter_map(|c| crate::script::library::library_name(c).ok())
        .collect();
    if policy != Policy::Flush {
        for (name, code) in &current {
            if policy == Policy::Replace && incoming.contains(name) {
                continue;
            }
            fresh.load(code, false).map_err(CmdError::owned)?;
        }
    }
    for code in &codes {
        fresh.load(code, false).map_err(|e| {
            // Valkey words a restore's collision without quotes.
            CmdError::owned(match crate::script::library::library_name(code) {
                Ok(n) if e == format!("ERR Library '{n}' already exists") => {
                    format!("ERR Library {n} already exists")
                }
                _ => e,
            })
        })?;
    }
    ctx.put_functions(Box::new(fresh));
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

fn function_stats(ctx: &mut Ctx) -> CmdResult {
    let (libraries, functions) = ctx.functions_counts();
    let running = ctx.running_script();
    let out = &mut *ctx.out;
    out.map(2);
    out.bulk(b"running_script");
    match running {
        Some((name, command, elapsed)) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name.as_bytes());
            out.bulk(b"command");
            out.array(command.len());
            for a in &command {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int(elapsed.as_millis() as i64);
        }
        None => out.null(),
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libraries as i64);
    out.bulk(b"functions_count");
    out.int(functions as i64);
    Ok(())
}

/// Stops the running function (served while it runs long: `exec::busy`).
fn function_kill(ctx: &mut Ctx) -> CmdResult {
    ctx.kill_script(ScriptKind::Function)?;
    ctx.out.ok();
    Ok(())
}

fn function_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
    Ok(())
}
