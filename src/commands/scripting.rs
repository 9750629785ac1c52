//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: Lua scripts run on the
//! main thread, nothing interleaved.
//!
//! The engine (`script::engine`) compiles and runs a script; this module is
//! its host. A script's `server.call` becomes an ordinary call through the
//! call path (`Ctx::call_as`, origin `Script`) as a client of its own,
//! which starts in the caller's database and talks RESP2 until the script
//! says `server.setresp(3)`. What those calls propagate goes out as one
//! MULTI/EXEC unit (the call path wraps a command that propagated several);
//! EVAL itself is never propagated.

use std::cell::Cell;
use std::net::SocketAddr;

use bytes::Bytes;

use super::flags::*;
use super::meta::{acl, arg, ks, Doc, Group};
use super::server::reply_help;
use super::{CommandSpec, Ctx, KeySpec, CMD_TABLE};
use crate::error::{CmdError, CmdResult};
use crate::resp::ReplyBuf;
use crate::script::engine::{Engine, Host};
use crate::script::flags as sflags;
use crate::state::script_run::ScriptKind;
use crate::state::{Client, Origin};

/// The id of the client scripts' commands run as (never a connection's; positive, as CLIENT ID shows it).
pub const SCRIPT_CLIENT_ID: u64 = i64::MAX as u64 - 1;

const KEYS_NEGATIVE: &str = "ERR Number of keys can't be negative";
const KEYS_TOO_MANY: &str = "ERR Number of keys can't be greater than number of args";
const NO_MATCHING_SCRIPT: &str = "NOSCRIPT No matching script.";
const RO_WITH_WRITE: &str = "ERR Can not execute a script with write flag using *_ro command.";
const UNKNOWN_CALL: &[u8] = b"-ERR Unknown command called from script\r\n";
const ARITY_CALL: &[u8] = b"-ERR Wrong number of args calling command from script\r\n";
const NOT_ALLOWED_CALL: &[u8] = b"-ERR This Valkey command is not allowed from script\r\n";
const WRITE_IN_RO: &[u8] = b"-ERR Write commands are not allowed from read-only scripts.\r\n";

macro_rules! eval_row {
    ($name:literal, $handler:ident, $first:literal, $ro:expr, $since:literal, $summary:literal, $keyspec:expr) => {
        CommandSpec {
            name: $name,
            arity: -3,
            flags: if $ro { READONLY } else { MAY_REPLICATE }
                | NOSCRIPT
                | STALE
                | SKIP_MONITOR
                | NO_MANDATORY_KEYS
                | RUNS_SCRIPT,
            keys: KeySpec::numkeys(2),
            handler: $handler,
            subcommands: &[],
            doc: &Doc {
                summary: $summary,
                complexity: "Depends on the script that is executed.",
                key_specs: &[$keyspec],
                args: &[
                    arg::string($first),
                    arg::integer("numkeys"),
                    arg::key("key", 0).optional().multiple(),
                    arg::string("arg").optional().multiple(),
                ],
                ..Doc::new(Group::Scripting, $since, acl::SCRIPTING)
            },
        }
    };
}

static FLUSH_TYPES: &[super::meta::Arg] = &[arg::pure("async", "ASYNC"), arg::pure("sync", "SYNC")];

