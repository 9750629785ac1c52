//! COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS,
//! GETKEYSANDFLAGS, HELP), replied from the rows' declared metadata
//! (`meta::Doc`): `reply` writes INFO and DOCS entries, `keys` walks key
//! specifications for GETKEYS. Computed once from the table, so rows added
//! by any family show up.

mod keys;
mod reply;

use std::sync::LazyLock;

use bytes::Bytes;
use hashbrown::HashMap;

use super::args::is;
use super::flags::*;
use super::meta::{acl, arg, Doc, Group};
use super::table::CMD_TABLE;
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::util::glob::glob_match;
pub(super) use keys::declared_positions;
use keys::KeyAt;
use reply::{reply_docs, reply_info};

const INVALID_COMMAND: &str = "ERR Invalid command specified";
const INVALID_ARITY: &str = "ERR Invalid number of arguments specified for command";
const INVALID_ARGUMENTS: &str = "ERR Invalid arguments specified for command";
const NO_KEYS: &str = "ERR The command has no key arguments";

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "command",
    arity: -1,
    flags: LOADING | STALE,
    keys: KeySpec::NONE,
    handler: all,
    subcommands: &[
        CommandSpec {
            name: "command|count",
            arity: 2,
            flags: LOADING | STALE,
            keys: KeySpec::NONE,
            handler: count,
            subcommands: &[],
            doc: &Doc {
                summary: "Tells how many commands the server has.",
                complexity: "O(1)",
                ..Doc::new(Group::Server, "2.8.13", acl::CONNECTION)
            },
        },
        CommandSpec {
            name: "command|docs",
            arity: -2,
            flags: LOADING | STALE,
            keys: KeySpec::NONE,
            handler: docs,
            subcommands: &[],
            doc: &Doc {
                summary: "Documents the given commands, or all of them.",
                complexity: "O(N), N commands asked for.",
                tips: &["nondeterministic_output_order"],
                args: &[arg::string("command-name").optional().multiple()],
                ..Doc::new(Group::Server, "7.0.0", acl::CONNECTION)
            },
        },
        CommandSpec {
            name: "command|getkeys",
            arity: -3,
            flags: LOADING | STALE,
            keys: KeySpec::NONE,
            handler: getkeys,
            subcommands: &[],
            doc: &Doc {
                summary: "Lists the keys a command call would touch.",
                complexity: "O(N), N arguments of the call.",
                args: &[
                    arg::string("command"),
                    arg::string("arg").optional().multiple(),
                ],
                ..Doc::new(Group::Server, "2.8.13", acl::CONNECTION)
            },
        },
        CommandSpec {
            name: "command|getkeysandflags",
            arity: -3,
            flags: LOADING | STALE,
            keys: KeySpec::NONE,
            handler: getkeysandflags,
            subcommands: &[],
            doc: &Doc {
                summary: "Lists the keys a command call would touch, with how it uses each.",
                complexity: "O(N), N arguments of the call.",
                args: &[
                    arg::string("command"),
                    arg::string("arg").optional().multiple(),
                ],
                ..Doc::new(Group::Server, "7.0.0", acl::CONNECTION)
            },
        },
        CommandSpec {
            name: "command|help",
            arity: 2,
            flags: LOADING | STALE,
            keys: KeySpec::NONE,
            handler: help,
            subcommands: &[],
            doc: &Doc {
                summary: "Lists the subcommands and what they do.",
                complexity: "O(1)",
                ..Doc::new(Group::Server, "5.0.0", acl::CONNECTION)
            },
        },
        CommandSpec {
            name: "command|info",
            arity: -2,
            flags: LOADING | STALE,
            keys: KeySpec::NONE,
            handler: info,
            subcommands: &[],
            doc: &Doc {
                summary: "Describes the given commands, or all of them.",
                complexity: "O(N), N commands asked for.",
                tips: &["nondeterministic_output_order"],
                args: &[arg::string("command-name").optional().multiple()],
                history: &[("7.0.0", "With no command name, describes every command.")],
                ..Doc::new(Group::Server, "2.8.13", acl::CONNECTION)
            },
        },
        CommandSpec {
            name: "command|list",
            arity: -2,
            flags: LOADING | STALE,
            keys: KeySpec::NONE,
            handler: list,
            subcommands: &[],
            doc: &Doc {
                summary: "Lists command names, optionally filtered.",
                complexity: "O(N), N commands in all.",
                tips: &["nondeterministic_output_order"],
                args: &[arg::oneof(
                    "filterby",
                    &[
                        arg::string("module-name").token("MODULE"),
                        arg::string("category").token("ACLCAT"),
                        arg::pattern("pattern").token("PATTERN"),
                    ],
                )
                .token("FILTERBY")
                .optional()],
                ..Doc::new(Group::Server, "7.0.0", acl::CONNECTION)
            },
        },
    ],
    doc: &Doc {
        summary: "Describes every command.",
        complexity: "O(N), N commands in all.",
        tips: &["nondeterministic_output_order"],
        ..Doc::new(Group::Server, "2.8.13", acl::CONNECTION)
    },
}];

