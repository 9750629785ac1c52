//! The AOF manifest: which files make up the append-only file in Valkey 7+'s
//! multi-part layout, read and written as Valkey does.
//!
//! The directory `appenddirname` holds one BASE file (a snapshot from the
//! last rewrite: `<appendfilename>.<seq>.base.rdb`, or `.base.aof` without
//! the RDB preamble), INCR files (`<appendfilename>.<seq>.incr.aof`, the
//! commands since, in RESP) and HISTORY files waiting to be deleted. The
//! manifest `<appendfilename>.manifest` lists them, one per line:
//!
//! ```text
//! file appendonly.aof.2.base.rdb seq 2 type b
//! file appendonly.aof.1.incr.aof seq 1 type h
//! file appendonly.aof.2.incr.aof seq 2 type i
//! ```
//!
//! The base comes first, then history, then the INCR files in sequence
//! order. A manifest is replaced whole: written to `temp-<name>.manifest`,
//! fsynced, renamed over the old one, and the directory fsynced.
//!
//! Reading is Valkey's, error for error (the suite checks the messages): a
//! line is at most 1,024 bytes and must end in a newline, `#` starts a
//! comment, each line is key/value pairs split as `sdssplitargs` splits
//! (unknown keys are skipped, for forward compatibility), and a bad line
//! stops startup with its number, its text and the reason.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::util::sds;

pub const BASE_SUFFIX: &str = ".base";
pub const INCR_SUFFIX: &str = ".incr";
pub const RDB_FORMAT_SUFFIX: &str = ".rdb";
pub const AOF_FORMAT_SUFFIX: &str = ".aof";
pub const MANIFEST_SUFFIX: &str = ".manifest";
pub const TEMP_PREFIX: &str = "temp-";

/// The longest manifest line Valkey reads (its `fgets` buffer).
const MAX_LINE: usize = 1024;

/// What a file listed in the manifest is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Base,
    History,
    Incr,
}

impl FileKind {
    /// The manifest's `type` letter.
    pub fn letter(self) -> u8 {
        match self {
            FileKind::Base => b'b',
            FileKind::History => b'h',
            FileKind::Incr => b'i',
        }
    }
}

/// One file of the AOF: its name inside the AOF directory (bytes: a
/// manifest may name any file), sequence number and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofFile {
    pub name: Vec<u8>,
    pub seq: i64,
    pub kind: FileKind,
}

impl AofFile {
    /// The file's path in `dir`.
    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(OsStr::from_bytes(&self.name))
    }

    /// The name as text for log lines (lossy where it is not UTF-8).
    pub fn display(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// Whether the base is a snapshot in RDB format rather than commands
    /// (the name says so; the loader also checks the file's first bytes).
    pub fn is_rdb_named(&self) -> bool {
        self.name.ends_with(RDB_FORMAT_SUFFIX.as_bytes())
    }

    /// The manifest line for this file (Valkey's aofInfoFormat).
    fn render(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"file ");
        if needs_repr(&self.name) {
            sds::quote(out, &self.name);
        } else {
            out.extend_from_slice(&self.name);
        }
        out.extend_from_slice(format!(" seq {} type ", self.seq).as_bytes());
        out.push(self.kind.letter());
        out.push(b'\n');
    }
}

/// A manifest that could not be read: the line it stopped at (number and
/// trimmed text), when there was one, and Valkey's reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    pub line: Option<(usize, String)>,
    pub reason: &'static str,
}

impl ManifestError {
    /// The warning lines Valkey logs before it exits.
    pub fn log_lines(&self) -> Vec<String> {
        let mut v = vec!["\n*** FATAL AOF MANIFEST FILE ERROR ***\n".to_string()];
        if let Some((n, text)) = &self.line {
            v.push(format!("Reading the manifest file, at line {n}\n"));
            v.push(format!(">>> '{text}'\n"));
        }
        v.push(format!("{}\n", self.reason));
        v
    }
}