pub static COMMANDS: &[CommandSpec] = &[
    eval_row!(
        "eval",
        eval,
        "script",
        false,
        "2.6.0",
        "Runs a Lua script on the server.",
        ks::keynum(2, ks::RW | ks::ACCESS | ks::UPDATE).notes(
            "The keys a script may touch, as the caller declares them: the script decides what it does with each."
        )
    ),
    eval_row!(
        "evalsha",
        evalsha,
        "sha1",
        false,
        "2.6.0",
        "Runs a cached Lua script, named by its SHA1 digest.",
        ks::keynum(2, ks::RW | ks::ACCESS | ks::UPDATE)
    ),
    eval_row!(
        "eval_ro",
        eval_ro,
        "script",
        true,
        "7.0.0",
        "Runs a Lua script that does not write.",
        ks::keynum(2, ks::RO | ks::ACCESS)
            .notes("The keys a read-only script may read, as the caller declares them.")
    ),
    eval_row!(
        "evalsha_ro",
        evalsha_ro,
        "sha1",
        true,
        "7.0.0",
        "Runs a cached Lua script that does not write, named by its SHA1 digest.",
        ks::keynum(2, ks::RO | ks::ACCESS)
    ),
    CommandSpec {
        name: "script",
        arity: -2,
        flags: 0,
        keys: KeySpec::NONE,
        handler: super::container,
        subcommands: &[
            CommandSpec {
                name: "script|exists",
                arity: -3,
                flags: NOSCRIPT | STALE,
                keys: KeySpec::NONE,
                handler: script_exists,
                subcommands: &[],
                doc: &Doc {
                    summary: "Tells, for each SHA1 digest, whether that script is cached.",
                    complexity: "O(N), N being the number of digests asked about.",
                    tips: &[
                        "request_policy:all_shards",
                        "response_policy:agg_logical_and",
                    ],
                    args: &[arg::string("sha1").multiple()],
                    ..Doc::new(Group::Scripting, "2.6.0", acl::SCRIPTING)
                },
            },
            CommandSpec {
                name: "script|flush",
                arity: -2,
                flags: NOSCRIPT | STALE,
                keys: KeySpec::NONE,
                handler: script_flush,
                subcommands: &[],
                doc: &Doc {
                    summary: "Empties the script cache.",
                    complexity: "O(N), N being the number of cached scripts.",
                    history: &[("6.2.0", "The `ASYNC` and `SYNC` flush modes.")],
                    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                    args: &[arg::oneof("flush-type", FLUSH_TYPES)
                        .since("6.2.0")
                        .optional()],
                    ..Doc::new(Group::Scripting, "2.6.0", acl::SCRIPTING)
                },
            },
            CommandSpec {
                name: "script|help",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: script_help,
                subcommands: &[],
                doc: &Doc {
                    summary: "Lists the SCRIPT subcommands.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Scripting, "5.0.0", acl::SCRIPTING)
                },
            },
            CommandSpec {
                name: "script|kill",
                arity: 2,
                flags: NOSCRIPT | ALLOW_BUSY,
                keys: KeySpec::NONE,
                handler: script_kill,
                subcommands: &[],
                doc: &Doc {
                    summary: "Stops the running script, if it has not written.",
                    complexity: "O(1)",
                    tips: &["request_policy:all_shards", "response_policy:one_succeeded"],
                    ..Doc::new(Group::Scripting, "2.6.0", acl::SCRIPTING)
                },
            },
            CommandSpec {
                name: "script|load",
                arity: 3,
                flags: NOSCRIPT | STALE,
                keys: KeySpec::NONE,
                handler: script_load,
                subcommands: &[],
                doc: &Doc {
                    summary: "Compiles a script into the cache without running it.",
                    complexity: "O(N), N being the length of the script in bytes.",
                    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                    args: &[arg::string("script")],
                    ..Doc::new(Group::Scripting, "2.6.0", acl::SCRIPTING)
                },
            },
            CommandSpec {
                name: "script|show",
                arity: 3,
                flags: NOSCRIPT | STALE,
                keys: KeySpec::NONE,
                handler: script_show,
                subcommands: &[],
                doc: &Doc {
                    summary: "Returns the source of a cached script.",
                    complexity: "O(1)",
                    args: &[arg::string("sha1")],
                    ..Doc::new(Group::Scripting, "8.0.0", acl::SCRIPTING)
                },
            },
        ],
        doc: &Doc {
            summary: "A container for Lua script commands.",
            complexity: "Depends on subcommand.",
            ..Doc::new(Group::Scripting, "2.6.0", 0)
        },
    },
];

fn eval(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, false, false)
}

fn evalsha(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, true, false)
}

fn eval_ro(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, false, true)
}

fn evalsha_ro(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, true, true)
}

/// How many keys follow (EVAL's `numkeys`), checked against the arguments.
pub(super) fn numkeys(ctx: &Ctx) -> Result<usize, CmdError> {
    let n = crate::util::num::parse_i64(ctx.arg(2))
        .ok_or_else(|| CmdError::from(crate::error::NOT_INTEGER))?;
    if n < 0 {
        return Err(KEYS_NEGATIVE.into());
    }
    if n as usize > ctx.argv.len() - 3 {
        return Err(KEYS_TOO_MANY.into());
    }
    Ok(n as usize)
}

