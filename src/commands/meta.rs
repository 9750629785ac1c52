//! What a command row declares beyond what running it needs: the facts
//! Valkey's command JSON declares (group, version, argument tree, key
//! specifications, ACL categories, command tips, doc history and flags),
//! plus which arguments are secret. COMMAND INFO and COMMAND DOCS reply
//! from these declarations; nothing here is inferred from names.
//!
//! A row points at its `Doc` (`doc: &Doc { .. }`), so the rows the lookup
//! walks stay small. The declarations are `const` values built with the
//! constructors below: `arg::integer("count").token("COUNT").optional()`,
//! `ks::one(1, ks::RW | ks::ACCESS | ks::DELETE)`.

use bytes::Bytes;

/// The COMMAND DOCS group of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Generic,
    String,
    List,
    Set,
    SortedSet,
    Hash,
    Pubsub,
    Transactions,
    Connection,
    Server,
    Scripting,
    Hyperloglog,
    Cluster,
    Geo,
    Stream,
    Bitmap,
}

impl Group {
    /// Every group, in the order the README lists them.
    pub const ALL: &'static [Group] = &[
        Group::Generic,
        Group::String,
        Group::List,
        Group::Set,
        Group::SortedSet,
        Group::Hash,
        Group::Pubsub,
        Group::Transactions,
        Group::Connection,
        Group::Server,
        Group::Scripting,
        Group::Hyperloglog,
        Group::Cluster,
        Group::Geo,
        Group::Stream,
        Group::Bitmap,
    ];

    pub const fn wire(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Hash => "hash",
            Group::Pubsub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Scripting => "scripting",
            Group::Hyperloglog => "hyperloglog",
            Group::Cluster => "cluster",
            Group::Geo => "geo",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
        }
    }
}

/// ACL categories, as bits in Valkey's category order (the order COMMAND
/// INFO lists them in).
pub mod acl {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const SET: u32 = 1 << 3;
    pub const SORTEDSET: u32 = 1 << 4;
    pub const LIST: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const STRING: u32 = 1 << 7;
    pub const BITMAP: u32 = 1 << 8;
    pub const HYPERLOGLOG: u32 = 1 << 9;
    pub const GEO: u32 = 1 << 10;
    pub const STREAM: u32 = 1 << 11;
    pub const PUBSUB: u32 = 1 << 12;
    pub const ADMIN: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const SLOW: u32 = 1 << 15;
    pub const BLOCKING: u32 = 1 << 16;
    pub const DANGEROUS: u32 = 1 << 17;
    pub const CONNECTION: u32 = 1 << 18;
    pub const TRANSACTION: u32 = 1 << 19;
    pub const SCRIPTING: u32 = 1 << 20;

    /// Wire names (without the `@`), in bit order.
    pub const NAMES: &[(u32, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];
}

/// Documentation flags (COMMAND DOCS `doc_flags`).
pub mod doc_flags {
    pub const DEPRECATED: u8 = 1 << 0;
    /// A system command, not meant to be called by users.
    pub const SYSCMD: u8 = 1 << 1;

    pub const NAMES: &[(u8, &str)] = &[(DEPRECATED, "deprecated"), (SYSCMD, "syscmd")];
}

/// Which arguments never reach the slow log (Valkey redacts them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    None,
    /// Every argument after the name (AUTH).
    AllArgs,
    /// The `count` arguments after the first argument equal to the token
    /// (HELLO's `AUTH username password`).
    AfterToken(&'static str, usize),
    /// The value of every `name value` pair whose directive is sensitive
    /// (CONFIG SET requirepass ...).
    SensitiveConfigValues,
    /// MIGRATE's `AUTH password` and `AUTH2 username password`.
    Migrate,
}

/// A command's declared metadata. Build with `..Doc::new(group, since, acl)`
/// after the fields the row sets.
#[derive(Debug)]
pub struct Doc {
    pub group: Group,
    /// The version that added the command.
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// The ACL categories declared by hand; those the command flags imply
    /// (`@write`, `@read`, `@fast`/`@slow`, ...) are added by the rule in
    /// `CommandSpec::acl_categories`.
    pub acl: u32,
    /// Command tips (`nondeterministic_output`, `request_policy:all_shards`).
    pub tips: &'static [&'static str],
    pub key_specs: &'static [ks::KeySpecDecl],
    pub args: &'static [Arg],
    /// (version, what changed), oldest first as Valkey lists them.
    pub history: &'static [(&'static str, &'static str)],
    pub doc_flags: u8,
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    pub secret: Secret,
}

