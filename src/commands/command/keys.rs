//! Keys of a call as Valkey finds them from declared key specifications
//! (COMMAND GETKEYS / GETKEYSANDFLAGS), the legacy (first, last, step)
//! triple COMMAND INFO derives from them, and the key functions of the
//! commands whose specifications are not enough (SET's GET, SORT's STORE).

use bytes::Bytes;

use super::super::args::is;
use super::super::meta::ks::{self, Begin, Find, KeySpecDecl};
use crate::util::num::parse_i64;

/// An argv index holding a key, with its specification's flags.
pub(super) type KeyAt = (usize, u16);

const RW_ACCESS_UPDATE: u16 = ks::RW | ks::ACCESS | ks::UPDATE;
const RO_ACCESS: u16 = ks::RO | ks::ACCESS;
const OW_UPDATE: u16 = ks::OW | ks::UPDATE;

/// The keys of a call to a command whose specifications are not enough
/// (Valkey's getkeys_proc): None for every other command.
pub(super) fn key_function(name: &str, argv: &[Bytes]) -> Option<Vec<KeyAt>> {
    match name {
        "set" => {
            // setGetKeys: a GET anywhere after the value makes the key read.
            let get = argv.iter().skip(3).any(|a| is(a, "get"));
            Some(vec![(1, if get { RW_ACCESS_UPDATE } else { OW_UPDATE })])
        }
        "sort" | "sort_ro" => {
            let mut keys = vec![(1, RO_ACCESS)];
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
                keys.extend(store.map(|p| (p, OW_UPDATE)));
            }
            Some(keys)
        }
        "migrate" => Some(super::super::migrate::getkeys(argv)),
        "bitfield" => Some(super::super::bitops::getkeys(argv)),
        _ => None,
    }
}

