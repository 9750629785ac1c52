//! CLIENT PAUSE: while paused, client commands that may write (WRITE) or
//! all client commands (ALL) wait, in order, until CLIENT UNPAUSE or the
//! pause's end; keys do not expire meanwhile (Valkey pauses expiry too).
//! A second pause keeps the more restrictive mode and the later end.

use hashbrown::HashSet;

use crate::net::message::ClientId;

/// What a pause holds back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseMode {
    /// Commands that may write or propagate.
    Write,
    /// Every command.
    All,
}

#[derive(Default)]
pub struct Pause {
    mode: Option<PauseMode>,
    /// Unix ms when it ends.
    end_ms: i64,
    /// Clients whose commands wait (INFO blocked_clients, CLIENT LIST `b`).
    pub postponed: HashSet<ClientId>,
}

impl Pause {
    /// Pauses until `end_ms`, keeping a longer or more restrictive pause.
    pub fn pause(&mut self, mode: PauseMode, end_ms: i64) {
        self.mode = Some(self.mode.map_or(mode, |m| m.max(mode)));
        self.end_ms = self.end_ms.max(end_ms);
    }

    pub fn unpause(&mut self) {
        self.mode = None;
        self.end_ms = 0;
    }

    #[inline]
    pub fn is_active(&self) -> bool {
        self.mode.is_some()
    }

    /// When the pause ends, Unix ms.
    pub fn end_ms(&self) -> Option<i64> {
        self.mode.map(|_| self.end_ms)
    }

    #[inline]
    pub fn mode(&self) -> Option<PauseMode> {
        self.mode
    }
}
