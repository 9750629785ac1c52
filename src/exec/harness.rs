//! In-process command execution for fuzzing and tests: a real `State` and
//! client table, each command resolved and run through the `call` path as
//! the batch executor runs it, with no sockets, threads or event loop. The
//! effects are collected (modified keys, the propagation stream) for tests
//! to read.
//!
//! What the main loop does after a batch is reduced to what a single
//! in-process caller needs: values queued for freeing are dropped here, and
//! requests aimed at the connection layer (kills, blocking, unblocking) are
//! discarded, since there is nothing to act on. Callers that want those
//! paths should not send blocking commands or CLIENT KILL.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

use super::call::{call, Origin};
use crate::commands::CMD_TABLE;
use crate::config::Config;
use crate::net::NetLimits;
use crate::resp::ReplyBuf;
use crate::state::{Client, Clients, Propagated, State};

pub struct Harness {
    pub state: State,
    pub clients: Clients,
    next_id: u64,
}

impl Harness {
    pub fn new(mut config: Config) -> Self {
        if config.dir.is_empty() || config.dir == "." {
            // An in-process server never snapshots into the tests' cwd
            // (Valkey's default save points would, on FLUSHALL and
            // SHUTDOWN): tests that save give a dir of their own.
            config.save.clear();
        }
        let limits = Arc::new(NetLimits::new(
            config.proto_max_bulk_len,
            config.client_query_buffer_limit,
        ));
        super::loading::register_reload();
        let mut state = State::new(config, limits, CMD_TABLE.specs.len());
        state.set_propagating(true);
        state.set_track_keys(true);
        Harness {
            state,
            clients: Clients::default(),
            next_id: 1,
        }
    }

    /// Adds a client (authenticated unless a password is configured) and
    /// returns its slot.
    pub fn add_client(&mut self) -> usize {
        let addr = SocketAddr::from(([127, 0, 0, 1], 40000 + (self.next_id % 20000) as u16));
        let laddr = SocketAddr::from(([127, 0, 0, 1], 6379));
        let authenticated = self.state.config.requirepass.is_none();
        let c = Client::new(self.next_id, addr, laddr, 0, authenticated);
        self.next_id += 1;
        self.clients.insert(c)
    }

    /// Runs one command (`argv` must not be empty) for the client in `slot`
    /// and returns its reply bytes.
    pub fn run(&mut self, slot: usize, argv: &[Bytes]) -> Vec<u8> {
        let cmd = CMD_TABLE.resolve(argv);
        let mut out = ReplyBuf::new(self.clients.at(slot).resp);
        let now = crate::keyspace::now_ms();
        call(
            &mut self.state,
            &mut self.clients,
            slot,
            argv,
            cmd,
            &mut out,
            now,
            Origin::Client,
        );
        // Nothing here would wake or kill anyone.
        self.state.blocking.clear_requests();
        self.state.kills.clear();
        self.state.collect_db_garbage();
        self.state.garbage.clear();
        let mut bytes = Vec::new();
        out.take().pieces_from(0, |p| {
            bytes.extend_from_slice(p);
            true
        });
        bytes
    }

    /// The commands propagated since the last call.
    pub fn take_propagated(&mut self) -> Vec<Propagated> {
        std::mem::take(&mut self.state.effects.stream)
    }

    /// The keys modified since the last call: (db, key), in order.
    pub fn take_modified(&mut self) -> Vec<(usize, Bytes)> {
        std::mem::take(&mut self.state.effects.modified)
    }

    /// `run` with string arguments.
    pub fn run_str(&mut self, slot: usize, args: &[&str]) -> Vec<u8> {
        let argv: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        self.run(slot, &argv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_run_in_process() {
        let mut h = Harness::new(Config::default());
        let c = h.add_client();
        assert_eq!(h.run_str(c, &["SET", "k", "v"]), b"+OK\r\n");
        assert_eq!(h.run_str(c, &["GET", "k"]), b"$1\r\nv\r\n");
        assert_eq!(h.run_str(c, &["DBSIZE"]), b":1\r\n");
        assert_eq!(
            h.run_str(c, &["NOSUCH"]),
            b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n"
        );
        assert_eq!(h.state.dbs[0].len(), 1);
    }
}
