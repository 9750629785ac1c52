//! `notify-keyspace-events`: the classes of keyspace notifications as bits
//! (Valkey's NOTIFY_* values), parsed from and shown as Valkey's letters.
//!
//! `A` is `g$lshzxetd`; `n` (key creation) and `m` (key misses) are never
//! part of it. CONFIG GET shows `A` for a full set and then leaves `n` out
//! even when it is set, as Valkey does; the flag itself stays on.

/// `K`: publish to `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish to `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
pub const GENERIC: u32 = 1 << 2;
/// `$`: strings.
pub const STRING: u32 = 1 << 3;
/// `l`: lists.
pub const LIST: u32 = 1 << 4;
/// `s`: sets.
pub const SET: u32 = 1 << 5;
/// `h`: hashes.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted sets.
pub const ZSET: u32 = 1 << 7;
/// `x`: keys removed because they expired.
pub const EXPIRED: u32 = 1 << 8;
/// `e`: keys evicted for maxmemory.
pub const EVICTED: u32 = 1 << 9;
/// `t`: streams.
pub const STREAM: u32 = 1 << 10;
/// `m`: lookups that found no key.
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module types.
pub const MODULE: u32 = 1 << 12;
/// `n`: a key was created.
pub const NEW: u32 = 1 << 13;
/// `A`.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The refusal of an unknown letter, as Valkey words it.
pub const INVALID: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/// The classes and channels a string of letters selects; None for a letter
/// that is not one.
pub fn parse(letters: &str) -> Option<u32> {
    letters.bytes().try_fold(0, |flags, c| {
        Some(
            flags
                | match c {
                    b'A' => ALL,
                    b'g' => GENERIC,
                    b'$' => STRING,
                    b'l' => LIST,
                    b's' => SET,
                    b'h' => HASH,
                    b'z' => ZSET,
                    b'x' => EXPIRED,
                    b'e' => EVICTED,
                    b'K' => KEYSPACE,
                    b'E' => KEYEVENT,
                    b't' => STREAM,
                    b'm' => KEY_MISS,
                    b'd' => MODULE,
                    b'n' => NEW,
                    _ => return None,
                },
        )
    })
}

/// The letters CONFIG GET and REWRITE show for `flags`: the classes in
/// Valkey's order (or `A`), then `K`, `E`, `m`.
pub fn format(flags: u32) -> String {
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_round_trip_as_valkey_shows_them() {
        for (set, shown) in [
            ("", ""),
            ("KEA", "AKE"),
            ("g$lshzxetdn", "A"),
            ("KEAn", "AKE"),
            ("AKEmnd", "AKEm"),
            ("Kx", "xK"),
            ("xxgg", "gx"),
            ("KEg$lshzxe", "g$lshzxeKE"),
            ("n", "n"),
        ] {
            assert_eq!(format(parse(set).unwrap()), shown, "{set}");
        }
        assert_eq!(parse("KEAn").unwrap() & NEW, NEW);
        assert_eq!(parse("A").unwrap() & (NEW | KEY_MISS), 0);
        for bad in ["Z", "ke", " ", "A ", "KEAy"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
