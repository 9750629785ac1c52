//! The Pub/Sub registry: who is subscribed to which channels, patterns and
//! shard channels, and the messages published this turn on their way out.
//!
//! `publish` (and `publish_shard`) only record a message with the clients
//! it goes to; `flush` then encodes it once per protocol and hands it to the
//! IO side as shared bytes, one `ToIo::Push` per thread, so a message to a
//! thousand subscribers costs one encoding, not a thousand copies. While one
//! batch publishes many messages to the same subscribers, `flush` appends
//! them to the push still waiting in the outbox: a non-reading subscriber
//! holds a few large buffers shared with everyone else, not one per
//! message. A subscriber whose replies are still being built (its own
//! commands run in the same batch) gets the message in its reply, so what
//! it reads keeps the order in which things ran; a client publishing to
//! itself reads the message after the reply of the command that published
//! it, as Valkey delivers pushes for the current client.

use bytes::Bytes;
use hashbrown::{HashMap, HashSet};

use super::client::{Client, Clients};
use crate::net::message::{ClientId, PushBatch, ToIo};
use crate::resp::ReplyBuf;
use crate::util::glob::glob_match;

/// A push batch is closed to more messages past this size, so the output
/// limit of a subscriber that does not read is checked often enough.
const PUSH_BATCH_MAX: usize = 64 * 1024;

/// Which of a client's three subscription kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel = 0,
    Pattern = 1,
    Shard = 2,
}

impl Kind {
    /// The subscribe reply's first element.
    pub fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    pub fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// One published message waiting for `flush`: `targets[from..to]` get it.
/// Its channel and message are `arena[channel]` and `arena[message]`.
struct Pending {
    kind: Kind,
    pattern: Option<Bytes>,
    channel: std::ops::Range<usize>,
    message: std::ops::Range<usize>,
    from: usize,
    to: usize,
    /// `message` is already the wire form (a client-side caching
    /// invalidation, `push_raw`).
    raw: bool,
}

/// A client's subscriptions, by kind.
#[derive(Default)]
struct ClientSubs {
    sets: [HashSet<Bytes>; 3],
}

impl ClientSubs {
    fn total(&self) -> usize {
        self.sets.iter().map(HashSet::len).sum()
    }
}

#[derive(Default)]
pub struct PubSub {
    /// Subscribers per channel, per pattern and per shard channel, in the
    /// order they subscribed.
    maps: [HashMap<Bytes, Vec<ClientId>>; 3],
    clients: HashMap<ClientId, ClientSubs>,
    pending: Vec<Pending>,
    targets: Vec<ClientId>,
    /// The channels and messages of `pending`, copied once each.
    arena: Vec<u8>,
    /// `flush`'s per-thread subscriber groups and encodings, kept between
    /// turns so a steady stream of messages allocates nothing here.
    groups: Vec<[Vec<ClientId>; 2]>,
    enc: [Vec<u8>; 2],
    /// Clients that became or stopped being pub/sub clients (their output
    /// limit class changes on the IO side).
    class_changes: Vec<(ClientId, bool)>,
    /// Messages for clients moving between IO threads, written into the
    /// connection when it arrives at the main thread.
    stashed: HashMap<ClientId, Vec<u8>>,
    /// `pending` or `class_changes` has something (one test per command).
    dirty: bool,
    /// Clients sent `push_raw` messages (client-side caching), which need
    /// the same ordering care as subscribers.
    receivers: HashSet<ClientId>,
}

impl PubSub {
    /// Something for `flush` to do.
    #[inline]
    pub fn has_pending(&self) -> bool {
        self.dirty
    }

    /// Subscribes `c` to `name`; false if it already was.
    pub fn subscribe(&mut self, c: &mut Client, kind: Kind, name: &Bytes) -> bool {
        let subs = self.clients.entry(c.id).or_default();
        let was_pubsub = subs.total() > 0;
        if !subs.sets[kind as usize].insert(name.clone()) {
            return false;
        }
        self.maps[kind as usize]
            .entry(name.clone())
            .or_default()
            .push(c.id);
        c.subs[kind as usize] += 1;
        c.subscribed = true;
        self.dirty = true;
        if !was_pubsub {
            self.class_changes.push((c.id, true));
        }
        true
    }

