//! Script flags: the `#!lua flags=...` shebang of an EVAL script (and,
//! later, the flags a function registers with), as Valkey parses them.

/// A script's declared flags, as bits.
pub type ScriptFlags = u8;

pub const NO_WRITES: ScriptFlags = 1;
pub const ALLOW_OOM: ScriptFlags = 2;
pub const ALLOW_STALE: ScriptFlags = 4;
pub const NO_CLUSTER: ScriptFlags = 8;
pub const ALLOW_CROSS_SLOT: ScriptFlags = 16;
/// No shebang: the script runs as before Redis 7 (no declared flags).
pub const EVAL_COMPAT_MODE: ScriptFlags = 32;

/// The flag names, as scripts spell them.
pub const NAMES: &[(&str, ScriptFlags)] = &[
    ("no-writes", NO_WRITES),
    ("allow-oom", ALLOW_OOM),
    ("allow-stale", ALLOW_STALE),
    ("no-cluster", NO_CLUSTER),
    ("allow-cross-slot-keys", ALLOW_CROSS_SLOT),
];

/// The flags of `body` and the code to compile: the shebang line becomes a
/// comment, so line numbers in errors stay those of the body.
pub fn parse_shebang(body: &[u8]) -> Result<(ScriptFlags, std::borrow::Cow<'_, [u8]>), String> {
    if !body.starts_with(b"#!") {
        return Ok((EVAL_COMPAT_MODE, std::borrow::Cow::Borrowed(body)));
    }
    let Some(nl) = memchr::memchr(b'\n', body) else {
        return Err("ERR Invalid script shebang".into());
    };
    let line = String::from_utf8_lossy(&body[2..nl]);
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "lua" {
        return Err(format!("ERR Could not find scripting engine '{engine}'"));
    }
    let mut flags = 0;
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(format!("ERR Unknown lua shebang option: {part}"));
        };
        for name in list.split(',').filter(|f| !f.is_empty()) {
            match NAMES.iter().find(|(n, _)| *n == name) {
                Some((_, f)) => flags |= f,
                None => return Err(format!("ERR Unexpected flag in script shebang: {name}")),
            }
        }
    }
    let mut code = body.to_vec();
    code[0] = b'-';
    code[1] = b'-';
    Ok((flags, std::borrow::Cow::Owned(code)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_as_valkey_reads_them() {
        // Errors captured from Valkey 9.1.
        assert_eq!(parse_shebang(b"return 1").unwrap().0, EVAL_COMPAT_MODE);
        let (f, code) = parse_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert_eq!(f, NO_WRITES | ALLOW_OOM);
        assert_eq!(&code[..], b"--lua flags=no-writes,allow-oom\nreturn 1");
        assert_eq!(parse_shebang(b"#!lua\nreturn 1").unwrap().0, 0);
        assert_eq!(parse_shebang(b"#!lua flags=\nreturn 1").unwrap().0, 0);
        assert_eq!(
            parse_shebang(b"#!lua flags=bad\nreturn 1").unwrap_err(),
            "ERR Unexpected flag in script shebang: bad"
        );
        assert_eq!(
            parse_shebang(b"#!lua foo=bar\nreturn 1").unwrap_err(),
            "ERR Unknown lua shebang option: foo=bar"
        );
        assert_eq!(
            parse_shebang(b"#!lua5 \nreturn 1").unwrap_err(),
            "ERR Could not find scripting engine 'lua5'"
        );
        assert_eq!(
            parse_shebang(b"#!lua").unwrap_err(),
            "ERR Invalid script shebang"
        );
    }
}
