//! `ferrokey-check-aof` against Valkey 9.1.2's `valkey-check-aof`: each case
//! of tests/data/check-aof/cases.txt runs the built binary on a fresh copy
//! of the fixtures (AOFs written by Valkey 9.1: single RESP, multi-part with
//! RESP and RDB bases, an RDB-preamble AOF, plus hand-made broken ones),
//! and its stdout, exit code and the files it changed must equal the
//! transcript captured from Valkey (expected/<case>.out, by capture.sh).
//! Log-line prefixes (pid and time) are compared as `PID:M DATE`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/check-aof");

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Files under `dir`, relative, sorted as `LC_ALL=C sort` sorts them.
fn files_under(dir: &Path, rel: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = format!("{rel}/{}", e.file_name().to_string_lossy());
        if e.file_type().unwrap().is_dir() {
            files_under(&e.path(), &name, out);
        } else {
            out.push(name);
        }
    }
    out.sort();
}

/// `printf`'s escapes as the cases use them.
fn unescape(s: &str) -> Vec<u8> {
    s.replace("\\n", "\n").into_bytes()
}

/// `12345:M 07 Dec 2026 08:05:01.928 ` -> `PID:M DATE `.
fn normalize_line(line: &str) -> String {
    let Some(colon) = line.find(":M ") else {
        return line.to_string();
    };
    let pid = &line[..colon];
    let date = line.get(colon + 3..colon + 3 + 24);
    let is_date = date.is_some_and(|d| {
        let b = d.as_bytes();
        b[2] == b' ' && b[6] == b' ' && b[11] == b' ' && b[14] == b':' && b[20] == b'.'
    });
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) || !is_date {
        return line.to_string();
    }
    format!("PID:M DATE{}", &line[colon + 3 + 24..])
}

struct Case {
    name: String,
    stdin: Vec<u8>,
    args: Vec<String>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(format!("{DATA}/cases.txt")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.splitn(3, '|').map(str::trim).collect();
            assert_eq!(f.len(), 3, "{l}");
            Case {
                name: f[0].to_string(),
                stdin: unescape(f[1]),
                args: f[2].split_whitespace().map(String::from).collect(),
            }
        })
        .collect()
}

fn run_case(c: &Case, work: &Path) -> String {
    let files = work.join("files");
    let _ = std::fs::remove_dir_all(&files);
    copy_dir(&Path::new(DATA).join("files"), &files);
    let mut child = {
        use std::os::unix::process::CommandExt;
        Command::new(env!("CARGO_BIN_EXE_ferrokey-check-aof"))
            .arg0("valkey-check-aof")
            .args(&c.args)
            .current_dir(&files)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(&c.stdin);
    }
    let out = child.wait_with_output().unwrap();
    let mut text = String::new();
    for line in String::from_utf8_lossy(&out.stdout).split_inclusive('\n') {
        text.push_str(&normalize_line(line));
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("rc={}\n", out.status.code().unwrap_or(-1)));
    let mut names = Vec::new();
    files_under(&files, ".", &mut names);
    for n in names {
        let now = std::fs::read(files.join(&n)).unwrap();
        let was = std::fs::read(Path::new(DATA).join("files").join(&n)).unwrap();
        if now != was {
            // A repair only ever cuts the file.
            assert!(
                was.starts_with(&now),
                "{}: {n} changed, not truncated",
                c.name
            );
            text.push_str(&format!("changed {n} {}\n", now.len()));
        }
    }
    text
}

fn work_dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrokey-check-aof-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn every_case_prints_what_valkey_check_aof_prints() {
    let work = work_dir("cases");
    let all = cases();
    assert!(all.len() >= 40, "{} cases", all.len());
    let mut failed = Vec::new();
    for c in &all {
        let want = std::fs::read_to_string(format!("{DATA}/expected/{}.out", c.name))
            .unwrap_or_else(|e| panic!("expected/{}.out: {e}", c.name));
        let got = run_case(c, &work);
        if got != want {
            eprintln!("--- case {}: expected\n{want}--- got\n{got}", c.name);
            failed.push(c.name.clone());
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    assert!(failed.is_empty(), "cases differing from Valkey: {failed:?}");
}

#[test]
fn a_fixed_aof_checks_valid_afterwards() {
    let work = work_dir("fixed");
    let files = work.join("files");
    copy_dir(&Path::new(DATA).join("files"), &files);
    let bin = env!("CARGO_BIN_EXE_ferrokey-check-aof");
    let manifest = "truncated-multipart/appendonly.aof.manifest";
    let check = |args: &[&str], stdin: &[u8]| {
        use std::io::Write;
        let mut child = Command::new(bin)
            .args(args)
            .current_dir(&files)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(stdin);
        let out = child.wait_with_output().unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code(),
        )
    };
    let (out, code) = check(&[manifest], b"");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("is not valid. Use the --fix option"), "{out}");
    let (out, code) = check(&["--fix", manifest], b"y\n");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Successfully truncated AOF appendonly.aof.2.incr.aof\n"));
    let (out, code) = check(&[manifest], b"");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.ends_with("All AOF files and manifest are valid\n"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&work);
}