// ---- the table, indexed ------------------------------------------------------

/// What COMMAND needs of a row beyond its declarations.
pub(crate) struct Meta {
    spec: &'static CommandSpec,
    /// (first, last, step) as COMMAND INFO shows them, derived from the
    /// key specifications as Valkey does.
    legacy: (i64, i64, i64),
    movable: bool,
    /// Indexes of the subcommands in `Index::metas`.
    subs: Vec<usize>,
}

pub(crate) struct Index {
    /// Every command and subcommand, in table order.
    metas: Vec<Meta>,
    /// Full lower-case name (`config|get` too) → index.
    by_name: HashMap<&'static str, usize>,
    top: Vec<usize>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let mut ix = Index {
        metas: Vec::new(),
        by_name: HashMap::new(),
        top: Vec::new(),
    };
    for spec in &CMD_TABLE.specs {
        let i = ix.metas.len();
        let (legacy, movable) = keys::legacy_range(spec.doc.key_specs);
        ix.metas.push(Meta {
            spec,
            legacy,
            movable,
            subs: Vec::new(),
        });
        ix.by_name.insert(spec.name, i);
        if !spec.name.contains('|') {
            ix.top.push(i);
        }
    }
    for i in 0..ix.metas.len() {
        let subs: Vec<usize> = ix.metas[i]
            .spec
            .subcommands
            .iter()
            .filter_map(|s| ix.by_name.get(s.name).copied())
            .collect();
        ix.metas[i].subs = subs;
    }
    ix
});

// ---- lookups -----------------------------------------------------------------

/// A command name from the wire, lower-cased; None if it cannot be one.
fn lower_name(b: &[u8]) -> Option<String> {
    // No command name is this long; refuse before allocating.
    if b.len() > 128 {
        return None;
    }
    std::str::from_utf8(b).ok().map(|s| s.to_ascii_lowercase())
}

/// By full name, `container|sub` included (COMMAND INFO and DOCS).
fn by_full_name(b: &[u8]) -> Option<&'static Meta> {
    let ix = &*INDEX;
    let name = lower_name(b)?;
    ix.by_name.get(name.as_str()).map(|&i| &ix.metas[i])
}

/// The command a call would run, as Valkey resolves it: the container
/// itself when there is no second argument.
fn by_call(argv: &[Bytes]) -> Option<&'static Meta> {
    let ix = &*INDEX;
    let base = lower_name(argv.first()?)?;
    if base.contains('|') {
        return None;
    }
    let &b = ix.by_name.get(base.as_str())?;
    let m = &ix.metas[b];
    if argv.len() == 1 || m.subs.is_empty() {
        return Some(m);
    }
    let sub = lower_name(&argv[1])?;
    let full = format!("{base}|{sub}");
    ix.by_name.get(full.as_str()).map(|&i| &ix.metas[i])
}

// ---- handlers ----------------------------------------------------------------

/// COMMAND: every top-level command's INFO entry.
fn all(ctx: &mut Ctx) -> CmdResult {
    let ix = &*INDEX;
    ctx.out.array(ix.top.len());
    for &i in &ix.top {
        reply_info(ctx.out, &ix.metas[i]);
    }
    Ok(())
}

fn count(ctx: &mut Ctx) -> CmdResult {
    ctx.out.int(INDEX.top.len() as i64);
    Ok(())
}