impl Doc {
    /// The facts every command has; everything else empty.
    pub const fn new(group: Group, since: &'static str, acl: u32) -> Doc {
        Doc {
            group,
            since,
            summary: "",
            complexity: "",
            acl,
            tips: &[],
            key_specs: &[],
            args: &[],
            history: &[],
            doc_flags: 0,
            deprecated_since: None,
            replaced_by: None,
            secret: Secret::None,
        }
    }
}

/// Argument types, as COMMAND DOCS names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// A key name.
    Key,
    String,
    Integer,
    Double,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl ArgType {
    pub const fn wire(self) -> &'static str {
        match self {
            ArgType::Key => "key",
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf => "oneof",
            ArgType::Block => "block",
        }
    }

    /// Containers carry nested arguments and no display text.
    pub const fn is_container(self) -> bool {
        matches!(self, ArgType::OneOf | ArgType::Block)
    }
}

/// Argument flags (COMMAND DOCS `flags`).
pub mod arg_flags {
    pub const OPTIONAL: u8 = 1 << 0;
    pub const MULTIPLE: u8 = 1 << 1;
    /// The token repeats with each value (`GET p [GET p ...]`).
    pub const MULTIPLE_TOKEN: u8 = 1 << 2;

    pub const NAMES: &[(u8, &str)] = &[
        (OPTIONAL, "optional"),
        (MULTIPLE, "multiple"),
        (MULTIPLE_TOKEN, "multiple_token"),
    ];
}

/// One argument entry of COMMAND DOCS.
#[derive(Clone, Copy, Debug)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgType,
    /// Shown instead of the name (`ip:port`); None shows the name.
    pub display: Option<&'static str>,
    pub token: Option<&'static str>,
    /// The key specification that finds this argument (keys, and patterns
    /// that name keys, like SORT's BY).
    pub key_spec: Option<u8>,
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    pub flags: u8,
    /// Members of a oneof or block.
    pub args: &'static [Arg],
}

impl Arg {
    pub const fn token(self, token: &'static str) -> Arg {
        Arg {
            token: Some(token),
            ..self
        }
    }
    pub const fn key_spec(self, index: u8) -> Arg {
        Arg {
            key_spec: Some(index),
            ..self
        }
    }
    pub const fn optional(self) -> Arg {
        Arg {
            flags: self.flags | arg_flags::OPTIONAL,
            ..self
        }
    }
    pub const fn multiple(self) -> Arg {
        Arg {
            flags: self.flags | arg_flags::MULTIPLE,
            ..self
        }
    }
    pub const fn multiple_token(self) -> Arg {
        Arg {
            flags: self.flags | arg_flags::MULTIPLE_TOKEN,
            ..self
        }
    }
    pub const fn since(self, version: &'static str) -> Arg {
        Arg {
            since: Some(version),
            ..self
        }
    }
    pub const fn deprecated_since(self, version: &'static str) -> Arg {
        Arg {
            deprecated_since: Some(version),
            ..self
        }
    }
    pub const fn display(self, text: &'static str) -> Arg {
        Arg {
            display: Some(text),
            ..self
        }
    }
    pub const fn summary(self, text: &'static str) -> Arg {
        Arg {
            summary: Some(text),
            ..self
        }
    }
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Argument constructors, one per type.
pub mod arg {
    use super::{Arg, ArgType};

