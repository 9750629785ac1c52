//! The Lua state EVAL scripts run in: its sandbox (`prelude.lua`), the
//! libraries, the script cache, and running one script with a [`Host`]
//! that executes the commands it calls.
//!
//! One Lua state serves every script, as in Valkey. Scripts cannot leave
//! state behind: globals and library tables are read-only, and KEYS and
//! ARGV are fresh tables each run. A script is compiled once, when first
//! seen (EVAL or SCRIPT LOAD), and kept by its SHA1 until SCRIPT FLUSH;
//! scripts only ever run through EVAL are bounded (the oldest unused ones
//! go past `EVAL_CACHE_MAX`, as Valkey 8 evicts them).

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use hashbrown::HashMap;
use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};

use super::convert;
use super::flags::{self, ScriptFlags};
use crate::resp::ReplyBuf;

/// What runs the commands a script calls (the server side, in `commands`).
pub trait Host {
    /// Runs `argv` as the script's client, talking RESP `resp`; returns
    /// the reply's bytes.
    fn call(&mut self, argv: &[Bytes], resp: u8) -> &[u8];
    /// `server.acl_check_cmd`: whether the caller's user may run `argv`;
    /// None for an unknown command.
    fn acl_check(&mut self, argv: &[Bytes]) -> Option<bool>;
    /// `server.set_repl`: where the commands called next propagate
    /// (REPL_AOF 1 | REPL_REPLICA 2).
    fn set_repl(&mut self, flags: u8);
    /// Called every `hook::HOOK_EVERY` Lua instructions while the script
    /// runs: Some(error) ends the script with that error (SCRIPT KILL).
    /// The host may serve other clients meanwhile.
    fn interrupt(&mut self) -> Option<String> {
        None
    }
}

/// EVAL scripts kept at most (Valkey 8's LRU_LIST_LENGTH); SCRIPT LOAD's are
/// never evicted.
pub const EVAL_CACHE_MAX: usize = 500;

/// One cached script.
pub struct Script {
    pub body: Bytes,
    pub flags: ScriptFlags,
    /// Its function's index in `funcs` (an integer key: no Lua string is
    /// made to find it).
    id: i64,
    /// Loaded by SCRIPT LOAD (or run by EVALSHA): never evicted.
    pinned: bool,
}

pub struct Engine {
    pub(super) lua: Lua,
    /// The real globals table (behind the read-only one scripts see):
    /// where KEYS and ARGV go.
    pub(super) globals: Table,
    /// Where the per-run Rust functions go (`impl.call`, ...).
    pub(super) imp: Table,
    /// `xpcall(f, handler)`; then the same clearing KEYS and ARGV after,
    /// and `xpcall` of `f(keys, args)`.
    pub(super) runner: Function,
    runner_eval: Function,
    runner_with_args: Function,
    /// The prelude's read-only proxy maker, its switch of what the globals
    /// read through to, and its maker of tables whose missing keys are the
    /// nonexistent-global error (for function libraries' loading).
    pub(super) protect: Function,
    pub(super) set_api: Function,
    pub(super) strict: Function,
    /// The compiled scripts by SHA1 (or functions by name), in Lua: an
    /// mlua handle each would use up mlua's fixed room for references.
    pub(super) funcs: Table,
    /// The last script id given (see `Script::id`).
    next_id: i64,
    /// Runs since the last garbage-collection step (see `GC_EVERY`).
    runs_since_gc: u32,
    /// The sum of `script_bytes` over the cache.
    scripts_bytes: usize,
    scripts: HashMap<String, Script>,
    /// EVAL-only scripts, least recently used first.
    lru: VecDeque<String>,
    /// The protocol the script's client talks (`server.setresp`).
    resp: Rc<Cell<u8>>,
    /// Scripts evicted from the cache (INFO `evicted_scripts`).
    pub evicted: u64,
    /// The last run ended with an error that was counted already (a
    /// command's error reply): not to be counted again.
    pub error_counted: bool,
    /// The instruction-count hook's memory (`hook`).
    hook: Rc<super::hook::HookState>,
    /// The running script's host, for the server functions.
    slot: Rc<HostSlot>,
    /// While a function library loads: when the hook stops it.
    pub(super) load_deadline: Rc<Cell<Option<std::time::Instant>>>,
    /// What `server.call`/`pcall` reach (`raw_call`): last, so it is
    /// dropped after the Lua state.
    _calls: Box<super::raw_call::CallState>,
}

