//! The assembled table: every family's rows, indexed for lookup by name,
//! with a dense id per command (and subcommand) for per-command statistics.

use std::sync::LazyLock;

use bytes::Bytes;
use hashbrown::HashMap;

use super::geo;
use super::hash_ttl;
use super::{
    aof, client, cluster, command, connection, debug, dump, function, hash, keys, latency, list,
    migrate, monitor, multi, pubsub, save, scripting, server, set, sort, string, wait, zset,
    CommandSpec,
};
use crate::error::{unknown_command, unknown_subcommand, wrong_arity, CmdError};

/// Every family's rows.
pub static FAMILIES: &[&[CommandSpec]] = &[
    string::COMMANDS,
    keys::COMMANDS,
    connection::COMMANDS,
    client::COMMANDS,
    multi::COMMANDS,
    wait::COMMANDS,
    server::COMMANDS,
    debug::COMMANDS,
    latency::COMMANDS,
    command::COMMANDS,
    list::COMMANDS,
    hash::COMMANDS,
    hash_ttl::COMMANDS,
    set::COMMANDS,
    zset::COMMANDS,
    sort::COMMANDS,
    super::stream::COMMANDS,
    pubsub::COMMANDS,
    monitor::COMMANDS,
    cluster::COMMANDS,
    dump::COMMANDS,
    migrate::COMMANDS,
    save::COMMANDS,
    aof::COMMANDS,
    scripting::COMMANDS,
    function::COMMANDS,
    geo::COMMANDS,
    super::bitops::COMMANDS,
    super::stream::cg_rows::COMMANDS,
    super::hll::COMMANDS,
];

pub type CmdId = usize;

pub struct CommandTable {
    /// All commands and subcommands; the index is the `CmdId`.
    pub specs: Vec<&'static CommandSpec>,
    /// Keyed by the lower-case name's bytes (lookups need no UTF-8 check).
    by_name: HashMap<&'static [u8], CmdId>,
    /// The per-command lookup (`find`): open addressing over a hash of the
    /// name taken while lower-casing it, so a lookup neither copies the
    /// name nor runs a general-purpose hasher (it was 150 instructions of
    /// every command). Slots hold (hash, id + 1); 0 is empty. A quarter
    /// full, so probes are short.
    fast: Vec<(u64, u32)>,
    /// Container id → (subcommand name without container → id).
    subs: HashMap<CmdId, HashMap<&'static str, CmdId>>,
}

pub static CMD_TABLE: LazyLock<CommandTable> = LazyLock::new(CommandTable::build);