/// The files of an AOF and the sequence numbers last handed out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    /// Files a rewrite replaced, to be deleted.
    pub history: Vec<AofFile>,
    /// INCR files in sequence order; the last one is appended to.
    pub incr: Vec<AofFile>,
    pub base_seq: i64,
    pub incr_seq: i64,
    /// Changed since last written to disk.
    pub dirty: bool,
}

const INVALID: &str = "Invalid AOF manifest file format";

impl Manifest {
    /// Reads a manifest's contents.
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        let mut max_seq = 0i64;
        let mut rest = text;
        let mut line_no = 0usize;
        let err = |line: Option<(usize, String)>, reason| Err(ManifestError { line, reason });
        if rest.is_empty() {
            return err(None, "Found an empty AOF manifest");
        }
        while !rest.is_empty() {
            // One fgets: up to MAX_LINE bytes, through the newline if any.
            let take = match memchr::memchr(b'\n', &rest[..rest.len().min(MAX_LINE)]) {
                Some(i) => i + 1,
                None => rest.len().min(MAX_LINE),
            };
            let mut chunk = &rest[..take];
            rest = &rest[take..];
            line_no += 1;
            // The C string ends at a NUL byte.
            if let Some(nul) = memchr::memchr(0, chunk) {
                chunk = &chunk[..nul];
            }
            if chunk.first() == Some(&b'#') {
                continue;
            }
            if memchr::memchr(b'\n', chunk).is_none() {
                return err(None, "The AOF manifest file contains too long line");
            }
            let line = trim(chunk);
            let shown = || Some((line_no, String::from_utf8_lossy(line).into_owned()));
            if line.is_empty() {
                return err(shown(), INVALID);
            }
            let args = match sds::split_args(line) {
                Some(a) if a.len() >= 6 && a.len() % 2 == 0 => a,
                _ => return err(shown(), INVALID),
            };
            let (mut name, mut seq, mut kind) = (None, 0i64, 0u8);
            for pair in args.chunks_exact(2) {
                let key = &pair[0];
                if key.eq_ignore_ascii_case(b"file") {
                    if pair[1].contains(&b'/') || pair[1].contains(&b'\\') {
                        return err(shown(), "File can't be a path, just a filename");
                    }
                    name = Some(pair[1].clone());
                } else if key.eq_ignore_ascii_case(b"seq") {
                    seq = atoll(&pair[1]);
                } else if key.eq_ignore_ascii_case(b"type") {
                    kind = pair[1].first().copied().unwrap_or(0);
                }
            }
            let name = match name {
                Some(n) if !n.is_empty() && seq != 0 && kind != 0 => n,
                _ => return err(shown(), INVALID),
            };
            match kind {
                b'b' => {
                    if m.base.is_some() {
                        return err(shown(), "Found duplicate base file information");
                    }
                    m.base_seq = seq;
                    m.base = Some(AofFile {
                        name,
                        seq,
                        kind: FileKind::Base,
                    });
                }
                b'h' => m.history.push(AofFile {
                    name,
                    seq,
                    kind: FileKind::History,
                }),
                b'i' => {
                    if seq <= max_seq {
                        return err(shown(), "Found a non-monotonic sequence number");
                    }
                    max_seq = seq;
                    m.incr_seq = seq;
                    m.incr.push(AofFile {
                        name,
                        seq,
                        kind: FileKind::Incr,
                    });
                }
                _ => return err(shown(), "Unknown AOF file type"),
            }
        }
        Ok(m)
    }

    /// The manifest's contents: base, then history, then INCR files.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incr) {
            f.render(&mut out);
        }
        out
    }

    /// Names the next BASE file (`<aof_filename>.<seq>.base.rdb`, or `.aof`
    /// without the RDB preamble) and makes it the base; the previous base
    /// becomes history (first in the list, as Valkey puts it).
    pub fn new_base(&mut self, aof_filename: &str, rdb_preamble: bool) -> &AofFile {
        if let Some(mut old) = self.base.take() {
            old.kind = FileKind::History;
            self.history.insert(0, old);
        }
        self.base_seq += 1;
        let format = if rdb_preamble {
            RDB_FORMAT_SUFFIX
        } else {
            AOF_FORMAT_SUFFIX
        };
        let name = format!("{aof_filename}.{}{BASE_SUFFIX}{format}", self.base_seq);
        self.dirty = true;
        self.base.insert(AofFile {
            name: name.into_bytes(),
            seq: self.base_seq,
            kind: FileKind::Base,
        })
    }

    /// Names the next INCR file (`<aof_filename>.<seq>.incr.aof`) and
    /// appends it to the list.
    pub fn new_incr(&mut self, aof_filename: &str) -> &AofFile {
        self.incr_seq += 1;
        let name = format!(
            "{aof_filename}.{}{INCR_SUFFIX}{AOF_FORMAT_SUFFIX}",
            self.incr_seq
        );
        self.incr.push(AofFile {
            name: name.into_bytes(),
            seq: self.incr_seq,
            kind: FileKind::Incr,
        });
        self.dirty = true;
        self.incr.last().expect("just pushed")
    }

    /// The INCR file to append to: the last one, or a new one if none.
    pub fn last_incr_or_new(&mut self, aof_filename: &str) -> &AofFile {
        if self.incr.is_empty() {
            return self.new_incr(aof_filename);
        }
        self.incr.last().expect("not empty")
    }

    /// After a rewrite: the INCR files it covered become history (each
    /// moved to the front, so the newest comes first as in Valkey). The
    /// last one stays when it is the file being appended to (`keep_last`).
    pub fn mark_rewritten_incr_as_history(&mut self, keep_last: bool) {
        if self.incr.is_empty() {
            return;
        }
        let keep = usize::from(keep_last).min(self.incr.len());
        let moved: Vec<AofFile> = self.incr.drain(..self.incr.len() - keep).collect();
        for mut f in moved {
            f.kind = FileKind::History;
            self.history.insert(0, f);
        }
        self.dirty = true;
    }

    /// Takes the history files out of the manifest (to delete them).
    pub fn take_history(&mut self) -> Vec<AofFile> {
        if !self.history.is_empty() {
            self.dirty = true;
        }
        std::mem::take(&mut self.history)
    }

    /// The BASE and INCR files, in loading order.
    pub fn files_to_load(&self) -> impl Iterator<Item = &AofFile> {
        self.base.iter().chain(&self.incr)
    }
}