/// Why a script did not give a reply: the error text, without the `-`.
pub type ScriptError = String;

/// Runs a script or function under the error handler: a function library's
/// loading code, an EVAL script (clearing the KEYS and ARGV its caller set
/// when it ends), a library function with `(keys, args)`.
const RUNNER: &str = r#"
local handler, G, rawset = ...
local xpcall = xpcall
return function(f)
    return xpcall(f, handler)
end, function(f)
    local ok, r = xpcall(f, handler)
    rawset(G, "KEYS", nil)
    rawset(G, "ARGV", nil)
    return ok, r
end, function(f, keys, args)
    return xpcall(function() return f(keys, args) end, handler)
end
"#;

/// Every this many runs, a garbage-collection step of this many KB (as
/// Valkey's LUA_GC_CYCLE_PERIOD): each run leaves tables behind, and Lua's
/// own pace would let them pile up.
const GC_EVERY: u32 = 50;

/// What a run passes to the script or function it runs.
#[derive(Clone, Copy)]
pub(super) enum Params<'a> {
    /// An EVAL script: KEYS and ARGV globals.
    Globals(&'a [Bytes], &'a [Bytes]),
    /// A library function: `(keys, args)`.
    Args(&'a [Bytes], &'a [Bytes]),
}

impl Engine {
    pub fn new() -> mlua::Result<Engine> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::OS,
            LuaOptions::default(),
        )?;
        let g = lua.globals();
        // Only what Valkey's scripts see (its allow lists).
        const KEEP: &[&str] = &[
            "_G",
            "_VERSION",
            "assert",
            "collectgarbage",
            "coroutine",
            "error",
            "gcinfo",
            "getmetatable",
            "ipairs",
            "load",
            "loadstring",
            "math",
            "next",
            "os",
            "pairs",
            "pcall",
            "rawequal",
            "rawget",
            "rawset",
            "select",
            "setmetatable",
            "string",
            "table",
            "tonumber",
            "tostring",
            "type",
            "unpack",
            "xpcall",
        ];
        let mut drop = Vec::new();
        for pair in g.pairs::<Value, Value>() {
            let (k, _) = pair?;
            let keep = match &k {
                Value::String(s) => KEEP.iter().any(|n| s.as_bytes().as_ref() == n.as_bytes()),
                _ => false,
            };
            if !keep {
                drop.push(k);
            }
        }
        for k in drop {
            g.raw_set(k, Value::Nil)?;
        }
        // os.clock and nothing else of os.
        let os: Table = g.raw_get("os")?;
        let only_clock = lua.create_table()?;
        only_clock.raw_set("clock", os.raw_get::<Value>("clock")?)?;
        g.raw_set("os", only_clock)?;
        let math: Table = g.raw_get("math")?;
        super::random::install(&lua, &math)?;
        g.raw_set("cjson", super::cjson::open(&lua)?)?;
        g.raw_set("cmsgpack", super::cmsgpack::open(&lua)?)?;
        g.raw_set("bit", super::bit::open(&lua)?)?;
        g.raw_set("struct", super::lua_struct::open(&lua)?)?;

        let handler = lua.create_function(error_handler)?;
        g.raw_set("__server__err__handler", handler.clone())?;
        g.raw_set("__redis__err__handler", handler.clone())?;

        // The runner's rawset: the original (the prelude wraps it).
        let rawset: Function = g.raw_get("rawset")?;
        let imp = lua.create_table()?;
        let resp = Rc::new(Cell::new(2u8));
        let slot = Rc::new(HostSlot::default());
        let load_deadline = Rc::new(Cell::new(None));
        let calls = install_server_functions(&lua, &imp, &resp, &slot, &load_deadline)?;

        let prelude = lua
            .load(include_str!("prelude.lua"))
            .set_name("=ferrokey")
            .into_function()?;
        let (server, env, protect, set_api, strict): (Table, Table, Function, Function, Function) =
            prelude.call((g.clone(), imp.clone()))?;
        server.raw_set("REDIS_VERSION", crate::REDIS_COMPAT_VERSION)?;
        server.raw_set(
            "REDIS_VERSION_NUM",
            version_num(crate::REDIS_COMPAT_VERSION),
        )?;
        let (runner, runner_eval, runner_with_args): (Function, Function, Function) = lua
            .load(RUNNER)
            .set_name("=ferrokey")
            .call((handler, g.clone(), rawset))?;
        lua.set_globals(env)?;
        let funcs = lua.create_table()?;
        let hook = Rc::new(super::hook::HookState::default());
        super::hook::install(&lua, &imp, &hook)?;
        Ok(Engine {
            lua,
            globals: g,
            imp,
            runner,
            runner_eval,
            runner_with_args,
            protect,
            set_api,
            strict,
            funcs,
            next_id: 0,
            runs_since_gc: 0,
            scripts_bytes: 0,
            scripts: HashMap::new(),
            lru: VecDeque::new(),
            resp,
            evicted: 0,
            error_counted: false,
            hook,
            slot,
            load_deadline,
            _calls: calls,
        })
    }

    /// The cached script `sha` (lower-case hex).
    pub fn get(&self, sha: &str) -> Option<&Script> {
        self.scripts.get(sha)
    }

    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// Compiles and caches `body` unless it is cached; returns its SHA1.
    /// `pinned` (SCRIPT LOAD) keeps it from eviction.
    pub fn load(&mut self, body: &[u8], pinned: bool) -> Result<String, ScriptError> {
        let sha = sha1_hex(body);
        if let Some(s) = self.scripts.get_mut(&sha) {
            if pinned && !s.pinned {
                s.pinned = true;
                self.lru.retain(|x| *x != sha);
            } else if !s.pinned {
                // Used again: the most recently used.
                if let Some(i) = self.lru.iter().position(|x| *x == sha) {
                    if let Some(x) = self.lru.remove(i) {
                        self.lru.push_back(x);
                    }
                }
            }
            return Ok(sha);
        }
        let (flags, code) = flags::parse_shebang(body)?;
        let func = self
            .lua
            .load(&code[..])
            .set_name("@user_script")
            .set_mode(mlua::chunk::ChunkMode::Text)
            .into_function()
            .map_err(|e| {
                format!(
                    "ERR Error compiling script (new function): {}",
                    error_message(&e)
                )
            })?;
        if !pinned {
            if self.lru.len() >= EVAL_CACHE_MAX {
                if let Some(old) = self.lru.pop_front() {
                    if let Some(s) = self.scripts.remove(&old) {
                        let _ = self.funcs.raw_set(s.id, Value::Nil);
                        self.scripts_bytes -= script_bytes(&old, &s);
                    }
                    self.evicted += 1;
                }
            }
            self.lru.push_back(sha.clone());
        }
        self.next_id += 1;
        let id = self.next_id;
        self.funcs
            .raw_set(id, func)
            .map_err(|e| format!("ERR {}", error_message(&e)))?;
        let script = Script {
            body: Bytes::copy_from_slice(body),
            flags,
            id,
            pinned,
        };
        self.scripts_bytes += script_bytes(&sha, &script);
        self.scripts.insert(sha.clone(), script);
        Ok(sha)
    }

    /// EVALSHA's lookup: the cached script whose SHA1 is `sha` (hex, any
    /// case), as (id for `run`, flags). Found, it becomes the most recently
    /// used of those that may be evicted (only SCRIPT LOAD keeps one for
    /// good).
    pub fn find(&mut self, sha: &[u8]) -> Option<(i64, ScriptFlags)> {
        let mut lower = [0u8; 40];
        if sha.len() != lower.len() {
            return None;
        }
        for (d, c) in lower.iter_mut().zip(sha) {
            *d = c.to_ascii_lowercase();
        }
        let key = std::str::from_utf8(&lower).ok()?;
        let s = self.scripts.get(key)?;
        let found = (s.id, s.flags);
        if !s.pinned {
            if let Some(i) = self.lru.iter().position(|x| x == key) {
                if let Some(x) = self.lru.remove(i) {
                    self.lru.push_back(x);
                }
            }
        }
        Some(found)
    }

    /// The id `run` takes for the cached script `sha` (lower-case hex).
    pub fn id_of(&self, sha: &str) -> Option<i64> {
        self.scripts.get(sha).map(|s| s.id)
    }

    /// After a library load: forgets a load stopped by the hook.
    pub(super) fn after_load(&self) {
        super::hook::after_run(&self.lua, &self.imp, &self.hook);
    }

    /// SCRIPT FLUSH: forgets every script and starts a new Lua state.
    pub fn flush(&mut self) -> mlua::Result<()> {
        let evicted = self.evicted;
        *self = Engine::new()?;
        self.evicted = evicted;
        Ok(())
    }

    /// Bytes the Lua state uses (INFO `used_memory_lua`).
    pub fn memory(&self) -> usize {
        self.lua.used_memory()
    }

    /// Bytes of the cached scripts' sources and their bookkeeping (INFO
    /// `used_memory_scripts`).
    pub fn scripts_memory(&self) -> usize {
        self.scripts_bytes
    }

    /// Runs the cached script `id` (see `find`) with KEYS `keys` and ARGV
    /// `args`, its commands run by `host`; its reply goes to `out` (in
    /// `out`'s protocol).
    pub fn run(
        &mut self,
        id: i64,
        keys: &[Bytes],
        args: &[Bytes],
        host: &mut dyn Host,
        out: &mut ReplyBuf,
    ) -> Result<(), ScriptError> {
        let func: Function = match self.funcs.raw_get(id) {
            Ok(f) => f,
            Err(_) => return Err("NOSCRIPT No matching script.".into()),
        };
        self.execute(func, Params::Globals(keys, args), host, out)
    }

    /// Sets the globals KEYS and ARGV to fresh arrays of `keys` and `args`
    /// (the runner clears them), straight through Lua's C API: through
    /// mlua's typed calls the two tables cost about 4,000 instructions.
    fn set_keys_argv(&self, keys: &[Bytes], args: &[Bytes]) -> mlua::Result<()> {
        // SAFETY: `exec_raw` runs the closure as a protected call with the
        // global table at index 1; a Lua error there (out of memory)
        // unwinds to that call, and the closure holds nothing that needs
        // dropping.
        unsafe {
            self.lua.exec_raw::<()>(&self.globals, |l| {
                use mlua::ffi;
                if ffi::lua_checkstack(l, 4) == 0 {
                    return;
                }
                for (name, items) in [(c"KEYS", keys), (c"ARGV", args)] {
                    ffi::lua_pushstring(l, name.as_ptr());
                    let n = items.len().min(i32::MAX as usize);
                    ffi::lua_createtable(l, n as i32, 0);
                    for (i, a) in items[..n].iter().enumerate() {
                        ffi::lua_pushlstring(l, a.as_ptr().cast(), a.len());
                        ffi::lua_rawseti(l, -2, i as ffi::lua_Integer + 1);
                    }
                    ffi::lua_rawset(l, 1);
                }
            })
        }
    }

    /// Runs `func` (with `(keys, args)` for a function library's function)
    /// under the error handler, its server calls going to `host`, its
    /// return value written to `out`.
    pub(super) fn execute(
        &mut self,
        func: Function,
        params: Params,
        host: &mut dyn Host,
        out: &mut ReplyBuf,
    ) -> Result<(), ScriptError> {
        self.resp.set(2);
        let lua = &self.lua;
        let guard = self.slot.enter(host);
        let ret = match params {
            Params::Globals(keys, args) => self
                .set_keys_argv(keys, args)
                .and_then(|()| self.runner_eval.call::<MultiValue>(func)),
            Params::Args(keys, args) => string_array(lua, keys).and_then(|k| {
                let a = string_array(lua, args)?;
                self.runner_with_args.call::<MultiValue>((func, k, a))
            }),
        };
        super::hook::after_run(lua, &self.imp, &self.hook);
        drop(guard);
        self.runs_since_gc += 1;
        if self.runs_since_gc == GC_EVERY {
            self.runs_since_gc = 0;
            // SAFETY: a protected call that only runs the collector.
            let _ = unsafe {
                lua.exec_raw::<()>((), |l| {
                    mlua::ffi::lua_gc(l, mlua::ffi::LUA_GCSTEP, GC_EVERY as i32);
                })
            };
        }
        let ret = match ret {
            Ok(r) => r,
            Err(e) => return Err(format!("ERR {}", error_message(&e))),
        };
        let mut it = ret.into_iter();
        let ok = matches!(it.next(), Some(Value::Boolean(true)));
        let value = it.next().unwrap_or(Value::Nil);
        self.error_counted = convert::is_counted(&value);
        if !ok {
            return Err(raised_error_text(&value));
        }
        // A returned error table is the command's error reply (counted by
        // the call path unless it came from a command's own error).
        if let Some(e) = convert::top_level_error(&value) {
            return Err(e);
        }
        self.error_counted = false;
        convert::lua_to_reply(&value, out, self.resp.get(), 0);
        Ok(())
    }
}

