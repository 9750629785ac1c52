//! Reading configuration: a valkey.conf-style file, then `--name value ...`
//! options from the command line (which win, as with valkey-server).
//!
//! As valkey-server does, each option becomes one more config line after
//! the file (`name "value"`, arguments quoted), so an error names the same
//! line number and text Valkey would, in Valkey's layout.

use crate::util::strerror;
use std::fmt;
use std::path::PathBuf;

use super::Config;
use crate::resp::parser::split_args;

/// A configuration problem, with where it was found.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// File name, or "command line".
    pub source: String,
    /// 1-based line of the file followed by the options (0: not a line,
    /// e.g. the file could not be read).
    pub line: usize,
    pub text: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    /// Valkey's report (loadServerConfigFromString), or the bare reason.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}", self.reason);
        }
        write!(
            f,
            "\n*** FATAL CONFIG FILE ERROR (Version {}) ***\n\
             Reading the configuration file, at line {}\n>>> '{}'\n{}",
            crate::VERSION,
            self.line,
            self.text,
            self.reason
        )
    }
}

/// An argument as Valkey's `sdscatrepr` quotes it (config errors, and
/// values CONFIG REWRITE must quote).
pub fn repr(a: &str) -> String {
    let mut q = String::from("\"");
    for b in a.bytes() {
        match b {
            b'\\' => q.push_str("\\\\"),
            b'"' => q.push_str("\\\""),
            b'\n' => q.push_str("\\n"),
            b'\r' => q.push_str("\\r"),
            b'\t' => q.push_str("\\t"),
            0x07 => q.push_str("\\a"),
            0x08 => q.push_str("\\b"),
            b' '..=b'~' => q.push(b as char),
            _ => q.push_str(&format!("\\x{b:02x}")),
        }
    }
    q.push('"');
    q
}

/// Splits a value the way the config file does (quotes allowed). An empty
/// value is one empty argument.
pub fn split_value(s: &str) -> Vec<String> {
    match split_args(s.as_bytes()) {
        Some(v) if !v.is_empty() => v
            .into_iter()
            .map(|a| String::from_utf8_lossy(&a).into_owned())
            .collect(),
        _ => vec![String::new()],
    }
}

/// Directives Valkey still reads from a config file and ignores (with one
/// value), from before quicklists and script effects replication.
const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// The arguments a directive's setter gets: as given, one empty argument
/// for none, and for a list-valued directive given as one quoted argument
/// (`save "900 1 300 10"`, `--shutdown-on-sigterm "nosave now"`), its words.
fn setter_args(d: &super::Directive, values: &[String]) -> Vec<String> {
    match values {
        [] => vec![String::new()],
        [one] if d.has(super::directives::MULTI_ARG) && !one.is_empty() => split_value(one),
        _ => values.to_vec(),
    }
}

/// Applies one `name args...` line.
fn apply_line(
    cfg: &mut Config,
    text: &str,
    source: &str,
    line: usize,
    depth: usize,
) -> Result<(), ConfigError> {
    let err = |reason: String| ConfigError {
        source: source.to_string(),
        line,
        text: text.to_string(),
        reason,
    };
    let Some(args) = split_args(text.as_bytes()) else {
        return Err(err("Unbalanced quotes in configuration line".into()));
    };
    let args: Vec<String> = args
        .into_iter()
        .map(|a| String::from_utf8_lossy(&a).into_owned())
        .collect();
    let Some((name, values)) = args.split_first() else {
        return Ok(());
    };
    if name.eq_ignore_ascii_case("include") && values.len() == 1 {
        return include(cfg, &values[0], depth + 1);
    }
    let Some(d) = Config::directive(name) else {
        if values.len() == 1 && DEPRECATED.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Ok(());
        }
        return Err(err("Bad directive or wrong number of arguments".into()));
    };
    if values.is_empty() && !d.has(super::directives::MULTI_ARG) {
        return Err(err("wrong number of arguments".into()));
    }
    let values = setter_args(d, values);
    (d.set)(cfg, &values).map_err(err)
}

