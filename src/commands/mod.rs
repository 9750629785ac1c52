//! The command table: one declarative row per command.
//!
//! Each family file (`string.rs`, `keys.rs`, ...) exports `COMMANDS`, rows of
//! `CommandSpec`: name, arity (Valkey's sign rule: negative means "at
//! least"), flags, key positions, handler, subcommands, and a `meta::Doc`
//! declaring what Valkey's command JSON declares (argument tree, key
//! specifications, ACL categories, tips, history). The table drives lookup,
//! arity errors, key extraction for prefetch, and COMMAND
//! COUNT/INFO/DOCS/LIST/GETKEYS. Handlers parse their own arguments with the
//! helpers in `args` and write their reply through `Ctx::out`.
//!
//! Adding a command is one row (every field is required, so a row without a
//! handler does not compile; `scripts/command-row.py` prints the facts of
//! Valkey's row to start from, prose left to us), one handler, one test;
//! then `scripts/capture-command-meta.py` records Valkey's replies for the
//! comparison in tests/command.rs, and `UPDATE_README=1 cargo test --lib
//! readme` lists it in the README.

pub mod aof;
pub mod args;
pub mod bitops;
pub mod client;
pub mod cluster;
pub mod command;
pub mod config;
pub mod connection;
pub mod debug;
pub mod digest;
pub mod dump;
pub mod function;
pub mod geo;
pub mod hash;
pub mod hash_ttl;
pub mod hll;
pub mod info;
pub mod keys;
pub mod latency;
pub mod list;
pub mod meta;
pub mod migrate;
pub mod monitor;
pub mod multi;
pub mod propagate;
pub mod pubsub;
pub mod rdb_len;
pub mod reload;
pub mod save;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod table;
pub mod tracking;
pub mod wait;
pub mod zset;

pub mod ctx;
pub use ctx::Ctx;
pub use table::{CommandTable, CMD_TABLE};

use bytes::Bytes;

use crate::error::CmdResult;
pub use meta::{acl, arg, ks, Doc, Group, Secret};

pub type Handler = fn(&mut Ctx) -> CmdResult;

/// Command flags (as in Valkey's `COMMAND INFO`).
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    /// Keys are optional (EVAL with numkeys 0).
    pub const NO_MANDATORY_KEYS: u32 = 1 << 16;
    /// Refused while a replica loads its dataset asynchronously.
    pub const NO_ASYNC_LOADING: u32 = 1 << 17;
    /// Served for a client that sent ASKING (cluster mode only).
    pub const ASKING: u32 = 1 << 18;
    /// Runs a script (EVAL, FCALL and kin), which may keep the server busy:
    /// ours, never shown (the batch executor runs such a command after the
    /// other clients' queued ones, so that those are not stuck behind it).
    pub const RUNS_SCRIPT: u32 = 1 << 19;

    /// Wire names, in COMMAND INFO order. `may_replicate` is never shown;
    /// the slow log is the command log since Valkey 8.1. COMMAND INFO adds
    /// the derived `movablekeys` before `allow_busy`.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_commandlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// Where the keys are in argv: Valkey's legacy (first, last, step) triple.
/// `last` negative counts from the end (-1: the last argument). `numkeys`
/// commands (ZUNIONSTORE, LMPOP, ...) set `numkeys_at` instead: the argv
/// index holding the count, keys following it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    pub first: i32,
    pub last: i32,
    pub step: i32,
    pub numkeys_at: i32,
}

