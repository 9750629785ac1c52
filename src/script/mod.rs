//! Lua scripting: the Lua 5.1 engine (mlua), its sandbox and the libraries
//! a script can see (`cjson`, `cmsgpack`, `bit`, `struct`).
//!
//! Each library module exposes `open(&Lua) -> mlua::Result<Table>`, which
//! builds the library's table; the engine installs it as a global and makes
//! it read-only, as Valkey does.

pub mod bit;
pub mod lua_struct;
pub mod random;
pub mod cjson;
pub mod cmsgpack;
