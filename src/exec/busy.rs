//! Serving other clients while a script runs long (Valkey's
//! processEventsWhileBlocked): the `Pump` the main loop installs in the
//! state, which `state::script_run` calls from the script's hook once the
//! script has run past `busy-reply-threshold`.
//!
//! The main loop is then inside the batch that runs the script, with the
//! state lent to the script's command; the pump shares the loop's `Net`
//! (poll, listeners, connections, rings) through an `Rc<RefCell<…>>`, which
//! the loop never holds borrowed while a batch runs. Each call: one poll
//! that does not wait (new connections are accepted, local sockets read),
//! the IO threads' rings drained, every command received run through the
//! call path at once (which refuses all but the `allow-busy` ones with
//! `-BUSY` while `ServerMode::busy` is set) and its replies sent. Other
//! messages (hang-ups, closes, connections coming back from a thread) wait
//! in the inbox for the loop, after the batch.
//!
//! A client with a batch in flight sends nothing more until it is answered,
//! so the script's caller is not served meanwhile, and a reply sent from
//! here never overtakes an earlier one. The replies the batch built before
//! the script (`State::early_out`) go out first; the batch executor runs a
//! job that starts with a script after the other queued jobs, so none
//! waits behind it. SHUTDOWN NOSAVE, allowed while busy, ends the process from here, as
//! Valkey exits from inside the script.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use mio::{Events, Token};

use super::call::call;
use super::main_loop::{count_input, Net, SIGNAL, WAKER};
use super::Outbox;
use crate::commands::CMD_TABLE;
use crate::net::message::{ClientId, ToIo, ToMain};
use crate::resp::{Argv, ProtocolError, ReplyBuf};
use crate::state::script_run::Pump;
use crate::state::{Clients, Origin, State};

pub struct BusyPump {
    net: Rc<RefCell<Net>>,
    events: RefCell<Events>,
    /// Replies and adoptions made here, flushed before each call returns.
    outbox: RefCell<Outbox>,
}

impl BusyPump {
    /// `threads`: the outbox size (IO threads + the main thread).
    pub(super) fn new(net: Rc<RefCell<Net>>, threads: usize) -> BusyPump {
        BusyPump {
            net,
            events: RefCell::new(Events::with_capacity(256)),
            outbox: RefCell::new(Outbox::new(threads)),
        }
    }
}

impl Pump for BusyPump {
    fn serve(&self, state: &mut State, clients: &mut Clients) {
        // Borrowed already: a pump called from inside the loop's own work
        // (never while a batch runs), which has nothing to serve from.
        let Ok(mut net) = self.net.try_borrow_mut() else {
            return;
        };
        let net = &mut *net;
        let (Ok(mut events), Ok(mut outbox)) =
            (self.events.try_borrow_mut(), self.outbox.try_borrow_mut())
        else {
            return;
        };
        // Up to four rounds while each one served something, as Valkey's
        // processEventsWhileBlocked: a client answered in one round often
        // has its next command in by the next (loopback round trips are
        // short next to the hook's period).
        for _ in 0..4 {
            if !serve_once(net, &mut events, &mut outbox, state, clients) {
                break;
            }
        }
    }
}

/// One round: a poll that does not wait, the rings drained, the commands
/// received answered and every reply sent. Whether any command came.
fn serve_once(
    net: &mut Net,
    events: &mut Events,
    outbox: &mut Outbox,
    state: &mut State,
    clients: &mut Clients,
) -> bool {
    if net.poll.poll(events, Some(Duration::ZERO)).is_ok() {
        for ev in events.iter() {
            match ev.token() {
                WAKER => {}
                SIGNAL => net.signal_pending = true,
                Token(i) if i < net.listeners.len() => net.accept(i, state, clients, outbox),
                t => net
                    .io
                    .local
                    .on_event(net.poll.registry(), t, ev, &mut net.inbox),
            }
        }
    }
    net.drain_rings();
    let received = std::mem::take(&mut net.inbox);
    let mut served = false;
    for msg in received {
        match msg {
            ToMain::Commands {
                client,
                cmds,
                error,
                input_bytes,
            } => {
                count_input(state, clients, client, input_bytes);
                served = true;
                answer(state, clients, outbox, client, cmds, error);
                if state.shutdown.is_some() {
                    break;
                }
            }
            other => net.inbox.push(other),
        }
    }
    if state.shutdown.is_some() {
        // SHUTDOWN NOSAVE: its handler refused any other kind.
        net.shutdown(state);
        if !state.config.pidfile.is_empty() {
            let _ = std::fs::remove_file(&state.config.pidfile);
        }
        std::process::exit(0);
    }
    net.flush(outbox, state);
    served
}

/// Runs the commands a client sent, each through the call path, and sends
/// their replies.
fn answer(
    state: &mut State,
    clients: &mut Clients,
    outbox: &mut Outbox,
    client: ClientId,
    cmds: Vec<Argv>,
    error: Option<ProtocolError>,
) {
    let Some(slot) = clients.slot_of(client) else {
        return;
    };
    let mut out = ReplyBuf::for_commands(clients.at(slot).resp, cmds.len());
    let now = crate::keyspace::now_ms();
    for argv in cmds {
        if clients.at(slot).close_after_reply || state.shutdown.is_some() {
            break;
        }
        let cmd = CMD_TABLE.resolve(&argv);
        call(
            state,
            clients,
            slot,
            &argv,
            cmd,
            &mut out,
            now,
            Origin::Client,
        );
        if let Some((req, _)) = state.blocking.take_request() {
            // Nothing allowed while busy blocks; were one to, it could not
            // wait here: it replies as at its timeout.
            req.timeout_reply.write(&mut out);
        }
        crate::resp::argv::recycle(argv);
    }
    let authenticated = state.config.requirepass.is_none() || clients.at(slot).authenticated;
    let c = clients.at_mut(slot);
    let mut close = std::mem::take(&mut c.close_after_reply);
    if let Some(e) = error {
        state.stats.count_error("ERR");
        out.error(&e.reply_text());
        close = true;
    }
    let n = out.len() as u64;
    state.stats.net_output_bytes += n;
    c.net_out += n;
    outbox.send(
        c.io_thread,
        ToIo::Reply {
            client,
            data: out.take(),
            done: true,
            close,
            authenticated,
            rest: None,
        },
    );
}
