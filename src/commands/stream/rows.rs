//! The stream family's command rows (handlers in `add.rs`, `read.rs` and
//! `info.rs`). The consumer-group commands and XINFO GROUPS/CONSUMERS are
//! the consumer-group code's rows.

use super::super::flags::*;
use super::super::meta::{acl, arg, ks, Doc, Group};
use super::super::{CommandSpec, KeySpec};
use super::add::{xadd, xdel, xsetid, xtrim};
use super::info::{xinfo_help, xinfo_stream};
use super::read::{xlen, xrange, xread, xrevrange};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "xadd",
        arity: -5,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: xadd,
        subcommands: &[],
        doc: &Doc {
            summary: "Appends an entry to a stream, creating the stream if needed.",
            complexity: "O(1) to add the entry; trimming is O(N), N entries evicted.",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)
                .notes("UPDATE instead of INSERT because of the optional trimming feature")],
            args: &[
                arg::key("key", 0),
                arg::pure("nomkstream", "NOMKSTREAM").since("6.2.0").optional(),
                arg::block("trim", &[
                    arg::oneof("strategy", &[
                        arg::pure("maxlen", "MAXLEN"),
                        arg::pure("minid", "MINID").since("6.2.0"),
                    ]),
                    arg::oneof("operator", &[
                        arg::pure("equal", "="),
                        arg::pure("approximately", "~"),
                    ]).optional(),
                    arg::string("threshold"),
                    arg::integer("count").token("LIMIT").since("6.2.0").optional(),
                ]).optional(),
                arg::oneof("id-selector", &[
                    arg::pure("auto-id", "*"),
                    arg::string("id"),
                ]),
                arg::block("data", &[
                    arg::string("field"),
                    arg::string("value"),
                ]).multiple(),
            ],
            history: &[
                ("6.2.0", "The NOMKSTREAM option, the MINID strategy and LIMIT."),
                ("7.0.0", "IDs of the form <ms>-*."),
            ],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },
    CommandSpec {
        name: "xrange",
        arity: -4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: xrange,
        subcommands: &[],
        doc: &Doc {
            summary: "Returns the stream entries between two IDs, oldest first.",
            complexity: "O(N), N entries returned; O(log(N)) to find the first one.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::string("start"),
                arg::string("end"),
                arg::integer("count").token("COUNT").optional(),
            ],
            history: &[
                ("6.2.0", "Exclusive ranges."),
            ],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },
    CommandSpec {
        name: "xrevrange",
        arity: -4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: xrevrange,
        subcommands: &[],
        doc: &Doc {
            summary: "Returns the stream entries between two IDs, newest first.",
            complexity: "O(N), N entries returned; O(log(N)) to find the first one.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::string("end"),
                arg::string("start"),
                arg::integer("count").token("COUNT").optional(),
            ],
            history: &[
                ("6.2.0", "Exclusive ranges."),
            ],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },
    CommandSpec {
        name: "xlen",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: xlen,
        subcommands: &[],
        doc: &Doc {
            summary: "Returns how many entries a stream holds.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },
    CommandSpec {
        name: "xdel",
        arity: -3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: xdel,
        subcommands: &[],
        doc: &Doc {
            summary: "Deletes entries from a stream by ID, returning how many existed.",
            complexity: "O(1) per entry deleted.",
            key_specs: &[ks::one(1, ks::RW | ks::DELETE)],
            args: &[arg::key("key", 0), arg::string("id").multiple()],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },
    CommandSpec {
        name: "xtrim",
        arity: -4,
        flags: WRITE,
        keys: KeySpec::ONE,
        handler: xtrim,
        subcommands: &[],
        doc: &Doc {
            summary: "Removes the oldest entries of a stream, by count or by ID.",
            complexity: "O(N), N entries evicted.",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RW | ks::DELETE)],
            args: &[
                arg::key("key", 0),
                arg::block("trim", &[
                    arg::oneof("strategy", &[
                        arg::pure("maxlen", "MAXLEN"),
                        arg::pure("minid", "MINID").since("6.2.0"),
                    ]),
                    arg::oneof("operator", &[
                        arg::pure("equal", "="),
                        arg::pure("approximately", "~"),
                    ]).optional(),
                    arg::string("threshold"),
                    arg::integer("count").token("LIMIT").since("6.2.0").optional(),
                ]),
            ],
            history: &[
                ("6.2.0", "The MINID strategy and LIMIT."),
            ],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },
    CommandSpec {
        name: "xsetid",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: xsetid,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets a stream's last ID and, optionally, its counters.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::string("last-id"),
                arg::integer("entries-added").token("ENTRIESADDED").since("7.0.0").optional(),
                arg::string("max-deleted-id").token("MAXDELETEDID").since("7.0.0").optional(),
            ],
            history: &[
                ("7.0.0", "The ENTRIESADDED and MAXDELETEDID options."),
            ],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },
    CommandSpec {
        name: "xread",
        arity: -4,
        flags: READONLY | BLOCKING,
        // Movable keys (after STREAMS): found from the key specification.
        keys: KeySpec::DECLARED,
        handler: xread,
        subcommands: &[],
        doc: &Doc {
            summary: "Returns the entries of streams after given IDs, waiting for some if asked.",
            // Valkey's row declares no complexity.
            complexity: "",
            key_specs: &[ks::spec(
                ks::RO | ks::ACCESS,
                ks::Begin::Keyword { keyword: "STREAMS", startfrom: 1 },
                ks::Find::Range { lastkey: -1, step: 1, limit: 2 },
            )],
            args: &[
                arg::integer("count").token("COUNT").optional(),
                arg::integer("milliseconds").token("BLOCK").optional(),
                arg::block("streams", &[
                    arg::key("key", 0).multiple(),
                    arg::string("id").multiple(),
                ]).token("STREAMS"),
            ],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },
    CommandSpec {
        name: "xinfo",
        arity: -2,
        flags: 0,
        keys: KeySpec::NONE,
        handler: super::super::container,
        subcommands: &[
            // ---- consumer groups (branch h-cgroup) ----
            super::cg_rows::XINFO_CONSUMERS,
            super::cg_rows::XINFO_GROUPS,
            // ---- end of consumer groups ----
            CommandSpec {
                name: "xinfo|help",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: xinfo_help,
                subcommands: &[],
                doc: &Doc {
                    summary: "Lists the XINFO subcommands.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
                },
            },
            CommandSpec {
                name: "xinfo|stream",
                arity: -3,
                flags: READONLY,
                keys: KeySpec::range(2, 2, 1),
                handler: xinfo_stream,
                subcommands: &[],
                doc: &Doc {
                    summary: "Describes a stream: its counters, IDs, and first and last entries (or all, with FULL).",
                    complexity: "O(log N) without FULL; with FULL, O(N) for the N entries and pending entries returned.",
                    key_specs: &[ks::one(2, ks::RO | ks::ACCESS)],
                    args: &[
                        arg::key("key", 0),
                        arg::block("full-block", &[
                            arg::pure("full", "FULL"),
                            arg::integer("count").token("COUNT").optional(),
                        ]).optional(),
                    ],
                    history: &[
                        ("6.0.0", "The FULL modifier."),
                        ("7.0.0", "The max-deleted-entry-id, entries-added and recorded-first-entry-id fields; entries-read and lag per group."),
                        ("7.2.0", "active-time per consumer; seen-time is the last read attempt."),
                    ],
                    ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
                },
            },
        ],
        doc: &Doc {
            summary: "A container for commands that describe streams and their consumer groups.",
            complexity: "Depends on the subcommand.",
            ..Doc::new(Group::Stream, "5.0.0", 0)
        },
    },
];
