//! ferrokey: a Redis-protocol-compatible in-memory key-value server with
//! Valkey 8's threaded design.
//!
//! ```text
//!               accept (main thread)
//!                        │ socket kept by the main thread, or handed to an
//!                        │ active IO thread (how many follows the load)
//!                        ▼
//!  IO thread k:  mio Poll ─► read ─► RESP parse ─► ToMain::Commands ──ring k──┐
//!   (net/)                                                                    ▼
//!  main thread:  drain rings ─► batch (≤16 cmds) ─► prefetch keys ─► execute ─► reply bytes
//!   (exec/, commands/, keyspace/)                                             │
//!  IO thread k:  write replies ◄── drop freed values ◄── ToIo ──ring k────────┘
//! ```
//! With `io-threads 1`, or while no IO thread is active, the main thread
//! polls, parses and writes itself (`net::ConnSet` serves both cases);
//! connections move between threads between batches (`exec::main_loop`).
//! `net` never touches the keyspace; `keyspace` never touches sockets; the
//! two meet only through the messages in `net::message`, carried by `ring`.

pub mod alloc;
pub mod commands;
pub mod config;
pub mod error;
pub mod exec;
pub mod keyspace;
pub mod log;
pub mod net;
pub mod resp;
pub mod ring;
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
