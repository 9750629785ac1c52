//! The CLIENT container: ID, SETNAME, GETNAME, LIST, INFO, KILL, SETINFO,
//! NO-EVICT, NO-TOUCH, REPLY, PAUSE, UNPAUSE, UNBLOCK and HELP; TRACKING,
//! CACHING, GETREDIR and TRACKINGINFO are in `tracking.rs`.

use std::io::Write;

use bytes::Bytes;

use super::args::is;
use super::connection::{CLIENT_NAME_INVALID, DEFAULT_USER};
use super::flags::*;
use super::meta::{acl, arg, Doc, Group};
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::{excerpt, CmdError, CmdResult, SYNTAX};
use crate::state::{Client, Clients, ReplyMode};
use crate::util::num::parse_i64;

// Error texts specific to CLIENT (Valkey's wording).
const NO_SUCH_CLIENT: &str = "ERR No such client";
const CLIENT_ID_POSITIVE: &str = "ERR client-id should be greater than 0";
const MAXAGE_NOT_INT: &str = "ERR maxage is not an integer or out of range";
const MAXAGE_POSITIVE: &str = "ERR maxage should be greater than 0";
const IDLE_NOT_INT: &str = "ERR idle is not an integer or out of range";
const IDLE_POSITIVE: &str = "ERR idle should be greater than 0";
const DB_NOT_INT: &str = "ERR DB is not an integer or out of range";
const NOT_DB_NOT_INT: &str = "ERR NOT-DB is not an integer or out of range";

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "client",
    arity: -2,
    flags: 0,
    keys: KeySpec::NONE,
    handler: super::container,
    subcommands: CLIENT_SUBCOMMANDS,
    doc: &Doc {
        summary: "CLIENT subcommands: inspect and manage connections.",
        complexity: "Depends on the subcommand.",
        ..Doc::new(Group::Connection, "2.4.0", 0)
    },
}];

