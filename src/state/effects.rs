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

use bytes::Bytes;

/// One command to propagate, to run in database `db`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Propagated {
    pub db: usize,
    pub argv: Vec<Bytes>,
}

#[derive(Default)]
pub struct Effects {
    /// Someone consumes the propagation stream (set with
    /// `State::set_propagating`).
    propagating: bool,
    /// Someone wants the modified keys (`State::set_track_keys`).
    track_keys: bool,
    /// Either: the one flag the call path tests per command.
    wanted: bool,
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

    /// Sets who listens.
    pub fn listen(&mut self, propagating: bool, track_keys: bool) {
        self.propagating = propagating;
        self.track_keys = track_keys;
        self.wanted = propagating || track_keys;
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
    fn nothing_collected_while_nobody_listens() {
        let mut e = Effects::default();
        e.modified(0, b"k");
        e.push(0, argv(&["DEL", "k"]));
        e.end_command(0, &argv(&["SET", "k", "v"]), true);
        assert!(e.modified.is_empty() && e.stream.is_empty());
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
