//! COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS,
//! GETKEYSANDFLAGS, HELP), generated from the command table.
//!
//! Valkey describes keys with key specifications; our rows carry only the
//! legacy (first, last, step) triple or a numkeys index. The specifications
//! and command tips are Valkey 9.1's own where `command/specs.rs` (generated
//! by scripts/gen-command-specs.py) has the command; otherwise they are
//! derived from the row (plus fixed key placeholders the syntax shows before
//! a numkeys count, like ZUNIONSTORE's `destination`), with access flags
//! guessed conservatively from the command flags. Everything is computed
//! once from the table, so rows added by any family show up.

mod specs;

use std::sync::LazyLock;

use bytes::Bytes;
use hashbrown::HashMap;

use super::args::is;
use super::flags::*;
use super::syntax::{self, Arg, ArgType};
use super::table::CMD_TABLE;
use super::{flags, CommandSpec, Ctx};
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::resp::ReplyBuf;
use crate::util::glob::glob_match;
use crate::util::num::parse_i64;

const INVALID_COMMAND: &str = "ERR Invalid command specified";
const INVALID_ARITY: &str = "ERR Invalid number of arguments specified for command";
const INVALID_ARGUMENTS: &str = "ERR Invalid arguments specified for command";
const NO_KEYS: &str = "ERR The command has no key arguments";

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "command",
    arity: -1,
    flags: LOADING | STALE,
    group: "server",
    acl: "@connection",
    summary: "Returns detailed information about all commands.",
    since: "2.8.13",
    complexity: "O(N) where N is the total number of commands",
    subcommands: &[
        CommandSpec {
            name: "command|count",
            arity: 2,
            flags: LOADING | STALE,
            group: "server",
            acl: "@connection",
            summary: "Returns a count of commands.",
            since: "2.8.13",
            handler: count,
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "command|docs",
            arity: -2,
            flags: LOADING | STALE,
            group: "server",
            acl: "@connection",
            summary: "Returns documentary information about one, multiple or all commands.",
            since: "7.0.0",
            complexity: "O(N) where N is the number of commands to look up",
            syntax: "[command-name [command-name ...]]",
            handler: docs,
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "command|getkeys",
            arity: -3,
            flags: LOADING | STALE,
            group: "server",
            acl: "@connection",
            summary: "Extracts the key names from an arbitrary command.",
            since: "2.8.13",
            complexity: "O(N) where N is the number of arguments to the command",
            syntax: "command [arg [arg ...]]",
            handler: getkeys,
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "command|getkeysandflags",
            arity: -3,
            flags: LOADING | STALE,
            group: "server",
            acl: "@connection",
            summary: "Extracts the key names and access flags for an arbitrary command.",
            since: "7.0.0",
            complexity: "O(N) where N is the number of arguments to the command",
            syntax: "command [arg [arg ...]]",
            handler: getkeysandflags,
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "command|help",
            arity: 2,
            flags: LOADING | STALE,
            group: "server",
            acl: "@connection",
            summary: "Returns helpful text about the different subcommands.",
            since: "5.0.0",
            handler: help,
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "command|info",
            arity: -2,
            flags: LOADING | STALE,
            group: "server",
            acl: "@connection",
            summary: "Returns information about one, multiple or all commands.",
            since: "2.8.13",
            complexity: "O(N) where N is the number of commands to look up",
            syntax: "[command-name [command-name ...]]",
            handler: info,
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "command|list",
            arity: -2,
            flags: LOADING | STALE,
            group: "server",
            acl: "@connection",
            summary: "Returns a list of command names.",
            since: "7.0.0",
            complexity: "O(N) where N is the total number of commands",
            syntax: "[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]",
            handler: list,
            ..CommandSpec::DEFAULT
        },
    ],
    handler: all,
    ..CommandSpec::DEFAULT
}];

// ---- what the table says, in Valkey's terms --------------------------------