static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "client|id",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: client_id,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells this connection's ID.",
            complexity: "O(1)",
            ..Doc::new(Group::Connection, "5.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|setname",
        arity: 3,
        flags: NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: client_setname,
        subcommands: &[],
        doc: &Doc {
            summary: "Names this connection.",
            complexity: "O(1)",
            tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
            args: &[arg::string("connection-name")],
            ..Doc::new(Group::Connection, "2.6.9", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|getname",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: client_getname,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells this connection's name.",
            complexity: "O(1)",
            ..Doc::new(Group::Connection, "2.6.9", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|list",
        arity: -2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: client_list,
        subcommands: &[],
        doc: &Doc {
            summary: "Describes the connected clients.",
            complexity: "O(N), N connections.",
            tips: &["nondeterministic_output"],
            args: &[
                arg::oneof("client-type", &[
                    arg::pure("normal", "NORMAL"),
                    arg::pure("master", "MASTER"),
                    arg::pure("replica", "REPLICA"),
                    arg::pure("pubsub", "PUBSUB"),
                ]).token("TYPE").since("5.0.0").optional(),
                arg::integer("client-id").token("ID").since("6.2.0").optional().multiple(),
                arg::string("username").token("USER").since("8.1.0").optional(),
                arg::string("addr").token("ADDR").display("ip:port").since("8.1.0").optional(),
                arg::string("laddr").token("LADDR").display("ip:port").since("8.1.0").optional(),
                arg::oneof("skipme", &[
                    arg::pure("yes", "YES"),
                    arg::pure("no", "NO"),
                ]).token("SKIPME").since("8.1.0").optional(),
                arg::integer("maxage").token("MAXAGE").since("8.1.0").optional(),
                arg::string("name").token("NAME").since("9.0.0").optional(),
                arg::integer("idle").token("IDLE").since("9.0.0").optional(),
                arg::string("flags").token("FLAGS").since("9.0.0").optional(),
                arg::string("lib-name").token("LIB-NAME").since("9.0.0").optional(),
                arg::string("lib-ver").token("LIB-VER").since("9.0.0").optional(),
                arg::integer("db").token("DB").since("9.0.0").optional(),
                arg::string("capa").token("CAPA").since("9.0.0").optional(),
                arg::string("ip").token("IP").since("9.0.0").optional(),
                arg::oneof("not-client-type", &[
                    arg::pure("normal", "NORMAL"),
                    arg::pure("master", "MASTER"),
                    arg::pure("replica", "REPLICA"),
                    arg::pure("pubsub", "PUBSUB"),
                ]).token("NOT-TYPE").since("9.0.0").optional(),
                arg::integer("not-client-id").token("NOT-ID").since("9.0.0").optional().multiple(),
                arg::string("not-username").token("NOT-USER").since("9.0.0").optional(),
                arg::string("not-addr").token("NOT-ADDR").display("ip:port").since("9.0.0").optional(),
                arg::string("not-laddr").token("NOT-LADDR").display("ip:port").since("9.0.0").optional(),
                arg::string("not-name").token("NOT-NAME").since("9.0.0").optional(),
                arg::string("not-flags").token("NOT-FLAGS").since("9.0.0").optional(),
                arg::string("not-lib-name").token("NOT-LIB-NAME").since("9.0.0").optional(),
                arg::string("not-lib-ver").token("NOT-LIB-VER").since("9.0.0").optional(),
                arg::integer("not-db").token("NOT-DB").since("9.0.0").optional(),
                arg::string("not-capa").token("NOT-CAPA").since("9.0.0").optional(),
                arg::string("not-ip").token("NOT-IP").since("9.0.0").optional(),
            ],
            history: &[
                ("2.8.12", "Each client has an id field."),
                ("5.0.0", "Filter by client type."),
                ("6.0.0", "Each client has a user field."),
                ("6.2.0", "The argv-mem, tot-mem, laddr and redir fields; filter by ID."),
                ("7.0.0", "The resp, multi-mem, rbs and rbp fields."),
                ("7.0.3", "The ssub field."),
                ("8.0.0", "The master type is called primary (master still accepted)."),
                ("8.1.0", "Filter by user, address, local address, SKIPME and connection age."),
                ("9.0.0", "More filters (name, idle time, flags, library, database, capabilities, IP) and a negated form of each filter."),
            ],
            ..Doc::new(Group::Connection, "2.4.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|info",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: client_info,
        subcommands: &[],
        doc: &Doc {
            summary: "Describes this connection.",
            complexity: "O(1)",
            tips: &["nondeterministic_output"],
            ..Doc::new(Group::Connection, "6.2.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|kill",
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: client_kill,
        subcommands: &[],
        doc: &Doc {
            summary: "Closes the connections matching filters.",
            complexity: "O(N), N connections.",
            args: &[
                arg::oneof("filter", &[
                    arg::string("old-format").display("ip:port").deprecated_since("2.8.12"),
                    arg::oneof("new-format", &[
                        arg::integer("client-id").token("ID").since("2.8.12").optional().multiple(),
                        arg::oneof("client-type", &[
                            arg::pure("normal", "NORMAL"),
                            arg::pure("master", "MASTER").since("3.2.0"),
                            arg::pure("primary", "PRIMARY").since("8.0.0"),
                            arg::pure("slave", "SLAVE"),
                            arg::pure("replica", "REPLICA").since("5.0.0"),
                            arg::pure("pubsub", "PUBSUB"),
                        ]).token("TYPE").since("2.8.12").optional(),
                        arg::string("username").token("USER").optional(),
                        arg::string("addr").token("ADDR").display("ip:port").optional(),
                        arg::string("laddr").token("LADDR").display("ip:port").since("6.2.0").optional(),
                        arg::oneof("skipme", &[
                            arg::pure("yes", "YES"),
                            arg::pure("no", "NO"),
                        ]).token("SKIPME").optional(),
                        arg::integer("maxage").token("MAXAGE").since("8.0.0").optional(),
                        arg::string("name").token("NAME").since("9.0.0").optional(),
                        arg::integer("idle").token("IDLE").since("9.0.0").optional(),
                        arg::string("flags").token("FLAGS").since("9.0.0").optional(),
                        arg::string("lib-name").token("LIB-NAME").since("9.0.0").optional(),
                        arg::string("lib-ver").token("LIB-VER").since("9.0.0").optional(),
                        arg::integer("db").token("DB").since("9.0.0").optional(),
                        arg::string("capa").token("CAPA").since("9.0.0").optional(),
                        arg::string("ip").token("IP").since("9.0.0").optional(),
                        arg::oneof("not-client-type", &[
                            arg::pure("normal", "NORMAL"),
                            arg::pure("master", "MASTER"),
                            arg::pure("primary", "PRIMARY"),
                            arg::pure("slave", "SLAVE"),
                            arg::pure("replica", "REPLICA"),
                            arg::pure("pubsub", "PUBSUB"),
                        ]).token("NOT-TYPE").since("9.0.0").optional(),
                        arg::integer("not-client-id").token("NOT-ID").since("9.0.0").optional().multiple(),
                        arg::string("not-username").token("NOT-USER").since("9.0.0").optional(),
                        arg::string("not-addr").token("NOT-ADDR").display("ip:port").since("9.0.0").optional(),
                        arg::string("not-laddr").token("NOT-LADDR").display("ip:port").since("9.0.0").optional(),
                        arg::string("not-name").token("NOT-NAME").since("9.0.0").optional(),
                        arg::string("not-flags").token("NOT-FLAGS").since("9.0.0").optional(),
                        arg::string("not-lib-name").token("NOT-LIB-NAME").since("9.0.0").optional(),
                        arg::string("not-lib-ver").token("NOT-LIB-VER").since("9.0.0").optional(),
                        arg::integer("not-db").token("NOT-DB").since("9.0.0").optional(),
                        arg::string("not-capa").token("NOT-CAPA").since("9.0.0").optional(),
                        arg::string("not-ip").token("NOT-IP").since("9.0.0").optional(),
                    ]).multiple(),
                ]),
            ],
            history: &[
                ("2.8.12", "Filters as option/value pairs."),
                ("2.8.12", "Filter by client ID."),
                ("3.2.0", "The master client type can be filtered."),
                ("5.0.0", "The slave type is called replica (slave still accepted)."),
                ("6.2.0", "Filter by local address."),
                ("8.0.0", "Filter by connection age."),
                ("8.0.0", "The master type is called primary (master still accepted)."),
                ("8.1.0", "ID takes several client IDs."),
                ("9.0.0", "More filters (name, idle time, flags, library, database, capabilities, IP) and a negated form of each filter."),
            ],
            ..Doc::new(Group::Connection, "2.4.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|setinfo",
        arity: 4,
        flags: NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: client_setinfo,
        subcommands: &[],
        doc: &Doc {
            summary: "Records the client library's name or version.",
            complexity: "O(1)",
            tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
            args: &[
                arg::oneof("attr", &[
                    arg::string("libname").token("LIB-NAME"),
                    arg::string("libver").token("LIB-VER"),
                ]),
            ],
            ..Doc::new(Group::Connection, "7.2.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|no-evict",
        arity: 3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: client_no_evict,
        subcommands: &[],
        doc: &Doc {
            summary: "Exempts this connection from client eviction, or not.",
            complexity: "O(1)",
            args: &[
                arg::oneof("enabled", &[
                    arg::pure("on", "ON"),
                    arg::pure("off", "OFF"),
                ]),
            ],
            ..Doc::new(Group::Connection, "7.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|pause",
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: client_pause,
        subcommands: &[],
        doc: &Doc {
            summary: "Holds back client commands (all, or those that may write) for a time.",
            complexity: "O(1)",
            args: &[
                arg::integer("timeout"),
                arg::oneof("mode", &[
                    arg::pure("write", "WRITE"),
                    arg::pure("all", "ALL"),
                ]).since("6.2.0").optional(),
            ],
            history: &[("6.2.0", "The WRITE and ALL modes.")],
            ..Doc::new(Group::Connection, "3.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|unpause",
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: client_unpause,
        subcommands: &[],
        doc: &Doc {
            summary: "Ends a CLIENT PAUSE: the held commands run.",
            complexity: "O(N), N clients held.",
            ..Doc::new(Group::Connection, "6.2.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|unblock",
        arity: -3,
        // Valkey 9.1 dropped ALLOW_BUSY here.
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: client_unblock,
        subcommands: &[],
        doc: &Doc {
            summary: "Wakes a connection waiting in a blocking command.",
            complexity: "O(log(N)), N connections.",
            args: &[
                arg::integer("client-id"),
                arg::oneof("unblock-type", &[
                    arg::pure("timeout", "TIMEOUT"),
                    arg::pure("error", "ERROR"),
                ]).optional(),
            ],
            ..Doc::new(Group::Connection, "5.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|no-touch",
        arity: 3,
        flags: NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: client_no_touch,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets whether this connection's commands update the keys' access time and frequency.",
            complexity: "O(1)",
            args: &[
                arg::oneof("enabled", &[
                    arg::pure("on", "ON"),
                    arg::pure("off", "OFF"),
                ]),
            ],
            ..Doc::new(Group::Connection, "7.2.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|reply",
        arity: 3,
        flags: NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: client_reply,
        subcommands: &[],
        doc: &Doc {
            summary: "Turns this connection's replies on or off.",
            complexity: "O(1)",
            args: &[
                arg::oneof("action", &[
                    arg::pure("on", "ON"),
                    arg::pure("off", "OFF"),
                    arg::pure("skip", "SKIP"),
                ]),
            ],
            ..Doc::new(Group::Connection, "3.2.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|tracking",
        arity: -3,
        flags: NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: super::tracking::client_tracking,
        subcommands: &[],
        doc: &Doc {
            summary: "Turns server-assisted client-side caching on or off for this connection.",
            complexity: "O(1), plus the prefixes given in BCAST mode.",
            args: &[
                arg::oneof("status", &[
                    arg::pure("on", "ON"),
                    arg::pure("off", "OFF"),
                ]),
                arg::integer("client-id").token("REDIRECT").optional(),
                arg::string("prefix").token("PREFIX").optional().multiple().multiple_token(),
                arg::pure("bcast", "BCAST").optional(),
                arg::pure("optin", "OPTIN").optional(),
                arg::pure("optout", "OPTOUT").optional(),
                arg::pure("noloop", "NOLOOP").optional(),
            ],
            ..Doc::new(Group::Connection, "6.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|caching",
        arity: 3,
        flags: NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: super::tracking::client_caching,
        subcommands: &[],
        doc: &Doc {
            summary: "Says whether the next command's keys are tracked, in OPTIN or OPTOUT mode.",
            complexity: "O(1)",
            args: &[
                arg::oneof("mode", &[
                    arg::pure("yes", "YES"),
                    arg::pure("no", "NO"),
                ]),
            ],
            ..Doc::new(Group::Connection, "6.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|getredir",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: super::tracking::client_getredir,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells which client this connection's invalidations are redirected to.",
            complexity: "O(1)",
            ..Doc::new(Group::Connection, "6.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|trackinginfo",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: super::tracking::client_trackinginfo,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells this connection's client-side caching mode.",
            complexity: "O(1)",
            ..Doc::new(Group::Connection, "6.2.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "client|help",
        arity: 2,
        flags: LOADING | STALE,
        keys: KeySpec::NONE,
        handler: client_help,
        subcommands: &[],
        doc: &Doc {
            summary: "Lists the subcommands and what they do.",
            complexity: "O(1)",
            ..Doc::new(Group::Connection, "5.0.0", acl::CONNECTION)
        },
    },
];

// ------------------------------------------------------------------ CLIENT

/// Names, library names and versions must stay one token in CLIENT LIST:
/// printable ASCII without spaces.
pub(super) fn valid_attr(v: &[u8]) -> bool {
    v.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

fn client_id(ctx: &mut Ctx) -> CmdResult {
    let id = ctx.client_ref().id;
    ctx.out.int(id as i64);
    Ok(())
}

fn client_setname(ctx: &mut Ctx) -> CmdResult {
    let name = &ctx.argv[2];
    if !valid_attr(name) {
        return Err(CLIENT_NAME_INVALID.into());
    }
    // An empty name removes the name.
    ctx.client().name = (!name.is_empty()).then(|| name.to_vec());
    ctx.out.ok();
    Ok(())
}

fn client_getname(ctx: &mut Ctx) -> CmdResult {
    match ctx.client_ref().name.clone() {
        Some(n) => ctx.out.bulk(&n),
        None => ctx.out.null(),
    }
    Ok(())
}

fn client_setinfo(ctx: &mut Ctx) -> CmdResult {
    let attr = &ctx.argv[2];
    let val = &ctx.argv[3];
    let lib_name = if is(attr, "LIB-NAME") {
        true
    } else if is(attr, "LIB-VER") {
        false
    } else {
        return Err(CmdError::owned(format!(
            "ERR Unrecognized option '{}'",
            excerpt(attr, 128)
        )));
    };
    if !valid_attr(val) {
        return Err(CmdError::owned(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            excerpt(attr, 128)
        )));
    }
    let v = (!val.is_empty()).then(|| val.to_vec());
    let c = ctx.client();
    if lib_name {
        c.lib_name = v;
    } else {
        c.lib_ver = v;
    }
    ctx.out.ok();
    Ok(())
}

/// `ON` or `OFF` (any case), else a syntax error.
fn on_off(a: &[u8]) -> Result<bool, CmdError> {
    if is(a, "ON") {
        Ok(true)
    } else if is(a, "OFF") {
        Ok(false)
    } else {
        Err(SYNTAX.into())
    }
}

fn client_no_evict(ctx: &mut Ctx) -> CmdResult {
    let on = on_off(&ctx.argv[2])?;
    ctx.client().no_evict = on;
    ctx.out.ok();
    Ok(())
}

fn client_no_touch(ctx: &mut Ctx) -> CmdResult {
    let on = on_off(&ctx.argv[2])?;
    ctx.client().no_touch = on;
    ctx.out.ok();
    Ok(())
}

/// OFF and SKIP write nothing (their own reply is suppressed too); the
/// dispatcher drops the replies while the mode says so.
fn client_reply(ctx: &mut Ctx) -> CmdResult {
    let a = &ctx.argv[2];
    let c = ctx.client();
    if is(a, "ON") {
        c.reply_mode = ReplyMode::On;
        ctx.out.ok();
    } else if is(a, "OFF") {
        c.reply_mode = ReplyMode::Off;
    } else if is(a, "SKIP") {
        // SKIP does nothing while replies are off altogether.
        if c.reply_mode != ReplyMode::Off {
            c.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(SYNTAX.into());
    }
    Ok(())
}

const CLIENT_HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address.",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to the specified local address.",
    "    * TYPE (NORMAL|PRIMARY|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id> [<client-id>...]",
    "      Kill connections by client IDs.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "    * FLAGS <flags>",
    "      Kill connections that include the specified flags.",
    "    * NAME <client-name>",
    "      Kill connections with the specified name.",
    "    * IDLE <idle>",
    "      Kill connections with idle time greater than or equal to <idle> seconds.",
    "    * LIB-NAME <library-name>",
    "      Kill connections with the specified library name.",
    "    * LIB-VER <library-version>",
    "      Kill connections with the specified library version.",
    "    * DB <db-id>",
    "      Kill connections currently operating on the specified database ID.",
    "    * CAPA <capa>",
    "      Kill connections currently with the specified capa.",
    "    * IP <ip>",
    "      Kill connections made from the specified ip.",
    "    Each filter but SKIPME and MAXAGE and IDLE has a NOT-<filter> form",
    "    that excludes the connections it would match.",
    "LIST [options ...]",
    "    Return information about client connections. Options are the filters",
    "    of KILL; SKIPME defaults to no.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "HELP",
    "    Print this help.",
];

fn client_help(ctx: &mut Ctx) -> CmdResult {
    let head = format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        String::from_utf8_lossy(&ctx.argv[0]).to_ascii_uppercase()
    );
    ctx.out.array(CLIENT_HELP.len() + 1);
    ctx.out.simple(&head);
    for line in CLIENT_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}

// ------------------------------------------------------ CLIENT LIST / INFO

/// Client classes of TYPE filters. Every connection is `Normal` until there
/// are replicas or pub/sub subscribers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ClientType {
    Normal,
    Primary,
    Replica,
    PubSub,
}

fn parse_client_type(a: &[u8]) -> Result<ClientType, CmdError> {
    let t = if is(a, "normal") {
        ClientType::Normal
    } else if is(a, "master") || is(a, "primary") {
        ClientType::Primary
    } else if is(a, "slave") || is(a, "replica") {
        ClientType::Replica
    } else if is(a, "pubsub") {
        ClientType::PubSub
    } else {
        return Err(CmdError::owned(format!(
            "ERR Unknown client type '{}'",
            excerpt(a, 128)
        )));
    };
    Ok(t)
}

fn client_type(c: &Client) -> ClientType {
    if c.is_pubsub() {
        ClientType::PubSub
    } else {
        ClientType::Normal
    }
}

/// The `flags=` letters of a client, in Valkey's order; `N` for none.
fn client_flags(c: &Client, blocked: bool) -> String {
    let mut s = String::new();
    if c.monitor {
        s.push('O');
    }
    if c.is_pubsub() {
        s.push('P');
    }
    if c.in_multi {
        s.push('x');
    }
    if blocked {
        s.push('b');
    }
    if let Some(t) = c.tracking.as_deref() {
        s.push('t');
        if t.broken_redirect {
            s.push('R');
        }
        if t.bcast {
            s.push('B');
        }
    }
    if c.dirty_cas {
        s.push('d');
    }
    if c.close_after_reply {
        s.push('c');
    }
    if c.addr.is_unix() {
        s.push('U');
    }
    if c.readonly {
        s.push('r');
    }
    if c.no_evict {
        s.push('e');
    }
    if c.no_touch {
        s.push('T');
    }
    if s.is_empty() {
        s.push('N');
    }
    s
}

/// Every flag letter Valkey knows, for validating FLAGS filters.
const KNOWN_FLAGS: &[u8] = b"ABEIMNOPRSTUbcdeirtux";
/// Every capability letter (`r`: redirect).
const KNOWN_CAPA: &[u8] = b"r";

/// One CLIENT LIST line, `\n` included. Fields follow Valkey 9's order;
/// what lives on the IO side (buffers) is reported as 0, and memory as the
/// command arguments we hold.
fn write_client_line(out: &mut Vec<u8>, c: &Client, blocked: bool, argv_mem: usize) {
    let multi_mem = c.multi.as_ref().map_or(0, |m| m.mem);
    let _ = write!(
        out,
        "id={} addr={} laddr={} fd={} name=",
        c.id, c.addr, c.laddr, c.fd
    );
    out.extend_from_slice(c.name.as_deref().unwrap_or_default());
    let _ = write!(
        out,
        " age={} idle={} flags={} capa= db={} sub={} psub={} ssub={} multi={} watch={} \
         qbuf=0 qbuf-free=0 argv-mem={argv_mem} multi-mem={multi_mem} rbs=0 rbp=0 obl=0 oll=0 \
         omem=0 tot-mem={} events=r cmd={} user=default redir={} resp={} lib-name=",
        c.created.elapsed().as_secs(),
        c.last_interaction.elapsed().as_secs(),
        client_flags(c, blocked),
        c.db,
        c.subs[0],
        c.subs[1],
        c.subs[2],
        c.multi.as_ref().map_or(-1, |m| m.cmds.len() as i64),
        c.watched.len(),
        argv_mem + multi_mem,
        c.last_cmd,
        c.tracking.as_deref().map_or(-1, |t| t.redirect as i64),
        c.resp,
    );
    out.extend_from_slice(c.lib_name.as_deref().unwrap_or_default());
    out.extend_from_slice(b" lib-ver=");
    out.extend_from_slice(c.lib_ver.as_deref().unwrap_or_default());
    let _ = writeln!(
        out,
        " tot-net-in={} tot-net-out={} tot-cmds={}",
        c.net_in, c.net_out, c.commands
    );
}

fn argv_mem(argv: &[Bytes]) -> usize {
    argv.iter().map(|a| a.len()).sum()
}

fn client_info(ctx: &mut Ctx) -> CmdResult {
    let mut text = Vec::with_capacity(400);
    // The caller is running this command, so it is not blocked.
    write_client_line(&mut text, ctx.client_ref(), false, argv_mem(ctx.argv));
    ctx.out.verbatim(&text);
    Ok(())
}

/// The filters of CLIENT LIST and CLIENT KILL (new form), ANDed. A filter
/// given twice keeps its last value, except ID and NOT-ID which add up.
struct Filter<'a> {
    ids: Option<Vec<i64>>,
    not_ids: Vec<i64>,
    ctype: Option<ClientType>,
    not_ctype: Option<ClientType>,
    /// NOT-USER default: every connection uses the one user, so this
    /// excludes them all (and USER default keeps them all).
    not_user: bool,
    addr: Option<&'a [u8]>,
    not_addr: Option<&'a [u8]>,
    laddr: Option<&'a [u8]>,
    not_laddr: Option<&'a [u8]>,
    ip: Option<&'a [u8]>,
    not_ip: Option<&'a [u8]>,
    name: Option<&'a [u8]>,
    not_name: Option<&'a [u8]>,
    lib_name: Option<&'a [u8]>,
    not_lib_name: Option<&'a [u8]>,
    lib_ver: Option<&'a [u8]>,
    not_lib_ver: Option<&'a [u8]>,
    flags: Option<&'a [u8]>,
    not_flags: Option<&'a [u8]>,
    capa: Option<&'a [u8]>,
    not_capa: Option<&'a [u8]>,
    db: Option<i64>,
    not_db: Option<i64>,
    skipme: bool,
    maxage: Option<u64>,
    idle: Option<u64>,
}

impl<'a> Filter<'a> {
    fn new(skipme: bool) -> Self {
        Filter {
            ids: None,
            not_ids: Vec::new(),
            ctype: None,
            not_ctype: None,
            not_user: false,
            addr: None,
            not_addr: None,
            laddr: None,
            not_laddr: None,
            ip: None,
            not_ip: None,
            name: None,
            not_name: None,
            lib_name: None,
            not_lib_name: None,
            lib_ver: None,
            not_lib_ver: None,
            flags: None,
            not_flags: None,
            capa: None,
            not_capa: None,
            db: None,
            not_db: None,
            skipme,
            maxage: None,
            idle: None,
        }
    }

    /// Parses `argv[from..]` as filters, with Valkey's errors.
    fn parse(&mut self, argv: &'a [Bytes], from: usize, databases: usize) -> CmdResult {
        let mut i = from;
        while i < argv.len() {
            let opt = &argv[i][..];
            // ID and NOT-ID take every following integer; an argument that
            // is not one is read as the next option.
            if is(opt, "ID") || is(opt, "NOT-ID") {
                let list = if is(opt, "ID") {
                    self.ids.get_or_insert_with(Vec::new)
                } else {
                    &mut self.not_ids
                };
                i += 1;
                while let Some(v) = argv.get(i).and_then(|a| parse_i64(a)) {
                    if v <= 0 {
                        return Err(CLIENT_ID_POSITIVE.into());
                    }
                    list.push(v);
                    i += 1;
                }
                continue;
            }
            let Some(val) = argv.get(i + 1).map(|v| &v[..]) else {
                return Err(SYNTAX.into());
            };
            let up = opt.to_ascii_uppercase();
            match &up[..] {
                b"TYPE" => self.ctype = Some(parse_client_type(val)?),
                b"NOT-TYPE" => self.not_ctype = Some(parse_client_type(val)?),
                b"USER" => known_user(val)?,
                b"NOT-USER" => {
                    known_user(val)?;
                    self.not_user = true;
                }
                b"ADDR" => self.addr = Some(val),
                b"NOT-ADDR" => self.not_addr = Some(val),
                b"LADDR" => self.laddr = Some(val),
                b"NOT-LADDR" => self.not_laddr = Some(val),
                b"IP" => self.ip = Some(val),
                b"NOT-IP" => self.not_ip = Some(val),
                b"NAME" => self.name = Some(val),
                b"NOT-NAME" => self.not_name = Some(val),
                b"LIB-NAME" => self.lib_name = Some(val),
                b"NOT-LIB-NAME" => self.not_lib_name = Some(val),
                b"LIB-VER" => self.lib_ver = Some(val),
                b"NOT-LIB-VER" => self.not_lib_ver = Some(val),
                b"FLAGS" => self.flags = Some(letters(val, KNOWN_FLAGS, "flags", "provided")?),
                b"NOT-FLAGS" => {
                    self.not_flags = Some(letters(val, KNOWN_FLAGS, "flags", "NOT-FLAGS")?)
                }
                b"CAPA" => self.capa = Some(letters(val, KNOWN_CAPA, "capa", "provided")?),
                b"NOT-CAPA" => self.not_capa = Some(letters(val, KNOWN_CAPA, "capa", "NOT-CAPA")?),
                b"DB" => self.db = Some(db_index(val, "DB", DB_NOT_INT, databases)?),
                b"NOT-DB" => {
                    self.not_db = Some(db_index(val, "NOT-DB", NOT_DB_NOT_INT, databases)?)
                }
                b"SKIPME" => {
                    self.skipme = if is(val, "YES") {
                        true
                    } else if is(val, "NO") {
                        false
                    } else {
                        return Err(SYNTAX.into());
                    }
                }
                b"MAXAGE" => {
                    let n = parse_i64(val).ok_or(MAXAGE_NOT_INT)?;
                    if n <= 0 {
                        return Err(MAXAGE_POSITIVE.into());
                    }
                    self.maxage = Some(n as u64);
                }
                b"IDLE" => {
                    let n = parse_i64(val).ok_or(IDLE_NOT_INT)?;
                    if n <= 0 {
                        return Err(IDLE_POSITIVE.into());
                    }
                    self.idle = Some(n as u64);
                }
                _ => return Err(SYNTAX.into()),
            }
            i += 2;
        }
        Ok(())
    }

    fn matches(&self, c: &Client, blocked: bool, me: &Client) -> bool {
        let addr = c.addr.to_string();
        let laddr = c.laddr.to_string();
        let ip = c.addr.ip().to_string();
        let flags = client_flags(c, blocked);
        // Capabilities: none of ours has any.
        let capa: &[u8] = b"";
        let has_all = |have: &[u8], want: &[u8]| want.iter().all(|w| have.contains(w));
        let eq_opt = |have: Option<&Vec<u8>>, want: &[u8]| have.is_some_and(|h| h[..] == *want);
        let pass = |want: Option<&[u8]>, ok: &dyn Fn(&[u8]) -> bool| want.is_none_or(ok);
        let block = |want: Option<&[u8]>, ok: &dyn Fn(&[u8]) -> bool| want.is_some_and(ok);
        let ctype = client_type(c);
        let age = c.created.elapsed().as_secs();
        let idle = c.last_interaction.elapsed().as_secs();
        self.ids.as_ref().is_none_or(|l| l.contains(&(c.id as i64)))
            && !self.not_ids.contains(&(c.id as i64))
            && self.ctype.is_none_or(|t| t == ctype)
            && self.not_ctype != Some(ctype)
            && !self.not_user
            && pass(self.addr, &|a| a == addr.as_bytes())
            && !block(self.not_addr, &|a| a == addr.as_bytes())
            && pass(self.laddr, &|a| a == laddr.as_bytes())
            && !block(self.not_laddr, &|a| a == laddr.as_bytes())
            && pass(self.ip, &|a| a == ip.as_bytes())
            && !block(self.not_ip, &|a| a == ip.as_bytes())
            && pass(self.name, &|a| eq_opt(c.name.as_ref(), a))
            && !block(self.not_name, &|a| eq_opt(c.name.as_ref(), a))
            && pass(self.lib_name, &|a| eq_opt(c.lib_name.as_ref(), a))
            && !block(self.not_lib_name, &|a| eq_opt(c.lib_name.as_ref(), a))
            && pass(self.lib_ver, &|a| eq_opt(c.lib_ver.as_ref(), a))
            && !block(self.not_lib_ver, &|a| eq_opt(c.lib_ver.as_ref(), a))
            && pass(self.flags, &|a| has_all(flags.as_bytes(), a))
            && !block(self.not_flags, &|a| has_all(flags.as_bytes(), a))
            && pass(self.capa, &|a| has_all(capa, a))
            && !block(self.not_capa, &|a| has_all(capa, a))
            && self.db.is_none_or(|d| d == c.db as i64)
            && self.not_db != Some(c.db as i64)
            && !(self.skipme && c.id == me.id)
            && self.maxage.is_none_or(|m| age >= m)
            && self.idle.is_none_or(|m| idle >= m)
    }
}

/// USER filters name an existing user: only `default` exists.
fn known_user(u: &[u8]) -> CmdResult {
    if u == DEFAULT_USER {
        Ok(())
    } else {
        Err(CmdError::owned(format!(
            "ERR No such user '{}'",
            excerpt(u, 128)
        )))
    }
}

/// A FLAGS or CAPA value: every letter must be known.
fn letters<'a>(v: &'a [u8], known: &[u8], what: &str, filter: &str) -> Result<&'a [u8], CmdError> {
    if v.iter().all(|b| known.contains(b)) {
        Ok(v)
    } else {
        Err(CmdError::owned(format!(
            "ERR Unknown {what} found in the {filter} filter: {}",
            excerpt(v, 128)
        )))
    }
}

fn db_index(
    v: &[u8],
    what: &str,
    not_int: &'static str,
    databases: usize,
) -> Result<i64, CmdError> {
    let n = parse_i64(v).ok_or(not_int)?;
    if n < 0 || n as u64 >= databases as u64 {
        return Err(CmdError::owned(format!(
            "ERR {what} number should be between 0 and {}",
            databases.saturating_sub(1)
        )));
    }
    Ok(n)
}

/// Clients in connection order (ids grow with each connection).
fn sorted_slots(clients: &Clients) -> Vec<usize> {
    let mut ids: Vec<_> = clients.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    ids.into_iter()
        .filter_map(|id| clients.slot_of(id))
        .collect()
}

fn client_list(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let mut filter = Filter::new(false);
    // One argument after LIST is never a complete filter.
    if argv.len() == 3 {
        return Err(SYNTAX.into());
    }
    filter.parse(argv, 2, ctx.db_count())?;
    let admin = ctx.admin();
    let me = admin.clients.at(admin.me);
    let mut text = Vec::new();
    for slot in sorted_slots(admin.clients) {
        let c = admin.clients.at(slot);
        let blocked =
            admin.state.blocking.is_blocked(c.id) || admin.state.pause.postponed.contains(&c.id);
        if admin.state.kills.contains(&c.id) || !filter.matches(c, blocked, me) {
            continue;
        }
        let mem = if slot == admin.me { argv_mem(argv) } else { 0 };
        write_client_line(&mut text, c, blocked, mem);
    }
    ctx.out.verbatim(&text);
    Ok(())
}

fn client_kill(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    // Old form: CLIENT KILL ip:port, which may name the caller itself.
    let old_form = argv.len() == 3;
    let mut filter = Filter::new(!old_form);
    if old_form {
        filter.addr = Some(&argv[2]);
    } else {
        filter.parse(argv, 2, ctx.db_count())?;
    }
    let admin = ctx.admin();
    let me = admin.clients.at(admin.me);
    let mut victims = Vec::new();
    for slot in sorted_slots(admin.clients) {
        let c = admin.clients.at(slot);
        let blocked = admin.state.blocking.is_blocked(c.id);
        // Already being closed: killed once, not counted twice.
        if admin.state.kills.contains(&c.id) || !filter.matches(c, blocked, me) {
            continue;
        }
        victims.push(c.id);
    }
    let killed = victims.len();
    let my_id = me.id;
    for id in victims {
        if id == my_id {
            // The caller still gets its reply, then the connection closes.
            admin.clients.at_mut(admin.me).close_after_reply = true;
        } else {
            admin.state.kills.push(id);
        }
    }
    if old_form {
        if killed == 0 {
            return Err(NO_SUCH_CLIENT.into());
        }
        ctx.out.ok();
    } else {
        ctx.out.int(killed as i64);
    }
    Ok(())
}

/// CLIENT PAUSE timeout-ms [WRITE|ALL]: the mode is read only when it is
/// the last argument (more arguments mean ALL, as in Valkey).
fn client_pause(ctx: &mut Ctx) -> CmdResult {
    use crate::state::pause::PauseMode;
    let mode = if ctx.argv.len() == 4 {
        match &ctx.argv[3] {
            a if is(a, "write") => PauseMode::Write,
            a if is(a, "all") => PauseMode::All,
            _ => return Err("ERR CLIENT PAUSE mode must be WRITE or ALL".into()),
        }
    } else {
        PauseMode::All
    };
    let ms = parse_i64(&ctx.argv[2]).ok_or(CmdError::from(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(crate::error::TIMEOUT_NEGATIVE.into());
    }
    let end = ctx.now.saturating_add(ms);
    let st = ctx.admin().state;
    st.pause.pause(mode, end);
    st.set_expire_paused(true);
    ctx.out.ok();
    Ok(())
}

/// CLIENT UNPAUSE: the held commands run once this batch is done.
fn client_unpause(ctx: &mut Ctx) -> CmdResult {
    let st = ctx.admin().state;
    st.pause.unpause();
    st.set_expire_paused(false);
    ctx.out.ok();
    Ok(())
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 if that client was blocked (it then
/// gets its timeout reply, or an UNBLOCKED error), else 0.
fn client_unblock(ctx: &mut Ctx) -> CmdResult {
    let id = crate::commands::args::int(&ctx.argv[2])?;
    let error = match ctx.argv.get(3) {
        None => false,
        Some(a) if is(a, "timeout") => false,
        Some(a) if is(a, "error") => true,
        Some(_) => return Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into()),
    };
    if ctx.argv.len() > 4 {
        return Err(crate::error::SYNTAX.into());
    }
    let blocking = &mut ctx.admin().state.blocking;
    let blocked = id >= 0 && blocking.is_blocked(id as u64);
    if blocked {
        blocking.request_unblock(id as u64, error);
    }
    ctx.out.int(blocked as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs() {
        assert!(valid_attr(b"redis-py(1.0)"));
        assert!(valid_attr(b""));
        assert!(!valid_attr(b"a b"));
        assert!(!valid_attr(b"a\nb"));
        assert!(!valid_attr("é".as_bytes()));
    }

    #[test]
    fn help_lines_name_real_subcommands() {
        for line in CLIENT_HELP.iter().filter(|l| !l.starts_with(' ')) {
            let sub = line
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            assert!(
                CLIENT_SUBCOMMANDS
                    .iter()
                    .any(|s| s.name == format!("client|{sub}")),
                "help names {sub}"
            );
        }
    }
}
