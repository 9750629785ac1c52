//! MIGRATE: moves keys to another server over a real connection, as
//! Valkey does it: on the main thread, synchronously, each step (connect,
//! every 64 KiB written, every reply line read) bounded by the timeout
//! argument. The target gets one RESTORE per key (the key's DUMP payload,
//! its remaining TTL in ms, REPLACE if asked), after AUTH and SELECT when
//! needed; the source deletes a key only once the target acknowledged it
//! (never with COPY) and propagates the deletion as `DEL key ...`.
//!
//! Connections are cached per "host:port" (at most 64; a full cache drops
//! one at random) in `State::migrate_sockets`, with the db last SELECTed
//! on them; the cron closes those idle for more than 10 s. A socket error
//! closes the connection, and the command is retried once on a fresh one
//! when nothing was acknowledged yet and it was no timeout: a cached
//! connection whose server went away fails on first use, and the retry
//! reconnects. Replies are read line by line into bounded buffers, as
//! Valkey's 1024-byte ones: nothing the target sends sizes an allocation.
//!
//! RESTORE-ASKING is RESTORE (this server is no cluster node).

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::args::{int, is};
use super::flags::*;
use super::meta::{acl, arg, doc_flags, ks, Doc, Group, Secret};
use super::propagate::{self, word};
use super::{CommandSpec, Ctx, KeySpec};
use crate::config::notify;
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::keyspace::{Access, Free};
use crate::persist::finish_payload;
use crate::persist::object::write_entry;

/// Most connections kept (Valkey's MIGRATE_SOCKET_CACHE_ITEMS).
const CACHE_ITEMS: usize = 64;
/// A cached connection unused for longer is closed by the cron.
const CACHE_TTL: Duration = Duration::from_secs(10);
/// The request is written in pieces of this size, each within the timeout.
const WRITE_CHUNK: usize = 64 * 1024;
/// Longest reply line kept: Valkey reads them into 1024-byte buffers (the
/// rest of a longer line is read as the next reply, there as here).
const LINE_MAX: usize = 1023;

const KEYS_NEED_EMPTY_KEY: &str =
    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string";
const IOERR_CONNECT: &str = "IOERR error or timeout connecting to the client";
const IOERR_READ: &str = "IOERR error or timeout reading to target instance";
const IOERR_WRITE: &str = "IOERR error or timeout writing to target instance";

/// What `State::migrate_sockets` keeps per "host:port": the connection,
/// the db it last SELECTed (None: unknown, SELECT again), its last use.
pub type Cached = (TcpStream, Option<i64>, Instant);