/// How a key specification finds its keys from its begin index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FindKeys {
    /// `lastkey` relative to the begin index (negative: from the end).
    Range { lastkey: i64, step: i64 },
    /// The count at begin + `idx`, the keys from begin + `first`.
    KeyNum { idx: i64, first: i64, step: i64 },
    /// Found by the command's own key function only (begin_search and
    /// find_keys both `unknown`, as Valkey shows SORT's STORE key).
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct KeySpecDoc {
    flags: &'static [&'static str],
    begin: i64,
    find: FindKeys,
    notes: Option<&'static str>,
}

/// Reads and possibly writes, returning the value: the safe guess for a
/// command that is not read-only.
const RW: &[&str] = &["RW", "access", "update"];
const RO: &[&str] = &["RO", "access"];
/// A `destination` before numkeys is only overwritten.
const OW: &[&str] = &["OW", "update"];

struct Meta {
    spec: &'static CommandSpec,
    key_specs: Vec<KeySpecDoc>,
    /// (first, last, step) as COMMAND INFO shows them.
    legacy: (i64, i64, i64),
    movable: bool,
    /// Valkey's command tips (`request_policy:...`, `nondeterministic_output`).
    tips: &'static [&'static str],
    /// Keys optional (EVAL with numkeys 0): GETKEYS replies empty.
    no_mandatory_keys: bool,
    args: Vec<Arg>,
    /// Indexes of the subcommands in `Index::metas`.
    subs: Vec<usize>,
}

struct Index {
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
        ix.metas.push(describe(spec));
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

/// Key specifications, legacy triple and argument docs of one row.
fn describe(spec: &'static CommandSpec) -> Meta {
    let ks = spec.keys;
    let numkeys = ks.numkeys_at > 0;
    let range = !numkeys && ks.first > 0 && ks.step > 0;
    let cx = syntax::Context {
        command: spec.name,
        group: spec.group,
        has_keys: numkeys || range,
        blocking: spec.has(BLOCKING),
    };
    let mut args = syntax::parse(spec.syntax, &cx);
    let base = if spec.has(READONLY) && !spec.has(WRITE) {
        RO
    } else {
        RW
    };
    let mut key_specs = Vec::new();
    let mut no_mandatory_keys = false;
    // The syntax starts at argv[1], or argv[2] for a subcommand.
    let start = if spec.name.contains('|') { 2 } else { 1 };
    if numkeys {
        let at = ks.numkeys_at as i64;
        let mut has_dest = false;
        for (i, a) in args.iter().enumerate() {
            let pos = start + i as i64;
            if pos >= at || !a.is_single_slot() {
                break;
            }
            if a.kind == ArgType::Key {
                let dest = a.name == "destination" && spec.has(WRITE);
                has_dest |= dest;
                key_specs.push(KeySpecDoc {
                    flags: if dest { OW } else { base },
                    begin: pos,
                    find: FindKeys::Range {
                        lastkey: 0,
                        step: 1,
                    },
                    notes: None,
                });
            }
        }
        key_specs.push(KeySpecDoc {
            // What is read into a destination is only read.
            flags: if has_dest { RO } else { base },
            begin: at,
            find: FindKeys::KeyNum {
                idx: 0,
                first: 1,
                step: ks.step.max(1) as i64,
            },
            notes: None,
        });
        // `numkeys [key [key ...]]`: zero keys is a valid call.
        let after = (at - start + 1).max(0) as usize;
        no_mandatory_keys = args
            .get(after)
            .is_some_and(|a| a.kind == ArgType::Key && a.optional);
    } else if range && one_per_key(&args, start, ks) {
        // `key newkey`, `source destination`: one specification per key,
        // as Valkey lists them.
        for pos in ks.first..=ks.last {
            key_specs.push(KeySpecDoc {
                flags: base,
                begin: pos as i64,
                find: FindKeys::Range {
                    lastkey: 0,
                    step: 1,
                },
                notes: None,
            });
        }
    } else if range {
        let (first, last) = (ks.first as i64, ks.last as i64);
        key_specs.push(KeySpecDoc {
            flags: base,
            begin: first,
            find: FindKeys::Range {
                lastkey: if last >= 0 { last - first } else { last },
                step: ks.step as i64,
            },
            notes: None,
        });
    }
    let mut tips: &'static [&'static str] = &[];
    if let Some((_, ks, t)) = specs::VALKEY.iter().find(|(n, ..)| *n == spec.name) {
        key_specs = ks.to_vec();
        tips = t;
    }
    syntax::assign_key_specs(&mut args, key_specs.len());
    let (legacy, movable) = legacy_range(&key_specs);
    Meta {
        spec,
        key_specs,
        legacy,
        movable,
        tips,
        no_mandatory_keys,
        args,
        subs: Vec::new(),
    }
}