/// Parses config file text.
pub fn apply_text(cfg: &mut Config, text: &str, source: &str) -> Result<(), ConfigError> {
    apply_text_at(cfg, text, source, 0)
}

fn apply_text_at(
    cfg: &mut Config,
    text: &str,
    source: &str,
    depth: usize,
) -> Result<(), ConfigError> {
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        apply_line(cfg, line, source, i + 1, depth)?;
    }
    Ok(())
}

/// Files included deeper than this are refused (an include loop would
/// otherwise never end).
const MAX_INCLUDE_DEPTH: usize = 16;

/// `include path`: the file's lines, applied where the include stands (its
/// errors name its own lines, as Valkey's do). A `*`, `?` or `[` in the
/// last path component makes it a pattern: every matching file, in name
/// order, and none is no error (Valkey's glob; ferrokey matches patterns
/// in the file name only).
fn include(cfg: &mut Config, path: &str, depth: usize) -> Result<(), ConfigError> {
    let fail = |reason: String| ConfigError {
        source: path.to_string(),
        line: 0,
        text: String::new(),
        reason,
    };
    if depth > MAX_INCLUDE_DEPTH {
        return Err(fail(format!(
            "Fatal error, config files included more than {MAX_INCLUDE_DEPTH} deep at '{path}'"
        )));
    }
    let p = std::path::Path::new(path);
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
    let files: Vec<PathBuf> = match name {
        Some(n) if n.contains(['*', '?', '[']) => {
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .filter(|e| {
                            crate::util::glob::glob_match(
                                n.as_bytes(),
                                e.file_name().to_string_lossy().as_bytes(),
                                false,
                            )
                        })
                        .map(|e| e.path())
                        .collect()
                })
                .unwrap_or_default();
            found.sort();
            found
        }
        _ => vec![p.to_path_buf()],
    };
    for f in files {
        let shown = f.display().to_string();
        let text = std::fs::read_to_string(&f).map_err(|e| {
            fail(format!(
                "Fatal error, can't open config file '{shown}': {}",
                strerror(&e)
            ))
        })?;
        apply_text_at(cfg, &text, &shown, depth)?;
    }
    Ok(())
}