/// `<aof_filename>.manifest`.
pub fn manifest_name(aof_filename: &str) -> String {
    format!("{aof_filename}{MANIFEST_SUFFIX}")
}

/// `temp-<aof_filename>.manifest`.
pub fn temp_manifest_name(aof_filename: &str) -> String {
    format!("{TEMP_PREFIX}{aof_filename}{MANIFEST_SUFFIX}")
}

/// `temp-<aof_filename>.incr`: where writes go while AOF is being turned
/// on and its first rewrite runs.
pub fn temp_incr_name(aof_filename: &str) -> String {
    format!("{TEMP_PREFIX}{aof_filename}{INCR_SUFFIX}")
}

/// Why the manifest on disk could not be used.
#[derive(Debug)]
pub enum LoadError {
    /// It exists but could not be opened or read (Valkey's wording).
    Io(String),
    Format(ManifestError),
}

/// Reads `<dir>/<aof_filename>.manifest`. None when the directory or the
/// manifest does not exist (a server that never wrote an AOF, or one from
/// before the multi-part layout).
pub fn load(dir: &Path, aof_filename: &str) -> Result<Option<Manifest>, LoadError> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let path = dir.join(manifest_name(aof_filename));
    if !path.exists() {
        return Ok(None);
    }
    let text = fs::read(&path).map_err(|e| {
        LoadError::Io(format!(
            "Fatal error: can't open the AOF manifest file {} for reading: {}",
            path.display(),
            crate::util::strerror(&e)
        ))
    })?;
    Manifest::parse(&text).map(Some).map_err(LoadError::Format)
}

