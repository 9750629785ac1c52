//! The module rules of issue 9, checked on the source: which top-level
//! modules may reach which. Every `src/**/*.rs` is read; every path that
//! names something of ours (`use crate::…` with its `{…}` groups, `crate::x`
//! inline in code, `super::`/`self::` resolved from the file's module and any
//! inline `mod` it sits in) is resolved to the module it lands in.
//!
//! - `net` never imports `exec`, `commands` or `keyspace`;
//! - `keyspace` never imports `net`, `ring`, `exec`, `resp` or `commands`;
//! - `ring` imports nothing of ours;
//! - `commands` never imports `exec` (`exec` may import `commands`);
//! - `persist` imports only `keyspace`, `util` and `error`;
//! - `script` never imports `exec`, `commands`, `state`, `net` or `keyspace`.
//!
//! Comments, strings and char literals are blanked before scanning, so a
//! path written in a doc comment does not count.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One reference from a file to a module path of ours.
#[derive(Debug, Clone)]
struct Ref {
    file: String,
    line: usize,
    /// The importing file's module path (`["net", "conn"]`).
    from: Vec<String>,
    /// The resolved target, from the crate root (`["exec", "state", "State"]`);
    /// empty for the crate root itself.
    to: Vec<String>,
}

impl Ref {
    fn importer_top(&self) -> &str {
        self.from.first().map_or("", String::as_str)
    }
    /// The top-level module reached; `""` for an item at the crate root.
    fn target_top(&self) -> &str {
        self.to.first().map_or("", String::as_str)
    }
    fn describe(&self) -> String {
        let to = if self.to.is_empty() {
            "crate".to_string()
        } else {
            format!("crate::{}", self.to.join("::"))
        };
        format!(
            "{}:{}: {} -> {to}",
            self.file,
            self.line,
            self.from.join("::")
        )
    }
}

// ---------------------------------------------------------------------------
// Lexing

