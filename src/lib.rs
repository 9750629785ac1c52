//! ferrokey: a Redis-protocol-compatible in-memory key-value server with
//! Valkey 8's threaded design.
//!
//! ```text
//!               accept (main thread)
//!                        │ socket kept by the main thread, or handed to an
//!                        │ active IO thread (how many follows the load)
//!                        ▼
//!  IO thread k:  mio Poll ─► read ─► RESP parse ─► ToMain::Commands ──ring k──┐
//!   (net/, resp/)                                                             ▼
//!  main thread:  drain rings ─► batch (≤16 cmds) ─► prefetch keys ─► call ─► reply bytes
//!   (exec/ → commands/ → state/, keyspace/)                                   │
//!  IO thread k:  write replies ◄── drop freed values ◄── ToIo ──ring k────────┘
//! ```
//! With `io-threads 1`, or while no IO thread is active, the main thread
//! polls, parses and writes itself (`net::ConnSet` serves both cases);
//! connections move between threads between batches (`exec::main_loop`).
//!
//! Every command runs through one path, `exec::call`, whoever asks: it
//! checks authentication, arity and the command's flags, runs the handler
//! from the `commands` table, records statistics, and collects the
//! command's effects (`state::Effects`: keys modified, commands to
//! propagate). Handlers see a `commands::Ctx`, never the server state.
//!
//! Layers, each importing only those below it (`tests/module_rules.rs`):
//! `exec` (main loop, batch executor, call path) → `commands` (the table
//! and handlers) → `state` (what the main thread owns) → `keyspace` (the
//! databases and value types, no sockets, no RESP). Beside them: `net`
//! (sockets and the messages to and from the main thread; never the
//! keyspace), `resp` (the wire protocol), `ring` (the lock-free SPSC ring,
//! depending on nothing), `util` (numbers, the long double, RNG, glob),
//! `config`, and `persist` (the file formats: DUMP payloads, the RDB
//! writer thread that forkless snapshots feed, the streaming RDB parser,
//! and the append-only file's manifest, writer, reader and checker).
//! `docs/architecture.md` walks through it for a newcomer.

pub mod alloc;
pub mod commands;
pub mod config;
pub mod error;
pub mod exec;
pub mod keyspace;
pub mod log;
pub mod net;
pub mod persist;
pub mod resp;
pub mod ring;
pub mod script;
pub mod slab;
pub mod startup;
pub mod state;
pub mod util;

/// ferrokey's own version (`ferrokey-server -v`, the config file header).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The version reported as `redis_version`, so clients enable 7.2 features.
pub const REDIS_COMPAT_VERSION: &str = "7.2.4";

/// Counts live heap bytes for INFO `used_memory` (see `alloc`).
#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;
