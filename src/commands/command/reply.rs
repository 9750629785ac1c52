//! COMMAND INFO and COMMAND DOCS entries, written from a row's declared
//! metadata in Valkey's field order (sets and maps become arrays in RESP2).

use super::super::flags::{self, ALLOW_BUSY, MAY_REPLICATE};
use super::super::meta::{acl, arg_flags, doc_flags, ks, Arg};
use super::super::CommandSpec;
use super::{Meta, INDEX};
use crate::resp::ReplyBuf;

/// Flag names in Valkey's order, with the derived `movablekeys` before
/// `allow_busy`.
pub(super) fn flag_names(m: &Meta) -> Vec<&'static str> {
    let mut v = Vec::new();
    for &(bit, name) in flags::NAMES {
        if bit == ALLOW_BUSY && m.movable {
            v.push("movablekeys");
        }
        if m.spec.has(bit) && bit != MAY_REPLICATE {
            v.push(name);
        }
    }
    if m.movable && !v.contains(&"movablekeys") {
        v.push("movablekeys");
    }
    v
}

/// A row's ACL categories (`@read`, ...) in Valkey's category order.
pub(super) fn acl_names(spec: &CommandSpec) -> Vec<&'static str> {
    let bits = spec.acl_categories();
    acl::NAMES
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|&(_, n)| n)
        .collect()
}

fn simple_set(out: &mut ReplyBuf, items: &[&str]) {
    out.set(items.len());
    for s in items {
        out.simple(s);
    }
}

fn names_of<T: Copy + std::ops::BitAnd<Output = T> + PartialEq + Default>(
    bits: T,
    table: &[(T, &'static str)],
) -> Vec<&'static str> {
    table
        .iter()
        .filter(|(b, _)| bits & *b != T::default())
        .map(|&(_, n)| n)
        .collect()
}

/// The flag names of a key specification, as COMMAND INFO and
/// GETKEYSANDFLAGS show them.
pub(super) fn key_flag_set(out: &mut ReplyBuf, bits: u16) {
    simple_set(out, &names_of(bits, ks::NAMES));
}

/// One COMMAND INFO entry (10 elements).
pub(super) fn reply_info(out: &mut ReplyBuf, m: &Meta) {
    let ix = &*INDEX;
    let doc = m.spec.doc;
    out.array(10);
    out.bulk(m.spec.name.as_bytes());
    out.int(m.spec.arity as i64);
    simple_set(out, &flag_names(m));
    out.int(m.legacy.0);
    out.int(m.legacy.1);
    out.int(m.legacy.2);
    let cats: Vec<String> = acl_names(m.spec).iter().map(|c| format!("@{c}")).collect();
    out.set(cats.len());
    for c in &cats {
        out.simple(c);
    }
    out.set(doc.tips.len());
    for t in doc.tips {
        out.bulk(t.as_bytes());
    }
    out.set(doc.key_specs.len());
    for s in doc.key_specs {
        reply_key_spec(out, s);
    }
    out.array(m.subs.len());
    for &i in &m.subs {
        reply_info(out, &ix.metas[i]);
    }
}

fn reply_key_spec(out: &mut ReplyBuf, s: &ks::KeySpecDecl) {
    out.map(3 + usize::from(s.notes.is_some()));
    if let Some(n) = s.notes {
        out.bulk(b"notes");
        out.bulk(n.as_bytes());
    }
    out.bulk(b"flags");
    key_flag_set(out, s.flags);
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    match s.begin {
        ks::Begin::Index(i) => {
            out.bulk(b"index");
            out.bulk(b"spec");
            out.map(1);
            out.bulk(b"index");
            out.int(i);
        }
        ks::Begin::Keyword { keyword, startfrom } => {
            out.bulk(b"keyword");
            out.bulk(b"spec");
            out.map(2);
            out.bulk(b"keyword");
            out.bulk(keyword.as_bytes());
            out.bulk(b"startfrom");
            out.int(startfrom);
        }
        ks::Begin::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    match s.find {
        ks::Find::Range {
            lastkey,
            step,
            limit,
        } => {
            out.bulk(b"range");
            out.bulk(b"spec");
            out.map(3);
            out.bulk(b"lastkey");
            out.int(lastkey);
            out.bulk(b"keystep");
            out.int(step);
            out.bulk(b"limit");
            out.int(limit);
        }
        ks::Find::KeyNum { idx, first, step } => {
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
        ks::Find::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
}

/// One COMMAND DOCS value (the map after the name).
pub(super) fn reply_docs(out: &mut ReplyBuf, m: &Meta) {
    let ix = &*INDEX;
    let doc = m.spec.doc;
    let texts: [(&str, &str); 4] = [
        ("summary", doc.summary),
        ("since", doc.since),
        ("group", doc.group.wire()),
        ("complexity", doc.complexity),
    ];
    let n = texts.iter().filter(|(_, v)| !v.is_empty()).count()
        + usize::from(doc.doc_flags != 0)
        + usize::from(doc.deprecated_since.is_some())
        + usize::from(doc.replaced_by.is_some())
        + usize::from(!doc.history.is_empty())
        + usize::from(!doc.args.is_empty())
        + usize::from(!m.subs.is_empty());
    out.map(n);
    for (k, v) in texts {
        if !v.is_empty() {
            out.bulk(k.as_bytes());
            out.bulk(v.as_bytes());
        }
    }
    if doc.doc_flags != 0 {
        out.bulk(b"doc_flags");
        simple_set(out, &names_of(doc.doc_flags, doc_flags::NAMES));
    }
    for (k, v) in [
        ("deprecated_since", doc.deprecated_since),
        ("replaced_by", doc.replaced_by),
    ] {
        if let Some(v) = v {
            out.bulk(k.as_bytes());
            out.bulk(v.as_bytes());
        }
    }
    if !doc.history.is_empty() {
        out.bulk(b"history");
        out.set(doc.history.len());
        for (version, text) in doc.history {
            out.array(2);
            out.bulk(version.as_bytes());
            out.bulk(text.as_bytes());
        }
    }
    if !doc.args.is_empty() {
        out.bulk(b"arguments");
        reply_args(out, doc.args);
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
        let container = a.kind.is_container();
        let key_spec = a.key_spec;
        let n = 2
            + usize::from(!container)
            + usize::from(key_spec.is_some())
            + usize::from(a.token.is_some())
            + usize::from(a.summary.is_some())
            + usize::from(a.since.is_some())
            + usize::from(a.deprecated_since.is_some())
            + usize::from(a.flags != 0)
            + usize::from(!a.args.is_empty());
        out.map(n);
        out.bulk(b"name");
        out.bulk(a.name.as_bytes());
        out.bulk(b"type");
        out.bulk(a.kind.wire().as_bytes());
        if !container {
            out.bulk(b"display_text");
            out.bulk(a.display.unwrap_or(a.name).as_bytes());
        }
        if let Some(k) = key_spec {
            out.bulk(b"key_spec_index");
            out.int(k as i64);
        }
        for (k, v) in [
            ("token", a.token),
            ("summary", a.summary),
            ("since", a.since),
            ("deprecated_since", a.deprecated_since),
        ] {
            if let Some(v) = v {
                out.bulk(k.as_bytes());
                out.bulk(v.as_bytes());
            }
        }
        if a.flags != 0 {
            out.bulk(b"flags");
            simple_set(out, &names_of(a.flags, arg_flags::NAMES));
        }
        if !a.args.is_empty() {
            out.bulk(b"arguments");
            reply_args(out, a.args);
        }
    }
}
