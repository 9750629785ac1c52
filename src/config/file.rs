//! Reading configuration: a valkey.conf-style file, then `--name value ...`
//! options from the command line (which win, as with valkey-server).

use std::fmt;
use std::path::PathBuf;

use super::Config;
use crate::resp::parser::split_args;

/// A configuration problem, with where it was found.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// File name, or "command line".
    pub source: String,
    /// 1-based line number in the file (0 for the command line).
    pub line: usize,
    pub text: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}: {} (in '{}')",
                self.source, self.line, self.reason, self.text
            )
        } else {
            write!(f, "{}: {} (in '{}')", self.source, self.reason, self.text)
        }
    }
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
fn apply_line(cfg: &mut Config, text: &str, source: &str, line: usize) -> Result<(), ConfigError> {
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
    let Some(d) = Config::directive(name) else {
        if values.len() == 1 && DEPRECATED.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Ok(());
        }
        return Err(err(format!(
            "Bad directive or wrong number of arguments: unknown directive '{name}'"
        )));
    };
    let values = setter_args(d, values);
    (d.set)(cfg, &values).map_err(|e| err(format!("Invalid argument for '{}': {e}", d.name)))
}

/// Parses config file text.
pub fn apply_text(cfg: &mut Config, text: &str, source: &str) -> Result<(), ConfigError> {
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        apply_line(cfg, line, source, i + 1)?;
    }
    Ok(())
}

/// Builds the configuration from `valkey-server`-style arguments:
/// `[config-file] [--name value ...]`.
pub fn load_args(args: &[String]) -> Result<Config, ConfigError> {
    let mut cfg = Config::default();
    let mut rest = args;
    if let Some(first) = args.first() {
        if !first.starts_with("--") {
            let path = PathBuf::from(first);
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                source: first.clone(),
                line: 0,
                text: String::new(),
                reason: format!("Fatal error, can't open config file: {e}"),
            })?;
            apply_text(&mut cfg, &text, first)?;
            cfg.config_file = Some(std::fs::canonicalize(&path).unwrap_or(path));
            rest = &args[1..];
        }
    }
    // Group `--name v1 v2` into lines, as valkey-server does.
    let mut i = 0;
    while i < rest.len() {
        let Some(name) = rest[i].strip_prefix("--") else {
            return Err(ConfigError {
                source: "command line".into(),
                line: 0,
                text: rest[i].clone(),
                reason: "expected an option starting with '--'".into(),
            });
        };
        let mut values = Vec::new();
        i += 1;
        while i < rest.len() && !rest[i].starts_with("--") {
            values.push(rest[i].clone());
            i += 1;
        }
        let Some(d) = Config::directive(name) else {
            if values.len() == 1 && DEPRECATED.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                continue;
            }
            return Err(ConfigError {
                source: "command line".into(),
                line: 0,
                text: format!("--{name}"),
                reason: format!(
                    "Bad directive or wrong number of arguments: unknown directive '{name}'"
                ),
            });
        };
        let values = setter_args(d, &values);
        (d.set)(&mut cfg, &values).map_err(|e| ConfigError {
            source: "command line".into(),
            line: 0,
            text: format!("--{name} {}", values.join(" ")),
            reason: format!("Invalid argument for '{}': {e}", d.name),
        })?;
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
        let e = load_args(&args(&["--nosuch", "1"])).unwrap_err();
        assert!(e.reason.contains("unknown directive 'nosuch'"), "{e}");
    }

    #[test]
    fn file_errors_name_the_line() {
        let mut c = Config::default();
        let text = "# comment\n\nport 7001\nmaxclients abc\n";
        let e = apply_text(&mut c, text, "x.conf").unwrap_err();
        assert_eq!((e.source.as_str(), e.line), ("x.conf", 4));
        assert!(
            e.to_string()
                .starts_with("x.conf:4: Invalid argument for 'maxclients'"),
            "{e}"
        );
        assert_eq!(c.port, 7001);
        let e = apply_text(&mut c, "requirepass \"abc\n", "y.conf").unwrap_err();
        assert!(e.reason.contains("Unbalanced quotes"));
        apply_text(&mut c, "requirepass \"a b\"\nsave \"\"\n", "z.conf").unwrap();
        assert_eq!(c.requirepass.as_deref(), Some("a b"));
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