/// The host of the running script, for the server functions (made once,
/// for the state's life) to reach: set by `Engine::execute` for the time
/// of a run. mlua's scoped functions would do the same safely, but making
/// and dropping them costs about 14,000 instructions a run.
#[derive(Default)]
pub(super) struct HostSlot {
    ptr: Cell<Option<*mut (dyn Host + 'static)>>,
    /// A use is under way: a second one (a hook during a call) waits.
    busy: Cell<bool>,
}

impl HostSlot {
    /// Runs `f` with the running script's host; None outside a run, or
    /// while another use of it is under way.
    pub(super) fn with<R>(&self, f: impl FnOnce(&mut dyn Host) -> R) -> Option<R> {
        if self.busy.get() {
            return None;
        }
        let p = self.ptr.get()?;
        self.busy.set(true);
        // SAFETY: `ptr` comes from the `&mut dyn Host` that `enter` was
        // given, which outlives the run, and the guard `enter` returned
        // clears it before that borrow ends (also on unwinding); `busy`
        // keeps two `&mut` to it from being alive at once.
        let r = f(unsafe { &mut *p });
        self.busy.set(false);
        Some(r)
    }

    /// Makes `host` the running script's until the guard is dropped.
    fn enter<'h>(&'h self, host: &'h mut dyn Host) -> SlotGuard<'h> {
        let p: *mut (dyn Host + 'h) = host;
        // SAFETY: only the lifetime is erased; `SlotGuard` clears the
        // pointer when `'h` ends.
        let p: *mut (dyn Host + 'static) = unsafe { std::mem::transmute(p) };
        self.ptr.set(Some(p));
        self.busy.set(false);
        SlotGuard { slot: self }
    }
}

struct SlotGuard<'h> {
    slot: &'h HostSlot,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        self.slot.ptr.set(None);
        self.slot.busy.set(false);
    }
}

/// An error a server function raises: the text of its error table. Lua
/// code sees it as the message (pcall), the error handler as the table.
#[derive(Debug)]
pub struct Raised(pub String);

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Raised {}

/// A `Raised` whose error was counted already (a command's error reply).
#[derive(Debug)]
pub struct RaisedCounted(pub String);

impl std::fmt::Display for RaisedCounted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RaisedCounted {}

fn raise<T>(msg: impl Into<String>) -> mlua::Result<T> {
    Err(mlua::Error::external(Raised(msg.into())))
}

/// The message of a `Raised` (or `RaisedCounted`) inside an mlua error,
/// and whether it was counted already.
fn raised_of(e: &mlua::Error) -> Option<(&str, bool)> {
    match e {
        mlua::Error::ExternalError(x) => {
            if let Some(r) = x.downcast_ref::<Raised>() {
                Some((&r.0, false))
            } else {
                x.downcast_ref::<RaisedCounted>()
                    .map(|r| (r.0.as_str(), true))
            }
        }
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => {
            raised_of(cause)
        }
        _ => None,
    }
}

/// The server table's functions written in Rust (those that raise errors:
/// see prelude.lua), in `imp` under their own names.
fn install_server_functions(
    lua: &Lua,
    imp: &Table,
    resp: &Rc<Cell<u8>>,
    slot: &Rc<HostSlot>,
    load_deadline: &Rc<Cell<Option<std::time::Instant>>>,
) -> mlua::Result<Box<super::raw_call::CallState>> {
    let calls = super::raw_call::CallState::new(slot.clone(), resp.clone());
    let state: *const super::raw_call::CallState = &*calls;
    // SAFETY: a protected call with `imp` at index 1 and room for the three
    // values `install` pushes; `calls` is kept by the engine, after the Lua
    // state in drop order.
    unsafe {
        lua.exec_raw::<()>(imp, |l| {
            if mlua::ffi::lua_checkstack(l, 3) != 0 {
                super::raw_call::install(l, c"call", state, true);
                super::raw_call::install(l, c"pcall", state, false);
            }
        })?;
    }
    let (s, d) = (slot.clone(), load_deadline.clone());
    imp.raw_set(
        super::hook::RUN_INTERRUPT,
        lua.create_function(move |_, ()| {
            if let Some(deadline) = d.get() {
                // A function library's code at load: stopped past its time.
                return Ok((std::time::Instant::now() >= deadline)
                    .then(|| "ERR FUNCTION LOAD timeout".to_string()));
            }
            Ok(s.with(|h| h.interrupt()).flatten())
        })?,
    )?;
    imp.raw_set(
        "sha1hex",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return raise("ERR wrong number of arguments");
            }
            let s = match &args[0] {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Integer(_) | Value::Number(_) => lua
                    .coerce_string(args[0].clone())?
                    .map(|s| s.as_bytes().to_vec())
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            lua.create_string(sha1_hex(&s))
        })?,
    )?;
    imp.raw_set(
        "log",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() < 2 {
                return raise("ERR server.log() requires two arguments or more.");
            }
            let level = match &args[0] {
                Value::Integer(i) => *i as f64,
                Value::Number(n) => *n,
                _ => return raise("ERR First argument must be a number (log level)."),
            };
            if !(0.0..=3.0).contains(&level) {
                return raise("ERR Invalid log level.");
            }
            let mut parts = Vec::new();
            for v in args.iter().skip(1) {
                if matches!(v, Value::String(_) | Value::Integer(_) | Value::Number(_)) {
                    if let Some(s) = lua.coerce_string(v.clone())? {
                        parts.push(String::from_utf8_lossy(&s.as_bytes()).into_owned());
                    }
                }
            }
            let msg = parts.join(" ");
            match level as i64 {
                0 => tracing::trace!("<lua> {msg}"),
                1 => tracing::debug!("<lua> {msg}"),
                2 => tracing::info!("<lua> {msg}"),
                _ => tracing::warn!("<lua> {msg}"),
            }
            Ok(())
        })?,
    )?;
    let r = resp.clone();
    imp.raw_set(
        "setresp",
        lua.create_function(move |_, args: MultiValue| {
            if args.len() != 1 {
                return raise("ERR server.setresp() requires one argument.");
            }
            match &args[0] {
                Value::Integer(v @ (2 | 3)) => r.set(*v as u8),
                Value::Number(v) if *v == 2.0 || *v == 3.0 => r.set(*v as u8),
                _ => return raise("ERR RESP version must be 2 or 3."),
            }
            Ok(())
        })?,
    )?;
    let s = slot.clone();
    imp.raw_set(
        "set_repl",
        lua.create_function(move |_, args: MultiValue| {
            if args.len() != 1 {
                return raise("ERR server.set_repl() requires one argument.");
            }
            let flags = match &args[0] {
                Value::Integer(v @ 0..=3) => *v as u8,
                _ => {
                    return raise(
                        "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                    )
                }
            };
            s.with(|h| h.set_repl(flags));
            Ok(())
        })?,
    )?;
    let s = slot.clone();
    imp.raw_set(
        "acl_check_cmd",
        lua.create_function(move |_, args: MultiValue| {
            if args.is_empty() {
                return raise("ERR Please specify at least one argument for this call");
            }
            let mut buf = ArgvBuf::default();
            let allowed = match to_argv(&args, &mut buf) {
                Ok(()) => s.with(|h| h.acl_check(&buf.argv)).flatten(),
                Err(_) => None,
            };
            match allowed {
                Some(b) => Ok(b),
                None => raise("ERR Invalid command passed to server.acl_check_cmd()"),
            }
        })?,
    )?;
    imp.raw_set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
    imp.raw_set("breakpoint", lua.create_function(|_, ()| Ok(false))?)?;
    imp.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    imp.raw_set(
        "errmsg",
        lua.create_function(|lua, v: Value| match v {
            Value::Error(e) => Ok(Value::String(lua.create_string(error_message(&e))?)),
            other => Ok(other),
        })?,
    )?;
    Ok(calls)
}