    const fn of(name: &'static str, kind: ArgType, args: &'static [Arg]) -> Arg {
        Arg {
            name,
            kind,
            display: None,
            token: None,
            key_spec: None,
            summary: None,
            since: None,
            deprecated_since: None,
            flags: 0,
            args,
        }
    }
    /// A key found by key specification `spec`.
    pub const fn key(name: &'static str, spec: u8) -> Arg {
        of(name, ArgType::Key, &[]).key_spec(spec)
    }
    pub const fn string(name: &'static str) -> Arg {
        of(name, ArgType::String, &[])
    }
    pub const fn integer(name: &'static str) -> Arg {
        of(name, ArgType::Integer, &[])
    }
    pub const fn double(name: &'static str) -> Arg {
        of(name, ArgType::Double, &[])
    }
    pub const fn pattern(name: &'static str) -> Arg {
        of(name, ArgType::Pattern, &[])
    }
    pub const fn unix_time(name: &'static str) -> Arg {
        of(name, ArgType::UnixTime, &[])
    }
    /// A literal word on its own (`NX`).
    pub const fn pure(name: &'static str, token: &'static str) -> Arg {
        of(name, ArgType::PureToken, &[]).token(token)
    }
    /// Exactly one of `args`.
    pub const fn oneof(name: &'static str, args: &'static [Arg]) -> Arg {
        of(name, ArgType::OneOf, args)
    }
    /// All of `args`, in order.
    pub const fn block(name: &'static str, args: &'static [Arg]) -> Arg {
        of(name, ArgType::Block, args)
    }
}

/// Key specifications: where a command's keys are and what it does with
/// them (COMMAND INFO's `key_specs`, walked by COMMAND GETKEYS).
pub mod ks {
    /// Reads the key's value.
    pub const RO: u16 = 1 << 0;
    /// Reads and writes the key's value.
    pub const RW: u16 = 1 << 1;
    /// Overwrites the key's value without reading it.
    pub const OW: u16 = 1 << 2;
    /// Deletes the key.
    pub const RM: u16 = 1 << 3;
    /// Returns (part of) the user data.
    pub const ACCESS: u16 = 1 << 4;
    /// Changes existing data.
    pub const UPDATE: u16 = 1 << 5;
    /// Adds data.
    pub const INSERT: u16 = 1 << 6;
    /// Removes data.
    pub const DELETE: u16 = 1 << 7;
    /// The argument is not a key name.
    pub const NOT_KEY: u16 = 1 << 8;
    /// The specification may miss keys.
    pub const INCOMPLETE: u16 = 1 << 9;
    /// The flags depend on the other arguments.
    pub const VARIABLE_FLAGS: u16 = 1 << 10;

    /// Wire names, in COMMAND INFO order.
    pub const NAMES: &[(u16, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];

    /// Where the search for keys starts.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Begin {
        /// At this argv index.
        Index(i64),
        /// After the last (`startfrom` < 0) or first occurrence of the
        /// keyword, searching from `startfrom`.
        Keyword {
            keyword: &'static str,
            startfrom: i64,
        },
        /// Only the command's own key function knows.
        Unknown,
    }

    /// How the keys follow the beginning.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Find {
        /// Up to `lastkey` relative to the beginning (negative: from the
        /// end), every `step`-th; `limit` > 1 divides what remains.
        Range {
            lastkey: i64,
            step: i64,
            limit: i64,
        },
        /// The count at begin + `idx`, the keys from begin + `first`.
        KeyNum {
            idx: i64,
            first: i64,
            step: i64,
        },
        Unknown,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct KeySpecDecl {
        pub flags: u16,
        pub begin: Begin,
        pub find: Find,
        /// Why the flags are what they are, where that is not obvious.
        pub notes: Option<&'static str>,
    }

    impl KeySpecDecl {
        pub const fn notes(self, text: &'static str) -> KeySpecDecl {
            KeySpecDecl {
                notes: Some(text),
                ..self
            }
        }
        pub fn has(&self, flag: u16) -> bool {
            self.flags & flag != 0
        }
    }

