//! Function libraries: FUNCTION LOAD's code, the functions it registers,
//! and running one of them (FCALL).
//!
//! Libraries live in a Lua state of their own (an `Engine`, as EVAL's, so
//! the same sandbox), apart from EVAL scripts, as in Valkey: SCRIPT FLUSH
//! leaves them alone. A library's code runs once, at load, with nothing
//! but the library API in sight (`server.register_function`, `server.log`,
//! the log levels and versions; every other global is the nonexistent
//! global error), then its functions run with the full server API: the
//! globals read through to one or the other (the prelude's `set_api`), as
//! Valkey switches its globals' `__index`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use bytes::Bytes;
use mlua::{Function, MultiValue, Table, Value};

use super::engine::{error_message, Engine, Host, ScriptError};
use super::flags::{self, ScriptFlags};
use crate::resp::ReplyBuf;

/// How long a library's code may run at load (Valkey's 500 ms).
const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// One registered function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionInfo {
    pub name: String,
    pub description: Option<String>,
    pub flags: ScriptFlags,
}

/// One loaded library.
#[derive(Clone, Debug)]
pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: Vec<FunctionInfo>,
}

pub struct Libraries {
    engine: Engine,
    /// The globals while a library loads: `server` and `redis` as the
    /// library API.
    load_api: Table,
    /// Where `register_function` puts what it is given, during a load.
    pending: Rc<RefCell<Option<Pending>>>,
    libs: BTreeMap<String, Library>,
    /// Function name → its library.
    owner: HashMap<String, String>,
}

#[derive(Default)]
struct Pending {
    functions: Vec<FunctionInfo>,
    /// The callbacks, by registration order (kept in Lua: see `funcs`).
    callbacks: Option<Table>,
}

