//! The command table: one declarative row per command.
//!
//! Each family file (`string.rs`, `keys.rs`, ...) exports `COMMANDS`, rows of
//! `CommandSpec`: name, arity (Valkey's sign rule: negative means "at
//! least"), flags, key positions, documentation and handler. The table drives
//! lookup, arity errors, key extraction for prefetch, and COMMAND
//! COUNT/INFO/DOCS/LIST/GETKEYS. Handlers parse their own arguments with the
//! helpers in `args` and write their reply through `Ctx::out`.

pub mod args;
pub mod command;
pub mod config;
pub mod connection;
pub mod debug;
pub mod digest;
pub mod hash;
pub mod info;
pub mod keys;
pub mod latency;
pub mod list;
pub mod propagate;
pub mod rdb_len;
pub mod server;
pub mod set;
pub mod sort;
pub mod string;
pub mod syntax;
pub mod table;
pub mod zset;

pub mod ctx;
pub use ctx::Ctx;
pub use table::{CommandTable, CMD_TABLE};

use crate::error::CmdResult;

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

    /// Wire names, in COMMAND INFO order.
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
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
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

pub struct CommandSpec {
    /// Lower case; subcommands are "container|sub".
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    pub keys: KeySpec,
    /// `generic`, `string`, `connection`, `server`, ... (COMMAND DOCS group).
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    /// Argument syntax, as in the docs: `key value [NX | XX] [GET]`.
    /// Parsed by COMMAND DOCS into argument entries (and used in help).
    pub syntax: &'static str,
    pub subcommands: &'static [CommandSpec],
    /// ACL categories beyond those flags and group imply, space-separated
    /// (`"@dangerous @keyspace"`), where Valkey assigns them by hand.
    pub acl: &'static str,
    pub handler: Handler,
}

impl CommandSpec {
    /// A row with everything but name, arity and handler empty, for `..`.
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        arity: 0,
        flags: 0,
        keys: KeySpec::NONE,
        group: "generic",
        summary: "",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "",
        subcommands: &[],
        acl: "",
        handler: |_| Ok(()),
    };

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

    /// ACL categories, derived from flags and group as Valkey assigns them.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        // Containers themselves are only "slow"; their subcommands carry the rest.
        if !self.subcommands.is_empty() {
            return vec!["@slow"];
        }
        let mut v = Vec::new();
        if self.has(flags::WRITE) {
            v.push("@write");
        }
        if self.has(flags::READONLY) {
            v.push("@read");
        }
        match self.group {
            "string" => v.push("@string"),
            "generic" => v.push("@keyspace"),
            "list" => v.push("@list"),
            "hash" => v.push("@hash"),
            "set" => v.push("@set"),
            "sorted-set" => v.push("@sortedset"),
            "connection" => v.push("@connection"),
            "pubsub" => v.push("@pubsub"),
            _ => {}
        }
        if self.has(flags::ADMIN) {
            v.push("@admin");
            v.push("@dangerous");
        }
        if self.has(flags::BLOCKING) {
            v.push("@blocking");
        }
        v.push(if self.has(flags::FAST) {
            "@fast"
        } else {
            "@slow"
        });
        v
    }
}

/// A lookup's value as a stored `Value`, for the list, hash, set and sorted
/// set families: an embedded string (the only kind not stored as a
/// `Value`) is never their type.
pub fn stored(
    v: crate::keyspace::View<'_>,
) -> Result<&crate::keyspace::Value, crate::error::CmdError> {
    v.stored().ok_or_else(|| crate::error::WRONGTYPE.into())
}
