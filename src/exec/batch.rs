//! The batch executor: commands from many clients (and many from one
//! client's pipeline) are gathered into batches of up to
//! `prefetch-batch-max-size`; each batch's keys are prefetched together,
//! then its commands run in order. A client's replies leave in one message
//! once all the commands it sent have run, so per-client order holds.
//!
//! A command that blocks (BLPOP on empty lists) suspends its client's job
//! with the rest of its pipeline in `state::Blocking`: replies so far are
//! sent, and the job resumes when a key it waits on is signalled ready, its
//! timeout passes, or CLIENT UNBLOCK; waiters on a key are served in the
//! order they blocked.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use super::call::{call, record_unblocked, Origin};
use super::prefetch::{prefetch_keys, KeyRef};
use super::Outbox;
use crate::commands::table::{key_positions, CmdId};
use crate::commands::{flags, CommandSpec, CMD_TABLE};
use crate::error::CmdError;
use crate::net::conn::OUTPUT_PAUSE;
use crate::net::message::{ClientId, ToIo, Unrun};
use crate::resp::{Argv, ProtocolError, ReplyBuf};
use crate::state::blocking::{Suspended, Wait};
use crate::state::latency;
use crate::state::pause::PauseMode;
use crate::state::{Client, Clients, State};

const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

struct Job {
    client: ClientId,
    slot: usize,
    cmds: VecDeque<Argv>,
    out: ReplyBuf,
    error: Option<ProtocolError>,
    /// A command of this job blocked during the current batch (its client
    /// is registered in `state.blocking`; the job is suspended after the
    /// batch).
    blocked: bool,
    /// Commands of this job that were in the batch after the blocked one
    /// (or after the output bound was reached).
    held: Vec<Argv>,
    /// CLIENT PAUSE holds its next command: the job waits in
    /// `Executor::postponed` until the pause ends.
    postponed: bool,
    /// The replies reached `OUTPUT_PAUSE`: the rest goes back to the
    /// connection unrun (`ToIo::Reply::rest`) and comes again once the
    /// client has read its output.
    output_full: bool,
    /// The rest of the client's pipeline, from a command that runs a
    /// script: queued with the scripts once this part is done (see
    /// `Executor::push`).
    then: Option<Box<Job>>,
}

impl Job {
    fn suspend(self) -> Suspended {
        Suspended {
            slot: self.slot,
            cmds: self.cmds,
            out: self.out,
            error: self.error,
        }
    }

    fn resume(client: ClientId, s: Suspended) -> Job {
        Job {
            client,
            slot: s.slot,
            cmds: s.cmds,
            out: s.out,
            error: s.error,
            blocked: false,
            held: Vec::new(),
            output_full: false,
            postponed: false,
            then: None,
        }
    }
}

/// Whether a pause holds `spec` sent by `c`: under ALL every command,
/// under WRITE those that may write or propagate, and an EXEC whose queue
/// has one (Valkey's processCommand); never a monitor's.
fn pause_holds(state: &State, spec: &CommandSpec, argv: &[Bytes], c: &Client) -> bool {
    if c.monitor {
        // A replica to Valkey: never paused.
        return false;
    }
    match state.pause.mode() {
        None => false,
        Some(PauseMode::All) => true,
        Some(PauseMode::Write) => {
            super::call::may_replicate(state, spec, argv)
                || (spec.name == "exec" && c.in_multi && c.multi.as_ref().is_some_and(|m| m.writes))
        }
    }
}

#[derive(Default)]
pub struct Executor {
    jobs: VecDeque<Job>,
    batch: Vec<(usize, Argv, Result<CmdId, CmdError>)>,
    key_pos: Vec<usize>,
    /// Jobs held by CLIENT PAUSE, in the order they were held.
    postponed: VecDeque<Job>,
    /// Jobs whose first command runs a script: each runs once the other
    /// jobs of the run are done, so that no client queued with a script
    /// waits behind it should it run long (`exec::busy` serves the clients
    /// that send meanwhile, and sends the replies built before it).
    scripts: VecDeque<Job>,
}