    /// Unsubscribes `c` from `name`; false if it was not subscribed.
    pub fn unsubscribe(&mut self, c: &mut Client, kind: Kind, name: &[u8]) -> bool {
        let Some(subs) = self.clients.get_mut(&c.id) else {
            return false;
        };
        if !subs.sets[kind as usize].remove(name) {
            return false;
        }
        let left = subs.total();
        if left == 0 {
            self.clients.remove(&c.id);
            self.class_changes.push((c.id, false));
        }
        remove_subscriber(&mut self.maps[kind as usize], name, c.id);
        c.subs[kind as usize] -= 1;
        c.subscribed = left > 0;
        self.dirty = true;
        true
    }

    /// What `c` is subscribed to of `kind` (in no particular order, as
    /// Valkey's dictionary iteration).
    pub fn names_of(&self, id: ClientId, kind: Kind) -> Vec<Bytes> {
        self.clients
            .get(&id)
            .map(|s| s.sets[kind as usize].iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets everything about a client (disconnect, RESET).
    pub fn remove_client(&mut self, c: &mut Client) {
        self.forget(c.id);
        c.subs = [0; 3];
        c.subscribed = false;
    }

    /// `remove_client` for a client already gone from `Clients`.
    pub fn forget(&mut self, id: ClientId) {
        self.stashed.remove(&id);
        self.receivers.remove(&id);
        let Some(subs) = self.clients.remove(&id) else {
            return;
        };
        for (k, set) in subs.sets.iter().enumerate() {
            for name in set {
                remove_subscriber(&mut self.maps[k], name, id);
            }
        }
        self.class_changes.push((id, false));
        self.dirty = true;
    }

    /// PUBLISH: records `message` for the subscribers of `channel` and of
    /// the patterns matching it. Returns how many receive it (a client
    /// counted once per subscription that matches, as Valkey).
    pub fn publish(&mut self, channel: &[u8], message: &[u8]) -> usize {
        if self.clients.is_empty() {
            return 0;
        }
        let mut texts = None;
        let mut n = 0;
        if let Some(subs) = self.maps[Kind::Channel as usize].get(channel) {
            n += subs.len();
            let (c, m) = texts
                .get_or_insert_with(|| stash(&mut self.arena, channel, message))
                .clone();
            let from = self.targets.len();
            self.targets.extend_from_slice(subs);
            self.pending.push(Pending {
                kind: Kind::Channel,
                pattern: None,
                channel: c,
                message: m,
                from,
                to: self.targets.len(),
                raw: false,
            });
        }
        for (pattern, subs) in &self.maps[Kind::Pattern as usize] {
            if !glob_match(pattern, channel, false) {
                continue;
            }
            n += subs.len();
            let (c, m) = texts
                .get_or_insert_with(|| stash(&mut self.arena, channel, message))
                .clone();
            let from = self.targets.len();
            self.targets.extend_from_slice(subs);
            self.pending.push(Pending {
                kind: Kind::Pattern,
                pattern: Some(pattern.clone()),
                channel: c,
                message: m,
                from,
                to: self.targets.len(),
                raw: false,
            });
        }
        self.dirty |= n > 0;
        n
    }

    /// SPUBLISH: to the subscribers of the shard channel.
    pub fn publish_shard(&mut self, channel: &[u8], message: &[u8]) -> usize {
        let Some(subs) = self.maps[Kind::Shard as usize].get(channel) else {
            return 0;
        };
        let (c, m) = stash(&mut self.arena, channel, message);
        let from = self.targets.len();
        self.targets.extend_from_slice(subs);
        self.dirty = true;
        self.pending.push(Pending {
            kind: Kind::Shard,
            pattern: None,
            channel: c,
            message: m,
            from,
            to: self.targets.len(),
            raw: false,
        });
        subs.len()
    }

    /// Queues `data`, already in its wire form, for client `to`: delivered
    /// like a published message (after the replies built for it so far).
    pub fn push_raw(&mut self, to: ClientId, data: &[u8]) {
        self.receivers.insert(to);
        let from = self.targets.len();
        self.targets.push(to);
        self.dirty = true;
        let (channel, message) = stash(&mut self.arena, b"", data);
        self.pending.push(Pending {
            kind: Kind::Channel,
            pattern: None,
            channel,
            message,
            from,
            to: from + 1,
            raw: true,
        });
    }

    /// True if `id` may be sent messages: a subscriber, or a receiver of
    /// `push_raw` messages.
    #[inline]
    pub fn receives_pushes(&self, id: ClientId) -> bool {
        self.clients.contains_key(&id) || self.receivers.contains(&id)
    }

    /// Number of channels (or shard channels) with subscribers, and of
    /// patterns (INFO, PUBSUB NUMPAT).
    pub fn count(&self, kind: Kind) -> usize {
        self.maps[kind as usize].len()
    }

    /// Clients with at least one subscription (INFO `pubsub_clients`).
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// Subscribers of one channel or shard channel (PUBSUB NUMSUB).
    pub fn subscribers(&self, kind: Kind, name: &[u8]) -> usize {
        self.maps[kind as usize].get(name).map_or(0, Vec::len)
    }

    /// Channels (or shard channels) with subscribers, matching `pattern`.
    pub fn channels(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.maps[kind as usize]
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    /// Messages stashed for a client that was moving between threads.
    pub fn take_stashed(&mut self, id: ClientId) -> Option<Vec<u8>> {
        self.stashed.remove(&id)
    }

    /// True if `id` has any subscription.
    #[inline]
    pub fn is_subscriber(&self, id: ClientId) -> bool {
        self.clients.contains_key(&id)
    }

    /// Sends what was published to the IO side: `held` are clients whose
    /// replies are still being built (the message is appended to them);
    /// the others get shared bytes through `per_thread`. Returns the bytes
    /// sent (INFO total_net_output_bytes).
    pub fn flush(
        &mut self,
        clients: &mut Clients,
        held: &mut [(ClientId, &mut ReplyBuf)],
        per_thread: &mut [Vec<ToIo>],
    ) -> u64 {
        self.dirty = false;
        for (id, on) in self.class_changes.drain(..) {
            if let Some(c) = clients.by_id(id) {
                per_thread[c.io_thread].push(ToIo::PubSubClient { client: id, on });
            }
        }
        let mut sent = 0u64;
        let threads = per_thread.len();
        let mut groups = std::mem::take(&mut self.groups);
        groups.resize_with(threads, Default::default);
        let mut enc = std::mem::take(&mut self.enc);
        for p in self.pending.drain(..) {
            for g in groups.iter_mut().flatten() {
                g.clear();
            }
            for (resp, buf) in [2u8, 3].into_iter().zip(enc.iter_mut()) {
                buf.clear();
                encode(resp, &p, &self.arena, buf);
            }
            for &id in &self.targets[p.from..p.to] {
                let Some(slot) = clients.slot_of(id) else {
                    continue; // gone since
                };
                let c = clients.at_mut(slot);
                let r = usize::from(c.resp == 3);
                if let Some((_, out)) = held.iter_mut().find(|(h, _)| *h == id) {
                    // Counted as output with the rest of the reply.
                    out.buf.extend_from_slice(&enc[r]);
                    continue;
                }
                sent += enc[r].len() as u64;
                c.net_out += enc[r].len() as u64;
                if c.migrating {
                    self.stashed
                        .entry(id)
                        .or_default()
                        .extend_from_slice(&enc[r]);
                } else {
                    groups[c.io_thread][r].push(id);
                }
            }
            for (t, g) in groups.iter_mut().enumerate() {
                if g[0].is_empty() && g[1].is_empty() {
                    continue;
                }
                // The same subscribers as a push still in the outbox, with
                // nothing for any subscriber sent to that thread since (the
                // publishers' replies may be): append to it, so a busy
                // turn gives each subscriber one buffer and one write.
                let open = open_push(&mut per_thread[t], &self.clients, &self.receivers, g);
                if let Some(b) = open {
                    for r in 0..2 {
                        if !g[r].is_empty() {
                            b.data[r].extend_from_slice(&enc[r]);
                        }
                    }
                    continue;
                }
                let mut data: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
                for r in 0..2 {
                    if !g[r].is_empty() {
                        data[r] = enc[r].clone();
                    }
                }
                per_thread[t].push(ToIo::Push(Box::new(PushBatch {
                    clients: g.clone(),
                    data,
                })));
            }
        }
        self.groups = groups;
        self.enc = enc;
        self.arena.clear();
        self.targets.clear();
        sent
    }
}

/// How far back `open_push` looks past other messages.
const OPEN_PUSH_LOOKBACK: usize = 64;

/// The push at the end of `queue` for exactly `group`, looking back past
/// replies to clients with no subscription (they cannot be in it).
fn open_push<'q>(
    queue: &'q mut [ToIo],
    subscribers: &HashMap<ClientId, ClientSubs>,
    receivers: &HashSet<ClientId>,
    group: &[Vec<ClientId>; 2],
) -> Option<&'q mut PushBatch> {
    let mut found = None;
    for (i, msg) in queue.iter().enumerate().rev().take(OPEN_PUSH_LOOKBACK) {
        match msg {
            ToIo::Push(b) => {
                if b.clients == *group && b.data.iter().all(|d| d.len() < PUSH_BATCH_MAX) {
                    found = Some(i);
                }
                break;
            }
            ToIo::Reply { client, .. }
                if !subscribers.contains_key(client) && !receivers.contains(client) => {}
            _ => break,
        }
    }
    match &mut queue[found?] {
        ToIo::Push(b) => Some(b),
        _ => None,
    }
}

/// Copies a message's channel and text into `arena`; their ranges there.
fn stash(
    arena: &mut Vec<u8>,
    channel: &[u8],
    message: &[u8],
) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let c = arena.len()..arena.len() + channel.len();
    arena.extend_from_slice(channel);
    let m = arena.len()..arena.len() + message.len();
    arena.extend_from_slice(message);
    (c, m)
}

/// One message's wire form: an array in RESP2, a push in RESP3.
fn encode(resp: u8, p: &Pending, arena: &[u8], buf: &mut Vec<u8>) {
    if p.raw {
        buf.extend_from_slice(&arena[p.message.clone()]);
        return;
    }
    let mut out = ReplyBuf::new(resp);
    std::mem::swap(&mut out.buf, buf);
    let word: &[u8] = match p.kind {
        Kind::Channel => b"message",
        Kind::Pattern => b"pmessage",
        Kind::Shard => b"smessage",
    };
    out.push(if p.pattern.is_some() { 4 } else { 3 });
    out.bulk(word);
    if let Some(pat) = &p.pattern {
        out.bulk(pat);
    }
    out.bulk(&arena[p.channel.clone()]);
    out.bulk(&arena[p.message.clone()]);
    std::mem::swap(&mut out.buf, buf);
}

fn remove_subscriber(map: &mut HashMap<Bytes, Vec<ClientId>>, name: &[u8], id: ClientId) {
    if let Some(list) = map.get_mut(name) {
        if let Some(i) = list.iter().position(|&x| x == id) {
            list.remove(i);
        }
        if list.is_empty() {
            map.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(clients: &mut Clients, id: ClientId, thread: usize, resp: u8) -> usize {
        let addr = "127.0.0.1:1".parse().unwrap();
        let mut c = Client::new(id, addr, addr, thread, true);
        c.resp = resp;
        clients.insert(c)
    }

    fn push_of(msg: &ToIo) -> &PushBatch {
        match msg {
            ToIo::Push(b) => b,
            _ => panic!("not a push"),
        }
    }

    #[test]
    fn counts_and_unsubscribe() {
        let mut clients = Clients::default();
        let mut reg = PubSub::default();
        let s = client(&mut clients, 1, 0, 2);
        let c = clients.at_mut(s);
        let ch = Bytes::from_static(b"ch");
        assert!(reg.subscribe(c, Kind::Channel, &ch));
        assert!(!reg.subscribe(c, Kind::Channel, &ch));
        assert!(reg.subscribe(c, Kind::Pattern, &Bytes::from_static(b"c*")));
        assert_eq!(c.subs, [1, 1, 0]);
        assert!(c.subscribed);
        assert_eq!(reg.publish(b"ch", b"m"), 2);
        assert_eq!(reg.publish(b"other", b"m"), 0);
        assert!(reg.unsubscribe(c, Kind::Channel, b"ch"));
        assert!(!reg.unsubscribe(c, Kind::Channel, b"ch"));
        assert_eq!(reg.count(Kind::Channel), 0);
        reg.remove_client(c);
        assert!(!c.subscribed);
        assert_eq!((reg.count(Kind::Pattern), reg.client_count()), (0, 0));
    }

    #[test]
    fn one_buffer_per_thread_and_protocol_appended_while_unsent() {
        let mut clients = Clients::default();
        let mut reg = PubSub::default();
        let ch = Bytes::from_static(b"ch");
        for (id, thread, resp) in [(1, 1, 2), (2, 1, 3), (3, 2, 2)] {
            let s = client(&mut clients, id, thread, resp);
            reg.subscribe(clients.at_mut(s), Kind::Channel, &ch);
        }
        let mut per_thread: Vec<Vec<ToIo>> = (0..3).map(|_| Vec::new()).collect();
        reg.flush(&mut clients, &mut [], &mut per_thread);
        // The class changes went out first; now two messages.
        per_thread.iter_mut().for_each(Vec::clear);
        reg.publish(b"ch", b"a");
        reg.flush(&mut clients, &mut [], &mut per_thread);
        reg.publish(b"ch", b"b");
        reg.flush(&mut clients, &mut [], &mut per_thread);
        assert_eq!(per_thread[1].len(), 1, "appended to the unsent push");
        let b = push_of(&per_thread[1][0]);
        assert_eq!(b.clients, [vec![1], vec![2]]);
        assert_eq!(
            b.data[0],
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\na\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nb\r\n"
        );
        assert!(b.data[1].starts_with(b">3\r\n"));
        assert_eq!(push_of(&per_thread[2][0]).clients, [vec![3], vec![]]);
        // A reply to a publisher (no subscription) does not close it.
        per_thread[1].push(ToIo::Reply {
            client: 9,
            data: Vec::new().into(),
            done: true,
            close: false,
            authenticated: true,
            rest: None,
        });
        reg.publish(b"ch", b"d");
        reg.flush(&mut clients, &mut [], &mut per_thread);
        assert_eq!(per_thread[1].len(), 2);
        assert!(push_of(&per_thread[1][0]).data[0].ends_with(b"$1\r\nd\r\n"));
        // Anything else sent to the thread closes the push to more.
        per_thread[1].push(ToIo::Kill { client: 9 });
        reg.publish(b"ch", b"c");
        reg.flush(&mut clients, &mut [], &mut per_thread);
        assert_eq!(per_thread[1].len(), 4);
    }

    #[test]
    fn held_replies_get_the_message_in_place() {
        let mut clients = Clients::default();
        let mut reg = PubSub::default();
        let s = client(&mut clients, 1, 0, 3);
        reg.subscribe(clients.at_mut(s), Kind::Channel, &Bytes::from_static(b"ch"));
        let mut out = ReplyBuf::new(3);
        out.simple("PONG");
        reg.publish(b"ch", b"x");
        let mut per_thread = vec![Vec::new()];
        reg.flush(&mut clients, &mut [(1, &mut out)], &mut per_thread);
        assert_eq!(
            out.buf,
            b"+PONG\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n"
        );
        assert!(per_thread[0].iter().all(|m| !matches!(m, ToIo::Push(_))));
    }
}