impl KeySpec {
    pub const NONE: KeySpec = KeySpec {
        first: 0,
        last: 0,
        step: 0,
        numkeys_at: 0,
    };
    pub const fn range(first: i32, last: i32, step: i32) -> KeySpec {
        KeySpec {
            first,
            last,
            step,
            numkeys_at: 0,
        }
    }
    /// One key at index 1 (most commands).
    pub const ONE: KeySpec = KeySpec::range(1, 1, 1);
    /// Keys the command's own function finds (MIGRATE's KEYS form, see
    /// `table::key_positions`); `first..=last` when it finds none of those.
    pub const fn own(first: i32, last: i32) -> KeySpec {
        KeySpec {
            first,
            last,
            step: 1,
            numkeys_at: -1,
        }
    }
    /// Keys only the declared key specifications find (XREAD's keyword
    /// search for STREAMS, then half the remaining arguments); see
    /// `table::key_positions`.
    pub const DECLARED: KeySpec = KeySpec {
        first: 0,
        last: 0,
        step: 0,
        numkeys_at: -2,
    };
    pub const fn numkeys(at: i32) -> KeySpec {
        KeySpec {
            first: at + 1,
            last: -1,
            step: 1,
            numkeys_at: at,
        }
    }

    /// Positions of the keys in `argv` (empty when it has none or argv is
    /// too short: arity is checked separately).
    pub fn positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let (start, end, step) = if self.first <= 0 || self.step <= 0 {
            (1, 0, 1)
        } else {
            let first = self.first as usize;
            let last = if self.last < 0 {
                argc as i64 + self.last as i64
            } else {
                self.last as i64
            };
            let last = last.min(argc as i64 - 1);
            (
                first,
                if last < first as i64 {
                    0
                } else {
                    last as usize
                },
                self.step as usize,
            )
        };
        (start..=end).step_by(step).filter(move |_| end >= start)
    }
}

/// One command (or subcommand): what running it needs, then its declared
/// metadata behind a pointer, so the rows the lookup walks stay small.
/// Every field is required: a row without a handler does not compile.
pub struct CommandSpec {
    /// Lower case; subcommands are "container|sub".
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    /// Key positions for prefetching and blocking (the legacy triple COMMAND
    /// INFO derives from `doc.key_specs`; a test keeps the two in step).
    pub keys: KeySpec,
    pub handler: Handler,
    pub subcommands: &'static [CommandSpec],
    pub doc: &'static Doc,
}

impl CommandSpec {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// True when `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }

    /// ACL categories as bits: those the row declares plus those its flags
    /// imply, by Valkey's rule (write, read, admin and dangerous, pubsub,
    /// fast, blocking; not fast means slow).
    pub fn acl_categories(&self) -> u32 {
        let mut c = self.doc.acl;
        if self.has(flags::WRITE) {
            c |= acl::WRITE;
        }
        if self.has(flags::READONLY) && c & acl::SCRIPTING == 0 {
            c |= acl::READ;
        }
        if self.has(flags::ADMIN) {
            c |= acl::ADMIN | acl::DANGEROUS;
        }
        if self.has(flags::PUBSUB) {
            c |= acl::PUBSUB;
        }
        if self.has(flags::FAST) {
            c |= acl::FAST;
        }
        if self.has(flags::BLOCKING) {
            c |= acl::BLOCKING;
        }
        if c & acl::FAST == 0 {
            c |= acl::SLOW;
        }
        c
    }

    /// Positions of the arguments of this call that must not be logged
    /// (passwords), as the row declares them.
    pub fn secret_positions(&self, argv: &[Bytes]) -> Vec<usize> {
        meta::secret_positions(self.doc.secret, argv)
    }
}

/// The handler of a container whose arity never lets it run without a
/// subcommand (CLIENT, CONFIG, ...): `resolve` replies the errors.
pub fn container(ctx: &mut Ctx) -> CmdResult {
    Err(crate::error::wrong_arity(ctx.cmd.name))
}

/// A lookup's value as a stored `Value`, for the list, hash, set and sorted
/// set families: an embedded string (the only kind not stored as a
/// `Value`) is never their type.
pub fn stored(
    v: crate::keyspace::View<'_>,
) -> Result<&crate::keyspace::Value, crate::error::CmdError> {
    v.stored().ok_or_else(|| crate::error::WRONGTYPE.into())
}