/// The keys of a call to a command whose specifications are not enough
/// (Valkey's getkeys_proc): None for every other command.
fn key_function(name: &str, argv: &[Bytes]) -> Option<Vec<KeyAt>> {
    match name {
        "set" => {
            // setGetKeys: a GET anywhere after the value makes the key read.
            let get = argv.iter().skip(3).any(|a| is(a, "get"));
            Some(vec![(1, if get { RW } else { OW })])
        }
        "sort" | "sort_ro" => {
            let mut keys = vec![(1, RO)];
            if name == "sort" {
                // sortGetKeys: LIMIT takes two arguments, GET and BY one;
                // the last STORE wins.
                let mut store = None;
                let mut i = 2;
                while i < argv.len() {
                    if is(&argv[i], "limit") {
                        i += 2;
                    } else if is(&argv[i], "get") || is(&argv[i], "by") {
                        i += 1;
                    } else if is(&argv[i], "store") && i + 1 < argv.len() {
                        store = Some(i + 1);
                    }
                    i += 1;
                }
                keys.extend(store.map(|p| (p, OW)));
            }
            Some(keys)
        }
        _ => None,
    }
}

/// A fixed range of several keys whose syntax names each key in its own
/// place (every argument up to the last key takes exactly one slot).
fn one_per_key(args: &[Arg], start: i64, ks: super::KeySpec) -> bool {
    if ks.step != 1 || ks.last <= ks.first || (ks.first as i64) < start {
        return false;
    }
    let upto = (ks.last as i64 - start + 1) as usize;
    if args.len() < upto || !args[..upto].iter().all(Arg::is_single_slot) {
        return false;
    }
    let keys = &args[(ks.first as i64 - start) as usize..upto];
    // `key1 key2` (LCS) are alike: Valkey keeps those in one range.
    let stem = |a: &Arg| {
        a.name
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_string()
    };
    keys.iter().all(|a| a.kind == ArgType::Key) && keys.iter().any(|a| stem(a) != stem(&keys[0]))
}

/// The (first, last, step) triple Valkey derives from key specifications:
/// consecutive plain ranges merge; anything else makes the keys movable.
fn legacy_range(specs: &[KeySpecDoc]) -> ((i64, i64, i64), bool) {
    if let [KeySpecDoc {
        begin,
        find: FindKeys::Range { lastkey, step },
        ..
    }] = specs
    {
        let last = if *lastkey >= 0 {
            begin + lastkey
        } else {
            *lastkey
        };
        return ((*begin, last, *step), false);
    }
    let mut movable = false;
    let mut first = i64::MAX;
    let mut last: i64 = 0;
    let mut prev_last: i64 = 0;
    for s in specs {
        let FindKeys::Range { lastkey, step } = s.find else {
            movable = true;
            continue;
        };
        if step != 1 || (prev_last != 0 && prev_last != s.begin - 1) {
            movable = true;
            continue;
        }
        first = first.min(s.begin);
        let abs = if lastkey >= 0 {
            lastkey + s.begin
        } else {
            lastkey
        };
        // Unsigned comparison, as Valkey: a negative (from the end) wins.
        if (abs as u64) > (last as u64) {
            last = abs;
        }
        prev_last = last;
    }
    if first == i64::MAX {
        return ((0, 0, 0), !specs.is_empty() || movable);
    }
    ((first, last, 1), movable)
}