fn eval_generic(ctx: &mut Ctx, by_sha: bool, ro: bool) -> CmdResult {
    let nkeys = numkeys(ctx)?;
    let mut engine = ctx.take_scripting().map_err(CmdError::owned)?;
    let result = run(ctx, &mut engine, nkeys, by_sha, ro);
    ctx.put_scripting(engine);
    // The script's commands propagate themselves; EVAL adds nothing.
    ctx.prevent_propagation();
    result
}

fn run(ctx: &mut Ctx, engine: &mut Engine, nkeys: usize, by_sha: bool, ro: bool) -> CmdResult {
    let (sha, id, flags) = if by_sha {
        let Some((id, flags)) = engine.find(ctx.arg(1)) else {
            return Err(NO_MATCHING_SCRIPT.into());
        };
        (ctx.arg(1).to_ascii_lowercase(), id, flags)
    } else {
        let sha = engine.load(ctx.arg(1), false).map_err(CmdError::owned)?;
        let found = engine.id_of(&sha).zip(engine.get(&sha).map(|s| s.flags));
        let Some((id, flags)) = found else {
            return Err(NO_MATCHING_SCRIPT.into());
        };
        (sha.into_bytes(), id, flags)
    };
    let read_only = prepare(ctx, flags, ro)?;
    ctx.note_scripting(engine);
    // The command line outlives `ctx`'s borrow: no copy of it is needed.
    let argv = ctx.argv;
    let (keys, args) = argv[3..].split_at(nkeys);
    // SHA1 hex is ASCII.
    let name = String::from_utf8(sha).unwrap_or_default();
    let r = with_script_client(ctx, read_only, ScriptKind::Eval, name, |host, out| {
        engine.run(id, keys, args, host, out)
    });
    if r.is_err() {
        if engine.error_counted {
            ctx.error_already_counted();
        } else {
            ctx.error_is_custom();
        }
    }
    r
}

/// Valkey's scriptPrepareForRun: what a script's declared flags allow now.
/// Returns whether the script runs read-only.
pub(super) fn prepare(
    ctx: &mut Ctx,
    flags: sflags::ScriptFlags,
    ro: bool,
) -> Result<bool, CmdError> {
    let compat = flags & sflags::EVAL_COMPAT_MODE != 0;
    if !compat && flags & sflags::NO_WRITES == 0 {
        check_may_write(ctx, ro)?;
    }
    if !compat && flags & (sflags::ALLOW_OOM | sflags::NO_WRITES) == 0 && over_maxmemory(ctx) {
        // Refused before it starts, as any deny-oom command (Valkey turns
        // a script's flags into the command's own).
        return Err("OOM command not allowed when used memory > 'maxmemory'.".into());
    }
    ctx.set_script_allow_oom(!compat && flags & sflags::ALLOW_OOM != 0);
    Ok(ro || (!compat && flags & sflags::NO_WRITES != 0))
}

/// Runs `f` with a host whose commands run as the script's own client (in
/// the caller's database), then writes what `f` replied to the caller.
pub(super) fn with_script_client(
    ctx: &mut Ctx,
    read_only: bool,
    kind: ScriptKind,
    name: String,
    f: impl FnOnce(&mut dyn Host, &mut ReplyBuf) -> Result<(), String>,
) -> CmdResult {
    let nowhere = SocketAddr::from(([0, 0, 0, 0], 0));
    let mut client = Client::new(SCRIPT_CLIENT_ID, nowhere, nowhere, 0, true);
    client.db = ctx.db_index();
    let slot = ctx.add_internal_client(client);
    let mut scratch = SCRATCH.with(Cell::take).unwrap_or_default();
    let mut host = ScriptHost {
        ctx,
        slot,
        reply: std::mem::replace(&mut scratch.reply, ReplyBuf::new(2)),
        bytes: std::mem::take(&mut scratch.bytes),
        read_only,
        repl: 3,
    };
    let mut out = std::mem::replace(&mut scratch.out, ReplyBuf::new(2));
    out.resp = host.ctx.out.resp;
    host.ctx.script_started(kind, name);
    let result = f(&mut host, &mut out);
    let ctx = host.ctx;
    ctx.script_ended();
    ctx.set_script_allow_oom(false);
    ctx.remove_internal_client(SCRIPT_CLIENT_ID);
    if result.is_ok() {
        let written = out.take();
        written.pieces_from(0, |p| {
            ctx.out.raw(p);
            true
        });
        (out.buf, out.shared) = (written.bytes, written.shared);
    }
    scratch.reply = host.reply;
    scratch.bytes = host.bytes;
    scratch.out = out;
    scratch.clear();
    SCRATCH.with(|s| s.set(Some(scratch)));
    result.map_err(CmdError::owned)
}