/// What one cached script counts in `used_memory_scripts`.
fn script_bytes(sha: &str, s: &Script) -> usize {
    sha.len() + s.body.len() + std::mem::size_of::<Script>()
}

/// A table of strings, 1-based (KEYS, ARGV).
fn string_array(lua: &Lua, items: &[Bytes]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, a) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(&a[..])?)?;
    }
    Ok(t)
}

/// Reused room for the command lines of `server.call`/`pcall`: each
/// call's arguments are slices of one buffer, which `arena` gets back once
/// they are dropped (no allocation per call once warm).
#[derive(Default)]
pub(super) struct ArgvBuf {
    pub(super) arena: BytesMut,
    ends: Vec<usize>,
    pub(super) argv: Vec<Bytes>,
}

impl ArgvBuf {
    /// Empty, for a new command line written into `arena`.
    pub(super) fn clear(&mut self) {
        self.ends.clear();
        self.argv.clear();
        self.arena.clear();
    }

    /// The argument being written into `arena` is complete.
    pub(super) fn end_arg(&mut self) {
        self.ends.push(self.arena.len());
    }

    /// Turns what `arena` holds into `argv`, one slice per argument.
    pub(super) fn finish(&mut self) {
        let all = self.arena.split().freeze();
        let mut start = 0;
        for &end in &self.ends {
            self.argv.push(all.slice(start..end));
            start = end;
        }
    }
}

