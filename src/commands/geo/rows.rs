//! The geo family's command rows (beside their handlers in `geo.rs`).
//! The searches that can store (GEORADIUS, GEORADIUSBYMEMBER) find their
//! destination by keyword (key specs), so their legacy key range is the
//! source alone, as Valkey's.

use super::super::flags::*;
use super::super::meta::{acl, arg, ks, Doc, Group};
use super::super::{CommandSpec, KeySpec};
use super::*;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "geoadd",
        arity: -5,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: geoadd,
        subcommands: &[],
        doc: &Doc {
            summary: "Adds members at longitude/latitude positions to a geo set (a sorted set), or moves them; creates the set if needed.",
            complexity: "O(log(N)) per member added, N members in the set.",
            key_specs: &[
                ks::one(1, ks::RW | ks::UPDATE),
            ],
            args: &[
                arg::key("key", 0),
                arg::oneof("condition", &[
                    arg::pure("nx", "NX"),
                    arg::pure("xx", "XX"),
                ]).since("6.2.0").optional(),
                arg::pure("change", "CH").since("6.2.0").optional(),
                arg::block("data", &[
                    arg::double("longitude"),
                    arg::double("latitude"),
                    arg::string("member"),
                ]).multiple(),
            ],
            history: &[
                ("6.2.0", "The CH, NX and XX options."),
            ],
            ..Doc::new(Group::Geo, "3.2.0", acl::GEO)
        },
    },
    CommandSpec {
        name: "geodist",
        arity: -4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: geodist,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the distance between two members of a geo set.",
            complexity: "O(1)",
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
            ],
            args: &[
                arg::key("key", 0),
                arg::string("member1"),
                arg::string("member2"),
                arg::oneof("unit", &[
                    arg::pure("m", "M"),
                    arg::pure("km", "KM"),
                    arg::pure("ft", "FT"),
                    arg::pure("mi", "MI"),
                ]).optional(),
            ],
            ..Doc::new(Group::Geo, "3.2.0", acl::GEO)
        },
    },
    CommandSpec {
        name: "geohash",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: geohash,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the standard 11-character geohash of members of a geo set.",
            complexity: "O(1) per member asked for.",
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
            ],
            args: &[
                arg::key("key", 0),
                arg::string("member").optional().multiple(),
            ],
            ..Doc::new(Group::Geo, "3.2.0", acl::GEO)
        },
    },
    CommandSpec {
        name: "geopos",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: geopos,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the longitude and latitude of members of a geo set.",
            complexity: "O(1) per member asked for.",
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
            ],
            args: &[
                arg::key("key", 0),
                arg::string("member").optional().multiple(),
            ],
            ..Doc::new(Group::Geo, "3.2.0", acl::GEO)
        },
    },
    CommandSpec {
        name: "georadius",
        arity: -6,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: georadius,
        subcommands: &[],
        doc: &Doc {
            summary: "Finds the members of a geo set within a radius of a point; can store them in another key.",
            complexity: "O(N+log(M)): N members in the cells around the area, M members in the set.",
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
                ks::spec(ks::OW | ks::UPDATE | ks::VARIABLE_FLAGS, ks::Begin::Keyword { keyword: "STORE", startfrom: 6 }, ks::Find::Range { lastkey: 0, step: 1, limit: 0 }),
                ks::spec(ks::OW | ks::UPDATE | ks::VARIABLE_FLAGS, ks::Begin::Keyword { keyword: "STOREDIST", startfrom: 6 }, ks::Find::Range { lastkey: 0, step: 1, limit: 0 }),
            ],
            args: &[
                arg::key("key", 0),
                arg::double("longitude"),
                arg::double("latitude"),
                arg::double("radius"),
                arg::oneof("unit", &[
                    arg::pure("m", "M"),
                    arg::pure("km", "KM"),
                    arg::pure("ft", "FT"),
                    arg::pure("mi", "MI"),
                ]),
                arg::pure("withcoord", "WITHCOORD").optional(),
                arg::pure("withdist", "WITHDIST").optional(),
                arg::pure("withhash", "WITHHASH").optional(),
                arg::block("count-block", &[
                    arg::integer("count").token("COUNT"),
                    arg::pure("any", "ANY").since("6.2.0").optional(),
                ]).optional(),
                arg::oneof("order", &[
                    arg::pure("asc", "ASC"),
                    arg::pure("desc", "DESC"),
                ]).optional(),
                arg::oneof("store", &[
                    arg::key("storekey", 1).token("STORE").display("key"),
                    arg::key("storedistkey", 2).token("STOREDIST").display("key"),
                ]).optional(),
            ],
            history: &[
                ("6.2.0", "The ANY option of COUNT."),
                ("7.0.0", "Unit names in upper case."),
            ],
            ..Doc::new(Group::Geo, "3.2.0", acl::GEO)
        },
    },
    CommandSpec {
        name: "georadiusbymember",
        arity: -5,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: georadiusbymember,
        subcommands: &[],
        doc: &Doc {
            summary: "Finds the members of a geo set within a radius of one of its members; can store them in another key.",
            complexity: "O(N+log(M)): N members in the cells around the area, M members in the set.",
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
                ks::spec(ks::OW | ks::UPDATE | ks::VARIABLE_FLAGS, ks::Begin::Keyword { keyword: "STORE", startfrom: 5 }, ks::Find::Range { lastkey: 0, step: 1, limit: 0 }),
                ks::spec(ks::OW | ks::UPDATE | ks::VARIABLE_FLAGS, ks::Begin::Keyword { keyword: "STOREDIST", startfrom: 5 }, ks::Find::Range { lastkey: 0, step: 1, limit: 0 }),
            ],
            args: &[
                arg::key("key", 0),
                arg::string("member"),
                arg::double("radius"),
                arg::oneof("unit", &[
                    arg::pure("m", "M"),
                    arg::pure("km", "KM"),
                    arg::pure("ft", "FT"),
                    arg::pure("mi", "MI"),
                ]),
                arg::pure("withcoord", "WITHCOORD").optional(),
                arg::pure("withdist", "WITHDIST").optional(),
                arg::pure("withhash", "WITHHASH").optional(),
                arg::block("count-block", &[
                    arg::integer("count").token("COUNT"),
                    arg::pure("any", "ANY").optional(),
                ]).optional(),
                arg::oneof("order", &[
                    arg::pure("asc", "ASC"),
                    arg::pure("desc", "DESC"),
                ]).optional(),
                arg::oneof("store", &[
                    arg::key("storekey", 1).token("STORE").display("key"),
                    arg::key("storedistkey", 2).token("STOREDIST").display("key"),
                ]).optional(),
            ],
            history: &[
                ("6.2.0", "The ANY option of COUNT."),
                ("7.0.0", "Unit names in upper case."),
            ],
            ..Doc::new(Group::Geo, "3.2.0", acl::GEO)
        },
    },
    CommandSpec {
        name: "georadiusbymember_ro",
        arity: -5,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: georadiusbymember_ro,
        subcommands: &[],
        doc: &Doc {
            summary: "Finds the members of a geo set within a radius of one of its members (read-only form).",
            complexity: "O(N+log(M)): N members in the cells around the area, M members in the set.",
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
            ],
            args: &[
                arg::key("key", 0),
                arg::string("member"),
                arg::double("radius"),
                arg::oneof("unit", &[
                    arg::pure("m", "M"),
                    arg::pure("km", "KM"),
                    arg::pure("ft", "FT"),
                    arg::pure("mi", "MI"),
                ]),
                arg::pure("withcoord", "WITHCOORD").optional(),
                arg::pure("withdist", "WITHDIST").optional(),
                arg::pure("withhash", "WITHHASH").optional(),
                arg::block("count-block", &[
                    arg::integer("count").token("COUNT"),
                    arg::pure("any", "ANY").optional(),
                ]).optional(),
                arg::oneof("order", &[
                    arg::pure("asc", "ASC"),
                    arg::pure("desc", "DESC"),
                ]).optional(),
            ],
            history: &[
                ("6.2.0", "The ANY option of COUNT."),
                ("7.0.0", "Unit names in upper case."),
            ],
            ..Doc::new(Group::Geo, "3.2.10", acl::GEO)
        },
    },
    CommandSpec {
        name: "georadius_ro",
        arity: -6,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: georadius_ro,
        subcommands: &[],
        doc: &Doc {
            summary: "Finds the members of a geo set within a radius of a point (read-only form).",
            complexity: "O(N+log(M)): N members in the cells around the area, M members in the set.",
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
            ],
            args: &[
                arg::key("key", 0),
                arg::double("longitude"),
                arg::double("latitude"),
                arg::double("radius"),
                arg::oneof("unit", &[
                    arg::pure("m", "M"),
                    arg::pure("km", "KM"),
                    arg::pure("ft", "FT"),
                    arg::pure("mi", "MI"),
                ]),
                arg::pure("withcoord", "WITHCOORD").optional(),
                arg::pure("withdist", "WITHDIST").optional(),
                arg::pure("withhash", "WITHHASH").optional(),
                arg::block("count-block", &[
                    arg::integer("count").token("COUNT"),
                    arg::pure("any", "ANY").since("6.2.0").optional(),
                ]).optional(),
                arg::oneof("order", &[
                    arg::pure("asc", "ASC"),
                    arg::pure("desc", "DESC"),
                ]).optional(),
            ],
            history: &[
                ("6.2.0", "The ANY option of COUNT."),
                ("7.0.0", "Unit names in upper case."),
            ],
            ..Doc::new(Group::Geo, "3.2.10", acl::GEO)
        },
    },
    CommandSpec {
        name: "geosearch",
        arity: -7,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: geosearch,
        subcommands: &[],
        doc: &Doc {
            summary: "Finds the members of a geo set within a circle, a box or a polygon.",
            complexity: "O(N+log(M)): N members in the cells around the shape, M members in the set.",
            key_specs: &[
                ks::one(1, ks::RO | ks::ACCESS),
            ],
            args: &[
                arg::key("key", 0),
                arg::oneof("from", &[
                    arg::string("member").token("FROMMEMBER"),
                    arg::block("fromlonlat", &[
                        arg::double("longitude"),
                        arg::double("latitude"),
                    ]).token("FROMLONLAT"),
                ]).optional(),
                arg::oneof("by", &[
                    arg::block("circle", &[
                        arg::double("radius").token("BYRADIUS"),
                        arg::oneof("unit", &[
                            arg::pure("m", "M"),
                            arg::pure("km", "KM"),
                            arg::pure("ft", "FT"),
                            arg::pure("mi", "MI"),
                        ]),
                    ]),
                    arg::block("box", &[
                        arg::double("width").token("BYBOX"),
                        arg::double("height"),
                        arg::oneof("unit", &[
                            arg::pure("m", "M"),
                            arg::pure("km", "KM"),
                            arg::pure("ft", "FT"),
                            arg::pure("mi", "MI"),
                        ]),
                    ]),
                    arg::block("polygon", &[
                        arg::integer("num-vertices").token("BYPOLYGON"),
                        arg::block("vertices", &[
                            arg::double("longitude"),
                            arg::double("latitude"),
                        ]).multiple(),
                    ]).since("9.0.0"),
                ]),
                arg::oneof("order", &[
                    arg::pure("asc", "ASC"),
                    arg::pure("desc", "DESC"),
                ]).optional(),
                arg::block("count-block", &[
                    arg::integer("count").token("COUNT"),
                    arg::pure("any", "ANY").optional(),
                ]).optional(),
                arg::pure("withcoord", "WITHCOORD").optional(),
                arg::pure("withdist", "WITHDIST").optional(),
                arg::pure("withhash", "WITHHASH").optional(),
            ],
            history: &[
                ("7.0.0", "Unit names in upper case."),
                ("9.0.0", "The BYPOLYGON shape."),
            ],
            ..Doc::new(Group::Geo, "6.2.0", acl::GEO)
        },
    },
    CommandSpec {
        name: "geosearchstore",
        arity: -8,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, 2, 1),
        handler: geosearchstore,
        subcommands: &[],
        doc: &Doc {
            summary: "Finds the members of a geo set within a circle, a box or a polygon and stores them (or their distances) in another key.",
            complexity: "O(N+log(M)): N members in the cells around the shape, M members in the set.",
            key_specs: &[
                ks::one(1, ks::OW | ks::UPDATE),
                ks::one(2, ks::RO | ks::ACCESS),
            ],
            args: &[
                arg::key("destination", 0),
                arg::key("source", 1),
                arg::oneof("from", &[
                    arg::string("member").token("FROMMEMBER"),
                    arg::block("fromlonlat", &[
                        arg::double("longitude"),
                        arg::double("latitude"),
                    ]).token("FROMLONLAT"),
                ]).optional(),
                arg::oneof("by", &[
                    arg::block("circle", &[
                        arg::double("radius").token("BYRADIUS"),
                        arg::oneof("unit", &[
                            arg::pure("m", "M"),
                            arg::pure("km", "KM"),
                            arg::pure("ft", "FT"),
                            arg::pure("mi", "MI"),
                        ]),
                    ]),
                    arg::block("box", &[
                        arg::double("width").token("BYBOX"),
                        arg::double("height"),
                        arg::oneof("unit", &[
                            arg::pure("m", "M"),
                            arg::pure("km", "KM"),
                            arg::pure("ft", "FT"),
                            arg::pure("mi", "MI"),
                        ]),
                    ]),
                    arg::block("polygon", &[
                        arg::integer("num-vertices").token("BYPOLYGON"),
                        arg::block("vertices", &[
                            arg::double("longitude"),
                            arg::double("latitude"),
                        ]).multiple(),
                    ]).since("9.0.0"),
                ]),
                arg::oneof("order", &[
                    arg::pure("asc", "ASC"),
                    arg::pure("desc", "DESC"),
                ]).optional(),
                arg::block("count-block", &[
                    arg::integer("count").token("COUNT"),
                    arg::pure("any", "ANY").optional(),
                ]).optional(),
                arg::pure("storedist", "STOREDIST").optional(),
            ],
            history: &[
                ("7.0.0", "Unit names in upper case."),
                ("9.0.0", "The BYPOLYGON shape."),
            ],
            ..Doc::new(Group::Geo, "6.2.0", acl::GEO)
        },
    },
];