fn info(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() == 2 {
        return all(ctx);
    }
    let names = &ctx.argv[2..];
    ctx.out.array(names.len());
    for n in names {
        match by_full_name(n) {
            Some(m) => reply_info(ctx.out, m),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn docs(ctx: &mut Ctx) -> CmdResult {
    let ix = &*INDEX;
    let found: Vec<&Meta> = if ctx.argv.len() == 2 {
        ix.top.iter().map(|&i| &ix.metas[i]).collect()
    } else {
        // Unknown names are left out; repeated ones repeat.
        ctx.argv[2..]
            .iter()
            .filter_map(|n| by_full_name(n))
            .collect()
    };
    ctx.out.map(found.len());
    for m in found {
        ctx.out.bulk(m.spec.name.as_bytes());
        reply_docs(ctx.out, m);
    }
    Ok(())
}

enum Filter<'a> {
    All,
    Module,
    AclCat(&'a [u8]),
    Pattern(&'a [u8]),
}

fn list(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let filter = match argv.len() {
        2 => Filter::All,
        5 if is(&argv[2], "filterby") => {
            let arg = &argv[4][..];
            if is(&argv[3], "module") {
                Filter::Module
            } else if is(&argv[3], "aclcat") {
                Filter::AclCat(arg)
            } else if is(&argv[3], "pattern") {
                Filter::Pattern(arg)
            } else {
                return Err(SYNTAX.into());
            }
        }
        _ => return Err(SYNTAX.into()),
    };
    let ix = &*INDEX;
    let names: Vec<&str> = ix
        .metas
        .iter()
        .filter(|m| match filter {
            Filter::All => true,
            // There are no module commands.
            Filter::Module => false,
            Filter::AclCat(cat) => reply::acl_names(m.spec)
                .iter()
                .any(|c| c.as_bytes().eq_ignore_ascii_case(cat)),
            Filter::Pattern(p) => glob_match(p, m.spec.name.as_bytes(), true),
        })
        .map(|m| m.spec.name)
        .collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

/// The keys of the call in argv[2..], with their specifications' flags.
fn keys_of_call(argv: &[Bytes]) -> Result<(&'static Meta, Vec<KeyAt>), CmdError> {
    let call = &argv[2..];
    let m = by_call(call).ok_or(CmdError::from(INVALID_COMMAND))?;
    // Valkey: a command whose every specification is `not_key` (the
    // shard channels of SSUBSCRIBE) has no keys.
    let not_key = super::meta::ks::NOT_KEY;
    if m.spec.doc.key_specs.iter().all(|k| k.flags & not_key != 0) {
        return Err(NO_KEYS.into());
    }
    if !m.spec.arity_ok(call.len()) {
        return Err(INVALID_ARITY.into());
    }
    let keys = keys::key_function(m.spec.name, call)
        .or_else(|| keys::find_keys(m.spec.doc.key_specs, call));
    match keys {
        Some(keys) if !keys.is_empty() => Ok((m, keys)),
        _ if m.spec.has(NO_MANDATORY_KEYS) => Ok((m, Vec::new())),
        _ => Err(INVALID_ARGUMENTS.into()),
    }
}

fn getkeys(ctx: &mut Ctx) -> CmdResult {
    let (_, keys) = keys_of_call(ctx.argv)?;
    let call = &ctx.argv[2..];
    ctx.out.array(keys.len());
    for (i, _) in keys {
        ctx.out.bulk(&call[i]);
    }
    Ok(())
}

fn getkeysandflags(ctx: &mut Ctx) -> CmdResult {
    let (_, keys) = keys_of_call(ctx.argv)?;
    let call = &ctx.argv[2..];
    ctx.out.array(keys.len());
    for (i, flags) in keys {
        ctx.out.array(2);
        ctx.out.bulk(&call[i]);
        reply::key_flag_set(ctx.out, flags);
    }
    Ok(())
}

const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all commands.",
    "COUNT",
    "    Return the total number of commands in this server.",
    "LIST",
    "    Return a list of all commands in this server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full command.",
    "HELP",
    "    Print this help.",
];

fn help(ctx: &mut Ctx) -> CmdResult {
    ctx.out.array(HELP.len());
    for l in HELP {
        ctx.out.simple(l);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::meta::ks;
    use crate::commands::table::key_positions;

    fn argv(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn every_row_indexed() {
        let ix = &*INDEX;
        assert_eq!(ix.metas.len(), CMD_TABLE.specs.len());
        assert_eq!(ix.top.len(), CMD_TABLE.top_level().count());
    }

    /// Key arguments name a declared key specification, and a specification
    /// is named by some argument (or found by the key function alone).
    #[test]
    fn key_args_match_key_specs() {
        fn walk(args: &[crate::commands::meta::Arg], seen: &mut Vec<u8>) {
            for a in args {
                if let Some(i) = a.key_spec {
                    seen.push(i);
                }
                // Valkey 9's hash-field commands give their `numfields`
                // key_spec_index 0 (COMMAND DOCS shows it): kept as Valkey has it.
                if a.name == "numfields" {
                    walk(a.args, seen);
                    continue;
                }
                assert_eq!(
                    a.kind == crate::commands::meta::ArgType::Key,
                    a.key_spec.is_some() && a.kind != crate::commands::meta::ArgType::Pattern,
                    "{}",
                    a.name
                );
                walk(a.args, seen);
            }
        }
        for spec in &CMD_TABLE.specs {
            let mut seen = Vec::new();
            walk(spec.doc.args, &mut seen);
            let n = spec.doc.key_specs.len();
            for &i in &seen {
                assert!((i as usize) < n, "{}: key_spec_index {i} of {n}", spec.name);
            }
        }
    }

    /// The rows' key positions (prefetch, blocking) are what the declared
    /// key specifications find (plus fixed keys before a numkeys count),
    /// and the legacy triple COMMAND INFO derives is the row's.
    #[test]
    fn key_specs_agree_with_key_positions() {
        for m in &INDEX.metas {
            let spec = m.spec;
            let rk = spec.keys;
            if rk.numkeys_at <= 0 {
                let want = (rk.first as i64, rk.last as i64, rk.step as i64);
                assert_eq!(m.legacy, want, "{}", spec.name);
            } else {
                // The count the row's key positions read is a declared one.
                let counted = spec.doc.key_specs.iter().any(|k| {
                    k.begin == ks::Begin::Index(rk.numkeys_at as i64)
                        && matches!(k.find, ks::Find::KeyNum { .. })
                });
                assert!(counted, "{}", spec.name);
            }
            if spec.doc.key_specs.is_empty() {
                assert_eq!(rk, KeySpec::NONE, "{}", spec.name);
                continue;
            }
            let min = spec.arity.unsigned_abs() as usize;
            for argc in min.max(1)..min + 7 {
                if !spec.arity_ok(argc) {
                    continue;
                }
                let mut v: Vec<String> = (0..argc).map(|i| format!("a{i}")).collect();
                if rk.numkeys_at > 0 {
                    let at = rk.numkeys_at as usize;
                    if at >= argc {
                        continue;
                    }
                    v[at] = (argc - at - 1).min(2).to_string();
                }
                let refs: Vec<&str> = v.iter().map(|s| s.as_str()).collect();
                let a = argv(&refs);
                let mut want = Vec::new();
                key_positions(spec, &a, &mut want);
                let Some(got) = keys::find_keys(spec.doc.key_specs, &a) else {
                    continue;
                };
                let got: Vec<usize> = got.into_iter().map(|(i, _)| i).collect();
                for w in &want {
                    assert!(
                        got.contains(w),
                        "{} argc {argc}: {got:?} vs {want:?}",
                        spec.name
                    );
                }
                if rk.numkeys_at == 0 {
                    assert_eq!(got, want, "{} argc {argc}", spec.name);
                }
            }
        }
    }

    #[test]
    fn flags_in_valkey_order() {
        static SPEC: CommandSpec = CommandSpec {
            name: "x",
            arity: 1,
            flags: ALLOW_BUSY
                | NOSCRIPT
                | LOADING
                | STALE
                | FAST
                | NO_AUTH
                | MAY_REPLICATE
                | SKIP_SLOWLOG
                | NO_MANDATORY_KEYS,
            keys: KeySpec::NONE,
            handler: super::super::container,
            subcommands: &[],
            doc: &Doc::new(Group::Server, "1.0.0", acl::KEYSPACE | acl::DANGEROUS),
        };
        let m = Meta {
            spec: &SPEC,
            legacy: (0, 0, 0),
            movable: true,
            subs: Vec::new(),
        };
        assert_eq!(
            reply::flag_names(&m),
            vec![
                "noscript",
                "loading",
                "stale",
                "skip_commandlog",
                "fast",
                "no_auth",
                "no_mandatory_keys",
                "movablekeys",
                "allow_busy"
            ]
        );
        assert_eq!(
            reply::acl_names(&SPEC),
            vec!["keyspace", "fast", "dangerous"]
        );
    }

    #[test]
    fn call_lookup() {
        assert!(by_call(&argv(&["GET", "k"])).is_some_and(|m| m.spec.name == "get"));
        assert!(by_call(&argv(&["config"])).is_some_and(|m| m.spec.name == "config"));
        assert!(
            by_call(&argv(&["config", "GET", "x"])).is_some_and(|m| m.spec.name == "config|get")
        );
        assert!(by_call(&argv(&["config", "nosuch"])).is_none());
        assert!(by_call(&argv(&["config|get", "x"])).is_none());
        assert!(by_full_name(b"CONFIG|get").is_some());
        assert!(by_full_name(b"get|x").is_none());
    }
}