/// The library name a library's code declares (`#!lua name=...`).
pub fn library_name(code: &[u8]) -> Result<String, String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let end = memchr::memchr(b'\n', code).unwrap_or(code.len());
    let line = String::from_utf8_lossy(&code[2..end]);
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    let mut name = None;
    for part in parts {
        match part.strip_prefix("name=") {
            Some(n) => {
                if name.is_some() {
                    return Err(
                        "ERR Invalid metadata value, name argument was given multiple times".into(),
                    );
                }
                name = Some(n.to_string());
            }
            None => return Err(format!("ERR Invalid metadata value given: {part}")),
        }
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    if !valid_name(&name) {
        return Err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    Ok(name)
}

fn valid_name(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Libraries {
    pub fn new() -> mlua::Result<Libraries> {
        let engine = Engine::new()?;
        let lua = &engine.lua;
        // A missing member of the API is the nonexistent-global error too
        // (`server.call` at load time names 'call').
        let api: Table = engine.strict.call(lua.create_table()?)?;
        for name in [
            "log",
            "LOG_DEBUG",
            "LOG_VERBOSE",
            "LOG_NOTICE",
            "LOG_WARNING",
            "REDIS_VERSION",
            "REDIS_VERSION_NUM",
        ] {
            let v: Value = engine.imp.raw_get(name).unwrap_or(Value::Nil);
            let v = if v.is_nil() {
                // Constants live in the server table the prelude built.
                let server: Table = engine.lua.globals().get("server")?;
                server.get::<Value>(name)?
            } else {
                v
            };
            api.raw_set(name, v)?;
        }
        // register_function is there for good: outside a load it says so.
        let pending: Rc<RefCell<Option<Pending>>> = Rc::default();
        let p = pending.clone();
        api.raw_set(
            "register_function",
            lua.create_function(move |_, args: MultiValue| register_function(&p, args))?,
        )?;
        let api_proxy: Value = engine
            .protect
            .call::<MultiValue>(api.clone())?
            .into_iter()
            .next()
            .unwrap_or(Value::Nil);
        let globals = lua.create_table()?;
        globals.raw_set("server", api_proxy.clone())?;
        globals.raw_set("redis", api_proxy)?;
        let load_api: Table = engine.strict.call(globals)?;
        let libs = Libraries {
            engine,
            load_api,
            pending,
            libs: BTreeMap::new(),
            owner: HashMap::new(),
        };
        Ok(libs)
    }

    /// Libraries loaded from a file's codes, in order; on failure, the
    /// index of the library refused and why (Valkey's text, without "ERR ").
    pub fn from_codes(codes: &[Bytes]) -> Result<Libraries, (usize, String)> {
        let mut libs = Libraries::new().map_err(|e| (0, e.to_string()))?;
        for (i, code) in codes.iter().enumerate() {
            libs.load(code, false)
                .map_err(|e| (i, e.strip_prefix("ERR ").map(str::to_string).unwrap_or(e)))?;
        }
        Ok(libs)
    }

    /// The libraries' code, in name order (what RDB files and FUNCTION
    /// DUMP hold).
    pub fn codes(&self) -> Vec<Bytes> {
        self.libs.values().map(|l| l.code.clone()).collect()
    }

    /// The libraries, by name.
    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libs.values()
    }

    pub fn library(&self, name: &str) -> Option<&Library> {
        self.libs.get(name)
    }

    /// The function `name` and its library (names are case-insensitive,
    /// as in Valkey).
    pub fn function(&self, name: &str) -> Option<(&Library, &FunctionInfo)> {
        let lib = self.libs.get(self.owner.get(&name.to_ascii_lowercase())?)?;
        let f = lib
            .functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))?;
        Some((lib, f))
    }

    pub fn function_count(&self) -> usize {
        self.owner.len()
    }

    /// Bytes the libraries' Lua state uses.
    pub fn memory(&self) -> usize {
        self.engine.memory()
    }

    /// Bytes of the libraries' code and bookkeeping.
    pub fn code_memory(&self) -> usize {
        self.libs
            .values()
            .map(|l| l.name.len() + l.code.len() + l.functions.len() * 64)
            .sum()
    }

    /// FUNCTION LOAD: runs `code` and keeps the functions it registers;
    /// returns the library's name.
    pub fn load(&mut self, code: &[u8], replace: bool) -> Result<String, String> {
        let name = library_name(code)?;
        if self.libs.contains_key(&name) && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        let (functions, callbacks) = self.run_library(code)?;
        if functions.is_empty() {
            return Err("ERR No functions registered".into());
        }
        for f in &functions {
            if let Some(other) = self.owner.get(&f.name.to_ascii_lowercase()) {
                if *other != name {
                    return Err(format!("ERR Function {} already exists", f.name));
                }
            }
        }
        self.remove(&name);
        for (i, f) in functions.iter().enumerate() {
            let cb: Value = callbacks
                .raw_get(i + 1)
                .map_err(|e| format!("ERR {}", error_message(&e)))?;
            let key = f.name.to_ascii_lowercase();
            self.engine
                .funcs
                .raw_set(key.as_str(), cb)
                .map_err(|e| format!("ERR {}", error_message(&e)))?;
            self.owner.insert(key, name.clone());
        }
        self.libs.insert(
            name.clone(),
            Library {
                name: name.clone(),
                code: Bytes::copy_from_slice(code),
                functions,
            },
        );
        Ok(name)
    }

    /// FUNCTION DELETE.
    pub fn delete(&mut self, name: &str) -> Result<(), String> {
        if !self.libs.contains_key(name) {
            return Err("ERR Library not found".into());
        }
        self.remove(name);
        Ok(())
    }

    fn remove(&mut self, name: &str) {
        if let Some(lib) = self.libs.remove(name) {
            for f in &lib.functions {
                let key = f.name.to_ascii_lowercase();
                self.owner.remove(&key);
                let _ = self.engine.funcs.raw_set(key.as_str(), Value::Nil);
            }
        }
    }

    /// Compiles and runs a library's code with the library API in sight;
    /// the functions it registered, their callbacks in a Lua table.
    fn run_library(&mut self, code: &[u8]) -> Result<(Vec<FunctionInfo>, Table), String> {
        let lua = &self.engine.lua;
        let err = |e: mlua::Error| format!("ERR {}", error_message(&e));
        let mut body = code.to_vec();
        // The shebang line becomes a comment: line numbers stay the code's.
        body[0] = b'-';
        body[1] = b'-';
        let chunk = lua
            .load(&body[..])
            .set_name("@user_function")
            .set_mode(mlua::chunk::ChunkMode::Text)
            .into_function()
            .map_err(|e| format!("ERR Error compiling function: {}", error_message(&e)))?;
        let callbacks = lua.create_table().map_err(err)?;
        *self.pending.borrow_mut() = Some(Pending {
            functions: Vec::new(),
            callbacks: Some(callbacks.clone()),
        });
        let result = (|| {
            self.engine.set_api.call::<()>(self.load_api.clone())?;
            // A load that runs past LOAD_TIMEOUT is stopped by the hook.
            self.engine
                .load_deadline
                .set(Some(std::time::Instant::now() + LOAD_TIMEOUT));
            let ret = self.engine.runner.call::<MultiValue>(chunk);
            self.engine.load_deadline.set(None);
            self.engine.after_load();
            self.engine
                .set_api
                .call::<()>(self.engine.globals.clone())?;
            ret
        })();
        let pending = self.pending.borrow_mut().take().unwrap_or_default();
        let ret = result.map_err(err)?;
        let mut it = ret.into_iter();
        if !matches!(it.next(), Some(Value::Boolean(true))) {
            let msg = match it.next() {
                Some(Value::Table(t)) => match t.raw_get::<Value>("err") {
                    Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                    _ => "ERR unknown error".into(),
                },
                _ => "ERR unknown error".into(),
            };
            return Err(format!("ERR Error registering functions: {msg}"));
        }
        // Names are checked once the code ran, as Valkey does.
        let mut seen = std::collections::HashSet::new();
        for f in &pending.functions {
            if !valid_name(&f.name) {
                return Err("ERR Function names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
            }
            if !seen.insert(f.name.to_ascii_lowercase()) {
                return Err("ERR Function already exists in the library".into());
            }
        }
        Ok((pending.functions, callbacks))
    }

    /// The last call ended with an error counted already.
    pub fn error_counted(&self) -> bool {
        self.engine.error_counted
    }

    /// FCALL: runs the function `name` with `keys` and `args`.
    pub fn call(
        &mut self,
        name: &str,
        keys: &[Bytes],
        args: &[Bytes],
        host: &mut dyn Host,
        out: &mut ReplyBuf,
    ) -> Result<(), ScriptError> {
        let func: Function = match self.engine.funcs.raw_get(name.to_ascii_lowercase()) {
            Ok(f) => f,
            Err(_) => return Err("ERR Function not found".into()),
        };
        self.engine
            .execute(func, super::engine::Params::Args(keys, args), host, out)
    }
}