/// FNV-1a over the lower-cased bytes: command names are short, so a
/// byte-at-a-time hash is cheaper than setting up a general one.
#[inline]
fn name_hash(name: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name {
        h ^= b.to_ascii_lowercase() as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl CommandTable {
    fn build() -> Self {
        let mut t = CommandTable {
            specs: Vec::new(),
            by_name: HashMap::new(),
            fast: Vec::new(),
            subs: HashMap::new(),
        };
        for family in FAMILIES {
            for spec in family.iter() {
                let id = t.specs.len();
                t.specs.push(spec);
                t.by_name.insert(spec.name.as_bytes(), id);
                let mut subs = HashMap::new();
                for sub in spec.subcommands {
                    let sid = t.specs.len();
                    t.specs.push(sub);
                    let short = sub.name.split_once('|').map(|(_, s)| s).unwrap_or(sub.name);
                    subs.insert(short, sid);
                }
                if !subs.is_empty() {
                    t.subs.insert(id, subs);
                }
            }
        }
        let size = (t.by_name.len() * 4).next_power_of_two();
        t.fast = vec![(0, 0); size];
        for (&name, &id) in &t.by_name {
            let h = name_hash(name);
            let mut i = h as usize & (size - 1);
            while t.fast[i].1 != 0 {
                i = (i + 1) & (size - 1);
            }
            t.fast[i] = (h, id as u32 + 1);
        }
        t
    }

    /// Top-level commands (for COMMAND, COMMAND COUNT, COMMAND LIST).
    pub fn top_level(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        self.by_name.values().map(|&id| self.specs[id])
    }

    pub fn get(&self, name: &str) -> Option<&'static CommandSpec> {
        self.by_name.get(name.as_bytes()).map(|&id| self.specs[id])
    }

    /// Finds a command by name, any case, without checking arguments.
    #[inline]
    pub fn find(&self, name: &[u8]) -> Option<CmdId> {
        if name.len() > 32 || self.fast.is_empty() {
            return None;
        }
        let h = name_hash(name);
        let mask = self.fast.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let (sh, id1) = self.fast[i];
            if id1 == 0 {
                return None;
            }
            let id = id1 as usize - 1;
            if sh == h && self.specs[id].name.as_bytes().eq_ignore_ascii_case(name) {
                return Some(id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Finds a command or subcommand by its full name, any case: `get`,
    /// `client|id` (Valkey's lookup for LATENCY HISTOGRAM and the like).
    pub fn find_full(&self, name: &[u8]) -> Option<CmdId> {
        let mut parts = name.splitn(3, |&b| b == b'|');
        let base = self.find(parts.next()?)?;
        match (parts.next(), parts.next()) {
            (None, _) => Some(base),
            (Some(sub), None) => {
                let sub = sub.to_ascii_lowercase();
                let sub = std::str::from_utf8(&sub).ok()?;
                self.subs.get(&base)?.get(sub).copied()
            }
            _ => None,
        }
    }

    /// The ids of a container's subcommands, in table order (`build`
    /// numbers them right after their container).
    pub fn subcommands_of(&self, id: CmdId) -> std::ops::Range<CmdId> {
        let n = self.specs.get(id).map_or(0, |s| s.subcommands.len());
        id + 1..id + 1 + n
    }

    /// Resolves argv to the command (or subcommand) to run, checking arity
    /// with Valkey's errors.
    /// The command a refused `argv` (unknown, or a wrong argument count)
    /// counts as rejected for in INFO commandstats, as Valkey counts it:
    /// the subcommand when it exists, nothing for an unknown subcommand,
    /// else the command itself.
    pub fn charged_for_refusal(&self, argv: &[Bytes]) -> Option<CmdId> {
        let id = self.find(&argv[0])?;
        match (self.subs.get(&id), argv.get(1)) {
            (Some(subs), Some(sub)) => std::str::from_utf8(&sub.to_ascii_lowercase())
                .ok()
                .and_then(|s| subs.get(s).copied()),
            _ => Some(id),
        }
    }

    pub fn resolve(&self, argv: &[Bytes]) -> Result<CmdId, CmdError> {
        let Some(id) = self.find(&argv[0]) else {
            return Err(unknown_command(argv));
        };
        let spec = self.specs[id];
        // Tested on the row first: most commands are no container, and
        // this spares them a hash lookup.
        if let Some(subs) = (!spec.subcommands.is_empty())
            .then(|| self.subs.get(&id))
            .flatten()
        {
            if argv.len() < 2 {
                // A container whose own arity allows it runs bare (COMMAND).
                if spec.arity_ok(argv.len()) {
                    return Ok(id);
                }
                return Err(wrong_arity(spec.name));
            }
            let sub = argv[1].to_ascii_lowercase();
            let sid = std::str::from_utf8(&sub)
                .ok()
                .and_then(|s| subs.get(s).copied());
            let Some(sid) = sid else {
                return Err(unknown_subcommand(&argv[1], spec.name));
            };
            let sspec = self.specs[sid];
            if !sspec.arity_ok(argv.len()) {
                return Err(wrong_arity(sspec.name));
            }
            return Ok(sid);
        }
        if !spec.arity_ok(argv.len()) {
            return Err(wrong_arity(spec.name));
        }
        Ok(id)
    }
}

/// Indexes of the key arguments of a command call (arity already checked).
pub fn key_positions(spec: &CommandSpec, argv: &[Bytes], out: &mut Vec<usize>) {
    let ks = spec.keys;
    if ks.numkeys_at != 0 {
        movable_key_positions(spec, argv, out);
        return;
    }
    out.extend(ks.positions(argv.len()));
}

/// The keys of a row whose keys move: after a count, MIGRATE's, or where
/// the declared key specifications find them. Out of line, so the fixed
/// positions of most commands stay a short path.
#[inline(never)]
fn movable_key_positions(spec: &CommandSpec, argv: &[Bytes], out: &mut Vec<usize>) {
    let ks = spec.keys;
    if ks.numkeys_at == super::KeySpec::DECLARED.numkeys_at {
        super::command::declared_positions(spec.doc.key_specs, argv, out);
        return;
    }
    if ks.numkeys_at < 0 {
        migrate::key_positions(argv, out);
        return;
    }
    let at = ks.numkeys_at as usize;
    let Some(n) = argv.get(at).and_then(|a| crate::util::num::parse_i64(a)) else {
        return;
    };
    if n <= 0 {
        return;
    }
    let end = (at + 1).saturating_add(n as usize).min(argv.len());
    out.extend(at + 1..end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_charged_as_valkey_charges_them() {
        let t = &*CMD_TABLE;
        let argv = |a: &[&str]| -> Vec<Bytes> {
            a.iter()
                .map(|x| Bytes::copy_from_slice(x.as_bytes()))
                .collect()
        };
        let name = |id: Option<CmdId>| id.map(|i| t.specs[i].name);
        assert_eq!(name(t.charged_for_refusal(&argv(&["GET"]))), Some("get"));
        assert_eq!(
            name(t.charged_for_refusal(&argv(&["config"]))),
            Some("config")
        );
        assert_eq!(
            name(t.charged_for_refusal(&argv(&["CONFIG", "Get"]))),
            Some("config|get")
        );
        assert_eq!(
            name(t.charged_for_refusal(&argv(&["CONFIG", "nope"]))),
            None
        );
        assert_eq!(name(t.charged_for_refusal(&argv(&["nosuch", "x"]))), None);
    }

    #[test]
    fn names_unique_and_lowercase() {
        let mut seen = std::collections::HashSet::new();
        for f in FAMILIES {
            for c in f.iter() {
                assert_eq!(c.name, c.name.to_ascii_lowercase());
                assert!(seen.insert(c.name), "duplicate command {}", c.name);
                for s in c.subcommands {
                    assert!(s.name.starts_with(&format!("{}|", c.name)), "{}", s.name);
                    assert!(seen.insert(s.name), "duplicate {}", s.name);
                }
            }
        }
    }

    #[test]
    fn key_positions_fit_arity() {
        for spec in &CMD_TABLE.specs {
            let ks = spec.keys;
            if ks.first > 0 {
                let min_argc = spec.arity.unsigned_abs() as i32;
                // SUNSUBSCRIBE: arity -1, its shard channels (1, -1, 1)
                // all optional; EVAL and its kin may name no key at all.
                let optional_keys = (spec.arity == -1 && ks.last == -1)
                    || spec.has(crate::commands::flags::NO_MANDATORY_KEYS);
                assert!(
                    ks.first < min_argc || optional_keys,
                    "{}: first key {} beyond arity {}",
                    spec.name,
                    ks.first,
                    spec.arity
                );
                assert!(ks.step > 0, "{}", spec.name);
                if ks.last > 0 {
                    assert!(ks.last >= ks.first && ks.last < min_argc, "{}", spec.name);
                }
            }
            assert!(!spec.doc.summary.is_empty(), "{} has no summary", spec.name);
        }
    }

    #[test]
    fn find_matches_every_name_in_any_case() {
        for (&name, &id) in &CMD_TABLE.by_name {
            assert_eq!(CMD_TABLE.find(name), Some(id));
            assert_eq!(CMD_TABLE.find(&name.to_ascii_uppercase()), Some(id));
            let mut longer = name.to_vec();
            longer.push(b'x');
            assert_ne!(CMD_TABLE.find(&longer), Some(id));
            assert_ne!(CMD_TABLE.find(&name[..name.len() - 1]), Some(id));
        }
        for bad in [&b""[..], b"nosuch", b"g\xffet", &[b'a'; 40]] {
            assert_eq!(CMD_TABLE.find(bad), None);
        }
    }

    #[test]
    fn resolve_errors() {
        let argv = |v: &[&str]| {
            v.iter()
                .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            CMD_TABLE
                .resolve(&argv(&["nosuch", "a", "b"]))
                .unwrap_err()
                .0,
            "ERR unknown command 'nosuch', with args beginning with: 'a' 'b' "
        );
        assert_eq!(
            CMD_TABLE.resolve(&argv(&["GET"])).unwrap_err().0,
            "ERR wrong number of arguments for 'get' command"
        );
        assert!(CMD_TABLE.resolve(&argv(&["gEt", "k"])).is_ok());
        assert_eq!(
            CMD_TABLE.resolve(&argv(&["config", "foo"])).unwrap_err().0,
            "ERR unknown subcommand 'foo'. Try CONFIG HELP."
        );
        assert_eq!(
            CMD_TABLE.resolve(&argv(&["config", "get"])).unwrap_err().0,
            "ERR wrong number of arguments for 'config|get' command"
        );
    }

    #[test]
    fn full_names_and_subcommand_ranges() {
        let id = CMD_TABLE.find_full(b"CLIENT|ID").expect("client|id");
        assert_eq!(CMD_TABLE.specs[id].name, "client|id");
        assert_eq!(CMD_TABLE.find_full(b"get"), CMD_TABLE.find(b"get"));
        assert!(CMD_TABLE.find_full(b"get|x").is_none());
        assert!(CMD_TABLE.find_full(b"client|id|x").is_none());
        assert!(CMD_TABLE.find_full(b"client|nosuch").is_none());
        assert!(CMD_TABLE.find_full(b"").is_none());
        for (cid, spec) in CMD_TABLE.specs.iter().enumerate() {
            let subs: Vec<&str> = CMD_TABLE
                .subcommands_of(cid)
                .map(|i| CMD_TABLE.specs[i].name)
                .collect();
            let want: Vec<&str> = spec.subcommands.iter().map(|s| s.name).collect();
            assert_eq!(subs, want, "{}", spec.name);
        }
    }

    /// README's command list, by group in table order, wrapped as markdown.
    fn readme_list() -> String {
        use crate::commands::Group;
        let mut out = String::new();
        for &g in Group::ALL {
            let words: Vec<String> = CMD_TABLE
                .specs
                .iter()
                .filter(|s| s.doc.group == g && !s.name.contains('|'))
                .map(|s| {
                    let mut w = s.name.to_ascii_uppercase();
                    if !s.subcommands.is_empty() {
                        let subs: Vec<String> = s
                            .subcommands
                            .iter()
                            .map(|sub| sub.name[s.name.len() + 1..].to_ascii_uppercase())
                            .collect();
                        w = format!("{w} ({})", subs.join(" "));
                    }
                    w
                })
                .collect();
            if words.is_empty() {
                continue;
            }
            let mut line = format!("- {}:", g.wire());
            for w in words.join(" ").split(' ') {
                if line.len() + 1 + w.len() > 76 {
                    out.push_str(&line);
                    out.push('\n');
                    line = " ".to_string();
                }
                line.push(' ');
                line.push_str(w);
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// The README lists exactly the table's commands (UPDATE_README=1
    /// rewrites the list).
    #[test]
    fn readme_lists_the_table() {
        const BEGIN: &str = "<!-- commands:begin -->\n";
        const END: &str = "<!-- commands:end -->";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let (Some(b), Some(e)) = (readme.find(BEGIN), readme.find(END)) else {
            panic!("README.md has no {BEGIN:?} ... {END:?} section");
        };
        let want = readme_list();
        let have = &readme[b + BEGIN.len()..e];
        if have != want && std::env::var_os("UPDATE_README").is_some() {
            let new = format!("{}{want}{}", &readme[..b + BEGIN.len()], &readme[e..]);
            std::fs::write(path, new).expect("write README.md");
            return;
        }
        assert_eq!(
            have, want,
            "README.md's command list (UPDATE_README=1 rewrites it)"
        );
    }

    #[test]
    fn numkeys_positions() {
        static DOC: crate::commands::Doc =
            crate::commands::Doc::new(crate::commands::Group::Generic, "1.0.0", 0);
        let spec = CommandSpec {
            name: "x",
            arity: -3,
            flags: 0,
            keys: crate::commands::KeySpec::numkeys(2),
            handler: crate::commands::container,
            subcommands: &[],
            doc: &DOC,
        };
        let argv: Vec<Bytes> = ["zunionstore", "dst", "2", "a", "b", "WEIGHTS"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        let mut out = Vec::new();
        key_positions(&spec, &argv, &mut out);
        assert_eq!(out, vec![3, 4]);
    }

    /// XREAD's and XREADGROUP's keys (after STREAMS, half the rest) come
    /// from their declared key specifications, as COMMAND GETKEYS finds them.
    #[test]
    fn keyword_search_positions() {
        let t = &*CMD_TABLE;
        let positions = |v: &[&str]| {
            let argv: Vec<Bytes> = v
                .iter()
                .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                .collect();
            let id = t.resolve(&argv).expect("known command");
            let mut out = Vec::new();
            key_positions(t.specs[id], &argv, &mut out);
            out
        };
        assert_eq!(
            positions(&["XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"]),
            [4, 5]
        );
        assert_eq!(positions(&["xread", "streams", "a", "b", "0"]), [2]);
        assert_eq!(
            positions(&["XREADGROUP", "GROUP", "streams", "c", "STREAMS", "s", ">"]),
            [5]
        );
        assert!(positions(&["XREAD", "COUNT", "1", "STREAMS"]).is_empty());
    }
}