/// The flags of MIGRATE's keys (its key specifications').
const KEY_FLAGS: u16 = ks::RW | ks::ACCESS | ks::DELETE;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "migrate",
        arity: -6,
        flags: WRITE,
        // argv[3], or the keys after KEYS (`key_positions`).
        keys: KeySpec::own(3, 3),
        handler: migrate,
        subcommands: &[],
        doc: &Doc {
            summary: "Moves one or more keys to another server, atomically from the \
                      point of view of each.",
            complexity: "This command actually executes a DUMP+DEL in the source instance, \
                         and a RESTORE in the target instance. See the pages of these commands \
                         for time complexity. Also an O(N) data transfer between the two \
                         instances is performed.",
            tips: &["nondeterministic_output"],
            key_specs: &[
                ks::one(3, KEY_FLAGS),
                ks::spec(
                    KEY_FLAGS | ks::INCOMPLETE,
                    ks::Begin::Keyword {
                        keyword: "KEYS",
                        startfrom: -2,
                    },
                    ks::Find::Range {
                        lastkey: -1,
                        step: 1,
                        limit: 0,
                    },
                ),
            ],
            args: &[
                arg::string("host"),
                arg::integer("port"),
                arg::oneof(
                    "key-selector",
                    &[arg::key("key", 0), arg::pure("empty-string", "")],
                ),
                arg::integer("destination-db"),
                arg::integer("timeout"),
                arg::pure("copy", "COPY").since("3.0.0").optional(),
                arg::pure("replace", "REPLACE").since("3.0.0").optional(),
                arg::oneof(
                    "authentication",
                    &[
                        arg::string("auth")
                            .token("AUTH")
                            .display("password")
                            .since("4.0.7"),
                        arg::block("auth2", &[arg::string("username"), arg::string("password")])
                            .token("AUTH2")
                            .since("6.0.0"),
                    ],
                )
                .optional(),
                arg::key("keys", 1)
                    .token("KEYS")
                    .display("key")
                    .since("3.0.6")
                    .optional()
                    .multiple(),
            ],
            history: &[
                ("3.0.0", "Adds the COPY and REPLACE options."),
                (
                    "3.0.6",
                    "Adds the KEYS option, to move several keys at once.",
                ),
                ("4.0.7", "Adds the AUTH option."),
                (
                    "6.0.0",
                    "Adds the AUTH2 option (a username and a password).",
                ),
            ],
            secret: Secret::Migrate,
            ..Doc::new(Group::Generic, "2.6.0", acl::KEYSPACE | acl::DANGEROUS)
        },
    },
    CommandSpec {
        name: "restore-asking",
        arity: -4,
        flags: WRITE | DENYOOM | ASKING,
        keys: KeySpec::ONE,
        handler: super::dump::restore,
        subcommands: &[],
        doc: &Doc {
            summary: "RESTORE, sent by MIGRATE to a cluster node that is importing the \
                      key's slot.",
            complexity: "O(1) to create the key, then O(N*M) to read the value: N elements \
                         of M bytes on average; a sorted set adds O(log N) per element.",
            key_specs: &[ks::one(1, ks::OW | ks::UPDATE)],
            args: super::dump::RESTORE_ARGS,
            history: super::dump::RESTORE_HISTORY,
            doc_flags: doc_flags::SYSCMD,
            ..Doc::new(Group::Server, "3.0.0", acl::KEYSPACE | acl::DANGEROUS)
        },
    },
];

/// MIGRATE's options, as its parser reads them.
struct Options<'a> {
    copy: bool,
    replace: bool,
    /// (username, password) from AUTH or AUTH2; the last one given wins.
    auth: Option<(Option<&'a [u8]>, &'a [u8])>,
    /// The keys: argv[3], or those after KEYS.
    keys: &'a [Bytes],
}

fn parse(argv: &[Bytes]) -> Result<Options<'_>, CmdError> {
    let mut o = Options {
        copy: false,
        replace: false,
        auth: None,
        keys: &argv[3..4],
    };
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let a = &argv[j];
        if is(a, "copy") {
            o.copy = true;
        } else if is(a, "replace") {
            o.replace = true;
        } else if is(a, "auth") {
            if more < 1 {
                return Err(SYNTAX.into());
            }
            o.auth = Some((None, &argv[j + 1]));
            j += 1;
        } else if is(a, "auth2") {
            if more < 2 {
                return Err(SYNTAX.into());
            }
            o.auth = Some((Some(&argv[j + 1]), &argv[j + 2]));
            j += 2;
        } else if is(a, "keys") {
            if !argv[3].is_empty() {
                return Err(KEYS_NEED_EMPTY_KEY.into());
            }
            o.keys = &argv[j + 1..];
            break;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    Ok(o)
}

/// Where the passwords (and AUTH2's username) are, for the slow log and
/// MONITOR: what the parser redacts as it reads, up to an error or KEYS.
pub fn secret_positions(argv: &[Bytes]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let a = &argv[j];
        if is(a, "auth") && more >= 1 {
            out.push(j + 1);
            j += 1;
        } else if is(a, "auth2") && more >= 2 {
            out.extend([j + 1, j + 2]);
            j += 2;
        } else if !is(a, "copy") && !is(a, "replace") {
            break;
        }
        j += 1;
    }
    out
}

