//! The batch executor: commands from many clients (and many from one
//! client's pipeline) are gathered into batches of up to
//! `prefetch-batch-max-size`; each batch's keys are prefetched together,
//! then its commands run in order. A client's replies leave in one message
//! once all the commands it sent have run, so per-client order holds.
//!
//! A command that blocks (BLPOP on empty lists) parks its client's job with
//! the rest of its pipeline: replies so far are sent, and the job resumes
//! when a key it waits on is signalled ready, its timeout passes, or CLIENT
//! UNBLOCK; waiters on a key are served in the order they blocked.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use hashbrown::HashMap;

use super::client::{Client, Clients};
use super::dispatch::{execute, record_unblocked};
use super::latency;
use super::prefetch::{prefetch_keys, KeyRef};
use super::state::{BlockRequest, State, TimeoutReply};
use super::Outbox;
use crate::commands::table::{key_positions, CmdId};
use crate::commands::CMD_TABLE;
use crate::error::CmdError;
use crate::net::conn::OUTPUT_PAUSE;
use crate::net::message::{ClientId, ToIo, Unrun};
use crate::resp::{Argv, ProtocolError, ReplyBuf};

const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

struct Job {
    client: ClientId,
    slot: usize,
    cmds: VecDeque<Argv>,
    out: ReplyBuf,
    error: Option<ProtocolError>,
    /// Set when a command of this job blocked during the current batch:
    /// the blocked command, its id, and what it waits for.
    blocked_on: Option<(Argv, CmdId, BlockRequest)>,
    /// Commands of this job that were in the batch after the blocked one
    /// (or after the output bound was reached).
    held: Vec<Argv>,
    /// The replies reached `OUTPUT_PAUSE`: the rest goes back to the
    /// connection unrun (`ToIo::Reply::rest`) and comes again once the
    /// client has read its output.
    output_full: bool,
}

/// A job waiting for keys.
struct Parked {
    job: Job,
    argv: Argv,
    cmd: CmdId,
    db: usize,
    keys: Vec<Bytes>,
    deadline: Option<Instant>,
    timeout_reply: TimeoutReply,
}

