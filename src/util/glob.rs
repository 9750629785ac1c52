//! Glob-style pattern matching as Valkey's `stringmatchlen` (KEYS, SCAN MATCH,
//! CONFIG GET): `*`, `?`, `[abc]`, `[^a-z]`, and `\x` to match `x` literally.

/// True if `string` matches `pattern`. `nocase` folds ASCII case. Like
/// Valkey's, an empty string matches no non-empty pattern (not even `*`):
/// callers that mean "everything" by `*` check for it first.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    // Nesting of `*` is bounded by the pattern length; recursion depth too.
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, 0, &mut skip_longer)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// `skip_longer` is set when the string ran out before the pattern: then a
/// `*` above need not try the remaining (shorter) suffixes, which keeps
/// patterns like `a*a*a*b` linear instead of exponential (as Valkey does).
fn match_impl(
    mut p: &[u8],
    mut s: &[u8],
    nocase: bool,
    depth: usize,
    skip_longer: &mut bool,
) -> bool {
    // Valkey caps recursion to keep pathological patterns from exhausting the stack.
    if depth > 1000 {
        return false;
    }
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                for i in 0..s.len() {
                    if match_impl(&p[1..], &s[i..], nocase, depth + 1, skip_longer) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                }
                return false;
            }
            b'?' => {
                s = &s[1..];
            }
            b'[' => {
                p = &p[1..];
                let not = !p.is_empty() && p[0] == b'^';
                if not {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    if p.is_empty() {
                        break;
                    }
                    if p[0] == b'\\' && p.len() >= 2 {
                        p = &p[1..];
                        if p[0] == s[0] {
                            matched = true;
                        }
                    } else if p[0] == b']' {
                        break;
                    } else if p.len() >= 3 && p[1] == b'-' {
                        let (mut start, mut end) = (p[0], p[2]);
                        let mut c = s[0];
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = start.to_ascii_lowercase();
                            end = end.to_ascii_lowercase();
                            c = c.to_ascii_lowercase();
                        }
                        p = &p[2..];
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if eq(p[0], s[0], nocase) {
                        matched = true;
                    }
                    p = &p[1..];
                }
                if p.is_empty() {
                    // Unterminated class: Valkey treats the end as closing it.
                    if not == matched {
                        return false;
                    }
                    s = &s[1..];
                    continue;
                }
                if not == matched {
                    return false;
                }
                s = &s[1..];
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if !eq(p[0], s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if !eq(c, s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            while !p.is_empty() && p[0] == b'*' {
                p = &p[1..];
            }
            break;
        }
    }
    if p.is_empty() && s.is_empty() {
        return true;
    }
    if s.is_empty() {
        *skip_longer = true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::glob_match as m;

    #[test]
    fn patterns() {
        assert!(m(b"*", b"anything", false));
        // As Valkey's matcher: KEYS and SCAN special-case a lone "*" instead.
        assert!(!m(b"*", b"", false));
        assert!(m(b"h?llo", b"hello", false));
        assert!(!m(b"h?llo", b"hllo", false));
        assert!(m(b"h*llo", b"heeeello", false));
        assert!(m(b"h[ae]llo", b"hallo", false));
        assert!(!m(b"h[ae]llo", b"hillo", false));
        assert!(m(b"h[^e]llo", b"hallo", false));
        assert!(!m(b"h[^e]llo", b"hello", false));
        assert!(m(b"h[a-b]llo", b"hbllo", false));
        assert!(m(b"h[b-a]llo", b"hallo", false));
        assert!(m(b"h\\*llo", b"h*llo", false));
        assert!(!m(b"h\\*llo", b"hello", false));
        assert!(m(b"key:*", b"key:123", false));
        assert!(!m(b"key:*", b"ke", false));
        assert!(m(b"a*b*c", b"aXXbYYc", false));
        assert!(!m(b"a*b*c", b"aXXbYY", false));
        assert!(m(b"HELLO", b"hello", true));
        assert!(m(b"*a**", b"xa", false));
        assert!(!m(b"", b"a", false));
        assert!(m(b"", b"", false));
    }

    #[test]
    fn pathological_pattern_terminates() {
        let p = b"a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let s = vec![b'a'; 30];
        assert!(!m(p, &s, false));
    }
}