/// An argv index holding a key, with its specification's flags.
type KeyAt = (usize, &'static [&'static str]);

/// Key positions and flags of a call, as Valkey walks key specifications;
/// None when the arguments contradict a specification.
fn find_keys(m: &Meta, argv: &[Bytes]) -> Option<Vec<KeyAt>> {
    let argc = argv.len() as i64;
    let mut out = Vec::new();
    for s in &m.key_specs {
        let (first, last, step) = match s.find {
            FindKeys::Range { lastkey, step } => {
                let last = if lastkey >= 0 {
                    s.begin + lastkey
                } else {
                    argc + lastkey
                };
                (s.begin, last, step)
            }
            FindKeys::Unknown => continue,
            FindKeys::KeyNum { idx, first, step } => {
                let at = usize::try_from(s.begin + idx).ok()?;
                let n = parse_i64(argv.get(at)?)?;
                if n < 0 {
                    return None;
                }
                let f = s.begin + first;
                (f, f.saturating_add(n) - 1, step)
            }
        };
        if last >= argc || last < first || first >= argc || step <= 0 {
            return None;
        }
        let mut i = first;
        while i <= last {
            out.push((i as usize, s.flags));
            i += step;
        }
    }
    Some(out)
}

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

// ---- replies -----------------------------------------------------------------

/// Flag names in Valkey's order: `may_replicate` is never shown, slow log
/// exclusion is `skip_commandlog` since Valkey 8.1, and the derived
/// `no_mandatory_keys` and `movablekeys` take their places.
fn flag_names(m: &Meta) -> Vec<&'static str> {
    let mut v = Vec::new();
    let (mut mandatory_done, mut movable_done) = (false, false);
    for &(bit, name) in flags::NAMES {
        if !mandatory_done && (bit == NO_MULTI || bit == ALLOW_BUSY) {
            if m.no_mandatory_keys {
                v.push("no_mandatory_keys");
            }
            mandatory_done = true;
        }
        if !movable_done && bit == ALLOW_BUSY {
            if m.movable {
                v.push("movablekeys");
            }
            movable_done = true;
        }
        if m.spec.has(bit) && bit != MAY_REPLICATE {
            v.push(if bit == SKIP_SLOWLOG {
                "skip_commandlog"
            } else {
                name
            });
        }
    }
    if !mandatory_done && m.no_mandatory_keys {
        v.push("no_mandatory_keys");
    }
    if !movable_done && m.movable {
        v.push("movablekeys");
    }
    v
}

/// Valkey lists a command's ACL categories in its category-bit order.
const ACL_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];

/// A row's ACL categories: those its flags and group imply, then those
/// Valkey assigns by hand (the row's `acl`).
fn categories(spec: &CommandSpec) -> Vec<&'static str> {
    let mut v = spec.acl_categories();
    for c in spec.acl.split_whitespace() {
        if !v.contains(&c) {
            v.push(c);
        }
    }
    v
}

fn acl_in_valkey_order(spec: &CommandSpec) -> Vec<&'static str> {
    let mut cats = categories(spec);
    // Unknown names (none today) keep their place after the known ones.
    cats.sort_by_key(|c| {
        ACL_ORDER
            .iter()
            .position(|o| o == c)
            .unwrap_or(ACL_ORDER.len())
    });
    cats
}

fn simple_set(out: &mut ReplyBuf, items: &[&str]) {
    out.set(items.len());
    for s in items {
        out.simple(s);
    }
}

