//! MONITOR: the clients that watch every command run, and the lines
//! waiting to reach them.
//!
//! The call path formats one line per command it runs (`feed`, only while
//! a monitor exists): `+<unix secs>.<micros> [<db> <ip:port>] "cmd" "arg"`,
//! each argument quoted as Valkey's `sdscatrepr`, secret arguments shown
//! as `(redacted)`. `flush` then hands the lines to the IO side the way
//! Pub/Sub messages go: one shared buffer per IO thread (`ToIo::Push`),
//! appended to while it is still in the outbox, so many monitors cost one
//! copy per thread, not one per monitor. A monitor whose own replies are
//! being built in the batch gets the lines in its reply, so what it reads
//! keeps the order in which things ran.

pub use crate::util::sds::quote;
use std::io::Write;

use bytes::Bytes;
use hashbrown::HashMap;

use super::client::{Client, Clients};
use crate::net::message::{ClientId, PushBatch, ToIo};
use crate::net::stream::PeerAddr;
use crate::resp::ReplyBuf;

/// A push is closed to more lines past this size, so the output limit of
/// a monitor that does not read is checked often enough.
const PUSH_BATCH_MAX: usize = 64 * 1024;

/// How far back `open_push` looks past replies to other clients.
const OPEN_PUSH_LOOKBACK: usize = 64;

/// Who ran a command, as a monitor line names it.
#[derive(Clone, Copy, Debug)]
pub enum Peer<'a> {
    /// A client's own command: its `ip:port`, or `unix:<path>`.
    Client(&'a PeerAddr),
    /// A command a script ran (`[<db> lua]`).
    Script,
}

#[derive(Default)]
pub struct Monitors {
    /// Monitoring clients, in the order they started.
    ids: Vec<ClientId>,
    /// Lines fed since the last `flush`.
    pending: Vec<u8>,
    /// Lines for monitors moving between IO threads, written into the
    /// connection when it arrives at the main thread.
    stashed: HashMap<ClientId, Vec<u8>>,
    /// Per IO thread, scratch for `flush`.
    groups: Vec<Vec<ClientId>>,
}

impl Monitors {
    /// Some client is monitoring (the call path's one test).
    #[inline]
    pub fn active(&self) -> bool {
        !self.ids.is_empty()
    }

    /// Lines wait for `flush`.
    #[inline]
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    pub fn count(&self) -> usize {
        self.ids.len()
    }

    pub fn contains(&self, id: ClientId) -> bool {
        self.ids.contains(&id)
    }

    pub fn add(&mut self, id: ClientId) {
        if !self.contains(id) {
            self.ids.push(id);
        }
    }

    /// Stops `id` monitoring (RESET, disconnect); true if it was.
    pub fn remove(&mut self, id: ClientId) -> bool {
        self.stashed.remove(&id);
        let before = self.ids.len();
        self.ids.retain(|&m| m != id);
        if self.ids.is_empty() {
            self.pending.clear();
        }
        before != self.ids.len()
    }

    /// Lines stashed for a monitor that was moving between threads.
    pub fn take_stashed(&mut self, id: ClientId) -> Option<Vec<u8>> {
        self.stashed.remove(&id)
    }

    /// Records one command run in `db` by `peer`; the arguments at
    /// `secret` positions are shown as `(redacted)`.
    pub fn feed(&mut self, db: usize, peer: Peer<'_>, argv: &[Bytes], secret: &[usize]) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let line = &mut self.pending;
        let _ = write!(
            line,
            "+{}.{:06} [{} ",
            now.as_secs(),
            now.subsec_micros(),
            db
        );
        let _ = match peer {
            Peer::Client(PeerAddr::Tcp(addr)) => write!(line, "{addr}] "),
            Peer::Client(PeerAddr::Unix(path)) => write!(line, "unix:{path}] "),
            Peer::Script => write!(line, "lua] "),
        };
        for (i, a) in argv.iter().enumerate() {
            if i > 0 {
                line.push(b' ');
            }
            if secret.contains(&i) {
                line.extend_from_slice(b"\"(redacted)\"");
            } else {
                quote(line, a);
            }
        }
        line.extend_from_slice(b"\r\n");
    }