/// The buffers of a script run, kept for the next one (a script's
/// commands reply into `reply`, flattened into `bytes` when they hold
/// shared pieces; the script's own reply goes to `out`): made afresh, they
/// were most of a short script's allocations.
struct Scratch {
    reply: ReplyBuf,
    bytes: Vec<u8>,
    out: ReplyBuf,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            reply: ReplyBuf::new(2),
            bytes: Vec::new(),
            out: ReplyBuf::new(2),
        }
    }
}

impl Scratch {
    /// Empties the buffers, and lets go of any a large reply grew.
    fn clear(&mut self) {
        const KEEP: usize = 64 << 10;
        for r in [&mut self.reply, &mut self.out] {
            r.buf.clear();
            r.shared.clear();
            if r.buf.capacity() > KEEP {
                r.buf = Vec::new();
            }
        }
        self.bytes.clear();
        if self.bytes.capacity() > KEEP {
            self.bytes = Vec::new();
        }
    }
}

thread_local! {
    // Scripts run on the main thread only, one at a time: one set is
    // enough (taken while a script runs).
    static SCRATCH: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

/// A script that may write is refused where writes are (Valkey's
/// scriptPrepareForRun): a failing disk, `*_RO`, too few replicas.
fn check_may_write(ctx: &mut Ctx, ro: bool) -> CmdResult {
    let admin = ctx.admin();
    let mode = admin.state.mode;
    if mode.disk_error {
        return Err(match admin.state.aof.disk_error() {
            Some(e) => CmdError::owned(format!(
                "MISCONF Valkey is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: {e}"
            )),
            None => "MISCONF Valkey is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.".into(),
        });
    }
    if ro {
        return Err(RO_WITH_WRITE.into());
    }
    if mode.min_replicas {
        return Err("NOREPLICAS Not enough good replicas to write.".into());
    }
    Ok(())
}

fn over_maxmemory(ctx: &Ctx) -> bool {
    let max = ctx.config().maxmemory;
    max != 0 && crate::alloc::allocated() as u64 > max
}

/// Runs a script's commands: the checks Valkey's scriptCall makes, then
/// the call path as the script's client.
struct ScriptHost<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    slot: usize,
    reply: ReplyBuf,
    bytes: Vec<u8>,
    read_only: bool,
    /// `server.set_repl` flags: 1 AOF, 2 replicas.
    repl: u8,
}

