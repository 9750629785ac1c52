//! The call path's client-side caching step, run after a command while
//! effects are collected (always while a client tracks keys): the null
//! invalidation after a flush, the keys a read-only command read for a
//! tracking client in the default mode, the end of CLIENT CACHING's one
//! command, and the invalidations built on their way to the Pub/Sub
//! fan-out. The tables are `state::tracking`; keys modified reach them
//! through `State::touch_watched`.

use bytes::Bytes;

use crate::commands::table::key_positions;
use crate::commands::{flags, CommandSpec};
use crate::state::{Clients, Origin, State};

#[inline(never)]
pub fn after_command(
    state: &mut State,
    clients: &mut Clients,
    slot: usize,
    spec: &CommandSpec,
    argv: &[Bytes],
    origin: Origin,
) {
    if state.tracking.client_count() == 0 {
        return;
    }
    state.tracking.send_flushed(clients);
    // A script's reads are remembered for its caller, with the keys of the
    // command the script ran (Valkey's current_client); the read-only
    // script commands themselves track nothing, only what they run.
    // Shard channels are keys too, but nobody caches them.
    if spec.has(flags::READONLY)
        && !spec.has(flags::PUBSUB)
        && !matches!(spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro")
    {
        let reader = match (origin, state.script_run.as_ref()) {
            (Origin::Script, Some(run)) => clients.slot_of(run.caller),
            (Origin::Script, None) => None,
            _ => Some(slot),
        };
        if let Some(r) = reader {
            let c = clients.at(r);
            if c.tracking.as_deref().is_some_and(|t| !t.bcast) {
                let mut at = Vec::new();
                key_positions(spec, argv, &mut at);
                state
                    .tracking
                    .remember(c, at.iter().filter_map(|&i| argv.get(i)));
            }
        }
    }
    let c = clients.at(slot);
    if let Some(t) = c.tracking.as_deref() {
        // CLIENT CACHING applies to the next command, or the next
        // transaction; CLIENT subcommands leave it alone, as in Valkey.
        let ends_caching = t.caching
            && origin == Origin::Client
            && !c.in_multi
            && !spec.name.starts_with("client|");
        if ends_caching {
            if let Some(t) = clients.at_mut(slot).tracking.as_deref_mut() {
                t.caching = false;
            }
        }
    }
    state.send_tracking();
}