/// `server.register_function(name, callback)` or
/// `server.register_function{function_name=, callback=, flags=, description=}`.
fn register_function(pending: &RefCell<Option<Pending>>, args: MultiValue) -> mlua::Result<()> {
    let raise = |m: &str| {
        Err(mlua::Error::external(super::engine::Raised(format!(
            "ERR {m}"
        ))))
    };
    let (name, callback, flags, description) = match args.len() {
        1 => {
            let Value::Table(t) = &args[0] else {
                return raise("calling server.register_function with a single argument is only applicable to Lua table (representing named arguments).");
            };
            let mut name = None;
            let mut callback = None;
            let mut flags = 0;
            let mut description = None;
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                let key =
                    match &k {
                        Value::String(s) => s.to_string_lossy(),
                        _ => return raise(
                            "named argument key given to server.register_function is not a string",
                        ),
                    };
                match key.as_str() {
                    "function_name" => name = Some(value_string(&v)),
                    "callback" => match v {
                        Value::Function(f) => callback = Some(f),
                        _ => return raise("callback argument given to server.register_function must be a function"),
                    },
                    "flags" => match v {
                        Value::Table(ft) => {
                            for fv in ft.sequence_values::<Value>() {
                                let fname = match fv? {
                                    Value::String(s) => s.to_string_lossy(),
                                    _ => return raise("unknown flag given"),
                                };
                                match flags::NAMES.iter().find(|(n, _)| *n == fname) {
                                    Some((_, f)) => flags |= f,
                                    None => return raise("unknown flag given"),
                                }
                            }
                        }
                        _ => return raise("flags argument to server.register_function must be a table representing function flags"),
                    },
                    "description" => match v {
                        Value::String(s) => description = Some(s.to_string_lossy()),
                        _ => return raise("description argument given to server.register_function must be a string"),
                    },
                    _ => return raise("unknown argument given to server.register_function"),
                }
            }
            let Some(name) = name else {
                return raise("server.register_function must get a function name argument");
            };
            let Some(callback) = callback else {
                return raise("server.register_function must get a callback argument");
            };
            (name, callback, flags, description)
        }
        2 => {
            if !matches!(
                args[0],
                Value::String(_) | Value::Integer(_) | Value::Number(_)
            ) {
                return raise("first argument to server.register_function must be a string");
            }
            let name = value_string(&args[0]);
            let Value::Function(f) = &args[1] else {
                return raise("second argument to server.register_function must be a function");
            };
            (name, f.clone(), 0, None)
        }
        _ => return raise("wrong number of arguments to server.register_function"),
    };
    let mut p = pending.borrow_mut();
    let Some(p) = p.as_mut() else {
        return raise("server.register_function can only be called on FUNCTION LOAD command");
    };
    if let Some(t) = &p.callbacks {
        t.raw_set(p.functions.len() + 1, callback)?;
    }
    p.functions.push(FunctionInfo {
        name,
        description,
        flags,
    });
    Ok(())
}

/// A name given as a string or a number (Lua converts numbers).
fn value_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string_lossy(),
        Value::Integer(i) => i.to_string(),
        Value::Number(n) => crate::util::num::format_g(*n, 14),
        _ => String::new(),
    }
}