/// One COMMAND INFO entry (10 elements).
fn reply_info(out: &mut ReplyBuf, m: &Meta) {
    let ix = &*INDEX;
    out.array(10);
    out.bulk(m.spec.name.as_bytes());
    out.int(m.spec.arity as i64);
    simple_set(out, &flag_names(m));
    out.int(m.legacy.0);
    out.int(m.legacy.1);
    out.int(m.legacy.2);
    simple_set(out, &acl_in_valkey_order(m.spec));
    out.set(m.tips.len());
    for t in m.tips {
        out.bulk(t.as_bytes());
    }
    out.set(m.key_specs.len());
    for s in &m.key_specs {
        reply_key_spec(out, s);
    }
    out.array(m.subs.len());
    for &i in &m.subs {
        reply_info(out, &ix.metas[i]);
    }
}

fn reply_key_spec(out: &mut ReplyBuf, s: &KeySpecDoc) {
    out.map(3 + usize::from(s.notes.is_some()));
    if let Some(n) = s.notes {
        out.bulk(b"notes");
        out.bulk(n.as_bytes());
    }
    out.bulk(b"flags");
    simple_set(out, s.flags);
    out.bulk(b"begin_search");
    out.map(2);
    if s.find == FindKeys::Unknown {
        // Valkey shows both searches as unknown, each with an empty spec.
        out.bulk(b"type");
        out.bulk(b"unknown");
        out.bulk(b"spec");
        out.map(0);
        out.bulk(b"find_keys");
        out.map(2);
        out.bulk(b"type");
        out.bulk(b"unknown");
        out.bulk(b"spec");
        out.map(0);
        return;
    }
    out.bulk(b"type");
    out.bulk(b"index");
    out.bulk(b"spec");
    out.map(1);
    out.bulk(b"index");
    out.int(s.begin);
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    match s.find {
        FindKeys::Range { lastkey, step } => {
            out.bulk(b"range");
            out.bulk(b"spec");
            out.map(3);
            out.bulk(b"lastkey");
            out.int(lastkey);
            out.bulk(b"keystep");
            out.int(step);
            out.bulk(b"limit");
            out.int(0);
        }
        FindKeys::Unknown => {} // replied above
        FindKeys::KeyNum { idx, first, step } => {
            out.bulk(b"keynum");
            out.bulk(b"spec");
            out.map(3);
            out.bulk(b"keynumidx");
            out.int(idx);
            out.bulk(b"firstkey");
            out.int(first);
            out.bulk(b"keystep");
            out.int(step);
        }
    }
}

/// One COMMAND DOCS value (the map after the name).
fn reply_docs(out: &mut ReplyBuf, m: &Meta) {
    let ix = &*INDEX;
    let spec = m.spec;
    let fields: [(&str, &str); 4] = [
        ("summary", spec.summary),
        ("since", spec.since),
        ("group", spec.group),
        ("complexity", spec.complexity),
    ];
    let n = fields.iter().filter(|(_, v)| !v.is_empty()).count()
        + usize::from(!m.args.is_empty())
        + usize::from(!m.subs.is_empty());
    out.map(n);
    for (k, v) in fields {
        if !v.is_empty() {
            out.bulk(k.as_bytes());
            out.bulk(v.as_bytes());
        }
    }
    if !m.args.is_empty() {
        out.bulk(b"arguments");
        reply_args(out, &m.args);
    }
    if !m.subs.is_empty() {
        out.bulk(b"subcommands");
        out.map(m.subs.len());
        for &i in &m.subs {
            let sub = &ix.metas[i];
            out.bulk(sub.spec.name.as_bytes());
            reply_docs(out, sub);
        }
    }
}

