//! What commands did, beyond their replies: the keys they modified and the
//! commands to propagate (to the AOF and replicas, once those exist).
//!
//! The call path (`exec::call`) fills this for every command, whoever ran
//! it. Keys are collected only while someone wants them (`track_keys`),
//! and the propagation stream only while someone consumes it
//! (`propagating`), so a server with neither pays a flag test per command.
//!
//! What is propagated is deterministic, as Valkey makes it: relative
//! expiry times become absolute (`SET k v EX 10` goes out with `PXAT`),
//! random choices become what was chosen (`SPOP` → `SREM`), a blocking pop
//! that was served goes out in its non-blocking form, and a key found
//! expired goes out as its deletion.
//!
//! Keyspace notifications are collected here too, as `Event`s, only for the
//! classes `notify-keyspace-events` selects (one flag test per event, and
//! nothing while notifications are off); `Event::messages` makes the
//! pub/sub channel and message pairs Valkey publishes for one.

use bytes::Bytes;

use crate::config::notify;

/// One command to propagate, to run in database `db`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Propagated {
    pub db: usize,
    pub argv: Vec<Bytes>,
}

/// One keyspace notification: `event` happened to `key` in `db` (Valkey's
/// notifyKeyspaceEvent arguments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub db: usize,
    /// Its class, one of the `config::notify` class bits.
    pub class: u32,
    pub event: &'static str,
    pub key: Bytes,
}

impl Event {
    /// The (channel, message) pairs Valkey publishes for this event under
    /// `flags` (`notify-keyspace-events`): `__keyspace@<db>__:<key>` with
    /// the event name (K), then `__keyevent@<db>__:<event>` with the key
    /// (E). None when `flags` does not select its class.
    pub fn messages(&self, flags: u32) -> Vec<(Bytes, Bytes)> {
        let mut out = Vec::new();
        if flags & self.class == 0 {
            return out;
        }
        let db = self.db.to_string();
        if flags & notify::KEYSPACE != 0 {
            let mut chan = Vec::with_capacity(16 + db.len() + self.key.len());
            chan.extend_from_slice(b"__keyspace@");
            chan.extend_from_slice(db.as_bytes());
            chan.extend_from_slice(b"__:");
            chan.extend_from_slice(&self.key);
            out.push((Bytes::from(chan), Bytes::from_static(self.event.as_bytes())));
        }
        if flags & notify::KEYEVENT != 0 {
            let chan = format!("__keyevent@{db}__:{}", self.event);
            out.push((Bytes::from(chan), self.key.clone()));
        }
        out
    }
}

#[derive(Default)]
pub struct Effects {
    /// Someone consumes the propagation stream (set with
    /// `State::set_propagating`).
    propagating: bool,
    /// Someone wants the modified keys (`State::set_track_keys`).
    track_keys: bool,
    /// The notification classes collected: those `notify-keyspace-events`
    /// selects, or none when it names neither channel (K, E).
    notify: u32,
    /// Any of the three: the one flag the call path tests per command.
    wanted: bool,
    /// Keyspace notifications, in order.
    pub events: Vec<Event>,
    /// Keys modified, in the order signalled: (db, key).
    pub modified: Vec<(usize, Bytes)>,
    /// The propagation stream, in order.
    pub stream: Vec<Propagated>,
    /// The running command's own propagated form, when it is not its argv.
    pub rewrite: Option<Vec<Bytes>>,
    /// The running command changed data but propagates nothing.
    pub prevent: bool,
    /// Calls under way (EXEC runs its queue through nested calls), and
    /// where the outermost one's commands start in the stream.
    depth: u32,
    top_start: usize,
}

/// The database of MULTI and EXEC in the stream: they belong to none
/// (Valkey writes them before any SELECT).
pub const NO_DB: usize = usize::MAX;

impl Effects {
    /// Someone wants modified keys or the propagation stream.
    #[inline]
    pub fn wanted(&self) -> bool {
        self.wanted
    }

    /// Someone consumes the propagation stream.
    #[inline]
    pub fn propagating(&self) -> bool {
        self.propagating
    }

    /// Someone wants the modified keys.
    #[inline]
    pub fn tracking_keys(&self) -> bool {
        self.track_keys
    }

    /// A call begins.
    #[inline]
    pub fn enter(&mut self) {
        if self.propagating {
            if self.depth == 0 {
                self.top_start = self.stream.len();
            }
            self.depth += 1;
        }
    }

