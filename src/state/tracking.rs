//! Client-side caching (CLIENT TRACKING): which clients may hold which
//! keys, and the invalidation messages sent when those keys change
//! (Valkey's tracking.c).
//!
//! The table maps a key name (databases are not told apart, as in Valkey)
//! to the ids of the clients that read it in the default mode. A modified
//! key sends each of them an invalidation and is forgotten. Ids are removed
//! lazily: a client that turned tracking off or went away is skipped when
//! its keys change. Clients in BCAST mode register prefixes instead; keys
//! modified under a prefix are collected and sent once per event-loop
//! iteration (`broadcast`), as Valkey does in beforeSleep.
//!
//! Messages are built here as the bytes the receiver reads (a RESP3 push,
//! or for a RESP2 redirect target a `__redis__:invalidate` Pub/Sub message)
//! and handed to the Pub/Sub fan-out (`PubSub::push_raw`), which keeps them
//! after the replies already built for their receiver. With nobody
//! tracking, none of this runs: the call path reaches it only while effects
//! are collected, which tracking clients turn on.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use hashbrown::HashMap;

use super::client::{Client, Clients};
use crate::net::message::ClientId;

/// The Pub/Sub channel RESP2 redirect targets receive invalidations on.
pub const INVALIDATE_CHANNEL: &[u8] = b"__redis__:invalidate";

/// A tracking client's mode (Valkey's CLIENT_TRACKING_* flags).
#[derive(Clone, Debug, Default)]
pub struct ClientTracking {
    /// The client invalidations go to; 0 for this client itself.
    pub redirect: ClientId,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING yes (OPTIN) or no (OPTOUT) for the next command.
    pub caching: bool,
    /// The redirect target went away (CLIENT LIST flag `R`).
    pub broken_redirect: bool,
    /// BCAST prefixes, in order (the empty prefix is every key).
    pub prefixes: BTreeSet<Bytes>,
}

/// The options of one CLIENT TRACKING ON.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
}

/// One BCAST prefix: its clients and the keys modified under it since the
/// last broadcast, each with the client that last modified it (NOLOOP).
#[derive(Default)]
struct Prefix {
    clients: Vec<ClientId>,
    keys: BTreeMap<Bytes, Option<ClientId>>,
}

/// Effort of the first eviction pass over `tracking-table-max-keys`; each
/// pass that ends still over the limit raises the next one's by as much.
const EVICT_EFFORT: usize = 100;

#[derive(Default)]
pub struct Tracking {
    /// Key name → ids of the clients that may cache it.
    table: HashMap<Bytes, Vec<ClientId>>,
    /// Ids stored across the table (INFO tracking_total_items).
    items: usize,
    prefixes: BTreeMap<Bytes, Prefix>,
    /// Keys are waiting in some prefix for `broadcast`.
    bcast_pending: bool,
    /// Clients with tracking on (INFO tracking_clients).
    clients: usize,
    /// `tracking-table-max-keys` (0: no limit).
    max_keys: usize,
    /// Eviction passes in a row that ended over the limit.
    evict_rounds: usize,
    /// FLUSHALL/FLUSHDB ran in this command: every tracking client gets a
    /// null invalidation (once, however many databases were emptied).
    flushed: bool,
    /// Messages built, waiting to be handed to the Pub/Sub fan-out:
    /// (receiver, bytes).
    outgoing: Vec<(ClientId, Bytes)>,
    /// Where in `Effects::modified` keys were recorded as expired: the
    /// server deleted them, whoever's command found them (BCAST records
    /// no modifier for them, as Valkey).
    expired: Vec<usize>,
}

impl Tracking {
    /// Clients with tracking on.
    #[inline]
    pub fn client_count(&self) -> usize {
        self.clients
    }

    /// INFO tracking_total_keys, tracking_total_items,
    /// tracking_total_prefixes.
    pub fn totals(&self) -> (usize, usize, usize) {
        (self.table.len(), self.items, self.prefixes.len())
    }

    pub fn set_max_keys(&mut self, n: usize) {
        self.max_keys = n;
    }

    /// Something waits for `take_outgoing`, `broadcast` or the limit.
    #[inline]
    pub fn has_work(&self) -> bool {
        !self.outgoing.is_empty()
            || self.bcast_pending
            || (self.max_keys != 0 && self.table.len() > self.max_keys)
    }

