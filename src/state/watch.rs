//! WATCH: which clients watch which keys, and what makes their next EXEC
//! fail (Valkey's multi.c rules).
//!
//! A client watching a key is marked dirty (`Client::dirty_cas`) when the
//! key is modified: every key a command reports modified (`Effects`), the
//! keys a lookup or the active expiry deleted, and the keys FLUSHDB,
//! FLUSHALL and SWAPDB change. A key that had already expired when it was
//! watched is a special case: deleting it changes nothing logically, so
//! that does not make the transaction fail, while giving it a new value
//! does. Once dirty, a client's watches are dropped: EXEC will fail anyway.

use bytes::Bytes;
use hashbrown::HashMap;

use super::client::{Client, Clients};
use crate::keyspace::Db;
use crate::net::message::ClientId;

/// One watched key of a client.
#[derive(Clone, Debug)]
pub struct Watched {
    pub db: usize,
    pub key: Bytes,
    /// The key existed but had expired when WATCH ran.
    pub expired: bool,
}

/// Whether `key` is stored in `db` at all, and whether it is stored but
/// past its time (Valkey's dictFind and keyIsExpired).
pub fn key_state(db: &Db, key: &[u8], now: i64) -> (bool, bool) {
    match db.table().get(key) {
        None => (false, false),
        Some(e) => {
            let at = e.expire();
            (true, at != 0 && at <= now)
        }
    }
}

#[derive(Default)]
pub struct Watches {
    /// Watchers of each (db, key), in the order they watched.
    keys: HashMap<(usize, Bytes), Vec<ClientId>>,
}

impl Watches {
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// INFO `total_watched_keys`.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Adds `key` in `db` to what `c` watches (once).
    pub fn watch(&mut self, c: &mut Client, db: &Db, key: &[u8], now: i64) {
        if c.watched.iter().any(|w| w.db == db.id && w.key[..] == *key) {
            return;
        }
        let key = Bytes::copy_from_slice(key);
        let (_, expired) = key_state(db, &key, now);
        self.keys
            .entry((db.id, key.clone()))
            .or_default()
            .push(c.id);
        c.watched.push(Watched {
            db: db.id,
            key,
            expired,
        });
    }

    /// Drops every watch of `c` (UNWATCH, EXEC, DISCARD, RESET, a dirty
    /// transaction, disconnect).
    pub fn unwatch_all(&mut self, c: &mut Client) {
        for w in c.watched.drain(..) {
            let k = (w.db, w.key);
            if let Some(v) = self.keys.get_mut(&k) {
                v.retain(|&id| id != c.id);
                if v.is_empty() {
                    self.keys.remove(&k);
                }
            }
        }
    }

    /// `key` in `db` was modified: its watchers' transactions fail, except
    /// where the key had expired when watched and is now gone.
    pub fn touch(&mut self, clients: &mut Clients, db: &Db, key: &[u8]) {
        let k = (db.id, Bytes::copy_from_slice(key));
        let Some(ids) = self.keys.get(&k) else {
            return;
        };
        let ids = ids.clone();
        let present = db.table().get(key).is_some();
        for id in ids {
            let Some(slot) = clients.slot_of(id) else {
                continue;
            };
            let c = clients.at_mut(slot);
            let Some(w) = c
                .watched
                .iter_mut()
                .find(|w| w.db == db.id && w.key[..] == *key)
            else {
                continue;
            };
            if w.expired && !present {
                // Already expired when watched, now deleted: no logical
                // change. A deleted key is no longer expired.
                w.expired = false;
                continue;
            }
            self.dirty(c);
        }
    }

    /// FLUSHDB, FLUSHALL (`replaced_with` None) or SWAPDB (the db that
    /// takes `emptied`'s place) is about to change every key of `emptied`:
    /// Valkey's touchAllWatchedKeysInDb, called before the change.
    pub fn touch_db(
        &mut self,
        clients: &mut Clients,
        emptied: &Db,
        replaced_with: Option<&Db>,
        now: i64,
    ) {
        let keys: Vec<Bytes> = self
            .keys
            .keys()
            .filter(|(d, _)| *d == emptied.id)
            .map(|(_, k)| k.clone())
            .collect();
        for key in keys {
            let (in_emptied, _) = key_state(emptied, &key, now);
            let (in_new, new_expired) = match replaced_with {
                Some(db) => key_state(db, &key, now),
                None => (false, false),
            };
            if !in_emptied && !in_new {
                continue;
            }
            let Some(ids) = self.keys.get(&(emptied.id, key.clone())).cloned() else {
                continue;
            };
            for id in ids {
                let Some(slot) = clients.slot_of(id) else {
                    continue;
                };
                let c = clients.at_mut(slot);
                let Some(w) = c
                    .watched
                    .iter_mut()
                    .find(|w| w.db == emptied.id && w.key == key)
                else {
                    continue;
                };
                if w.expired {
                    if !in_new {
                        // Expired key now deleted: no logical change.
                        w.expired = false;
                        continue;
                    } else if new_expired {
                        // Expired, and replaced with an expired key.
                        continue;
                    }
                } else if !in_emptied && new_expired {
                    // No key, replaced with an expired one.
                    w.expired = true;
                    continue;
                }
                self.dirty(c);
            }
        }
    }

    /// EXEC: a key that was live when watched and has expired since makes
    /// the transaction fail (Valkey's isWatchedKeyExpired).
    pub fn any_expired_since(c: &Client, dbs: &[Db], now: i64) -> bool {
        c.watched
            .iter()
            .any(|w| !w.expired && dbs.get(w.db).is_some_and(|db| key_state(db, &w.key, now).1))
    }

    /// Marks `c`'s transaction failed and drops its watches.
    fn dirty(&mut self, c: &mut Client) {
        c.dirty_cas = true;
        if let Some(m) = c.multi.as_mut() {
            // The queue will never run: its memory goes now, as Valkey 9
            // frees it (CLIENT LIST shows multi=0 from here).
            m.cmds.clear();
            m.mem = 0;
        }
        self.unwatch_all(c);
    }
}