/// Writes the manifest if it changed: to the temp name, fsync, rename over
/// the manifest, fsync the directory. The error is Valkey's log line.
pub fn persist(dir: &Path, aof_filename: &str, m: &mut Manifest) -> Result<(), String> {
    if !m.dirty {
        return Ok(());
    }
    let name = manifest_name(aof_filename);
    let tmp_name = temp_manifest_name(aof_filename);
    let tmp = dir.join(&tmp_name);
    let os = |e: &io::Error| crate::util::strerror(e);
    let mut f = fs::File::create(&tmp)
        .map_err(|e| format!("Can't open the AOF manifest file {tmp_name}: {}", os(&e)))?;
    f.write_all(&m.render()).map_err(|e| {
        format!(
            "Error trying to write the temporary AOF manifest file {tmp_name}: {}",
            os(&e)
        )
    })?;
    f.sync_all()
        .map_err(|e| format!("Fail to fsync the temp AOF file {tmp_name}: {}.", os(&e)))?;
    drop(f);
    let path = dir.join(&name);
    fs::rename(&tmp, &path).map_err(|e| {
        format!(
            "Error trying to rename the temporary AOF manifest file {tmp_name} into {name}: {}",
            os(&e)
        )
    })?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| {
            format!(
                "Fail to fsync AOF directory {}: {}.",
                path.display(),
                os(&e)
            )
        })?;
    m.dirty = false;
    Ok(())
}

/// Trims spaces, tabs, CR and LF at both ends (sdstrim with " \t\r\n").
fn trim(mut s: &[u8]) -> &[u8] {
    let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    while s.first().is_some_and(blank) {
        s = &s[1..];
    }
    while s.last().is_some_and(blank) {
        s = &s[..s.len() - 1];
    }
    s
}

/// C's `atoll` (`util::num::strtol`'s value).
fn atoll(s: &[u8]) -> i64 {
    crate::util::num::strtol(s).0
}