    /// The messages built so far, to send.
    pub fn take_outgoing(&mut self) -> Vec<(ClientId, Bytes)> {
        std::mem::take(&mut self.outgoing)
    }

    /// CLIENT TRACKING ON (checked by the caller): the mode is replaced,
    /// BCAST prefixes added to those the client has (none: every key).
    pub fn enable(
        &mut self,
        c: &mut Client,
        redirect: ClientId,
        opts: Options,
        prefixes: &[Bytes],
    ) {
        let id = c.id;
        if c.tracking.is_none() {
            self.clients += 1;
        }
        let t = c.tracking.get_or_insert_with(Box::default);
        t.redirect = redirect;
        t.broken_redirect = false;
        t.bcast = opts.bcast;
        t.optin = opts.optin;
        t.optout = opts.optout;
        t.noloop = opts.noloop;
        if opts.bcast {
            let empty = [Bytes::new()];
            let list = if prefixes.is_empty() {
                &empty[..]
            } else {
                prefixes
            };
            for p in list {
                let entry = self.prefixes.entry(p.clone()).or_default();
                if !entry.clients.contains(&id) {
                    entry.clients.push(id);
                    t.prefixes.insert(p.clone());
                }
            }
        }
    }

    /// CLIENT TRACKING OFF, RESET and disconnect. The client's keys stay
    /// in the table until they change (Valkey cleans them lazily).
    pub fn disable(&mut self, c: &mut Client) {
        let Some(t) = c.tracking.take() else {
            return;
        };
        self.clients -= 1;
        for p in &t.prefixes {
            if let Some(entry) = self.prefixes.get_mut(p) {
                entry.clients.retain(|&id| id != c.id);
                if entry.clients.is_empty() {
                    self.prefixes.remove(p);
                }
            }
        }
    }