    pub const fn spec(flags: u16, begin: Begin, find: Find) -> KeySpecDecl {
        KeySpecDecl {
            flags,
            begin,
            find,
            notes: None,
        }
    }
    /// The single key at argv[`at`].
    pub const fn one(at: i64, flags: u16) -> KeySpecDecl {
        range(at, 0, 1, flags)
    }
    /// Keys from argv[`at`] to `lastkey` (relative; negative from the end),
    /// every `step`-th.
    pub const fn range(at: i64, lastkey: i64, step: i64, flags: u16) -> KeySpecDecl {
        spec(
            flags,
            Begin::Index(at),
            Find::Range {
                lastkey,
                step,
                limit: 0,
            },
        )
    }
    /// A count at argv[`at`], then that many keys right after it.
    pub const fn keynum(at: i64, flags: u16) -> KeySpecDecl {
        spec(
            flags,
            Begin::Index(at),
            Find::KeyNum {
                idx: 0,
                first: 1,
                step: 1,
            },
        )
    }
    /// Keys only the command's key function finds (SORT's STORE).
    pub const fn unknown(flags: u16) -> KeySpecDecl {
        spec(flags, Begin::Unknown, Find::Unknown)
    }
}

/// Positions of the arguments of `argv` (a call of the command whose row
/// declares `secret`) that must not be logged.
pub fn secret_positions(secret: Secret, argv: &[Bytes]) -> Vec<usize> {
    let is = |a: &[u8], s: &str| a.eq_ignore_ascii_case(s.as_bytes());
    match secret {
        Secret::None => Vec::new(),
        Secret::AllArgs => (1..argv.len()).collect(),
        Secret::AfterToken(token, count) => argv
            .iter()
            .skip(1)
            .position(|a| is(a, token))
            .map(|p| (p + 2..p + 2 + count).filter(|&i| i < argv.len()).collect())
            .unwrap_or_default(),
        Secret::SensitiveConfigValues => (2..argv.len())
            .step_by(2)
            .filter(|&i| {
                std::str::from_utf8(&argv[i])
                    .ok()
                    .and_then(crate::config::Config::directive)
                    .is_some_and(|d| d.has(crate::config::directives::SENSITIVE))
            })
            .map(|i| i + 1)
            .filter(|&i| i < argv.len())
            .collect(),
        Secret::Migrate => super::migrate::secret_positions(argv),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn secrets() {
        assert_eq!(
            secret_positions(Secret::AllArgs, &argv(&["auth", "u", "p"])),
            vec![1, 2]
        );
        let hello = Secret::AfterToken("AUTH", 2);
        assert_eq!(
            secret_positions(hello, &argv(&["hello", "3", "auth", "u", "p"])),
            vec![3, 4]
        );
        assert_eq!(
            secret_positions(hello, &argv(&["hello", "3", "AUTH", "u"])),
            vec![3]
        );
        assert!(secret_positions(hello, &argv(&["hello", "3"])).is_empty());
        assert!(secret_positions(Secret::None, &argv(&["get", "auth"])).is_empty());
        let cfg = Secret::SensitiveConfigValues;
        assert_eq!(
            secret_positions(
                cfg,
                &argv(&["config", "set", "maxclients", "1", "requirepass", "pw"])
            ),
            vec![5]
        );
        assert!(secret_positions(cfg, &argv(&["config", "set", "requirepass"])).is_empty());
    }

    /// The rows that carry passwords declare them, and resolving a call
    /// finds them (as the slow log does).
    #[test]
    fn rows_declare_secrets() {
        use crate::commands::CMD_TABLE;
        let of = |v: &[&str]| {
            let a = argv(v);
            let id = CMD_TABLE.resolve(&a).expect("resolves");
            CMD_TABLE.specs[id].secret_positions(&a)
        };
        assert_eq!(of(&["AUTH", "pw"]), vec![1]);
        assert_eq!(of(&["auth", "user", "pw"]), vec![1, 2]);
        assert_eq!(
            of(&["HELLO", "3", "AUTH", "u", "p", "SETNAME", "n"]),
            vec![3, 4]
        );
        assert_eq!(
            of(&["CONFIG", "SET", "requirepass", "pw", "maxclients", "5"]),
            vec![3]
        );
        assert!(of(&["SET", "auth", "requirepass"]).is_empty());
        let declared: Vec<&str> = CMD_TABLE
            .specs
            .iter()
            .filter(|s| s.doc.secret != Secret::None)
            .map(|s| s.name)
            .collect();
        assert_eq!(declared, vec!["auth", "hello", "config|set", "migrate"]);
    }

    #[test]
    fn builders() {
        const A: Arg = arg::integer("count")
            .token("COUNT")
            .optional()
            .multiple()
            .since("6.2.0");
        assert_eq!(A.kind.wire(), "integer");
        assert_eq!(A.token, Some("COUNT"));
        assert!(A.has(arg_flags::OPTIONAL) && A.has(arg_flags::MULTIPLE));
        assert!(!A.has(arg_flags::MULTIPLE_TOKEN));
        let k = ks::one(1, ks::RW | ks::ACCESS).notes("why");
        assert_eq!(k.begin, ks::Begin::Index(1));
        assert!(k.has(ks::ACCESS) && !k.has(ks::RO));
        assert_eq!(k.notes, Some("why"));
    }
}