/// The (first, last, step) triple and the movablekeys flag Valkey derives
/// from key specifications: one plain range is the triple; otherwise
/// consecutive step-1 ranges merge and anything else makes keys movable.
pub(super) fn legacy_range(specs: &[KeySpecDecl]) -> ((i64, i64, i64), bool) {
    let incomplete = |s: &KeySpecDecl| s.has(ks::INCOMPLETE);
    if let [s @ KeySpecDecl {
        begin: Begin::Index(begin),
        find: Find::Range { lastkey, step, .. },
        ..
    }] = specs
    {
        let last = if *lastkey >= 0 {
            begin + lastkey
        } else {
            *lastkey
        };
        return ((*begin, last, *step), incomplete(s));
    }
    let mut movable = false;
    let mut first = i64::MAX;
    let mut last: i64 = 0;
    let mut prev_last: i64 = 0;
    for s in specs {
        let (Begin::Index(begin), Find::Range { lastkey, step, .. }) = (s.begin, s.find) else {
            movable = true;
            continue;
        };
        if step != 1 || (prev_last != 0 && prev_last != begin - 1) {
            movable = true;
            continue;
        }
        movable |= incomplete(s);
        first = first.min(begin);
        let abs = if lastkey >= 0 {
            lastkey + begin
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

/// Key positions and flags of a call, as Valkey walks key specifications;
/// None when the arguments contradict a specification.
pub(super) fn find_keys(specs: &[KeySpecDecl], argv: &[Bytes]) -> Option<Vec<KeyAt>> {
    let mut out = Vec::new();
    walk_keys(specs, argv, |at| out.push(at))?;
    Some(out)
}

/// The key positions the declared specifications find, for rows whose
/// keys only they can find (`KeySpec::DECLARED`: XREAD's keys after
/// STREAMS), so prefetching and client-side tracking see them as COMMAND
/// GETKEYS does. None found when the arguments contradict a specification.
/// Out of line: `table::key_positions` stays small on every command's path.
#[inline(never)]
pub(in crate::commands) fn declared_positions(
    specs: &[KeySpecDecl],
    argv: &[Bytes],
    out: &mut Vec<usize>,
) {
    let start = out.len();
    if walk_keys(specs, argv, |(i, _)| out.push(i)).is_none() {
        out.truncate(start);
    }
}

/// Gives each key of a call (position, flags) to `found`, as Valkey walks
/// key specifications; None when the arguments contradict a specification
/// (the keys of the specifications before it were given).
fn walk_keys(specs: &[KeySpecDecl], argv: &[Bytes], mut found: impl FnMut(KeyAt)) -> Option<()> {
    let argc = argv.len() as i64;
    for s in specs {
        let first = match s.begin {
            Begin::Index(i) => i,
            Begin::Keyword { keyword, startfrom } => {
                let (start, end) = if startfrom > 0 {
                    (startfrom, argc - 1)
                } else {
                    (argc + startfrom, 0)
                };
                let mut i = start;
                let mut found = None;
                loop {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if is(&argv[i as usize], keyword) {
                        found = Some(i + 1);
                        break;
                    }
                    if i == end {
                        break;
                    }
                    i += if start <= end { 1 } else { -1 };
                }
                match found {
                    Some(f) => f,
                    None => continue, // keyword absent: no keys here
                }
            }
            Begin::Unknown => continue,
        };
        let (first, last, step) = match s.find {
            Find::Range {
                lastkey,
                step,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (first, last, step)
            }
            Find::Unknown => continue,
            Find::KeyNum {
                idx,
                first: f,
                step,
            } => {
                let at = usize::try_from(first + idx).ok()?;
                let n = parse_i64(argv.get(at)?)?;
                if n < 0 {
                    return None;
                }
                let f = first + f;
                (f, f.saturating_add(n) - 1, step)
            }
        };
        if last >= argc || last < first || first >= argc || step <= 0 {
            return None;
        }
        let mut i = first;
        while i <= last {
            found((i as usize, s.flags));
            i += step;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    fn positions(specs: &[KeySpecDecl], v: &[&str]) -> Option<Vec<usize>> {
        find_keys(specs, &argv(v)).map(|k| k.into_iter().map(|(i, _)| i).collect())
    }

    #[test]
    fn numkeys_with_destination() {
        let specs = [ks::one(1, OW_UPDATE), ks::keynum(2, RO_ACCESS)];
        assert_eq!(legacy_range(&specs), ((1, 1, 1), true));
        assert_eq!(
            positions(&specs, &["x", "d", "2", "a", "b", "WEIGHTS", "1"]),
            Some(vec![1, 3, 4])
        );
        for bad in ["0", "3", "x", "-1"] {
            assert_eq!(positions(&specs, &["x", "d", bad, "a", "b"]), None, "{bad}");
        }
    }

    #[test]
    fn ranges() {
        let specs = [ks::range(1, -1, 2, ks::OW | ks::UPDATE)];
        assert_eq!(legacy_range(&specs), ((1, -1, 2), false));
        assert_eq!(positions(&specs, &["x", "a", "1", "b"]), Some(vec![1, 3]));
        // Two one-key specifications next to each other merge.
        let specs = [ks::one(1, RO_ACCESS), ks::one(2, OW_UPDATE)];
        assert_eq!(legacy_range(&specs), ((1, 2, 1), false));
        // BLPOP's keys run up to the timeout.
        let specs = [ks::range(1, -2, 1, ks::RW)];
        assert_eq!(positions(&specs, &["x", "a", "b", "0"]), Some(vec![1, 2]));
        assert_eq!(positions(&specs, &["x", "0"]), None);
        // A limit divides the remaining arguments.
        let half = ks::spec(
            ks::RO,
            Begin::Index(1),
            Find::Range {
                lastkey: -1,
                step: 1,
                limit: 2,
            },
        );
        assert_eq!(
            positions(&[half], &["x", "a", "b", "c", "d"]),
            Some(vec![1, 2])
        );
        assert_eq!(legacy_range(&[ks::unknown(ks::RO)]), ((0, 0, 0), true));
        let incomplete = [ks::one(1, ks::RO | ks::INCOMPLETE)];
        assert_eq!(legacy_range(&incomplete), ((1, 1, 1), true));
    }

    #[test]
    fn keyword_search() {
        let after = ks::spec(
            ks::RO,
            Begin::Keyword {
                keyword: "STREAMS",
                startfrom: 1,
            },
            Find::Range {
                lastkey: -1,
                step: 1,
                limit: 2,
            },
        );
        assert_eq!(
            positions(
                &[after],
                &["x", "COUNT", "1", "streams", "a", "b", "0", "0"]
            ),
            Some(vec![4, 5])
        );
        assert_eq!(positions(&[after], &["x", "COUNT", "1"]), Some(vec![]));
        let mut out = vec![9];
        let call = argv(&["x", "STREAMS", "a", "b", "c", "0", "0", "0"]);
        declared_positions(&[after], &call, &mut out);
        assert_eq!(out, [9, 2, 3, 4]);
        // Contradicted (no room for a key after STREAMS): nothing added.
        declared_positions(&[after], &argv(&["x", "COUNT", "STREAMS"]), &mut out);
        assert_eq!(out, [9, 2, 3, 4]);
    }
}