    /// A call ends. What the outermost call propagated goes out as one
    /// unit: wrapped in MULTI/EXEC when it is more than one command (an
    /// EXEC that wrote twice, a write after a lazily expired key), as
    /// Valkey's propagatePendingCommands.
    #[inline]
    pub fn leave(&mut self) {
        if !self.propagating || self.depth == 0 {
            return;
        }
        self.depth -= 1;
        if self.depth == 0 && self.stream.len() - self.top_start > 1 {
            let word = |w: &'static str| vec![Bytes::from_static(w.as_bytes())];
            self.stream.insert(
                self.top_start,
                Propagated {
                    db: NO_DB,
                    argv: word("MULTI"),
                },
            );
            self.stream.push(Propagated {
                db: NO_DB,
                argv: word("EXEC"),
            });
        }
    }

    /// Sets aside what the running outermost call has propagated so far,
    /// leaving only finished commands in the stream (DEBUG LOADAOF writes
    /// those to the AOF from inside a command); `resume_running` puts it
    /// back after the stream was drained.
    pub fn set_aside_running(&mut self) -> Vec<Propagated> {
        if self.depth == 0 {
            return Vec::new();
        }
        self.stream.split_off(self.top_start.min(self.stream.len()))
    }

    /// Puts back what `set_aside_running` took, after the stream before
    /// it was drained.
    pub fn resume_running(&mut self, running: Vec<Propagated>) {
        if self.depth > 0 {
            self.top_start = self.stream.len();
        }
        self.stream.extend(running);
    }

    /// Sets who listens.
    pub fn listen(&mut self, propagating: bool, track_keys: bool) {
        self.propagating = propagating;
        self.track_keys = track_keys;
        self.wanted = propagating || track_keys || self.notify != 0;
    }

    /// Collects the events `flags` (`notify-keyspace-events`) selects.
    pub fn set_notify(&mut self, flags: u32) {
        let channels = flags & (notify::KEYSPACE | notify::KEYEVENT) != 0;
        self.notify = if channels {
            flags & !(notify::KEYSPACE | notify::KEYEVENT)
        } else {
            0
        };
        self.listen(self.propagating, self.track_keys);
    }

    /// True when events of `class` are collected.
    #[inline(always)]
    pub fn notifying(&self, class: u32) -> bool {
        self.notify & class != 0
    }

    /// Records `event` on `key` in `db`, if its class is collected.
    #[inline]
    pub fn notify(&mut self, db: usize, class: u32, event: &'static str, key: &[u8]) {
        if self.notifying(class) {
            self.events.push(Event {
                db,
                class,
                event,
                key: Bytes::copy_from_slice(key),
            });
        }
    }

    /// Records that `key` in `db` was modified.
    #[inline]
    pub fn modified(&mut self, db: usize, key: &[u8]) {
        if self.track_keys {
            self.modified.push((db, Bytes::copy_from_slice(key)));
        }
    }

    /// Appends a command to the stream.
    pub fn push(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.propagating {
            self.stream.push(Propagated { db, argv });
        }
    }

    /// Ends a command's run: propagates its argv (or its rewrite) if it
    /// changed data, and clears the per-command requests.
    pub fn end_command(&mut self, db: usize, argv: &[Bytes], changed: bool) {
        if !self.propagating {
            return;
        }
        let rewrite = self.rewrite.take();
        if changed && !std::mem::take(&mut self.prevent) {
            let argv = rewrite.unwrap_or_else(|| argv.to_vec());
            self.stream.push(Propagated { db, argv });
        }
        self.prevent = false;
    }
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
    fn the_running_call_is_set_aside_while_finished_commands_drain() {
        let mut e = Effects::default();
        e.listen(true, false);
        e.enter();
        e.end_command(0, &argv(&["SET", "a", "1"]), true);
        e.leave();
        e.enter();
        e.push(0, argv(&["DEL", "x"]));
        let running = e.set_aside_running();
        assert_eq!(e.stream.len(), 1);
        e.stream.clear();
        e.resume_running(running);
        e.end_command(0, &argv(&["SET", "b", "2"]), true);
        e.leave();
        // The running call's two commands still go out as one unit.
        let names: Vec<&[u8]> = e.stream.iter().map(|p| &p.argv[0][..]).collect();
        assert_eq!(names, [&b"MULTI"[..], b"DEL", b"SET", b"EXEC"]);
    }