    /// Sends the pending lines to every monitor: appended to the replies
    /// in `held` (monitors whose replies are being built), to a push still
    /// in the outbox for the same monitors, or in a new push per thread.
    /// Returns the bytes sent (INFO total_net_output_bytes).
    pub fn flush(
        &mut self,
        clients: &mut Clients,
        held: &mut [(ClientId, &mut ReplyBuf)],
        per_thread: &mut [Vec<ToIo>],
    ) -> u64 {
        let mut sent = 0u64;
        let lines = std::mem::take(&mut self.pending);
        self.groups.resize_with(per_thread.len(), Vec::new);
        self.groups.iter_mut().for_each(Vec::clear);
        let now = crate::util::clock::Stamp::now();
        for &id in &self.ids {
            let Some(slot) = clients.slot_of(id) else {
                continue;
            };
            let c = clients.at_mut(slot);
            if c.close_after_reply {
                // Closing (QUIT): Valkey adds nothing more to its output.
                continue;
            }
            // Output counts as interaction (CLIENT LIST idle), as Valkey.
            c.last_interaction = now;
            if let Some((_, out)) = held.iter_mut().find(|(h, _)| *h == id) {
                // Counted as output with the rest of the reply.
                out.buf.extend_from_slice(&lines);
                continue;
            }
            sent += lines.len() as u64;
            c.net_out += lines.len() as u64;
            if c.migrating {
                self.stashed
                    .entry(id)
                    .or_default()
                    .extend_from_slice(&lines);
            } else if let Some(g) = self.groups.get_mut(c.io_thread) {
                g.push(id);
            }
        }
        for (t, group) in self.groups.iter_mut().enumerate() {
            if group.is_empty() {
                continue;
            }
            if let Some(b) = open_push(&mut per_thread[t], &self.ids, group) {
                b.data[0].extend_from_slice(&lines);
                continue;
            }
            per_thread[t].push(ToIo::Push(Box::new(PushBatch {
                clients: [std::mem::take(group), Vec::new()],
                data: [lines.clone(), Vec::new()],
            })));
        }
        // Keep the allocation for the next lines.
        self.pending = lines;
        self.pending.clear();
        sent
    }
}

impl super::State {
    /// `c` starts monitoring (MONITOR).
    pub fn start_monitor(&mut self, c: &mut Client) {
        c.monitor = true;
        self.monitors.add(c.id);
        self.mode.monitored = true;
    }

    /// `c` stops monitoring (RESET); a no-op if it was not.
    pub fn stop_monitor(&mut self, c: &mut Client) {
        c.monitor = false;
        self.forget_monitor(c.id);
    }

    /// `stop_monitor` for a client already gone from `Clients`.
    pub fn forget_monitor(&mut self, id: ClientId) {
        if self.monitors.remove(id) {
            self.mode.monitored = self.monitors.active();
        }
    }
}