fn reply_args(out: &mut ReplyBuf, args: &[Arg]) {
    out.array(args.len());
    for a in args {
        let mut flags = Vec::new();
        if a.optional {
            flags.push("optional");
        }
        if a.multiple {
            flags.push("multiple");
        }
        if a.multiple_token {
            flags.push("multiple_token");
        }
        let container = a.kind.is_container();
        let n = 2
            + usize::from(!container)
            + usize::from(a.key_spec_index.is_some())
            + usize::from(a.token.is_some())
            + usize::from(!flags.is_empty())
            + usize::from(!a.args.is_empty());
        out.map(n);
        out.bulk(b"name");
        out.bulk(a.name.as_bytes());
        out.bulk(b"type");
        out.bulk(a.kind.wire().as_bytes());
        if !container {
            out.bulk(b"display_text");
            out.bulk(a.name.as_bytes());
        }
        if let Some(k) = a.key_spec_index {
            out.bulk(b"key_spec_index");
            out.int(k as i64);
        }
        if let Some(t) = &a.token {
            out.bulk(b"token");
            out.bulk(t.as_bytes());
        }
        if !flags.is_empty() {
            out.bulk(b"flags");
            simple_set(out, &flags);
        }
        if !a.args.is_empty() {
            out.bulk(b"arguments");
            reply_args(out, &a.args);
        }
    }
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
            Filter::AclCat(cat) => categories(m.spec).iter().any(|c| {
                c.as_bytes()
                    .get(1..)
                    .is_some_and(|c| c.eq_ignore_ascii_case(cat))
            }),
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
    if m.key_specs.is_empty() {
        return Err(NO_KEYS.into());
    }
    if !m.spec.arity_ok(call.len()) {
        return Err(INVALID_ARITY.into());
    }
    let keys = key_function(m.spec.name, call).or_else(|| find_keys(m, call));
    match keys {
        Some(keys) if !keys.is_empty() => Ok((m, keys)),
        _ if m.no_mandatory_keys => Ok((m, Vec::new())),
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
        simple_set(ctx.out, flags);
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
    use crate::commands::table::key_positions;
    use crate::commands::KeySpec;

    fn argv(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    fn row(keys: KeySpec, flags: u32, syntax: &'static str) -> &'static CommandSpec {
        Box::leak(Box::new(CommandSpec {
            name: "x",
            arity: -2,
            flags,
            keys,
            syntax,
            summary: "x",
            ..CommandSpec::DEFAULT
        }))
    }

    #[test]
    fn every_row_describes() {
        let ix = &*INDEX;
        assert_eq!(ix.metas.len(), CMD_TABLE.specs.len());
        assert_eq!(ix.top.len(), CMD_TABLE.top_level().count());
        for m in &ix.metas {
            for a in &m.args {
                if let Some(k) = a.key_spec_index {
                    assert!(k < m.key_specs.len(), "{}", m.spec.name);
                }
            }
        }
    }

    /// The key specs find what the table's own key extraction finds
    /// (plus fixed keys before a numkeys count).
    #[test]
    fn find_keys_agrees_with_key_positions() {
        for m in &INDEX.metas {
            let spec = m.spec;
            if m.key_specs.is_empty() {
                continue;
            }
            let min = spec.arity.unsigned_abs() as usize;
            for argc in min.max(1)..min + 7 {
                if !spec.arity_ok(argc) {
                    continue;
                }
                let mut v: Vec<String> = (0..argc).map(|i| format!("a{i}")).collect();
                if spec.keys.numkeys_at > 0 {
                    let at = spec.keys.numkeys_at as usize;
                    if at >= argc {
                        continue;
                    }
                    v[at] = (argc - at - 1).min(2).to_string();
                }
                let refs: Vec<&str> = v.iter().map(|s| s.as_str()).collect();
                let a = argv(&refs);
                let mut want = Vec::new();
                key_positions(spec, &a, &mut want);
                let Some(got) = find_keys(m, &a) else {
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
                if spec.keys.numkeys_at == 0 {
                    assert_eq!(got, want, "{} argc {argc}", spec.name);
                }
            }
        }
    }

    #[test]
    fn numkeys_with_destination() {
        let m = describe(row(
            KeySpec::numkeys(2),
            WRITE | DENYOOM,
            "destination numkeys key [key ...] [WEIGHTS weight [weight ...]]",
        ));
        assert_eq!(m.legacy, (1, 1, 1));
        assert!(m.movable);
        assert_eq!(m.key_specs.len(), 2);
        assert_eq!(m.key_specs[0].flags, OW);
        assert_eq!(m.key_specs[1].flags, RO);
        let keys = find_keys(&m, &argv(&["x", "d", "2", "a", "b", "WEIGHTS", "1"])).unwrap();
        assert_eq!(keys.iter().map(|k| k.0).collect::<Vec<_>>(), vec![1, 3, 4]);
        for bad in ["0", "3", "x", "-1"] {
            assert!(
                find_keys(&m, &argv(&["x", "d", bad, "a", "b"])).is_none(),
                "{bad}"
            );
        }
        assert!(!m.no_mandatory_keys);
    }

    #[test]
    fn eval_like_keys_optional() {
        let m = describe(row(
            KeySpec::numkeys(2),
            0,
            "script numkeys [key [key ...]] [arg [arg ...]]",
        ));
        assert_eq!(m.legacy, (0, 0, 0));
        assert!(m.movable && m.no_mandatory_keys);
        assert_eq!(m.key_specs[0].flags, RW);
        let names = flag_names(&m);
        assert_eq!(names, vec!["no_mandatory_keys", "movablekeys"]);
    }

    #[test]
    fn range_rows() {
        let m = describe(row(
            KeySpec::range(1, -1, 2),
            WRITE,
            "key value [key value ...]",
        ));
        assert_eq!(m.legacy, (1, -1, 2));
        assert!(!m.movable);
        assert_eq!(
            m.key_specs[0].find,
            FindKeys::Range {
                lastkey: -1,
                step: 2
            }
        );
        let keys = find_keys(&m, &argv(&["x", "a", "1", "b"])).unwrap();
        assert_eq!(keys.iter().map(|k| k.0).collect::<Vec<_>>(), vec![1, 3]);
        // Named keys in a row: one specification each, same legacy triple.
        let m = describe(row(KeySpec::range(1, 2, 1), READONLY, "source destination"));
        assert_eq!(m.legacy, (1, 2, 1));
        assert!(!m.movable);
        assert_eq!(m.key_specs.len(), 2);
        assert_eq!(m.key_specs[1].begin, 2);
        assert_eq!(m.key_specs[0].flags, RO);
        assert_eq!(m.args[1].key_spec_index, Some(1));
        let m = describe(row(KeySpec::range(1, 2, 1), READONLY, "key1 key2 [LEN]"));
        assert_eq!(m.key_specs.len(), 1);
        // Not named one by one: a single range.
        let m = describe(row(KeySpec::range(1, 2, 1), WRITE, "key [key ...]"));
        assert_eq!(m.key_specs.len(), 1);
        assert_eq!(
            m.key_specs[0].find,
            FindKeys::Range {
                lastkey: 1,
                step: 1
            }
        );
    }

    #[test]
    fn flags_in_valkey_order() {
        let m = describe(row(
            KeySpec::NONE,
            ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | MAY_REPLICATE | SKIP_SLOWLOG,
            "",
        ));
        assert_eq!(
            flag_names(&m),
            vec![
                "noscript",
                "loading",
                "stale",
                "skip_commandlog",
                "fast",
                "no_auth",
                "allow_busy"
            ]
        );
    }

    #[test]
    fn acl_order() {
        let spec = CommandSpec {
            flags: ADMIN | READONLY,
            group: "generic",
            ..CommandSpec::DEFAULT
        };
        assert_eq!(
            acl_in_valkey_order(&spec),
            vec!["@keyspace", "@read", "@admin", "@slow", "@dangerous"]
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