/// Valkey's `sdsneedsrepr`: a name with quotes, escapes, blanks or
/// unprintable bytes is written quoted.
fn needs_repr(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| matches!(c, b'\\' | b'"') || !(b'!'..=b'~').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(s.as_bytes())
    }

    fn reason(s: &str) -> &'static str {
        parse(s).unwrap_err().reason
    }

    #[test]
    fn reads_and_writes_valkeys_layout() {
        let text = "file appendonly.aof.2.base.rdb seq 2 type b\n\
                    file appendonly.aof.1.incr.aof seq 1 type h\n\
                    file appendonly.aof.2.incr.aof seq 2 type i\n\
                    file appendonly.aof.3.incr.aof seq 3 type i\n";
        let m = parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, b"appendonly.aof.2.base.rdb");
        assert!(m.base.as_ref().unwrap().is_rdb_named());
        assert_eq!((m.base_seq, m.incr_seq), (2, 3));
        assert_eq!(m.history.len(), 1);
        assert_eq!(
            m.files_to_load().map(|f| f.seq).collect::<Vec<_>>(),
            [2, 2, 3]
        );
        assert_eq!(m.render(), text.as_bytes());
    }

    #[test]
    fn comments_unknown_keys_and_case_are_accepted() {
        let m = parse(
            "# a comment\n\
             FILE a.1.base.aof SEQ 1 TYPE b newkey newvalue\n\
             file a.1.incr.aof seq 1 type i\n",
        )
        .unwrap();
        assert_eq!(m.base.unwrap().name, b"a.1.base.aof");
        assert_eq!(m.incr.len(), 1);
    }

    #[test]
    fn errors_are_valkeys() {
        assert_eq!(reason(""), "Found an empty AOF manifest");
        assert_eq!(
            reason("file a seq 1 type i\n\nfile b seq 3 type i\n"),
            INVALID
        );
        let e = parse("file a seq 1 type b\nfile b seq 1 type i newkey\n").unwrap_err();
        assert_eq!(e.line, Some((2, "file b seq 1 type i newkey".into())));
        assert_eq!(e.reason, INVALID);
        assert_eq!(reason("filx a seq 1 type b\n"), INVALID);
        assert_eq!(reason("file a type b\n"), INVALID);
        assert_eq!(reason("file a seq 0 type b\n"), INVALID);
        assert_eq!(reason("file a seq x type b\n"), INVALID);
        assert_eq!(reason("file \"a seq 1 type b\n"), INVALID);
        assert_eq!(
            reason("file a seq 1 type b\nfile b seq 2 type b\n"),
            "Found duplicate base file information"
        );
        assert_eq!(
            reason("file a seq 2 type i\nfile b seq 1 type i\n"),
            "Found a non-monotonic sequence number"
        );
        assert_eq!(reason("file a seq 1 type x\n"), "Unknown AOF file type");
        assert_eq!(
            reason("file dir/a seq 1 type b\n"),
            "File can't be a path, just a filename"
        );
        let long = format!("file {} seq 1 type b\n", "a".repeat(1100));
        assert_eq!(
            parse(&long).unwrap_err(),
            ManifestError {
                line: None,
                reason: "The AOF manifest file contains too long line"
            }
        );
        // The last line must end in a newline (what fgets leaves).
        assert_eq!(
            reason("file a seq 1 type b"),
            "The AOF manifest file contains too long line"
        );
        let lines = parse("file a type b\n").unwrap_err().log_lines();
        assert_eq!(lines[1], "Reading the manifest file, at line 1\n");
        assert_eq!(lines[2], ">>> 'file a type b'\n");
        assert_eq!(lines[3], "Invalid AOF manifest file format\n");
    }

    #[test]
    fn odd_names_are_quoted_and_read_back() {
        let m = Manifest {
            base: Some(AofFile {
                name: b"my file\n\"x\".rdb".to_vec(),
                seq: 1,
                kind: FileKind::Base,
            }),
            ..Default::default()
        };
        let text = m.render();
        assert_eq!(text, b"file \"my file\\n\\\"x\\\".rdb\" seq 1 type b\n");
        assert_eq!(Manifest::parse(&text).unwrap().base, m.base);
    }

    #[test]
    fn rewrites_move_files_to_history() {
        let mut m = Manifest::default();
        assert_eq!(
            m.last_incr_or_new("appendonly.aof").name,
            b"appendonly.aof.1.incr.aof"
        );
        assert_eq!(
            m.new_base("appendonly.aof", true).name,
            b"appendonly.aof.1.base.rdb"
        );
        // A rewrite starts: a new INCR file, then the old ones are history.
        m.new_incr("appendonly.aof");
        m.new_base("appendonly.aof", false);
        m.mark_rewritten_incr_as_history(true);
        let text = String::from_utf8(m.render()).unwrap();
        assert_eq!(
            text,
            "file appendonly.aof.2.base.aof seq 2 type b\n\
             file appendonly.aof.1.incr.aof seq 1 type h\n\
             file appendonly.aof.1.base.rdb seq 1 type h\n\
             file appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        assert!(m.dirty);
        assert_eq!(m.take_history().len(), 2);
        assert_eq!(Manifest::parse(&m.render()).unwrap().incr_seq, 2);
    }

    #[test]
    fn persist_replaces_the_manifest_atomically() {
        let dir = std::env::temp_dir().join(format!("fk-manifest-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        assert!(load(&dir, "appendonly.aof").unwrap().is_none());
        assert!(load(&dir.join("missing"), "appendonly.aof")
            .unwrap()
            .is_none());
        let mut m = Manifest::default();
        m.new_base("appendonly.aof", true);
        m.new_incr("appendonly.aof");
        persist(&dir, "appendonly.aof", &mut m).unwrap();
        assert!(!m.dirty);
        assert!(!dir.join("temp-appendonly.aof.manifest").exists());
        let back = load(&dir, "appendonly.aof").unwrap().unwrap();
        assert_eq!(back.render(), m.render());
        fs::write(dir.join("appendonly.aof.manifest"), b"bad\n").unwrap();
        assert!(matches!(
            load(&dir, "appendonly.aof"),
            Err(LoadError::Format(_))
        ));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn atoll_is_cs() {
        assert_eq!(atoll(b"12x"), 12);
        assert_eq!(atoll(b" -3"), -3);
        assert_eq!(atoll(b"x"), 0);
        assert_eq!(atoll(b"99999999999999999999"), i64::MAX);
    }
}
