//! The command rows of the consumer-group commands (XGROUP and its
//! subcommands, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM), as
//! Valkey 9.1 declares them (scripts/command-row.py).

use super::{claim, groups, info_groups, readgroup};
use crate::commands::flags::*;
use crate::commands::meta::{acl, arg, ks, Doc, Group};
use crate::commands::{CommandSpec, KeySpec};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "xgroup",
        arity: -2,
        flags: 0,
        keys: KeySpec::NONE,
        handler: crate::commands::container,
        subcommands: &[
            CommandSpec {
                name: "xgroup|create",
                arity: -5,
                flags: WRITE | DENYOOM,
                keys: KeySpec::range(2, 2, 1),
                handler: groups::xgroup_create,
                subcommands: &[],
                doc: &Doc {
                    summary: "Creates a consumer group of a stream.",
                    complexity: "O(1)",
                    key_specs: &[
                        ks::one(2, ks::RW | ks::INSERT),
                    ],
                    args: &[
                        arg::key("key", 0),
                        arg::string("group"),
                        arg::oneof("id-selector", &[
                            arg::string("id"),
                            arg::pure("new-id", "$"),
                        ]),
                        arg::pure("mkstream", "MKSTREAM").optional(),
                        arg::integer("entriesread").token("ENTRIESREAD").display("entries-read").optional(),
                    ],
                    history: &[
                        ("7.0.0", "Adds ENTRIESREAD to set the group's read counter."),
                    ],
                    ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
                },
            },
            CommandSpec {
                name: "xgroup|createconsumer",
                arity: 5,
                flags: WRITE | DENYOOM,
                keys: KeySpec::range(2, 2, 1),
                handler: groups::xgroup_createconsumer,
                subcommands: &[],
                doc: &Doc {
                    summary: "Creates a consumer in a consumer group.",
                    complexity: "O(1)",
                    key_specs: &[
                        ks::one(2, ks::RW | ks::INSERT),
                    ],
                    args: &[
                        arg::key("key", 0),
                        arg::string("group"),
                        arg::string("consumer"),
                    ],
                    ..Doc::new(Group::Stream, "6.2.0", acl::STREAM)
                },
            },
            CommandSpec {
                name: "xgroup|delconsumer",
                arity: 5,
                flags: WRITE,
                keys: KeySpec::range(2, 2, 1),
                handler: groups::xgroup_delconsumer,
                subcommands: &[],
                doc: &Doc {
                    summary: "Deletes a consumer from a consumer group.",
                    complexity: "O(1)",
                    key_specs: &[
                        ks::one(2, ks::RW | ks::DELETE),
                    ],
                    args: &[
                        arg::key("key", 0),
                        arg::string("group"),
                        arg::string("consumer"),
                    ],
                    ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
                },
            },
            CommandSpec {
                name: "xgroup|destroy",
                arity: 4,
                flags: WRITE,
                keys: KeySpec::range(2, 2, 1),
                handler: groups::xgroup_destroy,
                subcommands: &[],
                doc: &Doc {
                    summary: "Destroys a consumer group.",
                    complexity: "O(N), N entries in the group's pending entries list.",
                    key_specs: &[
                        ks::one(2, ks::RW | ks::DELETE),
                    ],
                    args: &[
                        arg::key("key", 0),
                        arg::string("group"),
                    ],
                    ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
                },
            },
            CommandSpec {
                name: "xgroup|help",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: groups::xgroup_help,
                subcommands: &[],
                doc: &Doc {
                    summary: "Replies a list of the XGROUP subcommands.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
                },
            },
            CommandSpec {
                name: "xgroup|setid",
                arity: -5,
                flags: WRITE,
                keys: KeySpec::range(2, 2, 1),
                handler: groups::xgroup_setid,
                subcommands: &[],
                doc: &Doc {
                    summary: "Sets a consumer group's last delivered id.",
                    complexity: "O(1)",
                    key_specs: &[
                        ks::one(2, ks::RW | ks::UPDATE),
                    ],
                    args: &[
                        arg::key("key", 0),
                        arg::string("group"),
                        arg::oneof("id-selector", &[
                            arg::string("id"),
                            arg::pure("new-id", "$"),
                        ]),
                        arg::integer("entriesread").token("ENTRIESREAD").display("entries-read").optional(),
                    ],
                    history: &[
                        ("7.0.0", "Adds ENTRIESREAD to set the group's read counter."),
                    ],
                    ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
                },
            },
        ],
        doc: &Doc {
            summary: "Sets a consumer group's last delivered id.",
            complexity: "O(1)",
            ..Doc::new(Group::Stream, "5.0.0", 0)
        },
    },
    CommandSpec {
        name: "xreadgroup",
        arity: -7,
        flags: WRITE | BLOCKING,
        // Movable keys (after STREAMS): found from the key specification.
        keys: KeySpec::DECLARED,
        handler: readgroup::xreadgroup,
        subcommands: &[],
        doc: &Doc {
            summary: "Reads entries of streams as a consumer of a group, waiting for them if asked.",
            complexity: "O(M) for M entries replied, per stream.",
            key_specs: &[
                ks::spec(ks::RO | ks::ACCESS, ks::Begin::Keyword { keyword: "STREAMS", startfrom: 4 }, ks::Find::Range { lastkey: -1, step: 1, limit: 2 }),
            ],
            args: &[
                arg::block("group-block", &[
                    arg::string("group"),
                    arg::string("consumer"),
                ]).token("GROUP"),
                arg::integer("count").token("COUNT").optional(),
                arg::integer("milliseconds").token("BLOCK").optional(),
                arg::pure("noack", "NOACK").optional(),
                arg::block("streams", &[
                    arg::key("key", 0).multiple(),
                    arg::string("id").multiple(),
                ]).token("STREAMS"),
            ],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },

    CommandSpec {
        name: "xack",
        arity: -4,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: groups::xack,
        subcommands: &[],
        doc: &Doc {
            summary: "Acknowledges entries in a consumer group's pending entries list.",
            complexity: "O(1) for each id.",
            key_specs: &[
                ks::one(1, ks::RW | ks::UPDATE),
            ],
            args: &[
                arg::key("key", 0),
                arg::string("group"),
                arg::string("id").multiple(),
            ],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },

    CommandSpec {
        name: "xpending",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: groups::xpending,
        subcommands: &[],
        doc: &Doc {
            summary: "Replies what a consumer group has pending: a summary, or the entries in a range.",
            complexity: "O(N) for N entries replied, O(1) for the summary.",
            tips: &["nondeterministic_output"],
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
            ],
            args: &[
                arg::key("key", 0),
                arg::string("group"),
                arg::block("filters", &[
                    arg::integer("min-idle-time").token("IDLE").since("6.2.0").optional(),
                    arg::string("start"),
                    arg::string("end"),
                    arg::integer("count"),
                    arg::string("consumer").optional(),
                ]).optional(),
            ],
            history: &[
                ("6.2.0", "Adds IDLE, and exclusive ranges."),
            ],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },

    CommandSpec {
        name: "xclaim",
        arity: -6,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: claim::xclaim,
        subcommands: &[],
        doc: &Doc {
            summary: "Gives pending entries of a consumer group to another consumer.",
            complexity: "O(log N) for each id.",
            tips: &["nondeterministic_output"],
            key_specs: &[
                ks::one(1, ks::RW | ks::UPDATE),
            ],
            args: &[
                arg::key("key", 0),
                arg::string("group"),
                arg::string("consumer"),
                arg::string("min-idle-time"),
                arg::string("id").multiple(),
                arg::integer("ms").token("IDLE").optional(),
                arg::unix_time("unix-time-milliseconds").token("TIME").optional(),
                arg::integer("count").token("RETRYCOUNT").optional(),
                arg::pure("force", "FORCE").optional(),
                arg::pure("justid", "JUSTID").optional(),
                arg::string("lastid").token("LASTID").optional(),
            ],
            ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
        },
    },

    CommandSpec {
        name: "xautoclaim",
        arity: -6,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: claim::xautoclaim,
        subcommands: &[],
        doc: &Doc {
            summary: "Gives a consumer the pending entries idle long enough, from a start id on, as an iterator.",
            complexity: "O(1) for each entry looked at.",
            tips: &["nondeterministic_output"],
            key_specs: &[
                ks::one(1, ks::RW | ks::DELETE),
            ],
            args: &[
                arg::key("key", 0),
                arg::string("group"),
                arg::string("consumer"),
                arg::string("min-idle-time"),
                arg::string("start"),
                arg::integer("count").token("COUNT").optional(),
                arg::pure("justid", "JUSTID").optional(),
            ],
            history: &[
                ("7.0.0", "Adds a third element to the reply: the ids deleted from the stream."),
            ],
            ..Doc::new(Group::Stream, "6.2.0", acl::STREAM)
        },
    },

];

/// XINFO CONSUMERS, a subcommand row of the stream family's XINFO.
pub const XINFO_CONSUMERS: CommandSpec = CommandSpec {
    name: "xinfo|consumers",
    arity: 4,
    flags: READONLY,
    keys: KeySpec::range(2, 2, 1),
    handler: info_groups::xinfo_consumers,
    subcommands: &[],
    doc: &Doc {
        summary: "Lists the consumers of a consumer group.",
        complexity: "O(1)",
        tips: &["nondeterministic_output"],
        key_specs: &[ks::one(2, ks::RO | ks::ACCESS)],
        args: &[arg::key("key", 0), arg::string("group")],
        history: &[(
            "7.2.0",
            "The inactive field; idle is the time since the consumer was last seen.",
        )],
        ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
    },
};

/// XINFO GROUPS, likewise.
pub const XINFO_GROUPS: CommandSpec = CommandSpec {
    name: "xinfo|groups",
    arity: 3,
    flags: READONLY,
    keys: KeySpec::range(2, 2, 1),
    handler: info_groups::xinfo_groups,
    subcommands: &[],
    doc: &Doc {
        summary: "Lists the consumer groups of a stream.",
        complexity: "O(1)",
        key_specs: &[ks::one(2, ks::RO | ks::ACCESS)],
        args: &[arg::key("key", 0)],
        history: &[("7.0.0", "The entries-read and lag fields.")],
        ..Doc::new(Group::Stream, "5.0.0", acl::STREAM)
    },
};