impl Host for ScriptHost<'_, '_> {
    fn call(&mut self, argv: &[Bytes], resp: u8) -> &[u8] {
        self.bytes.clear();
        self.reply.buf.clear();
        self.reply.shared.clear();
        let id = match CMD_TABLE.resolve(argv) {
            Ok(id) => id,
            Err(e) => {
                let unknown =
                    CMD_TABLE.find(&argv[0]).is_none() || e.0.starts_with("ERR unknown subcommand");
                let charged = if unknown {
                    None
                } else {
                    CMD_TABLE.find(&argv[0])
                };
                self.ctx.count_script_refusal(charged, "ERR");
                self.bytes
                    .extend_from_slice(if unknown { UNKNOWN_CALL } else { ARITY_CALL });
                return &self.bytes;
            }
        };
        let spec = CMD_TABLE.specs[id];
        if spec.has(NOSCRIPT) && !self.ctx.admin().state.debug.allow_noscript {
            self.ctx.count_script_refusal(Some(id), "ERR");
            self.bytes.extend_from_slice(NOT_ALLOWED_CALL);
            return &self.bytes;
        }
        // Valkey refuses may-replicate commands (PUBLISH, PFCOUNT) too.
        if self.read_only && (spec.has(WRITE) || spec.has(MAY_REPLICATE)) {
            self.ctx.count_script_refusal(Some(id), "ERR");
            self.bytes.extend_from_slice(WRITE_IN_RO);
            return &self.bytes;
        }
        if spec.has(WRITE) {
            self.ctx.script_wrote();
        }
        self.ctx.client_at(self.slot).resp = resp;
        self.reply.resp = resp;
        let mark = self.ctx.propagation_mark();
        self.ctx
            .call_as(self.slot, argv, id, Origin::Script, &mut self.reply);
        // REPL_NONE: nothing of this call goes to the AOF (there are no
        // replicas to choose apart from it).
        if self.repl & 1 == 0 {
            self.ctx.propagation_truncate(mark);
        }
        if self.reply.shared.is_empty() {
            return &self.reply.buf;
        }
        let bytes = &mut self.bytes;
        let reply = self.reply.take();
        reply.pieces_from(0, |p| {
            bytes.extend_from_slice(p);
            true
        });
        (self.reply.buf, self.reply.shared) = (reply.bytes, reply.shared);
        &self.bytes
    }

    fn acl_check(&mut self, argv: &[Bytes]) -> Option<bool> {
        // Every user is the default user, allowed every command.
        CMD_TABLE.resolve(argv).ok().map(|_| true)
    }

    fn set_repl(&mut self, flags: u8) {
        self.repl = flags;
    }

    fn interrupt(&mut self) -> Option<String> {
        self.ctx.script_interrupt()
    }
}

fn script_load(ctx: &mut Ctx) -> CmdResult {
    let mut engine = ctx.take_scripting().map_err(CmdError::owned)?;
    let r = engine.load(ctx.arg(2), true);
    ctx.put_scripting(engine);
    let sha = r.map_err(CmdError::owned)?;
    ctx.out.bulk(sha.as_bytes());
    Ok(())
}

fn script_exists(ctx: &mut Ctx) -> CmdResult {
    let engine = ctx.take_scripting().map_err(CmdError::owned)?;
    let found: Vec<bool> = ctx.argv[2..]
        .iter()
        .map(|s| {
            let sha = String::from_utf8_lossy(s).to_ascii_lowercase();
            engine.get(&sha).is_some()
        })
        .collect();
    ctx.put_scripting(engine);
    ctx.out.array(found.len());
    for f in found {
        ctx.out.int(f as i64);
    }
    Ok(())
}

fn script_flush(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 3
        || (ctx.argv.len() == 3
            && !ctx.arg(2).eq_ignore_ascii_case(b"async")
            && !ctx.arg(2).eq_ignore_ascii_case(b"sync"))
    {
        return Err("ERR SCRIPT FLUSH only support SYNC|ASYNC option".into());
    }
    let mut engine = ctx.take_scripting().map_err(CmdError::owned)?;
    let r = engine.flush();
    ctx.put_scripting(engine);
    r.map_err(|e| CmdError::owned(format!("ERR {e}")))?;
    ctx.out.ok();
    Ok(())
}

fn script_show(ctx: &mut Ctx) -> CmdResult {
    let engine = ctx.take_scripting().map_err(CmdError::owned)?;
    let sha = String::from_utf8_lossy(ctx.arg(2)).to_ascii_lowercase();
    let body = engine.get(&sha).map(|s| s.body.clone());
    ctx.put_scripting(engine);
    match body {
        Some(b) => {
            ctx.out.bulk(&b);
            Ok(())
        }
        None => Err(NO_MATCHING_SCRIPT.into()),
    }
}

/// Marks the running EVAL script to end at its next hook (it is served
/// while a script runs past `busy-reply-threshold`: `state::script_run`).
fn script_kill(ctx: &mut Ctx) -> CmdResult {
    ctx.kill_script(ScriptKind::Eval)?;
    ctx.out.ok();
    Ok(())
}

fn script_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx,
        "SCRIPT",
        &[
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined",
            "     by the lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
            "SHOW <sha1>",
            "    Show a script from the scripts cache.",
        ],
    );
    Ok(())
}