/// The source with comments, string and char literals replaced by spaces
/// (newlines kept, so line numbers stay right).
fn blank_non_code(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'/' && next == Some(b'/') {
            let end = b[i..]
                .iter()
                .position(|&x| x == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if c == b'/' && next == Some(b'*') {
            // Block comments nest in Rust.
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if let Some(end) = raw_string_end(b, i) {
            blank(&mut out, i, end);
            i = end;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == b'\'' {
            // A char literal ('x', '\n', '\'', '\u{1F600}') or a lifetime ('a).
            match char_literal_end(b, i) {
                Some(end) => {
                    blank(&mut out, i, end);
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8: whole literals become spaces")
}

/// The end of a raw string (`r"…"`, `r#"…"#`, `br#"…"#`) starting at `i`.
fn raw_string_end(b: &[u8], i: usize) -> Option<usize> {
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
        return None;
    }
    let mut j = i;
    if b.get(j) == Some(&b'b') {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == b'#').count();
    j += hashes;
    if b.get(j) != Some(&b'"') {
        return None;
    }
    j += 1;
    while j < b.len() {
        if b[j] == b'"'
            && b[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == b'#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(b.len())
}

/// The end of a char literal opening at `i`, or None for a lifetime.
fn char_literal_end(b: &[u8], i: usize) -> Option<usize> {
    let rest = &b[i + 1..];
    if rest.first() == Some(&b'\\') {
        // The backslash and the escaped character, then up to the quote.
        let close = rest.iter().skip(2).position(|&c| c == b'\'')?;
        return Some(i + 1 + 2 + close + 1);
    }
    // One UTF-8 character, then the closing quote.
    let s = std::str::from_utf8(&rest[..rest.len().min(4)])
        .unwrap_or_else(|e| std::str::from_utf8(&rest[..e.valid_up_to()]).expect("valid prefix"));
    let ch = s.chars().next()?;
    let len = ch.len_utf8();
    (rest.get(len) == Some(&b'\'')).then_some(i + 1 + len + 1)
}

#[derive(Debug, Clone, PartialEq)]
struct Tok {
    text: String,
    line: usize,
}

/// Identifiers, `::`, and single punctuation characters.
fn tokens(code: &str) -> Vec<Tok> {
    let b = code.as_bytes();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            out.push(Tok {
                text: code[start..i].to_string(),
                line,
            });
        } else if c == b':' && b.get(i + 1) == Some(&b':') {
            out.push(Tok {
                text: "::".into(),
                line,
            });
            i += 2;
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
        } else {
            out.push(Tok {
                text: (c as char).to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

// ---------------------------------------------------------------------------
// Paths

/// Resolves a path written in module `at` to a path from the crate root;
/// None when it is not ours (an external crate, a local name, a child
/// module reached without `self::`, which stays inside `at` anyway).
fn resolve(segs: &[String], at: &[String]) -> Option<Vec<String>> {
    match segs.first().map(String::as_str) {
        Some("crate") => Some(segs[1..].to_vec()),
        Some("self") => {
            let mut p = at.to_vec();
            p.extend(segs[1..].iter().cloned());
            Some(p)
        }
        Some("super") => {
            let mut p = at.to_vec();
            let ups = segs.iter().take_while(|s| *s == "super").count();
            for _ in 0..ups {
                // Climbing above the crate root does not compile; keep it
                // visible as a reference to the root.
                p.pop();
            }
            p.extend(segs[ups..].iter().cloned());
            Some(p)
        }
        _ => None,
    }
}

/// Expands a `use` tree (the tokens between `use` and `;`) into full paths:
/// `crate::{a, b::{c, self}}` gives `crate::a`, `crate::b::c`, `crate::b`.
fn expand_use(
    toks: &[Tok],
    pos: &mut usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, usize)>,
) {
    let mut path = prefix.to_vec();
    let line = toks.get(*pos).map_or(0, |t| t.line);
    if toks.get(*pos).is_some_and(|t| t.text == "::") {
        *pos += 1; // a leading `::` (an external crate)
    }
    loop {
        let Some(t) = toks.get(*pos) else {
            out.push((path, line));
            return;
        };
        match t.text.as_str() {
            "{" => {
                *pos += 1;
                while toks.get(*pos).is_some_and(|t| t.text != "}") {
                    expand_use(toks, pos, &path, out);
                    if toks.get(*pos).is_some_and(|t| t.text == ",") {
                        *pos += 1;
                    }
                }
                *pos += 1; // `}`
                return;
            }
            "*" => {
                *pos += 1;
                out.push((path, line));
                return;
            }
            "self" if !path.is_empty() && path.len() == prefix.len() => {
                // `{self, …}`: the prefix itself.
                *pos += 1;
            }
            name if is_ident(name) => {
                path.push(name.to_string());
                *pos += 1;
                if toks.get(*pos).is_some_and(|t| t.text == "::") {
                    *pos += 1;
                    continue;
                }
                if toks.get(*pos).is_some_and(|t| t.text == "as") {
                    *pos += 2;
                }
                out.push((path, line));
                return;
            }
            _ => {
                out.push((path, line));
                return;
            }
        }
    }
}

/// The module path of a file under `src/` (`net/conn.rs` → `net::conn`).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib") {
        parts.push(stem.to_string());
    }
    parts
}

/// Every reference to a module of ours in one file's source, written in
/// module `module`.
fn refs_in(file: &str, module: &[String], src: &str) -> Vec<Ref> {
    let toks = tokens(&blank_non_code(src));
    let mut refs = Vec::new();
    // Inline modules (`mod tests { … }`): (name, brace depth inside it).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let here = |inline: &[(String, usize)]| -> Vec<String> {
        let mut m = module.to_vec();
        m.extend(inline.iter().map(|(n, _)| n.clone()));
        m
    };
    let mut push = |segs: &[String], line: usize, at: &[String]| {
        if let Some(to) = resolve(segs, at) {
            refs.push(Ref {
                file: file.to_string(),
                line,
                from: module.to_vec(),
                to,
            });
        }
    };
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].text.as_str();
        let prev = i.checked_sub(1).map(|p| toks[p].text.as_str());
        match t {
            "{" => depth += 1,
            "}" => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            "mod"
                if toks.get(i + 1).is_some_and(|t| is_ident(&t.text))
                    && toks.get(i + 2).is_some_and(|t| t.text == "{") =>
            {
                inline.push((toks[i + 1].text.clone(), depth + 1));
                depth += 1;
                i += 3;
                continue;
            }
            "use" => {
                let at = here(&inline);
                let end = toks[i..]
                    .iter()
                    .position(|t| t.text == ";")
                    .map_or(toks.len(), |p| i + p);
                let tree = &toks[i + 1..end];
                let mut paths = Vec::new();
                let mut pos = 0;
                expand_use(tree, &mut pos, &[], &mut paths);
                for (p, line) in paths {
                    push(&p, line, &at);
                }
                i = end + 1;
                continue;
            }
            "crate" | "super" | "self"
                if toks.get(i + 1).is_some_and(|t| t.text == "::") && prev != Some("::") =>
            {
                // `pub(in crate::x)` is a visibility, not a dependency.
                let visibility = prev == Some("in")
                    && i >= 2
                    && toks[i - 2].text == "("
                    && i >= 3
                    && toks[i - 3].text == "pub";
                let line = toks[i].line;
                let mut segs = vec![t.to_string()];
                let mut j = i + 1;
                while toks.get(j).is_some_and(|t| t.text == "::")
                    && toks.get(j + 1).is_some_and(|t| is_ident(&t.text))
                {
                    segs.push(toks[j + 1].text.clone());
                    j += 2;
                }
                if !visibility {
                    push(&segs, line, &here(&inline));
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    refs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every reference in the library's sources (`main.rs` is a crate of its
/// own and reaches the library as `ferrokey::`).
fn all_refs() -> Vec<Ref> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut refs = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).expect("under src");
        if rel == Path::new("main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let name = format!("src/{}", rel.display());
        refs.extend(refs_in(&name, &module_of(rel), &text));
    }
    refs
}

/// References from top-level module `from` that reach any of `banned`
/// (`""` in `banned` stands for items at the crate root).
fn violations(refs: &[Ref], from: &str, banned: &[&str]) -> Vec<String> {
    refs.iter()
        .filter(|r| {
            r.importer_top() == from && r.target_top() != from && banned.contains(&r.target_top())
        })
        .map(Ref::describe)
        .collect()
}

fn assert_none(what: &str, v: Vec<String>) {
    assert!(v.is_empty(), "{what}:\n  {}", v.join("\n  "));
}

/// The crate's top-level modules, from the files under `src/`.
fn top_modules(refs: &[Ref]) -> BTreeSet<String> {
    refs.iter()
        .filter_map(|r| r.from.first().cloned())
        .collect()
}

// ---------------------------------------------------------------------------
// The rules

#[test]
fn net_never_imports_exec_commands_or_keyspace() {
    assert_none(
        "net imports exec, commands or keyspace",
        violations(&all_refs(), "net", &["exec", "commands", "keyspace"]),
    );
}

#[test]
fn keyspace_never_imports_net_ring_exec_resp_or_commands() {
    assert_none(
        "keyspace imports net, ring, exec, resp or commands",
        violations(
            &all_refs(),
            "keyspace",
            &["net", "ring", "exec", "resp", "commands"],
        ),
    );
}

#[test]
fn ring_imports_nothing_of_ours() {
    let refs = all_refs();
    let v: Vec<String> = refs
        .iter()
        .filter(|r| r.importer_top() == "ring" && r.target_top() != "ring")
        .map(Ref::describe)
        .collect();
    assert_none("ring imports something of ours", v);
}

/// Kept apart from the others: it holds once `commands` reaches the server
/// through its own context instead of `exec`'s types (issue 9).
#[test]
fn commands_never_import_exec() {
    assert_none(
        "commands imports exec",
        violations(&all_refs(), "commands", &["exec"]),
    );
}

/// The RDB codec reads and builds values and nothing else: it never
/// reaches the network, the wire protocol, the command table or the server.
#[test]
fn persist_imports_only_keyspace_util_and_error() {
    let refs = all_refs();
    let v: Vec<String> = refs
        .iter()
        .filter(|r| {
            r.importer_top() == "persist"
                && !["persist", "keyspace", "util", "error"].contains(&r.target_top())
        })
        .map(Ref::describe)
        .collect();
    assert_none("persist imports outside keyspace, util and error", v);
}

/// The Lua engine runs a script with a host it is given: it never reaches
/// the call path, the command table, the server state or the sockets.
#[test]
fn script_never_imports_exec_commands_state_net_or_keyspace() {
    assert_none(
        "script imports exec, commands, state, net or keyspace",
        violations(
            &all_refs(),
            "script",
            &["exec", "commands", "state", "net", "keyspace"],
        ),
    );
}

// ---------------------------------------------------------------------------
// The scanner itself: the rules above pass vacuously if it finds nothing.

#[test]
fn the_scan_sees_the_crate_and_its_known_edges() {
    let refs = all_refs();
    let tops = top_modules(&refs);
    for m in [
        "net", "keyspace", "ring", "commands", "exec", "resp", "script",
    ] {
        assert!(tops.contains(m), "no file found for {m}: {tops:?}");
    }
    let edge = |from: &str, to: &str| {
        refs.iter()
            .any(|r| r.importer_top() == from && r.target_top() == to)
    };
    // Edges the code has and is allowed to have.
    assert!(edge("exec", "net"), "exec's use of net not seen");
    assert!(
        edge("commands", "keyspace"),
        "commands' use of keyspace not seen"
    );
    assert!(edge("net", "resp"), "net's use of resp not seen");
    assert!(edge("keyspace", "util"), "keyspace's use of util not seen");
}

fn refs_of(module: &str, src: &str) -> Vec<String> {
    let m: Vec<String> = module.split("::").map(String::from).collect();
    refs_in("t.rs", &m, src)
        .into_iter()
        .map(|r| r.to.join("::"))
        .collect()
}

#[test]
fn use_groups_are_expanded() {
    let got = refs_of(
        "net::conn",
        "use crate::{exec::state::State, resp::{self, Argv}, ring::*};\nuse bytes::Bytes;\n\
         pub use crate::keyspace::Db as D;",
    );
    assert_eq!(
        got,
        [
            "exec::state::State",
            "resp",
            "resp::Argv",
            "ring",
            "keyspace::Db"
        ]
    );
}

#[test]
fn inline_paths_count_and_comments_strings_do_not() {
    let got = refs_of(
        "keyspace::set",
        "// crate::net::a\n/* crate::exec /* nested */ crate::ring */\n\
         /// `crate::commands::x`\nfn f() { let s = \"crate::resp::x\"; let c = '\"'; \
         let r = r#\"crate::exec\"#; crate::util::num::parse_i64(b\"1\"); let _ = '{'; \
         let l: &'static str = \"\"; let q = b'\\''; <crate::net::conn::Conn>::new(); }",
    );
    assert_eq!(got, ["util::num::parse_i64", "net::conn::Conn"]);
}

#[test]
fn super_climbs_from_the_file_and_inline_modules() {
    // In commands/set/algebra.rs: `super` is commands::set.
    assert_eq!(
        refs_of(
            "commands::set::algebra",
            "use super::*; fn f() { super::super::stored(); }"
        ),
        ["commands::set", "commands::stored"]
    );
    // Inside `mod tests { … }` one more level is climbed; after it, not.
    assert_eq!(
        refs_of(
            "ring",
            "mod tests { use super::*; fn f() { super::super::net::x(); } }\nfn g() { super::exec::y(); }"
        ),
        ["ring", "net::x", "exec::y"]
    );
    // A visibility restriction is not a dependency; `self::` stays here.
    assert_eq!(
        refs_of("net", "pub(in crate::exec) fn f() { self::conn::g(); }"),
        ["net::conn::g"]
    );
}

#[test]
fn module_paths_follow_the_file_layout() {
    let m = |p: &str| module_of(Path::new(p)).join("::");
    assert_eq!(m("lib.rs"), "");
    assert_eq!(m("net/mod.rs"), "net");
    assert_eq!(m("net/conn.rs"), "net::conn");
    assert_eq!(m("commands/set/algebra.rs"), "commands::set::algebra");
}