/// The push at the end of `queue` for exactly `group` (whatever their
/// protocol, monitor lines are the same bytes), looking back past replies
/// to clients that are not monitors.
fn open_push<'q>(
    queue: &'q mut [ToIo],
    monitors: &[ClientId],
    group: &[ClientId],
) -> Option<&'q mut PushBatch> {
    let mut found = None;
    for (i, msg) in queue.iter().enumerate().rev().take(OPEN_PUSH_LOOKBACK) {
        match msg {
            ToIo::Push(b) => {
                if b.clients[0] == group
                    && b.clients[1].is_empty()
                    && b.data[0].len() < PUSH_BATCH_MAX
                {
                    found = Some(i);
                }
                break;
            }
            ToIo::Reply { client, .. } if !monitors.contains(client) => {}
            _ => break,
        }
    }
    match &mut queue[found?] {
        ToIo::Push(b) => Some(b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(clients: &mut Clients, id: ClientId, thread: usize) -> usize {
        let addr = "127.0.0.1:1".parse().unwrap();
        clients.insert(Client::new(id, addr, addr, thread, true))
    }

    fn push_of(msg: &ToIo) -> &PushBatch {
        match msg {
            ToIo::Push(b) => b,
            _ => panic!("not a push"),
        }
    }

    #[test]
    fn quotes_as_sdscatrepr() {
        let mut out = Vec::new();
        quote(&mut out, b"a b\t\x01\x7f'\\\"\n\r\x07\x08\xc3\xa9");
        assert_eq!(
            out,
            b"\"a b\\t\\x01\\x7f'\\\\\\\"\\n\\r\\a\\b\\xc3\\xa9\"".to_vec()
        );
    }

    #[test]
    fn a_line_names_db_peer_and_redacts_secrets() {
        let mut m = Monitors::default();
        m.add(1);
        let peer = PeerAddr::Tcp("127.0.0.1:5000".parse().unwrap());
        let argv: Vec<Bytes> = ["AUTH", "user", "pw"]
            .iter()
            .map(|s| Bytes::from_static(s.as_bytes()))
            .collect();
        m.feed(3, Peer::Client(&peer), &argv, &[1, 2]);
        let line = String::from_utf8(m.pending.clone()).unwrap();
        let (stamp, rest) = line.split_once(' ').unwrap();
        let (secs, micros) = stamp[1..].split_once('.').unwrap();
        assert!(secs.parse::<u64>().unwrap() > 1_600_000_000);
        assert_eq!(micros.len(), 6);
        assert_eq!(
            rest,
            "[3 127.0.0.1:5000] \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"
        );
        m.pending.clear();
        m.feed(0, Peer::Script, &argv[..1], &[]);
        assert!(m.pending.ends_with(b" [0 lua] \"AUTH\"\r\n"));
    }

    #[test]
    fn one_buffer_per_thread_appended_while_unsent() {
        let mut clients = Clients::default();
        let mut m = Monitors::default();
        for (id, thread) in [(1, 1), (2, 1), (3, 2)] {
            client(&mut clients, id, thread);
            m.add(id);
        }
        let peer = PeerAddr::Tcp("127.0.0.1:9".parse().unwrap());
        let mut per_thread: Vec<Vec<ToIo>> = (0..3).map(|_| Vec::new()).collect();
        m.feed(0, Peer::Client(&peer), &[Bytes::from_static(b"a")], &[]);
        let n = m.flush(&mut clients, &mut [], &mut per_thread);
        assert!(!m.has_pending());
        m.feed(0, Peer::Client(&peer), &[Bytes::from_static(b"b")], &[]);
        let n2 = m.flush(&mut clients, &mut [], &mut per_thread);
        assert_eq!(per_thread[1].len(), 1, "appended to the unsent push");
        let b = push_of(&per_thread[1][0]);
        assert_eq!(b.clients, [vec![1, 2], vec![]]);
        let text = String::from_utf8_lossy(&b.data[0]).into_owned();
        let lines: Vec<&str> = text.split_terminator("\r\n").collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].ends_with("] \"a\"") && lines[1].ends_with("] \"b\""));
        assert_eq!(push_of(&per_thread[2][0]).clients, [vec![3], vec![]]);
        assert_eq!(n + n2, 3 * b.data[0].len() as u64);
        // Anything else for that thread closes the push to more lines.
        per_thread[1].push(ToIo::Kill { client: 9 });
        m.feed(0, Peer::Client(&peer), &[Bytes::from_static(b"c")], &[]);
        m.flush(&mut clients, &mut [], &mut per_thread);
        assert_eq!(per_thread[1].len(), 3);
    }

    #[test]
    fn a_monitor_moving_between_threads_gets_its_lines_stashed() {
        let mut clients = Clients::default();
        let mut m = Monitors::default();
        let slot = client(&mut clients, 1, 2);
        clients.at_mut(slot).migrating = true;
        m.add(1);
        let peer = PeerAddr::Tcp("127.0.0.1:9".parse().unwrap());
        let mut per_thread: Vec<Vec<ToIo>> = (0..3).map(|_| Vec::new()).collect();
        for a in [&b"a"[..], b"b"] {
            m.feed(0, Peer::Client(&peer), &[Bytes::copy_from_slice(a)], &[]);
            m.flush(&mut clients, &mut [], &mut per_thread);
        }
        assert!(per_thread.iter().all(Vec::is_empty));
        let stashed = String::from_utf8(m.take_stashed(1).unwrap()).unwrap();
        assert_eq!(stashed.matches("\r\n").count(), 2, "{stashed}");
        assert!(stashed.ends_with("] \"b\"\r\n"));
        assert_eq!(clients.at(slot).net_out, stashed.len() as u64);
        assert!(m.take_stashed(1).is_none());
    }

    #[test]
    fn a_held_monitor_gets_lines_in_its_reply_and_removal_stops_them() {
        let mut clients = Clients::default();
        let mut m = Monitors::default();
        client(&mut clients, 1, 0);
        m.add(1);
        let mut out = ReplyBuf::new(2);
        out.simple("PONG");
        let peer = PeerAddr::Tcp("127.0.0.1:9".parse().unwrap());
        m.feed(0, Peer::Client(&peer), &[Bytes::from_static(b"PING")], &[]);
        let mut per_thread = vec![Vec::new()];
        m.flush(&mut clients, &mut [(1, &mut out)], &mut per_thread);
        assert!(out.buf.starts_with(b"+PONG\r\n+"));
        assert!(out.buf.ends_with(b"\"PING\"\r\n"));
        assert!(per_thread[0].is_empty());
        assert!(m.remove(1));
        assert!(!m.active() && !m.remove(1));
    }
}