/// `server.call`/`pcall`'s arguments as a command line in `buf.argv`:
/// strings as they are, numbers as `%.17g` (Lua's own conversion would
/// lose precision).
fn to_argv(args: &MultiValue, buf: &mut ArgvBuf) -> Result<(), &'static str> {
    if args.is_empty() {
        return Err("ERR Please specify at least one argument for this call");
    }
    buf.clear();
    for a in args {
        match a {
            Value::String(s) => buf.arena.extend_from_slice(&s.as_bytes()),
            Value::Integer(i) => push_number_arg(&mut buf.arena, *i as f64),
            Value::Number(n) => push_number_arg(&mut buf.arena, *n),
            _ => return Err("ERR Command arguments must be strings or integers"),
        }
        buf.end_arg();
    }
    buf.finish();
    Ok(())
}

pub(super) fn push_number_arg(out: &mut BytesMut, n: f64) {
    const LIM: f64 = 4_611_686_018_427_387_904.0; // 2^62
    if n == n.trunc() && (-LIM..=LIM).contains(&n) {
        out.extend_from_slice(crate::util::num::int_str(n as i64, &mut [0u8; 20]));
    } else {
        out.extend_from_slice(lua_number_arg(n).as_bytes());
    }
}

/// A Lua number as a command argument, as Valkey 9 writes it: an integer
/// when it is one within ±2^62 (its double2ll), else the shortest digits
/// that read back the same (fpconv_dtoa).
fn lua_number_arg(n: f64) -> String {
    const LIM: f64 = 4_611_686_018_427_387_904.0; // 2^62
    if n == n.trunc() && (-LIM..=LIM).contains(&n) {
        return (n as i64).to_string();
    }
    crate::util::num::format_shortest(n)
}