    /// Valkey's prefix collision rule: two prefixes overlap when one starts
    /// with the other. Checks `new` against the client's prefixes and
    /// against each other; the error text on a collision.
    pub fn prefix_collision(current: Option<&ClientTracking>, new: &[Bytes]) -> Option<String> {
        let overlap = |a: &[u8], b: &[u8]| {
            let n = a.len().min(b.len());
            a[..n] == b[..n]
        };
        let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        for (i, p) in new.iter().enumerate() {
            if let Some(existing) = current
                .into_iter()
                .flat_map(|t| t.prefixes.iter())
                .find(|e| overlap(e, p))
            {
                return Some(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. \
                     Prefixes for a single client must not overlap.",
                    show(p),
                    show(existing)
                ));
            }
            if let Some(other) = new[i + 1..].iter().find(|o| overlap(p, o)) {
                return Some(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. \
                     Prefixes for a single client must not overlap.",
                    show(p),
                    show(other)
                ));
            }
        }
        None
    }

    /// After a read-only command of `c` (default mode): remembers the keys
    /// it read, unless OPTIN without CACHING yes, or OPTOUT with CACHING no.
    pub fn remember<'k>(&mut self, c: &Client, keys: impl Iterator<Item = &'k Bytes>) {
        let Some(t) = c.tracking.as_deref() else {
            return;
        };
        if t.bcast || (t.optin && !t.caching) || (t.optout && t.caching) {
            return;
        }
        for key in keys {
            let ids = match self.table.get_mut(&key[..]) {
                Some(ids) => ids,
                // A copy: the argument may share a large request buffer.
                None => self.table.entry(Bytes::copy_from_slice(key)).or_default(),
            };
            if !ids.contains(&c.id) {
                ids.push(c.id);
                self.items += 1;
            }
        }
    }

    /// The modified key at `index` of `Effects::modified` expired.
    pub fn expired_at(&mut self, index: usize) {
        self.expired.push(index);
    }

    /// The keys `modified[from..]` changed while `current` ran a command
    /// (None: the server itself, as the cron's expiry).
    pub fn invalidate_modified(
        &mut self,
        clients: &mut Clients,
        modified: &[(usize, Bytes)],
        from: usize,
        current: Option<ClientId>,
    ) {
        for (i, (_, key)) in modified.iter().enumerate().skip(from) {
            let by = if self.expired.contains(&i) {
                None
            } else {
                current
            };
            self.invalidate(clients, current, by, key, true);
        }
        self.expired.retain(|&i| i < from);
    }

    /// `key` was modified, by the client `by` (None: the server itself, as
    /// expiry), while `current` ran its command (NOLOOP clients are not
    /// told of their own changes). `bcast`: collect it for BCAST prefixes
    /// too (false when evicting the table: the key did not change).
    pub fn invalidate(
        &mut self,
        clients: &mut Clients,
        current: Option<ClientId>,
        by: Option<ClientId>,
        key: &[u8],
        bcast: bool,
    ) {
        if bcast && !self.prefixes.is_empty() {
            for (p, entry) in self.prefixes.iter_mut() {
                if key.starts_with(p) {
                    entry.keys.insert(Bytes::copy_from_slice(key), by);
                    self.bcast_pending = true;
                }
            }
        }
        let Some(ids) = self.table.remove(key) else {
            return;
        };
        self.items -= ids.len();
        let mut payload = None;
        for id in ids {
            let Some(slot) = clients.slot_of(id) else {
                continue;
            };
            let Some(t) = clients.at(slot).tracking.as_deref() else {
                continue;
            };
            if t.bcast || (t.noloop && current == Some(id)) {
                continue;
            }
            let payload = payload.get_or_insert_with(|| key_array(key));
            self.send(clients, slot, payload);
        }
    }

    /// FLUSHALL/FLUSHDB emptied a database: the table goes, and every
    /// tracking client is told once per command (`send_flushed`).
    pub fn flushed(&mut self) {
        if !self.table.is_empty() {
            self.table = HashMap::new();
        }
        self.items = 0;
        if self.clients > 0 {
            self.flushed = true;
        }
    }

    /// The null invalidation for every tracking client after a flush.
    pub fn send_flushed(&mut self, clients: &mut Clients) {
        if !std::mem::take(&mut self.flushed) {
            return;
        }
        let slots: Vec<usize> = clients
            .iter()
            .filter(|c| c.tracking.is_some())
            .filter_map(|c| clients.slot_of(c.id))
            .collect();
        for slot in slots {
            let null: &[u8] = if clients.at(slot).resp > 2 {
                b"_\r\n"
            } else {
                b"$-1\r\n"
            };
            self.send(clients, slot, null);
        }
    }

    /// Sends the keys collected under each BCAST prefix to its clients
    /// (without the keys a NOLOOP client modified itself), then forgets
    /// them: once per event-loop iteration.
    pub fn broadcast(&mut self, clients: &mut Clients) {
        if !std::mem::take(&mut self.bcast_pending) {
            return;
        }
        let mut prefixes = std::mem::take(&mut self.prefixes);
        for entry in prefixes.values_mut() {
            if entry.keys.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut entry.keys);
            let all = keys_array(&keys, None);
            for &id in &entry.clients {
                let Some(slot) = clients.slot_of(id) else {
                    continue;
                };
                let noloop = clients
                    .at(slot)
                    .tracking
                    .as_deref()
                    .is_some_and(|t| t.noloop);
                if noloop {
                    if let Some(own) = keys_array(&keys, Some(id)) {
                        self.send(clients, slot, &own);
                    }
                } else if let Some(all) = &all {
                    self.send(clients, slot, all);
                }
            }
        }
        self.prefixes = prefixes;
    }

    /// Over `tracking-table-max-keys`: forgets keys, telling their clients
    /// as if the keys had changed (Valkey's trackingLimitUsedSlots). The
    /// work per pass is bounded, and grows while passes end over the limit.
    pub fn enforce_limit(&mut self, clients: &mut Clients) {
        if self.max_keys == 0 || self.table.len() <= self.max_keys {
            self.evict_rounds = 0;
            return;
        }
        let effort = EVICT_EFFORT * (self.evict_rounds + 1);
        let excess = self.table.len() - self.max_keys;
        let victims: Vec<Bytes> = self
            .table
            .keys()
            .take(excess.min(effort))
            .cloned()
            .collect();
        for key in victims {
            self.invalidate(clients, None, None, &key, false);
        }
        if self.table.len() <= self.max_keys {
            self.evict_rounds = 0;
        } else {
            self.evict_rounds += 1;
        }
    }

    /// Builds the message for the tracking client in `slot` carrying
    /// `payload` (an array of keys, or a null): to its redirect target when
    /// it has one. A target that went away marks the redirect broken, and
    /// a RESP3 client is told so. A RESP2 client without a redirect gets
    /// nothing (it cannot receive pushes), as in Valkey.
    fn send(&mut self, clients: &mut Clients, slot: usize, payload: &[u8]) {
        let c = clients.at(slot);
        let (id, resp) = (c.id, c.resp);
        let redirect = c.tracking.as_deref().map_or(0, |t| t.redirect);
        if redirect == 0 {
            if resp > 2 {
                self.outgoing.push((id, push_message(payload)));
            }
            return;
        }
        let Some(target) = clients.by_id(redirect) else {
            if let Some(t) = clients.at_mut(slot).tracking.as_deref_mut() {
                t.broken_redirect = true;
            }
            if resp > 2 {
                let mut m = Vec::with_capacity(48);
                m.extend_from_slice(b">2\r\n$21\r\ntracking-redir-broken\r\n:");
                m.extend_from_slice(redirect.to_string().as_bytes());
                m.extend_from_slice(b"\r\n");
                self.outgoing.push((id, Bytes::from(m)));
            }
            return;
        };
        if target.resp > 2 {
            self.outgoing.push((redirect, push_message(payload)));
        } else if target.is_pubsub() {
            let mut m = Vec::with_capacity(48 + payload.len());
            m.extend_from_slice(b"*3\r\n$7\r\nmessage\r\n$20\r\n");
            m.extend_from_slice(INVALIDATE_CHANNEL);
            m.extend_from_slice(b"\r\n");
            m.extend_from_slice(payload);
            self.outgoing.push((redirect, Bytes::from(m)));
        }
    }
}