impl Executor {
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty() && self.scripts.is_empty()
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
        let resp = clients.at(slot).resp;
        let job = |cmds: Vec<Argv>, error| Job {
            client,
            slot,
            out: ReplyBuf::for_commands(resp, cmds.len()),
            cmds: cmds.into(),
            error,
            blocked: false,
            held: Vec::new(),
            output_full: false,
            postponed: false,
            then: None,
        };
        if cmds.first().is_some_and(|a| runs_script(a)) {
            self.scripts.push_back(job(cmds, error));
            return;
        }
        // A script further down the pipeline: the commands before it run
        // with the other jobs, the rest with the scripts, once they are
        // done. Not past a command that may block (its job would be
        // suspended with the rest still to run in order).
        // (The names are looked at first: EVAL*/FCALL* start with e or f.)
        let maybe = |a: &Argv| {
            matches!(
                a.first().and_then(|n| n.first()),
                Some(b'e' | b'E' | b'f' | b'F')
            )
        };
        let at = if cmds.iter().skip(1).any(maybe) {
            cmds.iter()
                .take_while(|a| !may_block(a))
                .position(|a| maybe(a) && runs_script(a))
        } else {
            None
        };
        match at {
            Some(at) => {
                let mut cmds = cmds;
                let rest = cmds.split_off(at);
                let mut first = job(cmds, None);
                first.then = Some(Box::new(job(rest, error)));
                self.jobs.push_back(first);
            }
            None => self.jobs.push_back(job(cmds, error)),
        }
    }

    /// Runs every queued command, then serves blocked clients whose keys
    /// became ready (which may run more commands, and so on).
    pub fn run(&mut self, state: &mut State, clients: &mut Clients, outbox: &mut Outbox) {
        loop {
            self.resume_postponed(state);
            if self.jobs.is_empty() {
                if let Some(job) = self.scripts.pop_front() {
                    // The replies built so far leave before the script's
                    // (first, should it time out).
                    let n = outbox.per_thread.len();
                    state.early_out.resize_with(n, Vec::new);
                    for (early, q) in state.early_out.iter_mut().zip(&mut outbox.per_thread) {
                        early.append(q);
                    }
                    self.jobs.push_back(job);
                }
            }
            self.run_jobs(state, clients, outbox);
            self.drop_killed(state);
            self.apply_unblocks(state, clients);
            if !state.blocking.has_ready() {
                if self.is_empty() {
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
        if state.pubsub.has_pending() {
            // Published by a blocked client's command served just before.
            deliver(&mut self.jobs, state, clients, outbox);
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
            let mut any_postponed = false;
            for (i, argv, cmd) in self.batch.drain(..) {
                let job = &mut self.jobs[i];
                if job.blocked || job.output_full || job.postponed {
                    job.held.push(argv);
                    continue;
                }
                // A connection being closed (QUIT, CLIENT KILL) runs nothing
                // more, as Valkey stops reading it.
                if clients.at(job.slot).close_after_reply || state.kills.contains(&job.client) {
                    continue;
                }
                if state.pause.is_active() {
                    if let Ok(id) = &cmd {
                        if pause_holds(state, CMD_TABLE.specs[*id], &argv, clients.at(job.slot)) {
                            job.postponed = true;
                            job.held.push(argv);
                            any_postponed = true;
                            continue;
                        }
                    }
                }
                let id = cmd.as_ref().ok().copied();
                call(
                    state,
                    clients,
                    job.slot,
                    &argv,
                    cmd,
                    &mut job.out,
                    now,
                    Origin::Client,
                );
                // Tested first: almost no command blocks.
                let blocked = if state.blocking.requested() {
                    state.blocking.take_request()
                } else {
                    None
                };
                match (blocked, id) {
                    (Some((req, nsec)), Some(id)) => {
                        // A waiter from this moment: a push later in this
                        // same batch must find it, or the wake-up is lost.
                        let db = clients.at(job.slot).db;
                        state.blocking.block(job.client, db, req, argv, id, nsec);
                        job.blocked = true;
                        any_blocked = true;
                    }
                    _ => crate::resp::argv::recycle(argv),
                }
                // Copied reply bytes only: values replied by reference cost
                // no memory of their own.
                if job.out.buf.len() >= OUTPUT_PAUSE && !job.blocked {
                    job.output_full = true;
                    any_full = true;
                }
                if !state.effects.events.is_empty() {
                    // Keyspace notifications go out in order with what
                    // commands publish.
                    state.publish_events();
                }
                if state.pubsub.has_pending() {
                    deliver(&mut self.jobs, state, clients, outbox);
                }
                if state.monitors.has_pending() {
                    deliver_monitor_lines(&mut self.jobs, state, clients, outbox);
                }
            }
            if any_blocked {
                self.park_blocked(state, clients, outbox);
            }
            if any_postponed {
                self.set_aside_postponed(state, clients, outbox);
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
                    if let Some(next) = finish(job, state, clients, outbox) {
                        self.scripts.push_back(*next);
                    }
                }
            }
        }
    }

    /// Moves the jobs CLIENT PAUSE holds out of the queue; their replies
    /// so far leave now.
    fn set_aside_postponed(
        &mut self,
        state: &mut State,
        clients: &mut Clients,
        outbox: &mut Outbox,
    ) {
        let mut keep = VecDeque::with_capacity(self.jobs.len());
        for mut job in self.jobs.drain(..) {
            if !job.postponed {
                keep.push_back(job);
                continue;
            }
            for a in job.held.drain(..).rev() {
                job.cmds.push_front(a);
            }
            let c = clients.at_mut(job.slot);
            if !job.out.is_empty() {
                send_reply(state, c, outbox, &mut job.out, Ending::More, None);
            }
            state.pause.postponed.insert(job.client);
            self.postponed.push_back(job);
        }
        self.jobs = keep;
    }

    /// Once the pause is over (CLIENT UNPAUSE, or its end passed), the
    /// held jobs go back to the queue, in order.
    fn resume_postponed(&mut self, state: &mut State) {
        if state.pause.is_active() {
            let ended = state
                .pause
                .end_ms()
                .is_some_and(|end| end <= crate::keyspace::now_ms());
            if !ended {
                return;
            }
            state.pause.unpause();
            state.set_expire_paused(false);
        }
        if self.postponed.is_empty() {
            return;
        }
        state.pause.postponed.clear();
        for mut job in self.postponed.drain(..) {
            job.postponed = false;
            self.jobs.push_back(job);
        }
    }

    /// Drops the held job of a client that went away or was killed; true
    /// if it had one.
    pub fn forget_postponed(&mut self, client: ClientId, state: &mut State) -> bool {
        let before = self.postponed.len();
        self.postponed.retain(|j| j.client != client);
        state.pause.postponed.remove(&client);
        self.postponed.len() != before
    }

    /// When a pause that holds jobs ends (for the main loop's wait).
    pub fn pause_deadline(&self, state: &State) -> Option<i64> {
        if self.postponed.is_empty() {
            return None;
        }
        state.pause.end_ms()
    }

    /// Suspends the jobs that blocked in this batch in `state.blocking`.
    fn park_blocked(&mut self, state: &mut State, clients: &mut Clients, outbox: &mut Outbox) {
        let mut keep = VecDeque::with_capacity(self.jobs.len());
        for mut job in self.jobs.drain(..) {
            if !job.blocked {
                keep.push_back(job);
                continue;
            }
            for a in job.held.drain(..).rev() {
                job.cmds.push_front(a);
            }
            let c = clients.at_mut(job.slot);
            if c.hung_up {
                // Nobody is left to serve: the replies so far are written and
                // the connection closed instead of waiting, as Valkey frees
                // a blocked client whose peer closed.
                state.blocking.unblock(job.client);
                send_reply(state, c, outbox, &mut job.out, Ending::Close, None);
                continue;
            }
            if !job.out.is_empty() {
                // Replies before the blocking command go out now.
                send_reply(state, c, outbox, &mut job.out, Ending::More, None);
            }
            let client = job.client;
            if let Some(w) = state.blocking.get_mut(client) {
                w.job = Some(job.suspend());
            }
        }
        self.jobs = keep;
    }

    /// Retries the blocked commands of clients waiting on ready keys, first
    /// come first served; the served ones resume.
    fn serve_ready(&mut self, state: &mut State, clients: &mut Clients) {
        let now = crate::keyspace::now_ms();
        for key in state.blocking.take_ready() {
            for client in state.blocking.waiters(&key) {
                // Only suspended jobs: one that blocked in the batch still
                // running is not set aside yet.
                let Some(w) = state.blocking.get_mut(client) else {
                    continue;
                };
                let Some(mut job) = w.job.take() else {
                    continue;
                };
                let argv = std::mem::take(&mut w.argv);
                let cmd = w.cmd;
                let ran = w.nsec;
                state.blocking.carry_nsec(ran);
                let usec = call(
                    state,
                    clients,
                    job.slot,
                    &argv,
                    Ok(cmd),
                    &mut job.out,
                    now,
                    Origin::Client,
                );
                state.blocking.carry_nsec(0);
                state.publish_events();
                if let Some((_, nsec)) = state.blocking.take_request() {
                    // Still nothing for it: keeps its place.
                    if let Some(w) = state.blocking.get_mut(client) {
                        w.argv = argv;
                        w.nsec += nsec;
                        w.job = Some(job);
                    }
                    continue;
                }
                state.latency.record(
                    state.config.latency_monitor_threshold,
                    latency::COMMAND_UNBLOCKING,
                    usec,
                );
                state.blocking.unblock(client);
                crate::resp::argv::recycle(argv);
                self.jobs.push_back(Job::resume(client, job));
            }
        }
    }

    /// Takes a suspended client out of the blocked state.
    fn unpark(client: ClientId, state: &mut State) -> Option<(Wait, Suspended)> {
        if state.blocking.get(client).is_none_or(|w| w.job.is_none()) {
            return None;
        }
        let mut w = state.blocking.unblock(client)?;
        let job = w.job.take()?;
        Some((w, job))
    }

    /// Ends a suspended client's wait without serving it: CLIENT UNBLOCK
    /// (`error`: with an error reply) or its timeout.
    fn end_wait(
        &mut self,
        client: ClientId,
        error: bool,
        state: &mut State,
        clients: &mut Clients,
    ) {
        let Some((w, mut job)) = Self::unpark(client, state) else {
            return;
        };
        let now = crate::keyspace::now_ms();
        record_unblocked(state, clients, job.slot, &w.argv, w.cmd, w.nsec, error, now);
        job.out.resp = clients
            .by_id(client)
            .map(|c| c.resp)
            .unwrap_or(job.out.resp);
        if error {
            job.out.error(UNBLOCKED);
        } else {
            w.timeout_reply.write(&mut job.out);
        }
        crate::resp::argv::recycle(w.argv);
        self.jobs.push_back(Job::resume(client, job));
    }

    fn apply_unblocks(&mut self, state: &mut State, clients: &mut Clients) {
        for (client, error) in state.blocking.take_unblocks() {
            self.end_wait(client, error, state, clients);
        }
    }

    /// Replies to blocked clients whose timeout has passed; true if any.
    pub fn expire_blocked(&mut self, state: &mut State, clients: &mut Clients) -> bool {
        if state.blocking.is_empty() {
            return false;
        }
        let due = state.blocking.due(Instant::now());
        for &client in &due {
            self.end_wait(client, false, state, clients);
        }
        !due.is_empty()
    }

    /// A blocked client killed by a command of this turn (CLIENT KILL) is
    /// served nothing more: it stops waiting before any ready key is served,
    /// so an element pushed after the kill stays in its list.
    fn drop_killed(&mut self, state: &mut State) {
        if !self.postponed.is_empty() {
            for i in 0..state.kills.len() {
                let id = state.kills[i];
                self.forget_postponed(id, state);
            }
        }
        if state.blocking.is_empty() {
            return;
        }
        for i in 0..state.kills.len() {
            let id = state.kills[i];
            Self::unpark(id, state);
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

/// Whether `argv` runs a script (EVAL, FCALL and kin): the name's length
/// and first letter first, so that most commands cost no lookup.
/// A command that may block its client (BLPOP, WAIT, ...).
fn may_block(argv: &[bytes::Bytes]) -> bool {
    CMD_TABLE
        .resolve(argv)
        .is_ok_and(|id| CMD_TABLE.specs[id].has(flags::BLOCKING))
}

fn runs_script(argv: &[bytes::Bytes]) -> bool {
    let Some(name) = argv.first() else {
        return false;
    };
    (4..=10).contains(&name.len())
        && matches!(name[0] | 0x20, b'e' | b'f')
        && CMD_TABLE
            .resolve(argv)
            .is_ok_and(|id| CMD_TABLE.specs[id].has(flags::RUNS_SCRIPT))
}

/// The replies still being built for the receivers among `jobs`: what a
/// fan-out appends to instead of sending on its own, so each receiver
/// reads things in the order they ran.
fn held_replies(
    jobs: &mut VecDeque<Job>,
    receives: impl Fn(ClientId) -> bool,
) -> Vec<(ClientId, &mut ReplyBuf)> {
    jobs.iter_mut()
        .filter(|j| !j.out.is_empty() && receives(j.client))
        .map(|j| (j.client, &mut j.out))
        .collect()
}

/// Hands what the last command published to the IO side (`state::pubsub`):
/// a subscriber whose replies are being built in `jobs` gets the message
/// in them, after the replies of the commands it ran before it.
fn deliver(
    jobs: &mut VecDeque<Job>,
    state: &mut State,
    clients: &mut Clients,
    outbox: &mut Outbox,
) {
    let mut held = held_replies(jobs, |id| state.pubsub.receives_pushes(id));
    let sent = state
        .pubsub
        .flush(clients, &mut held, &mut outbox.per_thread);
    state.stats.net_output_bytes += sent;
}

/// Hands the lines the last command fed to the monitors
/// (`state::monitor`); a monitor whose replies are being built in `jobs`
/// gets them in its reply.
#[cold]
#[inline(never)]
fn deliver_monitor_lines(
    jobs: &mut VecDeque<Job>,
    state: &mut State,
    clients: &mut Clients,
    outbox: &mut Outbox,
) {
    let mut held = held_replies(jobs, |id| state.monitors.contains(id));
    let sent = state
        .monitors
        .flush(clients, &mut held, &mut outbox.per_thread);
    state.stats.net_output_bytes += sent;
}

/// Reply bytes leaving for a client (INFO total_net_output_bytes, CLIENT
/// LIST tot-net-out).
fn count_output(state: &mut State, c: &mut Client, out: &ReplyBuf) {
    let n = out.len() as u64;
    state.stats.net_output_bytes += n;
    c.net_out += n;
}

/// Sends a finished job's replies to the client's IO thread; returns the
/// rest of its pipeline still to run (`Job::then`).
fn finish(
    mut job: Job,
    state: &mut State,
    clients: &mut Clients,
    outbox: &mut Outbox,
) -> Option<Box<Job>> {
    let slot = clients.slot_of(job.client)?;
    let c = clients.at_mut(slot);
    let mut then = job.then.take();
    if job.output_full {
        // The rest goes back unrun with this part's: in order.
        if let Some(next) = then.take() {
            let next = *next;
            job.cmds.extend(next.cmds);
            job.error = next.error;
        }
    }
    let rest = (job.output_full && !job.cmds.is_empty()).then(|| {
        Box::new(Unrun {
            cmds: job.cmds.drain(..).collect(),
            error: job.error.take(),
        })
    });
    if then.is_some() && !c.close_after_reply {
        // More of this batch follows.
        send_reply(state, c, outbox, &mut job.out, Ending::More, None);
        return then;
    }
    let mut close = std::mem::take(&mut c.close_after_reply);
    if let Some(e) = job.error.take() {
        state.stats.count_error("ERR");
        job.out.error(&e.reply_text());
        close = true;
    }
    let ending = if close { Ending::Close } else { Ending::Done };
    send_reply(state, c, outbox, &mut job.out, ending, rest);
    None
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
