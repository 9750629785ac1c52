//! The sorted-set family's command rows (beside their handlers in
//! `zset.rs`, `zset/range.rs` and `zset/setop.rs`).

use super::super::flags::*;
use super::super::meta::{acl, arg, ks, Doc, Group};
use super::super::{CommandSpec, KeySpec};
use super::*;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "zadd",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: zadd,
        subcommands: &[],
        doc: &Doc {
            summary: "Adds members with scores to a sorted set, or changes their scores; creates the set if needed.",
            complexity: "O(log(N)) per member added, N members in the set.",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::oneof("condition", &[
                    arg::pure("nx", "NX"),
                    arg::pure("xx", "XX"),
                ]).since("3.0.2").optional(),
                arg::oneof("comparison", &[
                    arg::pure("gt", "GT"),
                    arg::pure("lt", "LT"),
                ]).since("6.2.0").optional(),
                arg::pure("change", "CH").since("3.0.2").optional(),
                arg::pure("increment", "INCR").since("3.0.2").optional(),
                arg::block("data", &[
                    arg::double("score"),
                    arg::string("member"),
                ]).multiple(),
            ],
            history: &[
                ("2.4.0", "Takes several score/member pairs."),
                ("3.0.2", "The XX, NX, CH and INCR options."),
                ("6.2.0", "The GT and LT conditions."),
            ],
            ..Doc::new(Group::SortedSet, "1.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zincrby",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: zincrby,
        subcommands: &[],
        doc: &Doc {
            summary: "Adds to a member's score in a sorted set.",
            complexity: "O(log(N)), N members in the set.",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[arg::key("key", 0), arg::integer("increment"), arg::string("member")],
            ..Doc::new(Group::SortedSet, "1.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zrem",
        arity: -3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: zrem,
        subcommands: &[],
        doc: &Doc {
            summary: "Deletes members from a sorted set; an emptied one goes away.",
            complexity: "O(M*log(N)): N members in the set, M removed.",
            key_specs: &[ks::one(1, ks::RW | ks::DELETE)],
            args: &[arg::key("key", 0), arg::string("member").multiple()],
            history: &[
                ("2.4.0", "Takes several members."),
            ],
            ..Doc::new(Group::SortedSet, "1.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zcard",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: zcard,
        subcommands: &[],
        doc: &Doc {
            summary: "Counts a sorted set's members.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::SortedSet, "1.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zscore",
        arity: 3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: zscore,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets a member's score.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), arg::string("member")],
            ..Doc::new(Group::SortedSet, "1.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zmscore",
        arity: -3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: zmscore,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the scores of several members.",
            complexity: "O(N), N members asked for.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), arg::string("member").multiple()],
            ..Doc::new(Group::SortedSet, "6.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zrank",
        arity: -3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: zrank,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells a member's rank, lowest score first.",
            complexity: "O(log(N)), N members in the set.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::string("member"),
                arg::pure("withscore", "WITHSCORE").optional(),
            ],
            history: &[
                ("7.2.0", "The WITHSCORE option."),
            ],
            ..Doc::new(Group::SortedSet, "2.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zrevrank",
        arity: -3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: zrevrank,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells a member's rank, highest score first.",
            complexity: "O(log(N)), N members in the set.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::string("member"),
                arg::pure("withscore", "WITHSCORE").optional(),
            ],
            history: &[
                ("7.2.0", "The WITHSCORE option."),
            ],
            ..Doc::new(Group::SortedSet, "2.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zcount",
        arity: 4,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: range::zcount,
        subcommands: &[],
        doc: &Doc {
            summary: "Counts the sorted set members between two scores.",
            complexity: "O(log(N)), N members in the set.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), arg::double("min"), arg::double("max")],
            ..Doc::new(Group::SortedSet, "2.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zlexcount",
        arity: 4,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: range::zlexcount,
        subcommands: &[],
        doc: &Doc {
            summary: "Counts the sorted set members between two names (equal scores).",
            complexity: "O(log(N)), N members in the set.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), arg::string("min"), arg::string("max")],
            ..Doc::new(Group::SortedSet, "2.8.9", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zrange",
        arity: -4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: range::zrange,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets sorted set members by rank, score or name range.",
            complexity: "O(log(N)+M): N members in the set, M replied.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::string("start"),
                arg::string("stop"),
                arg::oneof("sortby", &[
                    arg::pure("byscore", "BYSCORE"),
                    arg::pure("bylex", "BYLEX"),
                ]).since("6.2.0").optional(),
                arg::pure("rev", "REV").since("6.2.0").optional(),
                arg::block("limit", &[
                    arg::integer("offset"),
                    arg::integer("count"),
                ]).token("LIMIT").since("6.2.0").optional(),
                arg::pure("withscores", "WITHSCORES").optional(),
            ],
            history: &[
                ("6.2.0", "The REV, BYSCORE, BYLEX and LIMIT options."),
            ],
            ..Doc::new(Group::SortedSet, "1.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zrangestore",
        arity: -5,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, 2, 1),
        handler: range::zrangestore,
        subcommands: &[],
        doc: &Doc {
            summary: "Copies a range of a sorted set into another key.",
            complexity: "O(log(N)+M): N members in the set, M stored.",
            key_specs: &[ks::one(1, ks::OW | ks::UPDATE), ks::one(2, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("dst", 0),
                arg::key("src", 1),
                arg::string("min"),
                arg::string("max"),
                arg::oneof("sortby", &[
                    arg::pure("byscore", "BYSCORE"),
                    arg::pure("bylex", "BYLEX"),
                ]).optional(),
                arg::pure("rev", "REV").optional(),
                arg::block("limit", &[
                    arg::integer("offset"),
                    arg::integer("count"),
                ]).token("LIMIT").optional(),
            ],
            ..Doc::new(Group::SortedSet, "6.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zrevrange",
        arity: -4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: range::zrevrange,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the sorted set members between two ranks, highest first.",
            complexity: "O(log(N)+M): N members in the set, M replied.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::integer("start"),
                arg::integer("stop"),
                arg::pure("withscores", "WITHSCORES").optional(),
            ],
            ..Doc::new(Group::SortedSet, "1.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zrangebyscore",
        arity: -4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: range::zrangebyscore,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the sorted set members between two scores.",
            complexity: "O(log(N)+M): N members in the set, M replied.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::double("min"),
                arg::double("max"),
                arg::pure("withscores", "WITHSCORES").since("2.0.0").optional(),
                arg::block("limit", &[
                    arg::integer("offset"),
                    arg::integer("count"),
                ]).token("LIMIT").optional(),
            ],
            history: &[
                ("2.0.0", "The WITHSCORES option."),
            ],
            ..Doc::new(Group::SortedSet, "1.0.5", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zrevrangebyscore",
        arity: -4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: range::zrevrangebyscore,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the sorted set members between two scores, highest first.",
            complexity: "O(log(N)+M): N members in the set, M replied.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::double("max"),
                arg::double("min"),
                arg::pure("withscores", "WITHSCORES").optional(),
                arg::block("limit", &[
                    arg::integer("offset"),
                    arg::integer("count"),
                ]).token("LIMIT").optional(),
            ],
            history: &[
                ("2.1.6", "Exclusive bounds for min and max."),
            ],
            ..Doc::new(Group::SortedSet, "2.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zrangebylex",
        arity: -4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: range::zrangebylex,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the sorted set members between two names (equal scores).",
            complexity: "O(log(N)+M): N members in the set, M replied.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::string("min"),
                arg::string("max"),
                arg::block("limit", &[
                    arg::integer("offset"),
                    arg::integer("count"),
                ]).token("LIMIT").optional(),
            ],
            ..Doc::new(Group::SortedSet, "2.8.9", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zrevrangebylex",
        arity: -4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: range::zrevrangebylex,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the sorted set members between two names (equal scores), last first.",
            complexity: "O(log(N)+M): N members in the set, M replied.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::string("max"),
                arg::string("min"),
                arg::block("limit", &[
                    arg::integer("offset"),
                    arg::integer("count"),
                ]).token("LIMIT").optional(),
            ],
            ..Doc::new(Group::SortedSet, "2.8.9", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zremrangebyrank",
        arity: 4,
        flags: WRITE,
        keys: KeySpec::ONE,
        handler: range::zremrangebyrank,
        subcommands: &[],
        doc: &Doc {
            summary: "Deletes the sorted set members between two ranks.",
            complexity: "O(log(N)+M): N members in the set, M removed.",
            key_specs: &[ks::one(1, ks::RW | ks::DELETE)],
            args: &[arg::key("key", 0), arg::integer("start"), arg::integer("stop")],
            ..Doc::new(Group::SortedSet, "2.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zremrangebyscore",
        arity: 4,
        flags: WRITE,
        keys: KeySpec::ONE,
        handler: range::zremrangebyscore,
        subcommands: &[],
        doc: &Doc {
            summary: "Deletes the sorted set members between two scores.",
            complexity: "O(log(N)+M): N members in the set, M removed.",
            key_specs: &[ks::one(1, ks::RW | ks::DELETE)],
            args: &[arg::key("key", 0), arg::double("min"), arg::double("max")],
            ..Doc::new(Group::SortedSet, "1.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zremrangebylex",
        arity: 4,
        flags: WRITE,
        keys: KeySpec::ONE,
        handler: range::zremrangebylex,
        subcommands: &[],
        doc: &Doc {
            summary: "Deletes the sorted set members between two names (equal scores).",
            complexity: "O(log(N)+M): N members in the set, M removed.",
            key_specs: &[ks::one(1, ks::RW | ks::DELETE)],
            args: &[arg::key("key", 0), arg::string("min"), arg::string("max")],
            ..Doc::new(Group::SortedSet, "2.8.9", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zpopmin",
        arity: -2,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: zpopmin,
        subcommands: &[],
        doc: &Doc {
            summary: "Takes the lowest scored members off a sorted set.",
            complexity: "O(M*log(N)): N members in the set, M popped.",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[arg::key("key", 0), arg::integer("count").optional()],
            ..Doc::new(Group::SortedSet, "5.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zpopmax",
        arity: -2,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: zpopmax,
        subcommands: &[],
        doc: &Doc {
            summary: "Takes the highest scored members off a sorted set.",
            complexity: "O(M*log(N)): N members in the set, M popped.",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[arg::key("key", 0), arg::integer("count").optional()],
            ..Doc::new(Group::SortedSet, "5.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zmpop",
        arity: -4,
        flags: WRITE,
        keys: KeySpec::numkeys(1),
        handler: zmpop,
        subcommands: &[],
        doc: &Doc {
            summary: "Pops the lowest or highest scored members of the first non-empty of several sorted sets.",
            complexity: "O(K)+O(M*log(N)): K keys given, N members in the set, M popped.",
            key_specs: &[ks::keynum(1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[
                arg::integer("numkeys"),
                arg::key("key", 0).multiple(),
                arg::oneof("where", &[
                    arg::pure("min", "MIN"),
                    arg::pure("max", "MAX"),
                ]),
                arg::integer("count").token("COUNT").optional(),
            ],
            ..Doc::new(Group::SortedSet, "7.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zrandmember",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: zrandmember,
        subcommands: &[],
        doc: &Doc {
            summary: "Picks random members of a sorted set.",
            complexity: "O(N), N members replied.",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::block("options", &[
                    arg::integer("count"),
                    arg::pure("withscores", "WITHSCORES").optional(),
                ]).optional(),
            ],
            ..Doc::new(Group::SortedSet, "6.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zunion",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::numkeys(1),
        handler: setop::zunion,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the members of any of several sorted sets, with combined scores.",
            complexity: "O(N)+O(M*log(M)): N members in all the sets, M in the result.",
            key_specs: &[ks::keynum(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::integer("numkeys"),
                arg::key("key", 0).multiple(),
                arg::integer("weight").token("WEIGHTS").optional().multiple(),
                arg::oneof("aggregate", &[
                    arg::pure("sum", "SUM"),
                    arg::pure("min", "MIN"),
                    arg::pure("max", "MAX"),
                ]).token("AGGREGATE").optional(),
                arg::pure("withscores", "WITHSCORES").optional(),
            ],
            ..Doc::new(Group::SortedSet, "6.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zinter",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::numkeys(1),
        handler: setop::zinter,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the members common to several sorted sets, with combined scores.",
            complexity: "O(N*K)+O(M*log(M)) at worst: N members in the smallest of K sets, M in the result.",
            key_specs: &[ks::keynum(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::integer("numkeys"),
                arg::key("key", 0).multiple(),
                arg::integer("weight").token("WEIGHTS").optional().multiple(),
                arg::oneof("aggregate", &[
                    arg::pure("sum", "SUM"),
                    arg::pure("min", "MIN"),
                    arg::pure("max", "MAX"),
                ]).token("AGGREGATE").optional(),
                arg::pure("withscores", "WITHSCORES").optional(),
            ],
            ..Doc::new(Group::SortedSet, "6.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zdiff",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::numkeys(1),
        handler: setop::zdiff,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the members of the first sorted set missing from the others.",
            complexity: "O(L+(N-K)*log(N)) at worst: L members in all the sets, N in the first, K in the result.",
            key_specs: &[ks::keynum(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::integer("numkeys"),
                arg::key("key", 0).multiple(),
                arg::pure("withscores", "WITHSCORES").optional(),
            ],
            ..Doc::new(Group::SortedSet, "6.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zunionstore",
        arity: -4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::numkeys(2),
        handler: setop::zunionstore,
        subcommands: &[],
        doc: &Doc {
            summary: "Stores the members of any of several sorted sets, with combined scores.",
            complexity: "O(N)+O(M*log(M)): N members in all the sets, M in the result.",
            key_specs: &[ks::one(1, ks::OW | ks::UPDATE), ks::keynum(2, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("destination", 0),
                arg::integer("numkeys"),
                arg::key("key", 1).multiple(),
                arg::integer("weight").token("WEIGHTS").optional().multiple(),
                arg::oneof("aggregate", &[
                    arg::pure("sum", "SUM"),
                    arg::pure("min", "MIN"),
                    arg::pure("max", "MAX"),
                ]).token("AGGREGATE").optional(),
            ],
            ..Doc::new(Group::SortedSet, "2.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zinterstore",
        arity: -4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::numkeys(2),
        handler: setop::zinterstore,
        subcommands: &[],
        doc: &Doc {
            summary: "Stores the members common to several sorted sets, with combined scores.",
            complexity: "O(N*K)+O(M*log(M)) at worst: N members in the smallest of K sets, M in the result.",
            key_specs: &[ks::one(1, ks::OW | ks::UPDATE), ks::keynum(2, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("destination", 0),
                arg::integer("numkeys"),
                arg::key("key", 1).multiple(),
                arg::integer("weight").token("WEIGHTS").optional().multiple(),
                arg::oneof("aggregate", &[
                    arg::pure("sum", "SUM"),
                    arg::pure("min", "MIN"),
                    arg::pure("max", "MAX"),
                ]).token("AGGREGATE").optional(),
            ],
            ..Doc::new(Group::SortedSet, "2.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zdiffstore",
        arity: -4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::numkeys(2),
        handler: setop::zdiffstore,
        subcommands: &[],
        doc: &Doc {
            summary: "Stores the members of the first sorted set missing from the others.",
            complexity: "O(L+(N-K)*log(N)) at worst: L members in all the sets, N in the first, K in the result.",
            key_specs: &[ks::one(1, ks::OW | ks::UPDATE), ks::keynum(2, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("destination", 0),
                arg::integer("numkeys"),
                arg::key("key", 1).multiple(),
            ],
            ..Doc::new(Group::SortedSet, "6.2.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zintercard",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::numkeys(1),
        handler: setop::zintercard,
        subcommands: &[],
        doc: &Doc {
            summary: "Counts the members common to several sorted sets.",
            complexity: "O(N*K) at worst: N members in the smallest of K sets.",
            key_specs: &[ks::keynum(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::integer("numkeys"),
                arg::key("key", 0).multiple(),
                arg::integer("limit").token("LIMIT").optional(),
            ],
            ..Doc::new(Group::SortedSet, "7.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "zscan",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: zscan,
        subcommands: &[],
        doc: &Doc {
            summary: "Walks a sorted set's members and scores a batch at a time.",
            complexity: "O(1) per call; O(N) for a whole walk over N elements.",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::integer("cursor"),
                arg::pattern("pattern").token("MATCH").optional(),
                arg::integer("count").token("COUNT").optional(),
                arg::pure("noscores", "NOSCORES").optional(),
            ],
            history: &[
                ("8.0.0", "The NOSCORES option."),
            ],
            ..Doc::new(Group::SortedSet, "2.8.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "bzpopmin",
        arity: -3,
        flags: WRITE | BLOCKING | FAST,
        keys: KeySpec::range(1, -2, 1),
        handler: bzpopmin,
        subcommands: &[],
        doc: &Doc {
            summary: "Pops the lowest scored member of the first non-empty of several sorted sets, waiting while all are empty.",
            complexity: "O(log(N)), N members in the set.",
            key_specs: &[ks::range(1, -2, 1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[arg::key("key", 0).multiple(), arg::double("timeout")],
            history: &[
                ("6.0.0", "The timeout may be fractional."),
            ],
            ..Doc::new(Group::SortedSet, "5.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "bzpopmax",
        arity: -3,
        flags: WRITE | BLOCKING | FAST,
        keys: KeySpec::range(1, -2, 1),
        handler: bzpopmax,
        subcommands: &[],
        doc: &Doc {
            summary: "Pops the highest scored member of the first non-empty of several sorted sets, waiting while all are empty.",
            complexity: "O(log(N)), N members in the set.",
            key_specs: &[ks::range(1, -2, 1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[arg::key("key", 0).multiple(), arg::double("timeout")],
            history: &[
                ("6.0.0", "The timeout may be fractional."),
            ],
            ..Doc::new(Group::SortedSet, "5.0.0", acl::SORTEDSET)
        },
    },
    CommandSpec {
        name: "bzmpop",
        arity: -5,
        flags: WRITE | BLOCKING,
        keys: KeySpec::numkeys(2),
        handler: bzmpop,
        subcommands: &[],
        doc: &Doc {
            summary: "Pops the lowest or highest scored members of the first non-empty of several sorted sets, waiting while all are empty.",
            complexity: "O(K)+O(M*log(N)): K keys given, N members in the set, M popped.",
            key_specs: &[ks::keynum(2, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[
                arg::double("timeout"),
                arg::integer("numkeys"),
                arg::key("key", 0).multiple(),
                arg::oneof("where", &[
                    arg::pure("min", "MIN"),
                    arg::pure("max", "MAX"),
                ]),
                arg::integer("count").token("COUNT").optional(),
            ],
            ..Doc::new(Group::SortedSet, "7.0.0", acl::SORTEDSET)
        },
    },
];