impl super::State {
    /// Applies `tracking-table-max-keys` (at start and after CONFIG SET).
    pub fn apply_tracking_config(&mut self) {
        let n = self
            .config
            .extra
            .get("tracking-table-max-keys")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(1_000_000);
        self.tracking.set_max_keys(n);
    }

    /// CLIENT TRACKING ON for `c` (options already checked).
    pub fn tracking_on(
        &mut self,
        c: &mut Client,
        redirect: ClientId,
        opts: Options,
        prefixes: &[Bytes],
    ) {
        self.tracking.enable(c, redirect, opts, prefixes);
        self.sync_key_tracking();
    }

    /// Tracking off for `c` (CLIENT TRACKING OFF, RESET, disconnect).
    pub fn tracking_off(&mut self, c: &mut Client) {
        if c.tracking.is_some() {
            self.tracking.disable(c);
            self.sync_key_tracking();
        }
    }

    /// Client-side caching's part of `touch_watched`: the keys modified
    /// since `from` (by `current`) are invalidated. Kept out of line: the
    /// call path pays for it only while someone tracks keys.
    #[inline(never)]
    pub fn invalidate_tracked(
        &mut self,
        clients: &mut Clients,
        from: usize,
        current: Option<ClientId>,
    ) {
        self.tracking
            .invalidate_modified(clients, &self.effects.modified, from, current);
    }

    /// Hands the invalidations built so far to the Pub/Sub fan-out.
    pub fn send_tracking(&mut self) {
        for (to, data) in self.tracking.take_outgoing() {
            self.pubsub.push_raw(to, &data);
        }
    }

    /// Once per event-loop iteration, before replies are written: keeps
    /// the table within `tracking-table-max-keys` and sends the BCAST
    /// invalidations collected (Valkey's cron and beforeSleep work).
    #[inline]
    pub fn tracking_before_sleep(&mut self, clients: &mut Clients) {
        if self.tracking.has_work() {
            self.tracking.enforce_limit(clients);
            self.tracking.broadcast(clients);
            self.send_tracking();
        }
    }
}

