//! The batch executor: commands from many clients (and many from one
//! client's pipeline) are gathered into batches of up to
//! `prefetch-batch-max-size`; each batch's keys are prefetched together,
//! then its commands run in order. A client's replies leave in one message
//! once all the commands it sent have run, so per-client order holds.

use std::collections::VecDeque;

use super::client::Clients;
use super::dispatch::execute;
use super::prefetch::{prefetch_keys, KeyRef};
use super::state::State;
use super::Outbox;
use crate::commands::table::{key_positions, CmdId};
use crate::commands::CMD_TABLE;
use crate::error::CmdError;
use crate::resp::{Argv, ProtocolError, ReplyBuf};
use crate::ring::message::{ClientId, ToIo};

struct Job {
    client: ClientId,
    slot: usize,
    cmds: std::vec::IntoIter<Argv>,
    out: ReplyBuf,
    error: Option<ProtocolError>,
}

#[derive(Default)]
pub struct Executor {
    jobs: VecDeque<Job>,
    batch: Vec<(usize, Argv, Result<CmdId, CmdError>)>,
    key_pos: Vec<usize>,
}

impl Executor {
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Queues the commands a client sent.
    pub fn push(
        &mut self,
        clients: &Clients,
        client: ClientId,
        cmds: Vec<Argv>,
        error: Option<ProtocolError>,
    ) {
        let Some(slot) = clients.slot_of(client) else {
            return;
        };
        let out = ReplyBuf::new(clients.at(slot).resp);
        self.jobs.push_back(Job {
            client,
            slot,
            cmds: cmds.into_iter(),
            out,
            error,
        });
    }

    /// Runs every queued command.
    pub fn run(&mut self, state: &mut State, clients: &mut Clients, outbox: &mut Outbox) {
        if self.jobs.is_empty() {
            return;
        }
        let now = crate::keyspace::now_ms();
        let limit = state.config.prefetch_batch_max_size.max(1);
        let prefetch = state.config.prefetch_batch_max_size > 1;
        while !self.jobs.is_empty() {
            // Gather: whole jobs from the front, splitting the last one.
            let mut i = 0;
            while self.batch.len() < limit && i < self.jobs.len() {
                while self.batch.len() < limit {
                    let Some(argv) = self.jobs[i].cmds.next() else {
                        break;
                    };
                    let cmd = CMD_TABLE.resolve(&argv);
                    self.batch.push((i, argv, cmd));
                }
                i += 1;
            }
            if prefetch && self.batch.len() > 1 {
                self.prefetch(state, clients);
            }
            for (i, argv, cmd) in self.batch.drain(..) {
                let job = &mut self.jobs[i];
                // A connection being closed (QUIT, CLIENT KILL) runs nothing
                // more, as Valkey stops reading it.
                if clients.at(job.slot).close_after_reply || state.kills.contains(&job.client) {
                    continue;
                }
                execute(state, clients, job.slot, &argv, cmd, &mut job.out, now);
            }
            while self.jobs.front().is_some_and(|j| j.cmds.len() == 0) {
                if let Some(job) = self.jobs.pop_front() {
                    finish(job, state, clients, outbox);
                }
            }
        }
    }

    fn prefetch(&mut self, state: &State, clients: &Clients) {
        let mut keys: Vec<KeyRef<'_>> = Vec::with_capacity(self.batch.len());
        for (i, argv, cmd) in &self.batch {
            let Ok(id) = cmd else { continue };
            let db = clients.at(self.jobs[*i].slot).db;
            self.key_pos.clear();
            key_positions(CMD_TABLE.specs[*id], argv, &mut self.key_pos);
            for &p in &self.key_pos {
                keys.push(KeyRef { db, key: &argv[p] });
            }
        }
        prefetch_keys(state, &keys);
    }
}

/// Sends a finished job's replies to the client's IO thread.
fn finish(mut job: Job, state: &mut State, clients: &mut Clients, outbox: &mut Outbox) {
    let c = clients.at_mut(job.slot);
    let mut close = std::mem::take(&mut c.close_after_reply);
    if let Some(e) = job.error.take() {
        state.stats.count_error("ERR");
        job.out.error(&e.reply_text());
        close = true;
    }
    let authenticated = c.authenticated || state.config.requirepass.is_none();
    state.stats.net_output_bytes += job.out.buf.len() as u64;
    outbox.send(
        c.io_thread,
        ToIo::Reply {
            client: job.client,
            data: job.out.buf,
            done: true,
            close,
            authenticated,
        },
    );
}