/// The keys of a call as Valkey's migrateGetKeys finds them (the KEYS
/// form only with an empty key argument; none then if KEYS has a key
/// argument), as (first index, count).
fn own_keys(argv: &[Bytes]) -> (usize, usize) {
    let mut i = 6;
    while i < argv.len() {
        let a = &argv[i];
        if is(a, "keys") {
            if !argv[3].is_empty() {
                return (0, 0);
            }
            return (i + 1, argv.len() - i - 1);
        }
        if is(a, "auth") {
            i += 1;
        } else if is(a, "auth2") {
            i += 2;
        }
        i += 1;
    }
    (3, 1)
}

/// Key positions for prefetching (`table::key_positions`).
pub fn key_positions(argv: &[Bytes], out: &mut Vec<usize>) {
    let (first, n) = own_keys(argv);
    out.extend((first..first + n).filter(|&i| i < argv.len()));
}

/// COMMAND GETKEYS: Valkey tries the key specifications first and falls
/// back to migrateGetKeys when the KEYS specification (incomplete) finds
/// its keyword, searching back from the last argument but one.
pub fn getkeys(argv: &[Bytes]) -> Vec<(usize, u16)> {
    let keyword = (2..argv.len().saturating_sub(1)).any(|i| is(&argv[i], "keys"));
    let (first, n) = if keyword { own_keys(argv) } else { (3, 1) };
    (first..first + n)
        .filter(|&i| i < argv.len())
        .map(|i| (i, KEY_FLAGS))
        .collect()
}

/// Closes the cached connections unused for more than 10 s (the cron).
pub fn close_idle_sockets(cache: &mut HashMap<Vec<u8>, Cached>) {
    if !cache.is_empty() {
        cache.retain(|_, (_, _, used)| used.elapsed() <= CACHE_TTL);
    }
}

/// C's atoi, as Valkey reads the port: leading blanks, a sign, digits up to
/// the first other byte; anything else is 0.
fn atoi(s: &[u8]) -> i64 {
    let mut i = s
        .iter()
        .position(|b| !b" \t\n\r\x0b\x0c".contains(b))
        .unwrap_or(s.len());
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut n: i64 = 0;
    while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add((d - b'0') as i64);
        i += 1;
    }
    if neg {
        -n
    } else {
        n
    }
}

/// A connection to `host`:`port`, as Valkey's connBlockingConnect makes
/// it: the first address the name resolves to whose non-blocking connect
/// starts, then at most `timeout` waiting for it to complete. A connect
/// that fails or times out after starting still gives the socket: the
/// write reports it (so a closed port is an error "writing", retried
/// once, and only an unresolvable name or a negative port fails here).
/// The port is read as C's atoi, and wraps at 65536 as the resolver does.
fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Option<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let host = std::str::from_utf8(host).ok()?;
    let port = atoi(port);
    if port < 0 {
        return None;
    }
    for addr in (host, port as u16).to_socket_addrs().ok()? {
        let Ok(sock) = Socket::new(Domain::for_address(addr), Type::STREAM, None) else {
            continue;
        };
        if sock.set_nonblocking(true).is_err() {
            continue;
        }
        match sock.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => wait_writable(&sock, timeout),
            Err(_) => continue,
        }
        if sock.set_nonblocking(false).is_err() {
            continue;
        }
        let s = TcpStream::from(sock);
        let _ = s.set_nodelay(true);
        return Some(s);
    }
    None
}

/// Waits until `sock` is writable (connected, or failed), at most
/// `timeout`.
fn wait_writable(sock: &socket2::Socket, timeout: Duration) {
    use std::os::fd::AsRawFd;
    let mut pfd = libc::pollfd {
        fd: sock.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        let interrupted = n < 0
            && std::io::Error::last_os_error().kind() == ErrorKind::Interrupted
            && !left.is_zero();
        if !interrupted {
            return;
        }
    }
}

