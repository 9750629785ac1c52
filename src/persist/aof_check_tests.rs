//! Unit tests of `aof_check` (expected values checked against Valkey
//! 9.1.2's valkey-check-aof on the same bytes).

use super::*;
use std::path::{Path, PathBuf};

fn cmd(args: &[&str]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    v
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrokey-chkaof-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the tool on `args` (after the program name) with `stdin`.
fn run_tool(args: &[&OsStr], stdin: &[u8]) -> (String, i32) {
    let mut argv = vec![OsString::from("valkey-check-aof")];
    argv.extend(args.iter().map(|a| a.to_os_string()));
    let mut out = Vec::new();
    let mut input = stdin;
    let tool = Tool {
        version: "test",
        log_time: |_| "TIME".into(),
    };
    let code = run(&tool, &argv, &mut out, &mut input);
    (String::from_utf8_lossy(&out).into_owned(), code)
}

fn p(path: &Path) -> &OsStr {
    path.as_os_str()
}

#[test]
fn a_valid_file_is_all_ok() {
    let mut f = cmd(&["SET", "foo", "bar"]);
    f.extend(cmd(&["MULTI"]));
    f.extend(cmd(&["INCR", "n"]));
    f.extend(cmd(&["exec"]));
    f.extend(b"#TS:1628217470\r\n");
    let r = validate(&f, 0);
    assert_eq!(r.ok_up_to, f.len() as u64);
    assert_eq!(r.error, "");
    // 1 + 7 lines + 3 + 5 + 3; the annotation is not counted.
    assert_eq!(r.line, 19);
    assert_eq!(r.exit, None);
}

#[test]
fn a_file_cut_anywhere_is_good_up_to_the_last_whole_record() {
    let recs = [
        cmd(&["SET", "foo", "bar"]),
        cmd(&["MULTI"]),
        cmd(&["INCR", "n"]),
        cmd(&["EXEC"]),
        cmd(&["DEL", "foo"]),
    ];
    let f: Vec<u8> = recs.concat();
    // Offsets where a cut leaves only whole records (and no open MULTI).
    let mut ends = vec![0u64];
    let mut at = 0u64;
    for (i, r) in recs.iter().enumerate() {
        at += r.len() as u64;
        if i != 1 && i != 2 {
            ends.push(at);
        }
    }
    for cut in 0..=f.len() {
        let r = validate(&f[..cut], 0);
        let want = *ends.iter().filter(|&&e| e <= cut as u64).max().unwrap();
        assert_eq!(r.ok_up_to, want, "cut at {cut}");
        assert_eq!(r.exit, None);
        let whole = ends.contains(&(cut as u64));
        assert_eq!(
            r.error.is_empty() && r.ok_up_to == cut as u64,
            whole,
            "cut at {cut}"
        );
    }
    // Cut inside the transaction: it is the open MULTI that is reported.
    let in_multi = recs[0].len() + recs[1].len() + recs[2].len();
    let r = validate(&f[..in_multi], 0);
    assert_eq!(r.ok_up_to, recs[0].len() as u64);
    assert!(
        r.error
            .ends_with("Reached EOF before reading EXEC for MULTI"),
        "{r:?}"
    );
}

#[test]
fn errors_name_the_offset_and_what_was_expected() {
    let mut f = cmd(&["SET", "foo", "hello"]);
    f.extend(b"!!!");
    let r = validate(&f, 0);
    assert_eq!((r.ok_up_to, r.line, r.error.as_str()), (33, 8, ""));

    let r = validate(b"*1\r\n$4\r\nPING\r\n*1\r\nx3\r\n", 0);
    assert_eq!(r.error, "0x              12: Expected prefix '$', got: 'x'");
    assert_eq!((r.ok_up_to, r.line), (14, 5));

    let r = validate(b"*1\r\n$3x\r\nfoo\r\n", 0);
    assert_eq!(r.error, "0x               4: Expected \\r\\n, got: 780d");

    let r = validate(b"*1\r\n$4\r\nPINGxx", 0);
    assert_eq!(r.error, "0x               8: Expected \\r\\n, got: 7878");

    // A byte over 0x7f prints as a sign-extended C char.
    let r = validate(b"*1\r\n$1\r\na\xff\n", 0);
    assert_eq!(
        r.error,
        "0x               8: Expected \\r\\n, got: ffffffff0a"
    );

    let r = validate(b"*1\r\n$-1\r\n", 0);
    assert_eq!(
        r.error,
        "0x               4: Expected to read string of -1 bytes, which is not in the suitable range"
    );
}

#[test]
fn a_huge_length_is_counted_not_allocated() {
    let r = validate(b"*1\r\n$999999999999\r\nabc\r\n", 0);
    assert_eq!(
        r.error,
        "0x              13: Expected to read 1000000000001 bytes, got 5 bytes"
    );
    let r = validate(b"*1\r\n$99999999999999999999999\r\nabc\r\n", 0);
    assert!(r.error.contains("Expected to read"), "{r:?}");
    let r = validate(b"*9223372036854775807\r\n", 0);
    assert_eq!((r.ok_up_to, r.error.as_str()), (0, ""));
}

#[test]
fn multi_and_exec_must_pair() {
    let mut f = cmd(&["MULTI"]);
    f.extend(cmd(&["multi"]));
    let r = validate(&f, 0);
    assert_eq!(r.error, "0x              17: Unexpected MULTI in AOF mem");
    assert_eq!(r.ok_up_to, 0);

    let f = [cmd(&["SET", "a", "1"]), cmd(&["Exec"])].concat();
    let r = validate(&f, 0);
    assert_eq!(r.error, "0x              23: Unexpected EXEC in AOF mem");
    assert_eq!(r.ok_up_to, 27);

    let f = [cmd(&["MULTI"]), cmd(&["PING"])].concat();
    let r = validate(&f, 0);
    assert_eq!(
        r.error,
        "0x              17: Reached EOF before reading EXEC for MULTI"
    );
    assert_eq!(r.ok_up_to, 0);

    // Only the first argument counts, and the whole of it.
    let f = [cmd(&["SET", "MULTI", "x"]), cmd(&["MULTIX"])].concat();
    assert_eq!(validate(&f, 0).ok_up_to, f.len() as u64);
}

#[test]
fn truncate_to_timestamp_cuts_at_the_first_later_annotation() {
    let mut f = b"#TS:100\r\n".to_vec();
    f.extend(cmd(&["SET", "a", "1"]));
    let second = f.len() as u64;
    f.extend(b"#TS:200\r\n");
    f.extend(cmd(&["SET", "b", "2"]));
    f.extend(b"#TS:300\r\n");
    assert_eq!(validate(&f, 150).truncate_at, Some(second));
    assert_eq!(validate(&f, 200).truncate_at, Some(second + 9 + 27));
    assert_eq!(validate(&f, 300).truncate_at, None);
    // Nothing before the first annotation: the tool gives up.
    assert_eq!(validate(&f, 50).exit, Some(1));
    // Without the option, annotations are skipped.
    assert_eq!(validate(&f, 0).ok_up_to, f.len() as u64);
    assert_eq!(validate(b"#TS:12x\r\n", 5).exit, Some(1));
}

#[test]
fn fix_asks_then_truncates_the_file() {
    let dir = temp_dir("fix");
    let path = dir.join("appendonly.aof");
    let good = cmd(&["SET", "foo", "bar"]);
    let mut f = good.clone();
    f.extend(b"*2\r\n$3\r\nGE");
    std::fs::write(&path, &f).unwrap();

    let (out, code) = run_tool(&[OsStr::new("--fix"), p(&path)], b"n\n");
    assert_eq!(code, 1);
    assert!(out.ends_with("Continue? [y/N]: Aborting...\n"), "{out}");
    assert_eq!(std::fs::read(&path).unwrap(), f);

    let (out, code) = run_tool(&[OsStr::new("--fix"), p(&path)], b"y\n");
    assert_eq!(code, 0, "{out}");
    let name = path.display();
    let want = format!(
        "Start checking Old-Style AOF\n\
         0x              27: Expected to read 5 bytes, got 2 bytes\n\
         AOF analyzed: filename={name}, size=41, ok_up_to=31, ok_up_to_line=10, diff=10\n\
         This will shrink the AOF {name} from 41 bytes, with 10 bytes, to 31 bytes\n\
         Continue? [y/N]: Successfully truncated AOF {name}\n"
    );
    assert_eq!(out, want);
    assert_eq!(std::fs::read(&path).unwrap(), good);

    let (out, code) = run_tool(&[p(&path)], b"");
    assert_eq!(code, 0);
    assert!(out.ends_with(&format!("AOF {name} is valid\n")), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn multi_part_checks_each_file_and_fixes_only_the_last() {
    let dir = temp_dir("multi");
    let base = [cmd(&["SET", "foo", "hello"]), cmd(&["MULTI"])].concat();
    std::fs::write(dir.join("appendonly.aof.1.base.aof"), &base).unwrap();
    std::fs::write(dir.join("appendonly.aof.1.incr.aof"), cmd(&["PING"])).unwrap();
    let manifest = dir.join("appendonly.aof.manifest");
    std::fs::write(
        &manifest,
        "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    let (out, code) = run_tool(&[OsStr::new("--fix"), p(&manifest)], b"y\n");
    assert_eq!(code, 1);
    assert!(
        out.starts_with("Start checking Multi Part AOF\nStart to check BASE AOF (RESP format).\n")
    );
    assert!(out.ends_with(
        "Failed to truncate AOF appendonly.aof.1.base.aof because it is not the last file\n"
    ));

    std::fs::write(
        dir.join("appendonly.aof.1.base.aof"),
        cmd(&["SET", "a", "b"]),
    )
    .unwrap();
    let (out, code) = run_tool(&[p(&manifest)], b"");
    assert_eq!(code, 0, "{out}");
    let want = "Start checking Multi Part AOF\n\
        Start to check BASE AOF (RESP format).\n\
        AOF analyzed: filename=appendonly.aof.1.base.aof, size=27, ok_up_to=27, ok_up_to_line=8, diff=0\n\
        BASE AOF appendonly.aof.1.base.aof is valid\n\
        Start to check INCR files.\n\
        AOF analyzed: filename=appendonly.aof.1.incr.aof, size=14, ok_up_to=14, ok_up_to_line=11, diff=0\n\
        INCR AOF appendonly.aof.1.incr.aof is valid\n\
        All AOF files and manifest are valid\n";
    assert_eq!(out, want);

    std::fs::write(&manifest, "file a seq 1 type i\n!!!\n").unwrap();
    let (out, code) = run_tool(&[p(&manifest)], b"");
    assert_eq!(code, 1);
    assert!(out.contains("# >>> '!!!'\n"), "{out}");
    assert!(
        out.contains("# Invalid AOF manifest file format\n"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn arguments() {
    let (out, code) = run_tool(&[], b"");
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "Usage: valkey-check-aof [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>\n"
    );
    assert_eq!(run_tool(&[OsStr::new("--fixx"), OsStr::new("a")], b"").1, 1);
    let (out, code) = run_tool(
        &[
            OsStr::new("--truncate-to-timestamp"),
            OsStr::new("12x"),
            OsStr::new("a"),
        ],
        b"",
    );
    assert_eq!(
        (out.as_str(), code),
        ("Invalid timestamp, aborting...\n", 1)
    );
    let (out, code) = run_tool(&[OsStr::new("/nonexistent/x.aof")], b"");
    assert_eq!(
        (out.as_str(), code),
        (
            "Cannot open file /nonexistent/x.aof: No such file or directory\n",
            1
        )
    );
    let long = "a".repeat(PATH_MAX + 1);
    let (out, code) = run_tool(&[OsStr::new(&long)], b"");
    assert_eq!(code, 1);
    assert!(out.starts_with("Error: filepath is too long (exceeds PATH_MAX)\nUsage: "));
    let (out, code) = run_tool(&[OsStr::new("-v")], b"");
    assert_eq!(code, 0);
    assert!(out.starts_with("ferrokey-check-aof v="));
}

#[test]
fn c_helpers() {
    assert_eq!(dirname(b"a"), b".");
    assert_eq!(dirname(b"/a"), b"/");
    assert_eq!(dirname(b"a/b/c"), b"a/b");
    assert_eq!(dirname(b"a/b/"), b"a");
    assert_eq!(dirname(b"a//b"), b"a");
    assert_eq!(dirname(b"/"), b"/");
    assert_eq!(hex_char(0x0d), "0d");
    assert_eq!(hex_char(0x80), "ffffff80");
}

#[test]
fn a_preamble_with_function_libraries() {
    // Valkey 9.1's SAVE with two libraries, as a REDIS0011 preamble (the
    // lines below are valkey-check-aof 9.1.2's on the same bytes).
    let rdb = crate::persist::functions_dump::fixtures::RDB;
    let mut f = b"REDIS0011".to_vec();
    f.extend_from_slice(&rdb[9..rdb.len() - 8]);
    let crc = crate::persist::crc64(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f.extend(cmd(&["SET", "a", "b"]));
    let d = temp_dir("functions");
    let path = d.join("pre.aof");
    std::fs::write(&path, &f).unwrap();
    let (out, code) = run_tool(&[p(&path)], b"");
    assert_eq!(code, 0, "{out}");
    for line in [
        "[offset 80] AUX FIELD aof-base = '0'\n[offset 279] Selecting DB ID 0\n",
        "[offset 313] Selecting DB ID 2\n[offset 331] Checksum OK\n",
        "[info] 3 keys read\n[info] 0 expires\n[info] 0 already expired\n[info] 2 functions\n",
        "AOF analyzed: filename=",
        "ok_up_to=358, ok_up_to_line=8, diff=0\n",
    ] {
        assert!(out.contains(line), "{line:?} not in:\n{out}");
    }
    let _ = std::fs::remove_dir_all(&d);
}