/// `>2 invalidate <payload>`.
fn push_message(payload: &[u8]) -> Bytes {
    let mut m = Vec::with_capacity(20 + payload.len());
    m.extend_from_slice(b">2\r\n$10\r\ninvalidate\r\n");
    m.extend_from_slice(payload);
    Bytes::from(m)
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// A one-key array.
fn key_array(key: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(key.len() + 16);
    m.extend_from_slice(b"*1\r\n");
    bulk(&mut m, key);
    m
}

/// The keys collected under a prefix, in order; without those last
/// modified by `skip` (NOLOOP). None when that leaves nothing.
fn keys_array(keys: &BTreeMap<Bytes, Option<ClientId>>, skip: Option<ClientId>) -> Option<Vec<u8>> {
    let kept = || {
        keys.iter()
            .filter(move |(_, by)| skip.is_none() || **by != skip)
    };
    let n = kept().count();
    if n == 0 {
        return None;
    }
    let mut m = Vec::with_capacity(16 + n * 16);
    m.push(b'*');
    m.extend_from_slice(n.to_string().as_bytes());
    m.extend_from_slice(b"\r\n");
    for (k, _) in kept() {
        bulk(&mut m, k);
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(clients: &mut Clients, id: ClientId, resp: u8) -> usize {
        let addr = "127.0.0.1:1".parse().unwrap();
        let mut c = Client::new(id, addr, addr, 0, true);
        c.resp = resp;
        clients.insert(c)
    }

    fn keys(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn default_mode_invalidates_readers_once_and_forgets_the_key() {
        let mut clients = Clients::default();
        let mut t = Tracking::default();
        let a = client(&mut clients, 1, 3);
        let b = client(&mut clients, 2, 2);
        t.enable(clients.at_mut(a), 0, Options::default(), &[]);
        t.enable(clients.at_mut(b), 0, Options::default(), &[]);
        let k = keys(&["k", "k"]);
        t.remember(clients.at(a), k.iter());
        t.remember(clients.at(b), k.iter());
        assert_eq!(t.totals(), (1, 2, 0));
        t.invalidate(&mut clients, Some(9), Some(9), b"k", true);
        // The RESP2 client without a redirect gets nothing.
        assert_eq!(
            t.take_outgoing(),
            vec![(
                1,
                Bytes::from_static(b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n")
            )]
        );
        assert_eq!(t.totals(), (0, 0, 0));
        t.invalidate(&mut clients, Some(9), Some(9), b"k", true);
        assert!(t.take_outgoing().is_empty());
    }

    #[test]
    fn noloop_optin_and_redirects() {
        let mut clients = Clients::default();
        let mut t = Tracking::default();
        let a = client(&mut clients, 1, 2);
        let r = client(&mut clients, 2, 2);
        clients.at_mut(r).subscribed = true;
        let noloop = Options {
            noloop: true,
            ..Options::default()
        };
        t.enable(clients.at_mut(a), 2, noloop, &[]);
        t.remember(clients.at(a), keys(&["x"]).iter());
        t.invalidate(&mut clients, Some(1), Some(1), b"x", true);
        assert!(t.take_outgoing().is_empty(), "NOLOOP skips its own change");
        t.remember(clients.at(a), keys(&["x"]).iter());
        t.invalidate(&mut clients, None, None, b"x", true);
        assert_eq!(
            t.take_outgoing(),
            vec![(
                2,
                Bytes::from_static(
                    b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nx\r\n"
                )
            )]
        );
        // OPTIN: only with CACHING yes.
        let optin = Options {
            optin: true,
            ..Options::default()
        };
        t.enable(clients.at_mut(a), 2, optin, &[]);
        t.remember(clients.at(a), keys(&["y"]).iter());
        assert_eq!(t.totals().0, 0);
        clients.at_mut(a).tracking.as_mut().unwrap().caching = true;
        t.remember(clients.at(a), keys(&["y"]).iter());
        assert_eq!(t.totals().0, 1);
        // The redirect target goes away: broken, told to a RESP3 client.
        clients.remove(2);
        clients.at_mut(a).resp = 3;
        t.invalidate(&mut clients, None, None, b"y", true);
        assert_eq!(
            t.take_outgoing(),
            vec![(
                1,
                Bytes::from_static(b">2\r\n$21\r\ntracking-redir-broken\r\n:2\r\n")
            )]
        );
        assert!(clients.at(a).tracking.as_ref().unwrap().broken_redirect);
        t.disable(clients.at_mut(a));
        assert_eq!(t.client_count(), 0);
    }

    #[test]
    fn bcast_collects_by_prefix_and_sends_once() {
        let mut clients = Clients::default();
        let mut t = Tracking::default();
        let a = client(&mut clients, 1, 3);
        let b = client(&mut clients, 2, 3);
        let bcast = Options {
            bcast: true,
            ..Options::default()
        };
        t.enable(clients.at_mut(a), 0, bcast, &keys(&["a:", "b:"]));
        t.enable(
            clients.at_mut(b),
            0,
            Options {
                noloop: true,
                ..bcast
            },
            &[],
        );
        assert_eq!(t.totals().2, 3);
        for k in ["a:2", "a:1", "c:1"] {
            t.invalidate(&mut clients, Some(2), Some(2), k.as_bytes(), true);
        }
        t.invalidate(&mut clients, Some(1), Some(1), b"b:1", true);
        t.broadcast(&mut clients);
        let out = t.take_outgoing();
        assert_eq!(
            out,
            vec![
                (
                    2,
                    Bytes::from_static(b">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nb:1\r\n")
                ),
                (
                    1,
                    Bytes::from_static(
                        b">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\na:1\r\n$3\r\na:2\r\n"
                    )
                ),
                (
                    1,
                    Bytes::from_static(b">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nb:1\r\n")
                ),
            ]
        );
        t.broadcast(&mut clients);
        assert!(t.take_outgoing().is_empty());
        t.disable(clients.at_mut(b));
        assert_eq!(t.totals().2, 2);
    }

    #[test]
    fn expired_keys_reach_bcast_noloop_clients_even_from_their_own_reads() {
        let mut clients = Clients::default();
        let mut t = Tracking::default();
        let a = client(&mut clients, 1, 3);
        let opts = Options {
            bcast: true,
            noloop: true,
            ..Options::default()
        };
        t.enable(clients.at_mut(a), 0, opts, &[]);
        // Client 1's command: it set `mine`, and found `old` expired.
        let modified = vec![
            (0, Bytes::from_static(b"mine")),
            (0, Bytes::from_static(b"old")),
        ];
        t.expired_at(1);
        t.invalidate_modified(&mut clients, &modified, 0, Some(1));
        t.broadcast(&mut clients);
        assert_eq!(
            t.take_outgoing(),
            vec![(
                1,
                Bytes::from_static(b">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nold\r\n")
            )]
        );
        assert!(t.expired.is_empty());
    }

    #[test]
    fn prefix_collisions_are_reported_as_valkey_words_them() {
        let p = keys(&["FOOBAR", "FOO"]);
        assert_eq!(
            Tracking::prefix_collision(None, &p).unwrap(),
            "ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'. \
             Prefixes for a single client must not overlap."
        );
        let mut ct = ClientTracking::default();
        ct.prefixes.insert(Bytes::from_static(b"BAR"));
        assert!(Tracking::prefix_collision(Some(&ct), &keys(&["BARB"]))
            .unwrap()
            .starts_with("ERR Prefix 'BARB' overlaps with an existing prefix 'BAR'."));
        assert!(Tracking::prefix_collision(Some(&ct), &keys(&["FOO", "BA2"])).is_none());
    }

    #[test]
    fn the_limit_evicts_with_growing_effort() {
        let mut clients = Clients::default();
        let mut t = Tracking::default();
        let a = client(&mut clients, 1, 3);
        t.enable(clients.at_mut(a), 0, Options::default(), &[]);
        let many: Vec<Bytes> = (0..250).map(|i| Bytes::from(format!("k{i}"))).collect();
        t.remember(clients.at(a), many.iter());
        t.set_max_keys(1);
        t.enforce_limit(&mut clients);
        assert_eq!(t.totals().0, 150);
        t.enforce_limit(&mut clients);
        assert_eq!(t.totals().0, 1);
        assert_eq!(t.take_outgoing().len(), 249);
    }

    #[test]
    fn a_flush_empties_the_table_and_tells_each_client_once() {
        let mut clients = Clients::default();
        let mut t = Tracking::default();
        let a = client(&mut clients, 1, 3);
        t.enable(clients.at_mut(a), 0, Options::default(), &[]);
        t.remember(clients.at(a), keys(&["k"]).iter());
        t.flushed();
        t.flushed();
        t.send_flushed(&mut clients);
        assert_eq!(
            t.take_outgoing(),
            vec![(1, Bytes::from_static(b">2\r\n$10\r\ninvalidate\r\n_\r\n"))]
        );
        assert_eq!(t.totals(), (0, 0, 0));
    }
}