/// A socket failure: whether it was the timeout (which is never retried).
fn timed_out(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Writes `buf` in 64 KiB pieces, each within `timeout`.
fn write_chunked(s: &mut TcpStream, buf: &[u8], timeout: Duration) -> std::io::Result<()> {
    for chunk in buf.chunks(WRITE_CHUNK) {
        let deadline = Instant::now() + timeout;
        let mut at = 0;
        while at < chunk.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            s.set_write_timeout(Some(left))?;
            match s.write(&chunk[at..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => at += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Reads reply lines through a fixed buffer: a line is what comes before
/// `\n` (one `\r` before it dropped), at most `LINE_MAX` bytes of it at a
/// time. Each read waits at most the socket's read timeout.
struct Lines {
    buf: Box<[u8; 4096]>,
    start: usize,
    end: usize,
}

impl Lines {
    fn new() -> Lines {
        Lines {
            buf: Box::new([0; 4096]),
            start: 0,
            end: 0,
        }
    }

    /// The next line. A lone `\n` is a failure, as Valkey's syncReadLine
    /// returning 0 bytes is; so is the end of the stream.
    fn line(&mut self, r: &mut impl Read) -> std::io::Result<Vec<u8>> {
        let mut line = Vec::new();
        loop {
            if self.start == self.end {
                self.start = 0;
                self.end = loop {
                    match r.read(&mut self.buf[..]) {
                        Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
                        Ok(n) => break n,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                };
            }
            let room = LINE_MAX - line.len();
            let avail = &self.buf[self.start..self.end];
            let take = avail.len().min(room);
            if let Some(nl) = avail[..take].iter().position(|&b| b == b'\n') {
                line.extend_from_slice(&avail[..nl]);
                self.start += nl + 1;
                if line.is_empty() {
                    return Err(ErrorKind::InvalidData.into());
                }
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            line.extend_from_slice(&avail[..take]);
            self.start += take;
            if line.len() == LINE_MAX {
                return Ok(line);
            }
        }
    }
}

/// Appends `*n` then each argument as a bulk string.
fn push_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// How one attempt ended when the connection failed.
struct SocketError {
    error: std::io::Error,
    writing: bool,
}

fn migrate(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let o = parse(argv)?;
    let timeout = int(&argv[5])?;
    let dbid = int(&argv[4])?;
    let timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });
    let now = ctx.now;

    // Only the keys that exist go; none at all is no error.
    let mut keys: Vec<&Bytes> = Vec::new();
    for k in o.keys {
        if ctx.db().lookup(k, now, Access::READ).is_some() {
            keys.push(k);
        }
    }
    if keys.is_empty() {
        ctx.out.simple("NOKEY");
        return Ok(());
    }

    let (host, port) = (&argv[1][..], &argv[2][..]);
    let mut name = host.to_vec();
    name.push(b':');
    name.extend_from_slice(port);
    let compress = ctx.config().extra.get("rdbcompression").map(String::as_str) != Some("no");
    let lazy = ctx.config().lazyfree_lazy_server_del;
    let mut may_retry = true;
    loop {
        let Some((mut sock, last_db)) = take_socket(ctx, &name, host, port, timeout) else {
            return Err(IOERR_CONNECT.into());
        };

        // The whole request: AUTH, SELECT, a RESTORE per key still live.
        let mut req = Vec::new();
        if let Some((user, pass)) = o.auth {
            match user {
                Some(u) => push_command(&mut req, &[b"AUTH", u, pass]),
                None => push_command(&mut req, &[b"AUTH", pass]),
            }
        }
        // Valkey keeps "unknown" as db -1, so MIGRATE to db -1 on such a
        // connection sends no SELECT: kept, to answer as it does.
        let select = last_db.unwrap_or(-1) != dbid;
        if select {
            push_command(&mut req, &[b"SELECT", dbid.to_string().as_bytes()]);
        }
        let mut sent: Vec<&Bytes> = Vec::with_capacity(keys.len());
        let mut payload = Vec::new();
        for &k in &keys {
            let Some(e) = ctx.db().lookup(k, now, Access::NO_EFFECTS) else {
                continue;
            };
            let mut ttl = 0;
            let at = e.expire();
            if at != 0 {
                ttl = at - now;
                if ttl < 0 {
                    continue;
                }
                ttl = ttl.max(1);
            }
            payload.clear();
            write_entry(&mut payload, e, compress);
            finish_payload(&mut payload);
            let ttl = ttl.to_string();
            let mut args: Vec<&[u8]> = vec![b"RESTORE", k, ttl.as_bytes(), &payload];
            if o.replace {
                args.push(b"REPLACE");
            }
            push_command(&mut req, &args);
            sent.push(k);
        }

        let attempt = exchange(
            ctx,
            &mut sock,
            &req,
            timeout,
            o.auth.is_some(),
            select,
            &sent,
            o.copy,
            lazy,
        );
        let failure = match attempt {
            Exchange::Done {
                deleted,
                target_error,
                socket_error,
            } => {
                if !o.copy && !deleted.is_empty() {
                    // Only the acknowledged keys were deleted: they are what
                    // replicas and the AOF delete.
                    let mut del = Vec::with_capacity(deleted.len() + 1);
                    del.push(word("DEL"));
                    del.extend(deleted.iter().map(|k| propagate::arg(k)));
                    ctx.rewrite(del);
                }
                match (target_error, socket_error) {
                    (Some(e), socket_error) => {
                        // The target's error is the reply; the db it has
                        // selected is unknown now.
                        if socket_error.is_none() {
                            put_socket(ctx, name, sock, None);
                        }
                        return Err(e);
                    }
                    (None, Some(e)) => {
                        may_retry = false;
                        e
                    }
                    (None, None) => {
                        put_socket(ctx, name, sock, Some(dbid));
                        ctx.out.ok();
                        return Ok(());
                    }
                }
            }
            Exchange::Failed(e) => e,
        };
        // The connection is dropped (closed); a fresh one is tried once,
        // unless the step timed out.
        drop(sock);
        if may_retry && !timed_out(&failure.error) {
            may_retry = false;
            continue;
        }
        return Err(if failure.writing {
            IOERR_WRITE
        } else {
            IOERR_READ
        }
        .into());
    }
}

/// The cached connection to `name` (with the db last selected on it), or
/// a new one, taken out of the cache for the time of the command.
fn take_socket(
    ctx: &mut Ctx,
    name: &[u8],
    host: &[u8],
    port: &[u8],
    timeout: Duration,
) -> Option<(TcpStream, Option<i64>)> {
    let st = ctx.admin().state;
    if let Some((s, db, _)) = st.migrate_sockets.remove(name) {
        return Some((s, db));
    }
    if st.migrate_sockets.len() >= CACHE_ITEMS {
        // Full: one goes, at random.
        let n = st.rng.below(st.migrate_sockets.len());
        if let Some(victim) = st.migrate_sockets.keys().nth(n).cloned() {
            st.migrate_sockets.remove(&victim);
        }
    }
    connect(host, port, timeout).map(|s| (s, None))
}

/// Returns a connection to the cache, used now, `db` selected on it.
fn put_socket(ctx: &mut Ctx, name: Vec<u8>, sock: TcpStream, db: Option<i64>) {
    let st = ctx.admin().state;
    st.migrate_sockets.insert(name, (sock, db, Instant::now()));
}

enum Exchange<'k> {
    /// The RESTORE replies were read (all, or up to a socket error after
    /// the first): which keys were deleted here, the target's first error.
    Done {
        deleted: Vec<&'k Bytes>,
        target_error: Option<CmdError>,
        socket_error: Option<SocketError>,
    },
    /// Nothing was acknowledged: the request could not be written, or no
    /// reply came.
    Failed(SocketError),
}

/// Sends the request and reads its replies: AUTH's, SELECT's, then one per
/// key in `sent`, deleting each acknowledged key unless `copy`.
#[allow(clippy::too_many_arguments)]
fn exchange<'k>(
    ctx: &mut Ctx,
    sock: &mut TcpStream,
    req: &[u8],
    timeout: Duration,
    auth: bool,
    select: bool,
    sent: &[&'k Bytes],
    copy: bool,
    lazy: bool,
) -> Exchange<'k> {
    if let Err(error) = write_chunked(sock, req, timeout) {
        return Exchange::Failed(SocketError {
            error,
            writing: true,
        });
    }
    let reading = |error| SocketError {
        error,
        writing: false,
    };
    if let Err(e) = sock.set_read_timeout(Some(timeout)) {
        return Exchange::Failed(reading(e));
    }
    let mut lines = Lines::new();
    let mut setup_error = None;
    for wanted in [auth, select] {
        if wanted {
            match lines.line(sock) {
                Ok(l) if setup_error.is_none() && l.first() == Some(&b'-') => setup_error = Some(l),
                Ok(_) => {}
                Err(e) => return Exchange::Failed(reading(e)),
            }
        }
    }
    let now = ctx.now;
    let mut deleted = Vec::new();
    let mut target_error = None;
    for (j, &k) in sent.iter().enumerate() {
        let line = match lines.line(sock) {
            Ok(l) => l,
            Err(e) => {
                if j == 0 && target_error.is_none() && !timed_out(&e) {
                    // Nothing processed: the retry may send it all again.
                    return Exchange::Failed(reading(e));
                }
                return Exchange::Done {
                    deleted,
                    target_error,
                    socket_error: Some(reading(e)),
                };
            }
        };
        let error = setup_error
            .as_deref()
            .or((line.first() == Some(&b'-')).then_some(&line[..]));
        if let Some(e) = error {
            if target_error.is_none() {
                target_error = Some(target_replied(e));
            }
        } else if !copy {
            ctx.db()
                .delete(k, now, if lazy { Free::Async } else { Free::Sync });
            ctx.modified(k);
            ctx.notify(notify::GENERIC, "del", k);
            ctx.dirty(1);
            deleted.push(k);
        }
    }
    Exchange::Done {
        deleted,
        target_error,
        socket_error: None,
    }
}

/// `ERR Target instance replied with error: ...` for the target's error
/// line (its `-` dropped), with CR and LF made spaces as Valkey does.
fn target_replied(line: &[u8]) -> CmdError {
    let text = String::from_utf8_lossy(&line[1..]);
    let text = text.trim_matches(['\r', '\n']).replace(['\r', '\n'], " ");
    CmdError::owned(format!("ERR Target instance replied with error: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn options() {
        let a = argv(&["migrate", "h", "1", "k", "0", "5", "copy", "REPLACE"]);
        let o = parse(&a).expect("parses");
        assert!(o.copy && o.replace && o.auth.is_none());
        assert_eq!(o.keys, &a[3..4]);
        let a = argv(&[
            "migrate", "h", "1", "", "0", "5", "auth2", "u", "p", "keys", "a", "b",
        ]);
        let o = parse(&a).expect("parses");
        assert_eq!(o.auth, Some((Some(&b"u"[..]), &b"p"[..])));
        assert_eq!(o.keys, &a[10..]);
        let err = |v: &[&str]| parse(&argv(v)).err().map(|e| e.0.into_owned());
        assert_eq!(
            err(&["migrate", "h", "1", "k", "0", "5", "auth"]),
            Some(SYNTAX.into())
        );
        assert_eq!(
            err(&["migrate", "h", "1", "k", "0", "5", "auth2", "u"]),
            Some(SYNTAX.into())
        );
        assert_eq!(
            err(&["migrate", "h", "1", "k", "0", "5", "keys", "a"]),
            Some(KEYS_NEED_EMPTY_KEY.into())
        );
        assert_eq!(
            err(&["migrate", "h", "1", "k", "0", "5", "nope"]),
            Some(SYNTAX.into())
        );
    }

    #[test]
    fn secrets_are_what_the_parser_reads() {
        let of = |v: &[&str]| secret_positions(&argv(v));
        assert_eq!(
            of(&["migrate", "h", "1", "k", "0", "5", "auth", "pw"]),
            vec![7]
        );
        assert_eq!(
            of(&["migrate", "h", "1", "", "0", "5", "copy", "auth2", "u", "p", "keys", "auth"]),
            vec![8, 9]
        );
        assert!(of(&["migrate", "h", "1", "k", "0", "5", "auth"]).is_empty());
        assert!(of(&["migrate", "auth", "1", "k", "0", "5"]).is_empty());
    }

    /// As COMMAND GETKEYS in Valkey 9.1 answers.
    #[test]
    fn getkeys_as_valkey() {
        let keys = |v: &[&str]| -> Vec<String> {
            let a = argv(v);
            getkeys(&a)
                .into_iter()
                .map(|(i, _)| String::from_utf8_lossy(&a[i]).into_owned())
                .collect()
        };
        assert_eq!(keys(&["migrate", "h", "1", "k", "0", "5"]), ["k"]);
        assert_eq!(
            keys(&["migrate", "h", "1", "", "0", "5", "keys", "a", "b"]),
            ["a", "b"]
        );
        assert_eq!(
            keys(&["migrate", "h", "1", "", "0", "5", "auth", "keys", "a", "b"]),
            [""]
        );
        assert_eq!(
            keys(&["migrate", "h", "1", "", "0", "5", "auth2", "keys", "x", "a", "b"]),
            [""]
        );
        assert!(keys(&["migrate", "h", "1", "k", "0", "5", "keys", "a", "b"]).is_empty());
        assert_eq!(keys(&["migrate", "h", "1", "", "0", "5", "keys"]), [""]);
        assert_eq!(
            keys(&["migrate", "h", "1", "", "0", "5", "foo", "keys", "a"]),
            ["a"]
        );
        let mut pos = Vec::new();
        key_positions(
            &argv(&["migrate", "h", "1", "", "0", "5", "keys", "a", "b"]),
            &mut pos,
        );
        assert_eq!(pos, [7, 8]);
    }

    #[test]
    fn atoi_reads_like_c() {
        assert_eq!(atoi(b"6379"), 6379);
        assert_eq!(atoi(b" 12ab"), 12);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"-5"), -5);
        assert_eq!(atoi(b"+7"), 7);
    }

    #[test]
    fn reply_lines_are_bounded() {
        let mut data: &[u8] = b"+OK\r\n-ERR x\r\n\r\nlast";
        let mut l = Lines::new();
        assert_eq!(l.line(&mut data).expect("line"), b"+OK");
        assert_eq!(l.line(&mut data).expect("line"), b"-ERR x");
        // "\r\n" alone is a (blank) line; "\n" alone and the end are not.
        assert_eq!(l.line(&mut data).expect("line"), b"");
        assert!(l.line(&mut data).is_err());
        let mut data: &[u8] = b"\n";
        assert!(Lines::new().line(&mut data).is_err());
        // A long line comes in LINE_MAX pieces, the rest read next.
        let long = [vec![b'-'; 3000], b"\r\n+OK\r\n".to_vec()].concat();
        let mut data: &[u8] = &long;
        let mut l = Lines::new();
        assert_eq!(l.line(&mut data).expect("line").len(), LINE_MAX);
        assert_eq!(l.line(&mut data).expect("line").len(), LINE_MAX);
        assert_eq!(l.line(&mut data).expect("line").len(), 3000 - 2 * LINE_MAX);
        assert_eq!(l.line(&mut data).expect("line"), b"+OK");
    }

    #[test]
    fn target_errors_are_quoted() {
        assert_eq!(
            target_replied(b"-BUSYKEY Target key name already exists.").0,
            "ERR Target instance replied with error: BUSYKEY Target key name already exists."
        );
        assert_eq!(
            target_replied(b"-ERR a\rb\r").0,
            "ERR Target instance replied with error: ERR a b"
        );
    }
}