/// The message of an error that ended a script, as Valkey words it: the
/// error's text, then where the script raised it.
fn raised_error_text(v: &Value) -> String {
    let Value::Table(t) = v else {
        return format!("ERR {}", value_text(v));
    };
    let msg = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        Ok(Value::Integer(i)) => i.to_string(),
        Ok(Value::Number(n)) => crate::util::num::format_g(n, 14),
        _ => "ERR unknown error".to_string(),
    };
    let source: Option<String> = t.raw_get("source").ok();
    let line: Option<i64> = t.raw_get("line").ok();
    let mut text = match (source, line) {
        (Some(src), Some(line)) => format!("{msg} script: on {src}:{line}."),
        _ => msg,
    };
    // One line: a reply error cannot hold CR or LF.
    if text.contains(['\r', '\n']) {
        text = text.replace(['\r', '\n'], " ");
    }
    text
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        Value::Error(e) => error_message(e),
        Value::Nil => "nil".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Number(n) => crate::util::num::format_g(*n, 14),
        other => format!("{}: {:p}", other.type_name(), other.to_pointer()),
    }
}

/// The text of an mlua error, without mlua's own decorations: a Lua error
/// message as Lua would show it.
pub fn error_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(s) | mlua::Error::SyntaxError { message: s, .. } => s.clone(),
        mlua::Error::CallbackError { cause, .. } => error_message(cause),
        mlua::Error::MemoryError(_) => "not enough memory".into(),
        mlua::Error::ExternalError(e) => e.to_string(),
        mlua::Error::WithContext { cause, .. } => error_message(cause),
        other => other.to_string(),
    }
}