#[derive(Default)]
pub struct Executor {
    jobs: VecDeque<Job>,
    batch: Vec<(usize, Argv, Result<CmdId, CmdError>)>,
    key_pos: Vec<usize>,
    parked: HashMap<ClientId, Parked>,
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
        let out = ReplyBuf::for_commands(clients.at(slot).resp, cmds.len());
        self.jobs.push_back(Job {
            client,
            slot,
            cmds: cmds.into(),
            out,
            error,
            blocked_on: None,
            held: Vec::new(),
            output_full: false,
        });
    }

    /// Runs every queued command, then serves blocked clients whose keys
    /// became ready (which may run more commands, and so on).
    pub fn run(&mut self, state: &mut State, clients: &mut Clients, outbox: &mut Outbox) {
        loop {
            self.run_jobs(state, clients, outbox);
            self.drop_killed(state);
            self.apply_unblocks(state, clients);
            if state.ready_keys.is_empty() {
                if self.jobs.is_empty() {
                    return;
                }
                continue;
            }
            self.serve_ready(state, clients);
        }
    }

    fn run_jobs(&mut self, state: &mut State, clients: &mut Clients, outbox: &mut Outbox) {
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
                // A job whose output is full waits for its turn to finish.
                while self.batch.len() < limit && !self.jobs[i].output_full {
                    let Some(argv) = self.jobs[i].cmds.pop_front() else {
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
            let mut any_blocked = false;
            let mut any_full = false;
            for (i, argv, cmd) in self.batch.drain(..) {
                let job = &mut self.jobs[i];
                if job.blocked_on.is_some() || job.output_full {
                    job.held.push(argv);
                    continue;
                }
                // A connection being closed (QUIT, CLIENT KILL) runs nothing
                // more, as Valkey stops reading it.
                if clients.at(job.slot).close_after_reply || state.kills.contains(&job.client) {
                    continue;
                }
                let id = cmd.as_ref().ok().copied();
                execute(state, clients, job.slot, &argv, cmd, &mut job.out, now);
                match (state.block_request.take(), id) {
                    (Some(req), Some(id)) => {
                        // A waiter from this moment: a push later in this
                        // same batch must find it, or the wake-up is lost.
                        let db = clients.at(job.slot).db;
                        add_waiter(state, db, &req.keys, job.client);
                        job.blocked_on = Some((argv, id, req));
                        any_blocked = true;
                    }
                    _ => crate::resp::argv::recycle(argv),
                }
                // Copied reply bytes only: values replied by reference cost
                // no memory of their own.
                if job.out.buf.len() >= OUTPUT_PAUSE && job.blocked_on.is_none() {
                    job.output_full = true;
                    any_full = true;
                }
            }
            if any_blocked {
                self.park_blocked(state, clients, outbox);
            }
            if any_full {
                for job in self.jobs.iter_mut().filter(|j| j.output_full) {
                    for a in job.held.drain(..).rev() {
                        job.cmds.push_front(a);
                    }
                }
            }
            while self
                .jobs
                .front()
                .is_some_and(|j| j.cmds.is_empty() || j.output_full)
            {
                if let Some(job) = self.jobs.pop_front() {
                    finish(job, state, clients, outbox);
                }
            }
        }
    }

    /// Moves jobs that blocked in this batch out of the queue.
    fn park_blocked(&mut self, state: &mut State, clients: &mut Clients, outbox: &mut Outbox) {
        let mut keep = VecDeque::with_capacity(self.jobs.len());
        for mut job in self.jobs.drain(..) {
            let Some((argv, cmd, req)) = job.blocked_on.take() else {
                keep.push_back(job);
                continue;
            };
            for a in job.held.drain(..).rev() {
                job.cmds.push_front(a);
            }
            let c = clients.at_mut(job.slot);
            if c.hung_up {
                // Nobody is left to serve: the replies so far are written and
                // the connection closed instead of waiting, as Valkey frees
                // a blocked client whose peer closed.
                remove_waiter(state, c.db, &req.keys, job.client);
                send_reply(state, c, outbox, &mut job.out, Ending::Close, None);
                continue;
            }
            c.blocked = true;
            if !job.out.is_empty() {
                // Replies before the blocking command go out now.
                send_reply(state, c, outbox, &mut job.out, Ending::More, None);
            }
            let db = c.db;
            state.blocked.insert(job.client);
            let client = job.client;
            self.parked.insert(
                client,
                Parked {
                    job,
                    argv,
                    cmd,
                    db,
                    keys: req.keys,
                    deadline: req.deadline,
                    timeout_reply: req.timeout_reply,
                },
            );
        }
        self.jobs = keep;
    }

    /// Retries the blocked commands of clients waiting on ready keys, first
    /// come first served; the served ones resume.
    fn serve_ready(&mut self, state: &mut State, clients: &mut Clients) {
        let now = crate::keyspace::now_ms();
        for key in std::mem::take(&mut state.ready_keys) {
            let waiting: Vec<ClientId> = match state.waiters.get(&key) {
                Some(q) => q.iter().copied().collect(),
                None => continue,
            };
            for client in waiting {
                let Some(p) = self.parked.get_mut(&client) else {
                    continue;
                };
                let usec = execute(
                    state,
                    clients,
                    p.job.slot,
                    &p.argv,
                    Ok(p.cmd),
                    &mut p.job.out,
                    now,
                );
                if state.block_request.take().is_some() {
                    continue; // still nothing for it: keeps its place
                }
                state.latency.record(
                    state.config.latency_monitor_threshold,
                    latency::COMMAND_UNBLOCKING,
                    usec,
                );
                self.resume(client, state, clients);
            }
        }
    }

    /// Takes a client out of the blocked state and queues the rest of its job.
    fn resume(&mut self, client: ClientId, state: &mut State, clients: &mut Clients) {
        let Some(p) = self.unpark(client, state) else {
            return;
        };
        clients.at_mut(p.job.slot).blocked = false;
        self.jobs.push_back(p.job);
    }

    fn unpark(&mut self, client: ClientId, state: &mut State) -> Option<Parked> {
        let p = self.parked.remove(&client)?;
        remove_waiter(state, p.db, &p.keys, client);
        state.blocked.remove(&client);
        Some(p)
    }

    fn apply_unblocks(&mut self, state: &mut State, clients: &mut Clients) {
        let now = crate::keyspace::now_ms();
        for (client, error) in std::mem::take(&mut state.unblock) {
            let Some(mut p) = self.unpark(client, state) else {
                continue;
            };
            clients.at_mut(p.job.slot).blocked = false;
            record_unblocked(state, clients, p.job.slot, &p.argv, p.cmd, error, now);
            p.job.out.resp = clients
                .by_id(client)
                .map(|c| c.resp)
                .unwrap_or(p.job.out.resp);
            if error {
                p.job.out.error(UNBLOCKED);
            } else {
                timeout_reply(&mut p.job.out, p.timeout_reply);
            }
            self.jobs.push_back(p.job);
        }
    }

    /// Replies to blocked clients whose timeout has passed; true if any.
    pub fn expire_blocked(&mut self, state: &mut State, clients: &mut Clients) -> bool {
        if self.parked.is_empty() {
            return false;
        }
        let now = Instant::now();
        let due: Vec<ClientId> = self
            .parked
            .iter()
            .filter(|(_, p)| p.deadline.is_some_and(|d| d <= now))
            .map(|(c, _)| *c)
            .collect();
        let now_ms = crate::keyspace::now_ms();
        for client in &due {
            if let Some(mut p) = self.unpark(*client, state) {
                clients.at_mut(p.job.slot).blocked = false;
                record_unblocked(state, clients, p.job.slot, &p.argv, p.cmd, false, now_ms);
                timeout_reply(&mut p.job.out, p.timeout_reply);
                self.jobs.push_back(p.job);
            }
        }
        !due.is_empty()
    }

    /// The soonest blocked-client timeout.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.parked.values().filter_map(|p| p.deadline).min()
    }

    pub fn is_parked(&self, client: ClientId) -> bool {
        self.parked.contains_key(&client)
    }

    /// A blocked client killed by a command of this turn (CLIENT KILL) is
    /// served nothing more: it stops waiting before any ready key is served,
    /// so an element pushed after the kill stays in its list.
    fn drop_killed(&mut self, state: &mut State) {
        if self.parked.is_empty() {
            return;
        }
        for i in 0..state.kills.len() {
            let id = state.kills[i];
            self.unpark(id, state);
        }
    }

    /// Forgets a client that disconnected.
    pub fn forget(&mut self, client: ClientId, state: &mut State) {
        self.unpark(client, state);
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

/// Reply bytes leaving for a client (INFO total_net_output_bytes, CLIENT
/// LIST tot-net-out).
fn count_output(state: &mut State, c: &mut Client, out: &ReplyBuf) {
    let n = out.len() as u64;
    state.stats.net_output_bytes += n;
    c.net_out += n;
}

/// Queues `client` behind the others waiting on each of `keys`.
fn add_waiter(state: &mut State, db: usize, keys: &[Bytes], client: ClientId) {
    for k in keys {
        state
            .waiters
            .entry((db, k.clone()))
            .or_default()
            .push_back(client);
    }
}

fn remove_waiter(state: &mut State, db: usize, keys: &[Bytes], client: ClientId) {
    for k in keys {
        let key = (db, k.clone());
        if let Some(q) = state.waiters.get_mut(&key) {
            q.retain(|c| *c != client);
            if q.is_empty() {
                state.waiters.remove(&key);
            }
        }
    }
}

fn timeout_reply(out: &mut ReplyBuf, kind: TimeoutReply) {
    match kind {
        TimeoutReply::NullArray => out.null_array(),
        TimeoutReply::Null => out.null(),
    }
}

/// Sends a finished job's replies to the client's IO thread.
fn finish(mut job: Job, state: &mut State, clients: &mut Clients, outbox: &mut Outbox) {
    let Some(slot) = clients.slot_of(job.client) else {
        return;
    };
    let c = clients.at_mut(slot);
    let rest = (job.output_full && !job.cmds.is_empty()).then(|| {
        Box::new(Unrun {
            cmds: job.cmds.drain(..).collect(),
            error: job.error.take(),
        })
    });
    let mut close = std::mem::take(&mut c.close_after_reply);
    if let Some(e) = job.error.take() {
        state.stats.count_error("ERR");
        job.out.error(&e.reply_text());
        close = true;
    }
    let ending = if close { Ending::Close } else { Ending::Done };
    send_reply(state, c, outbox, &mut job.out, ending, rest);
}

/// Where a reply message leaves the client's batch.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Part of the replies: the batch goes on (a command blocked).
    More,
    /// The batch is done.
    Done,
    /// The batch is done and the connection closes once it is written.
    Close,
}

/// Sends `out`'s replies to the client's IO thread, counted as output.
fn send_reply(
    state: &mut State,
    c: &mut Client,
    outbox: &mut Outbox,
    out: &mut ReplyBuf,
    ending: Ending,
    rest: Option<Box<Unrun>>,
) {
    count_output(state, c, out);
    let authenticated = c.authenticated || state.config.requirepass.is_none();
    outbox.send(
        c.io_thread,
        ToIo::Reply {
            client: c.id,
            data: out.take(),
            done: ending != Ending::More,
            close: ending == Ending::Close,
            authenticated,
            rest,
        },
    );
}