    #[test]
    fn nothing_collected_while_nobody_listens() {
        let mut e = Effects::default();
        e.modified(0, b"k");
        e.push(0, argv(&["DEL", "k"]));
        e.end_command(0, &argv(&["SET", "k", "v"]), true);
        assert!(e.modified.is_empty() && e.stream.is_empty());
    }

    #[test]
    fn events_collected_only_for_selected_classes_with_a_channel() {
        let mut e = Effects::default();
        e.notify(0, notify::GENERIC, "del", b"k");
        assert!(e.events.is_empty() && !e.wanted());
        // Classes without K or E publish nothing: nothing is collected.
        e.set_notify(notify::parse("g").unwrap());
        e.notify(0, notify::GENERIC, "del", b"k");
        assert!(e.events.is_empty() && !e.wanted());
        e.set_notify(notify::parse("Egx").unwrap());
        assert!(e.wanted() && !e.propagating() && !e.tracking_keys());
        e.notify(3, notify::STRING, "set", b"k");
        e.notify(3, notify::GENERIC, "expire", b"k");
        e.notify(3, notify::NEW, "new", b"k");
        assert_eq!(
            e.events,
            vec![Event {
                db: 3,
                class: notify::GENERIC,
                event: "expire",
                key: Bytes::from_static(b"k")
            }]
        );
        e.set_notify(0);
        assert!(!e.wanted());
    }

    #[test]
    fn event_messages_follow_k_and_e() {
        let ev = Event {
            db: 12,
            class: notify::LIST,
            event: "lpush",
            key: Bytes::from_static(b"a key\xff"),
        };
        let pairs = |flags: &str| -> Vec<(String, String)> {
            ev.messages(notify::parse(flags).unwrap())
                .into_iter()
                .map(|(c, m)| {
                    (
                        String::from_utf8_lossy(&c).into_owned(),
                        String::from_utf8_lossy(&m).into_owned(),
                    )
                })
                .collect()
        };
        let space = (
            "__keyspace@12__:a key\u{fffd}".to_string(),
            "lpush".to_string(),
        );
        let event = (
            "__keyevent@12__:lpush".to_string(),
            "a key\u{fffd}".to_string(),
        );
        assert_eq!(pairs("KEA"), vec![space.clone(), event.clone()]);
        assert_eq!(pairs("Kl"), vec![space]);
        assert_eq!(pairs("El"), vec![event]);
        assert!(pairs("KEg").is_empty());
        assert!(pairs("A").is_empty());
        assert_eq!(
            ev.messages(notify::parse("KEl").unwrap())[0].0.last(),
            Some(&0xff)
        );
    }

    #[test]
    fn changed_commands_propagate_their_rewrite_last() {
        let mut e = Effects::default();
        e.listen(true, true);
        assert!(e.wanted());
        e.modified(2, b"k");
        e.push(2, argv(&["UNLINK", "old"]));
        e.rewrite = Some(argv(&["SET", "k", "v", "PXAT", "123"]));
        e.end_command(2, &argv(&["SET", "k", "v", "EX", "1"]), true);
        assert_eq!(e.modified, vec![(2, Bytes::from_static(b"k"))]);
        assert_eq!(
            e.stream,
            vec![
                Propagated {
                    db: 2,
                    argv: argv(&["UNLINK", "old"])
                },
                Propagated {
                    db: 2,
                    argv: argv(&["SET", "k", "v", "PXAT", "123"])
                },
            ]
        );
        // Unchanged: nothing, and the rewrite does not leak to the next.
        e.stream.clear();
        e.rewrite = Some(argv(&["X"]));
        e.end_command(0, &argv(&["SET", "k", "v", "NX"]), false);
        e.end_command(0, &argv(&["INCR", "n"]), true);
        assert_eq!(
            e.stream,
            vec![Propagated {
                db: 0,
                argv: argv(&["INCR", "n"])
            }]
        );
        // Prevented: nothing, once.
        e.stream.clear();
        e.prevent = true;
        e.end_command(0, &argv(&["A"]), true);
        e.end_command(0, &argv(&["B"]), true);
        assert_eq!(
            e.stream,
            vec![Propagated {
                db: 0,
                argv: argv(&["B"])
            }]
        );
    }
}