/// The message handler scripts run under: an error table with where the
/// script raised it (the first frame that is neither C nor the prelude).
fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    let t = match err {
        Value::Table(t) => t,
        Value::Error(e) if raised_of(&e).is_some() => {
            let t = lua.create_table()?;
            let (msg, counted) = raised_of(&e).unwrap_or(("", false));
            t.raw_set("err", lua.create_string(msg)?)?;
            if counted {
                t.raw_set(convert::COUNTED, true)?;
            }
            t
        }
        other => {
            let t = lua.create_table()?;
            let text = format!("ERR {}", value_text(&other));
            t.raw_set("err", lua.create_string(text)?)?;
            t
        }
    };
    let mut level = 1;
    while let Some((what, source, line)) = lua.inspect_stack(level, |d| {
        let s = d.source();
        (s.what, s.source.map(|c| c.into_owned()), d.current_line())
    }) {
        level += 1;
        if what == "C" || source.as_deref() == Some("=ferrokey") {
            continue;
        }
        if let Some(src) = source {
            t.raw_set("source", src)?;
        }
        if let Some(line) = line {
            t.raw_set("line", line)?;
        }
        break;
    }
    Ok(t)
}

/// "7.2.4" → 0x070204.
fn version_num(v: &str) -> i64 {
    v.split('.')
        .take(3)
        .fold(0, |acc, p| (acc << 8) | p.parse::<i64>().unwrap_or(0))
}

/// Lower-case hex SHA1 (script names, `server.sha1hex`).
pub fn sha1_hex(data: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let d = Sha1::digest(data);
    let mut s = String::with_capacity(40);
    for b in d.iter() {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_hex_is_lower_case_hex_of_the_digest() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn find_takes_any_case_and_only_full_length() {
        let mut e = Engine::new().unwrap();
        let sha = e.load(b"return 1", true).unwrap();
        assert!(e.find(sha.to_ascii_uppercase().as_bytes()).is_some());
        assert!(e.find(&sha.as_bytes()[..39]).is_none());
        assert!(e.find(b"").is_none());
    }
}
