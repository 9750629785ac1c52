//! Lua scripting: the Lua 5.1 engine (mlua), its sandbox and the libraries
//! a script can see (`cjson`, `cmsgpack`, `bit`, `struct`).
//!
//! `engine` holds the Lua state, the sandbox (`prelude.lua`) and the script
//! cache, and runs a script with a `Host` that executes the commands it
//! calls (the server side lives in `commands::scripting`, so this module
//! needs nothing of the call path); `convert` turns replies into Lua values
//! and back; `flags` reads the `#!lua` shebang. Each library module exposes
//! `open(&Lua) -> mlua::Result<Table>`, which builds the library's table;
//! the engine installs it as a global and makes it read-only, as Valkey
//! does. `random` is Valkey's `math.random`, the same on every platform.

pub mod convert;
pub mod engine;
pub mod flags;
pub mod hook;
pub mod library;
mod raw_call;

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod lua_struct;
pub mod random;