/// Builds the configuration from `valkey-server`-style arguments:
/// `[config-file] [--name value ...]`.
pub fn load_args(args: &[String]) -> Result<Config, ConfigError> {
    let mut cfg = Config::default();
    let mut rest = args;
    // Lines before the options: the file's, then the "\n" valkey-server
    // puts between file and options.
    let mut line = 2;
    if let Some(first) = args.first() {
        if !first.starts_with("--") {
            let path = PathBuf::from(first);
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                source: first.clone(),
                line: 0,
                text: String::new(),
                reason: format!(
                    "Fatal error, can't open config file '{first}': {}",
                    strerror(&e)
                ),
            })?;
            apply_text(&mut cfg, &text, first)?;
            cfg.config_file = Some(std::fs::canonicalize(&path).unwrap_or(path));
            line += text.matches('\n').count();
            rest = &args[1..];
        }
    }
    // `--name v1 v2` is the line `name "v1" "v2"`, as valkey-server makes
    // it; a word before any `--name` is a line of its own.
    let mut i = 0;
    while i < rest.len() {
        let mut text = match rest[i].strip_prefix("--") {
            Some(name) => name.to_string(),
            None => repr(&rest[i]),
        };
        i += 1;
        while i < rest.len() && !rest[i].starts_with("--") {
            text.push(' ');
            text.push_str(&repr(&rest[i]));
            i += 1;
        }
        apply_line(&mut cfg, &text, "command line", line, 0)?;
        line += 1;
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn command_line_like_valkey_server() {
        let c = load_args(&args(&[
            "--port",
            "7000",
            "--io-threads",
            "4",
            "--bind",
            "127.0.0.1",
            "::1",
        ]))
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.io_threads, 4);
        assert_eq!(c.bind, args(&["127.0.0.1", "::1"]));
        let e = load_args(&args(&["--io-threads", "17"])).unwrap_err();
        assert!(e.reason.contains("between 1 and 16"), "{e}");
        // Each option is a line after the (here absent) file, from line 2.
        let e = load_args(&args(&["--port", "1", "--nosuch", "1"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "\n*** FATAL CONFIG FILE ERROR (Version {}) ***\n\
                 Reading the configuration file, at line 3\n\
                 >>> 'nosuch \"1\"'\nBad directive or wrong number of arguments",
                crate::VERSION
            )
        );
        let e = load_args(&args(&["--appendonly"])).unwrap_err();
        assert_eq!((e.line, e.text.as_str()), (2, "appendonly"));
        assert_eq!(e.reason, "wrong number of arguments");
        // Arguments are quoted as Valkey's sdscatrepr does, and a single
        // quoted argument of a list-valued directive is split.
        let e = load_args(&args(&["--port", "a\"b\n"])).unwrap_err();
        assert_eq!(e.text, "port \"a\\\"b\\n\"");
        let c = load_args(&args(&["--save", "", "--bind", "127.0.0.1 ::1"])).unwrap();
        assert_eq!(c.bind, args(&["127.0.0.1", "::1"]));
    }

    #[test]
    fn file_errors_name_the_line() {
        let mut c = Config::default();
        let text = "# comment\n\nport 7001\nmaxclients abc\n";
        let e = apply_text(&mut c, text, "x.conf").unwrap_err();
        assert_eq!((e.source.as_str(), e.line), ("x.conf", 4));
        assert_eq!(e.text, "maxclients abc");
        assert_eq!(e.reason, "argument couldn't be parsed into an integer");
        assert!(
            e.to_string().ends_with(
                "at line 4\n>>> 'maxclients abc'\nargument couldn't be parsed into an integer"
            ),
            "{e}"
        );
        assert_eq!(c.port, 7001);
        let e = apply_text(&mut c, "requirepass \"abc\n", "y.conf").unwrap_err();
        assert!(e.reason.contains("Unbalanced quotes"));
        apply_text(&mut c, "requirepass \"a b\"\nsave \"\"\n", "z.conf").unwrap();
        assert_eq!(c.requirepass.as_deref(), Some("a b"));
    }

    #[test]
    fn include_files_and_patterns() {
        let dir = std::env::temp_dir().join(format!("ferrokey-include-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.conf"), "maxclients 7\n").unwrap();
        std::fs::write(dir.join("b.conf"), "maxclients 8\nhz 20\n").unwrap();
        std::fs::write(
            dir.join("loop.conf"),
            format!("include {}\n", dir.join("loop.conf").display()),
        )
        .unwrap();
        let mut c = Config::default();
        let text = format!("include {}\ntimeout 5\n", dir.join("a.conf").display());
        apply_text(&mut c, &text, "main.conf").unwrap();
        assert_eq!((c.maxclients, c.timeout), (7, 5));
        // A pattern loads every match in name order: b.conf wins.
        let text = format!("include {}\n", dir.join("*.conf").display());
        let mut c = Config::default();
        let e = apply_text(&mut c, &text, "main.conf").unwrap_err();
        assert!(e.reason.contains("more than 16 deep"), "{e}");
        std::fs::remove_file(dir.join("loop.conf")).unwrap();
        let mut c = Config::default();
        apply_text(&mut c, &text, "main.conf").unwrap();
        assert_eq!((c.maxclients, c.hz), (8, 20));
        // No match is no error; a missing plain file is.
        let mut c = Config::default();
        apply_text(
            &mut c,
            &format!("include {}\n", dir.join("none*.conf").display()),
            "m",
        )
        .unwrap();
        let e = apply_text(
            &mut c,
            &format!("include {}\n", dir.join("none.conf").display()),
            "m",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Fatal error, can't open config file '"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn example_file_parses() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/valkey.conf.example"))
                .unwrap();
        let mut c = Config::default();
        apply_text(&mut c, &text, "valkey.conf.example").unwrap();
    }
}
