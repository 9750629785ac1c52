//! CLUSTER, ASKING, READONLY and READWRITE on a server without cluster
//! mode, which is what ferrokey is (`cluster-enabled no`). As in Valkey,
//! every CLUSTER subcommand, HELP included, and ASKING reply that cluster
//! support is disabled, except KEYSLOT, which computes a key's hash slot
//! anyway; READONLY and READWRITE set and clear a connection flag. The
//! rows are Valkey 9.1's, so lookup, arity errors, COMMAND INFO/DOCS/LIST
//! and ACL categories match it; an unknown subcommand or a wrong argument
//! count is refused by the table before the handler.

use super::flags::*;
use super::meta::{acl, arg, doc_flags, Doc, Group};
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::CmdResult;

const DISABLED: &str = "ERR This instance has cluster support disabled";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "cluster",
        arity: -2,
        flags: 0,
        keys: KeySpec::NONE,
        handler: super::container,
        subcommands: &[
            CommandSpec {
                name: "cluster|addslots",
                arity: -3,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Gives this node ownership of the listed hash slots.",
                    complexity: "O(N), N being the number of slots given.",
                    args: &[
                        arg::integer("slot").multiple(),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|addslotsrange",
                arity: -4,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Gives this node ownership of ranges of hash slots.",
                    complexity: "O(N), N being the number of slots the ranges cover.",
                    args: &[
                        arg::block("range", &[
                            arg::integer("start-slot"),
                            arg::integer("end-slot"),
                        ]).multiple(),
                    ],
                    ..Doc::new(Group::Cluster, "7.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|bumpepoch",
                arity: 2,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Moves this node's configuration epoch forward.",
                    complexity: "O(1)",
                    tips: &["nondeterministic_output"],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|cancelslotmigrations",
                arity: 2,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Stops every slot migration in progress.",
                    complexity: "O(N), N being the number of migrations stopped.",
                    ..Doc::new(Group::Cluster, "9.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|count-failure-reports",
                arity: 3,
                flags: ADMIN | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Counts the live reports that a node is failing; none are added once it is marked failed.",
                    complexity: "O(N), N being the number of reports.",
                    tips: &["nondeterministic_output"],
                    args: &[
                        arg::string("node-id"),
                    ],
                    history: &[
                        ("9.0.0", "Reports about a node already marked failed are no longer taken."),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|countkeysinslot",
                arity: 3,
                flags: STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Counts the keys stored in one hash slot.",
                    complexity: "O(1)",
                    args: &[
                        arg::integer("slot"),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|delslots",
                arity: -3,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Releases this node's ownership of the listed hash slots.",
                    complexity: "O(N), N being the number of slots given.",
                    args: &[
                        arg::integer("slot").multiple(),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|delslotsrange",
                arity: -4,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Releases this node's ownership of ranges of hash slots.",
                    complexity: "O(N), N being the number of slots the ranges cover.",
                    args: &[
                        arg::block("range", &[
                            arg::integer("start-slot"),
                            arg::integer("end-slot"),
                        ]).multiple(),
                    ],
                    ..Doc::new(Group::Cluster, "7.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|failover",
                arity: -2,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Makes a replica take over from its primary by hand.",
                    complexity: "O(1)",
                    args: &[
                        arg::oneof("options", &[
                            arg::pure("force", "FORCE"),
                            arg::pure("takeover", "TAKEOVER"),
                        ]).optional(),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|flushslot",
                arity: -3,
                flags: WRITE | ADMIN | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Deletes every key of one hash slot.",
                    complexity: "O(N), N being the number of keys in the slot.",
                    args: &[
                        arg::integer("slot"),
                        arg::oneof("flush-type", &[
                            arg::pure("async", "ASYNC"),
                            arg::pure("sync", "SYNC"),
                        ]).optional(),
                    ],
                    ..Doc::new(Group::Cluster, "9.0.0", acl::KEYSPACE)
                },
            },
            CommandSpec {
                name: "cluster|flushslots",
                arity: 2,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Forgets which hash slots this node owns.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|forget",
                arity: 3,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Drops a node from this node's table of peers.",
                    complexity: "O(1)",
                    args: &[
                        arg::string("node-id"),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|getkeysinslot",
                arity: 4,
                flags: STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Lists key names stored in one hash slot.",
                    complexity: "O(N), N being the number of keys asked for.",
                    tips: &["nondeterministic_output"],
                    args: &[
                        arg::integer("slot"),
                        arg::integer("count"),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|getslotmigrations",
                arity: 2,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Shows the slot imports and exports running or recently done.",
                    complexity: "O(N), N being the number of import and export jobs.",
                    ..Doc::new(Group::Cluster, "9.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|help",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Lists the CLUSTER subcommands with a line on each.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Cluster, "5.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|info",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Reports this node's view of the cluster's state.",
                    complexity: "O(1)",
                    tips: &["nondeterministic_output"],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|keyslot",
                arity: 3,
                flags: STALE,
                keys: KeySpec::NONE,
                handler: cluster_keyslot,
                subcommands: &[],
                doc: &Doc {
                    summary: "Computes which hash slot a key belongs to.",
                    complexity: "O(N), N being the key's length in bytes.",
                    args: &[
                        arg::string("key"),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|links",
                arity: 2,
                flags: STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Lists the bus connections between this node and its peers.",
                    complexity: "O(N), N being the number of nodes.",
                    tips: &["nondeterministic_output"],
                    ..Doc::new(Group::Cluster, "7.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|meet",
                arity: -4,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Makes this node start a handshake with another one.",
                    complexity: "O(1)",
                    args: &[
                        arg::string("ip"),
                        arg::integer("port"),
                        arg::integer("cluster-bus-port").since("4.0.0").optional(),
                    ],
                    history: &[
                        ("4.0.0", "The optional cluster bus port argument is accepted."),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|migrateslots",
                arity: -4,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Moves the given hash slots from this node to other nodes.",
                    complexity: "O(N), N being the number of slots the ranges cover.",
                    args: &[
                        arg::block("migration-group", &[
                            arg::pure("slotsrange-token", "SLOTSRANGE"),
                            arg::block("range", &[
                                arg::integer("start-slot"),
                                arg::integer("end-slot"),
                            ]).multiple(),
                            arg::pure("node-token", "NODE"),
                            arg::string("node-id"),
                        ]).multiple(),
                    ],
                    ..Doc::new(Group::Cluster, "9.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|myid",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Returns this node's ID.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|myshardid",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Returns the ID of this node's shard.",
                    complexity: "O(1)",
                    tips: &["nondeterministic_output"],
                    ..Doc::new(Group::Cluster, "7.2.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|nodes",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Describes every node of the cluster as this node sees it.",
                    complexity: "O(N), N being the number of nodes.",
                    tips: &["nondeterministic_output"],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|replicas",
                arity: 3,
                flags: ADMIN | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Lists the replicas of a primary node.",
                    complexity: "O(N), N being the number of replicas.",
                    tips: &["nondeterministic_output"],
                    args: &[
                        arg::string("node-id"),
                    ],
                    ..Doc::new(Group::Cluster, "5.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|replicate",
                arity: -3,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Makes this node a replica of a primary, or detaches it from its primary.",
                    complexity: "O(1)",
                    args: &[
                        arg::oneof("args", &[
                            arg::string("node-id"),
                            arg::block("no-one", &[
                                arg::pure("no", "NO"),
                                arg::pure("one", "ONE"),
                            ]).since("9.0.0"),
                        ]),
                    ],
                    history: &[
                        ("9.0.0", "NO ONE may be given in place of a node ID, to detach the replica."),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|reset",
                arity: -2,
                flags: ADMIN | NOSCRIPT | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Resets this node's cluster state.",
                    complexity: "O(N), N being the number of known nodes; it may flush all keys as a side effect.",
                    args: &[
                        arg::oneof("reset-type", &[
                            arg::pure("hard", "HARD"),
                            arg::pure("soft", "SOFT"),
                        ]).optional(),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|saveconfig",
                arity: 2,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Writes this node's cluster configuration to disk now.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|set-config-epoch",
                arity: 3,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Sets the configuration epoch of a node that is new.",
                    complexity: "O(1)",
                    args: &[
                        arg::integer("config-epoch"),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|setslot",
                arity: -4,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Changes a hash slot's state or owner.",
                    complexity: "O(1)",
                    args: &[
                        arg::integer("slot"),
                        arg::oneof("subcommand", &[
                            arg::string("importing").token("IMPORTING").display("node-id"),
                            arg::string("migrating").token("MIGRATING").display("node-id"),
                            arg::string("node").token("NODE").display("node-id"),
                            arg::pure("stable", "STABLE"),
                        ]),
                        arg::integer("timeout").token("TIMEOUT").since("8.0.0").optional(),
                    ],
                    history: &[
                        ("8.0.0", "The TIMEOUT option is accepted."),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|shards",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Describes the cluster's shards and the slots each serves.",
                    complexity: "O(N), N being the number of nodes.",
                    tips: &["nondeterministic_output"],
                    history: &[
                        ("9.1.0", "Shards carry an `id` field and nodes an `availability-zone` field."),
                    ],
                    ..Doc::new(Group::Cluster, "7.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|slaves",
                arity: 3,
                flags: ADMIN | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Lists the replicas of a primary node (the old name of CLUSTER REPLICAS).",
                    complexity: "O(N), N being the number of replicas.",
                    tips: &["nondeterministic_output"],
                    args: &[
                        arg::string("node-id"),
                    ],
                    doc_flags: doc_flags::DEPRECATED,
                    deprecated_since: Some("5.0.0"),
                    replaced_by: Some("`CLUSTER REPLICAS`"),
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|slot-stats",
                arity: -4,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Reports usage figures for the hash slots this node owns.",
                    complexity: "O(N), N being the number of slots asked for; O(N*log(N)) with ORDERBY.",
                    tips: &["nondeterministic_output", "request_policy:all_shards"],
                    args: &[
                        arg::oneof("filter", &[
                            arg::block("slotsrange", &[
                                arg::integer("start-slot"),
                                arg::integer("end-slot"),
                            ]).token("SLOTSRANGE"),
                            arg::block("orderby", &[
                                arg::string("metric"),
                                arg::integer("limit").token("LIMIT").optional(),
                                arg::oneof("order", &[
                                    arg::pure("asc", "ASC"),
                                    arg::pure("desc", "DESC"),
                                ]).optional(),
                            ]).token("ORDERBY"),
                        ]),
                    ],
                    ..Doc::new(Group::Cluster, "8.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|slots",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Describes which nodes serve each range of hash slots.",
                    complexity: "O(N), N being the number of nodes.",
                    tips: &["nondeterministic_output"],
                    history: &[
                        ("4.0.0", "Node IDs are included."),
                        ("7.0.0", "More networking details are included for each node."),
                        ("9.1.0", "The networking details include the `availability-zone`."),
                    ],
                    ..Doc::new(Group::Cluster, "3.0.0", 0)
                },
            },
            CommandSpec {
                name: "cluster|syncslots",
                arity: -3,
                flags: ADMIN | STALE | NO_ASYNC_LOADING,
                keys: KeySpec::NONE,
                handler: disabled,
                subcommands: &[],
                doc: &Doc {
                    summary: "Holds the internal commands of slot migration.",
                    complexity: "Depends on the subcommand.",
                    doc_flags: doc_flags::SYSCMD,
                    ..Doc::new(Group::Cluster, "9.0.0", 0)
                },
            },
        ],
        doc: &Doc {
            summary: "Runs a cluster subcommand; without cluster mode each one is refused.",
            complexity: "Depends on the subcommand.",
            ..Doc::new(Group::Cluster, "3.0.0", 0)
        },
    },
    CommandSpec {
        name: "asking",
        arity: 1,
        flags: FAST,
        keys: KeySpec::NONE,
        handler: disabled,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells a cluster node that the client follows an -ASK redirection.",
            complexity: "O(1)",
            ..Doc::new(Group::Cluster, "3.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "readonly",
        arity: 1,
        flags: LOADING | STALE | FAST,
        keys: KeySpec::NONE,
        handler: readonly,
        subcommands: &[],
        doc: &Doc {
            summary: "Lets a cluster replica serve this connection's reads.",
            complexity: "O(1)",
            ..Doc::new(Group::Cluster, "3.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "readwrite",
        arity: 1,
        flags: LOADING | STALE | FAST,
        keys: KeySpec::NONE,
        handler: readwrite,
        subcommands: &[],
        doc: &Doc {
            summary: "Ends READONLY for this connection.",
            complexity: "O(1)",
            ..Doc::new(Group::Cluster, "3.0.0", acl::CONNECTION)
        },
    },
];

/// Valkey's clusterCommand and askingCommand with `cluster-enabled no`.
fn disabled(_ctx: &mut Ctx) -> CmdResult {
    Err(DISABLED.into())
}

/// READONLY and READWRITE only set the connection's flag (RESET clears
/// it): with no cluster, no replica redirects anything.
fn readonly(ctx: &mut Ctx) -> CmdResult {
    ctx.client().readonly = true;
    ctx.out.ok();
    Ok(())
}

fn readwrite(ctx: &mut Ctx) -> CmdResult {
    ctx.client().readonly = false;
    ctx.out.ok();
    Ok(())
}

/// CLUSTER KEYSLOT key: the slot is computed the same with or without
/// cluster mode.
fn cluster_keyslot(ctx: &mut Ctx) -> CmdResult {
    let slot = key_hash_slot(&ctx.argv[2]);
    ctx.out.int(slot as i64);
    Ok(())
}

/// The number of hash slots of a cluster.
const SLOTS: u16 = 16384;

/// A key's hash slot: CRC16 of its hash tag (what lies between its first
/// `{` and the first `}` after it, when that is not empty), else of the
/// whole key, modulo 16384.
pub fn key_hash_slot(key: &[u8]) -> u16 {
    let tagged = key.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &key[open + 1..];
        rest.iter()
            .position(|&b| b == b'}')
            .filter(|&len| len > 0)
            .map(|len| &rest[..len])
    });
    crc16(tagged.unwrap_or(key)) % SLOTS
}

/// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the hash
/// Valkey's cluster uses for slots.
fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |crc, &b| {
        (crc << 8) ^ CRC16_TABLE[usize::from((crc >> 8) as u8 ^ b)]
    })
}

static CRC16_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_check_value() {
        // The XMODEM check value.
        assert_eq!(crc16(b"123456789"), 0x31c3);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn hash_slots_follow_hash_tags() {
        // Values from Valkey 9.1's CLUSTER KEYSLOT.
        assert_eq!(key_hash_slot(b"foo"), 12182);
        assert_eq!(key_hash_slot(b"{a}b"), 15495);
        assert_eq!(key_hash_slot(b"{a}b"), key_hash_slot(b"a"));
        assert_eq!(key_hash_slot(b"ab{}c"), 3342);
        assert_eq!(key_hash_slot(b"a{b"), 13340);
        assert_eq!(
            key_hash_slot(b"x{user1000}.following"),
            key_hash_slot(b"user1000")
        );
        // Only the first `{` counts; an empty tag means the whole key.
        assert_eq!(key_hash_slot(b"{}{a}"), 13650);
        assert_eq!(key_hash_slot(b"{{a}}"), 10276);
        assert_eq!(key_hash_slot(b"{{a}}"), key_hash_slot(b"{a"));
        assert_eq!(key_hash_slot(b"a}{b}"), 3300);
        assert_eq!(key_hash_slot(b""), 0);
    }
}
