//! The script running now, if any (Valkey's `curr_run_ctx`), and what lets
//! the server answer other clients while it runs long.
//!
//! EVAL and FCALL record their script here for the time it runs
//! (`State::script_started` / `script_ended`). Every `hook::HOOK_EVERY`
//! Lua instructions the engine asks its host to `interrupt`, which lands in
//! `State::script_interrupt`: past `busy-reply-threshold` the script is
//! "timed out" (logged once, as Valkey does) and from then on each call
//! serves the other clients through the `Pump` the main loop installed:
//! their commands go through the ordinary call path, which refuses all but
//! the `allow-busy` ones with `-BUSY` while `ServerMode::busy` is set. The
//! script's own caller is not served: its connection has a batch in flight,
//! so its IO side sends nothing more until EVAL replies.
//!
//! SCRIPT KILL and FUNCTION KILL mark the record killed
//! (`State::kill_script`); the next interrupt ends the script with the
//! kill error.

use super::{Clients, State};
use crate::net::message::ClientId;

/// What kind of script runs: SCRIPT KILL stops only an EVAL script,
/// FUNCTION KILL only a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptKind {
    Eval,
    Function,
}

/// The script running now.
#[derive(Debug)]
pub struct RunningScript {
    pub kind: ScriptKind,
    /// The SHA1 of an EVAL script, the name of a function (the log names it).
    pub name: String,
    /// The client whose EVAL or FCALL runs it.
    pub caller: ClientId,
    /// That command's arguments (FUNCTION STATS shows them).
    pub command: Vec<bytes::Bytes>,
    pub start: crate::util::clock::Stamp,
    /// The wall clock then: TIME inside the script gives it (time stands
    /// still in a script, as in Valkey).
    pub unix: std::time::Duration,
    /// A write command was called: SCRIPT KILL can no longer stop it.
    pub write_dirty: bool,
    /// Past `busy-reply-threshold`: other clients are being served.
    pub timed_out: bool,
    /// SCRIPT KILL or FUNCTION KILL asked for its end.
    pub killed: bool,
}

/// Serves the other clients while a script runs long: given by the main
/// loop (`exec::busy`), reached through `State::pump` so that `commands`
/// and `script` need not know the main loop (as `NestedCall` for calls).
pub trait Pump {
    /// Accepts, reads and answers what the other clients sent, once,
    /// without waiting.
    fn serve(&self, state: &mut State, clients: &mut Clients);
}

pub const BUSY_EVAL: &str =
    "BUSY Valkey is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const BUSY_FUNCTION: &str =
    "BUSY Valkey is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
pub const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
pub const KILLED_EVAL: &str = "ERR Script killed by user with SCRIPT KILL.";
pub const KILLED_FUNCTION: &str = "ERR Script killed by user with FUNCTION KILL.";

impl State {
    /// A script starts running for `caller`.
    pub fn script_started(
        &mut self,
        kind: ScriptKind,
        name: String,
        caller: ClientId,
        command: Vec<bytes::Bytes>,
    ) {
        self.script_run = Some(RunningScript {
            kind,
            name,
            caller,
            command,
            start: crate::util::clock::Stamp::now(),
            unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default(),
            write_dirty: false,
            timed_out: false,
            killed: false,
        });
    }

    /// The running script ended (however): other clients run again.
    pub fn script_ended(&mut self) {
        self.script_run = None;
        self.mode.busy = false;
    }

    /// The running script called a write command (Valkey's
    /// SCRIPT_WRITE_DIRTY, set before the command runs, whatever it does).
    pub fn script_wrote(&mut self) {
        if let Some(r) = self.script_run.as_mut() {
            r.write_dirty = true;
        }
    }

    /// The `-BUSY` error for the script running (an EVAL script's names
    /// SCRIPT KILL, a function's FUNCTION KILL).
    pub fn busy_error(&self) -> &'static str {
        match self.script_run.as_ref().map(|r| r.kind) {
            Some(ScriptKind::Function) => BUSY_FUNCTION,
            _ => BUSY_EVAL,
        }
    }

    /// SCRIPT KILL (`by` Eval) or FUNCTION KILL (`by` Function): the error
    /// to reply, or Ok once the script is marked to end at its next hook.
    pub fn kill_script(&mut self, by: ScriptKind) -> Result<(), &'static str> {
        let Some(run) = self.script_run.as_mut() else {
            return Err(NOTBUSY);
        };
        if run.write_dirty {
            return Err(UNKILLABLE);
        }
        // The other command's error names the command that would work.
        match (by, run.kind) {
            (ScriptKind::Eval, ScriptKind::Function) => return Err(BUSY_FUNCTION),
            (ScriptKind::Function, ScriptKind::Eval) => return Err(BUSY_EVAL),
            _ => {}
        }
        run.killed = true;
        Ok(())
    }

    /// Called from the running script's hook (Valkey's scriptInterrupt):
    /// times the script out past `busy-reply-threshold`, then serves the
    /// other clients. Some(error) when the script must end with it.
    pub fn script_interrupt(&mut self, clients: &mut Clients) -> Option<String> {
        let run = self.script_run.as_mut()?;
        if !run.timed_out {
            let threshold = busy_reply_threshold(&self.config);
            let elapsed = run.start.elapsed().as_millis() as u64;
            if threshold == 0 || elapsed < threshold {
                return None;
            }
            let kill = match run.kind {
                ScriptKind::Eval => "SCRIPT KILL",
                ScriptKind::Function => "FUNCTION KILL",
            };
            tracing::warn!(
                "Slow script detected: still in execution after {elapsed} milliseconds. You can try killing the script using the {kill} command. Script name is: {}.",
                run.name
            );
            run.timed_out = true;
            self.mode.busy = true;
        }
        // Taken out while it runs: it needs the state itself.
        if let Some(pump) = self.pump.take() {
            pump.serve(self, clients);
            self.pump = Some(pump);
        }
        let run = self.script_run.as_ref()?;
        run.killed.then(|| {
            match run.kind {
                ScriptKind::Eval => KILLED_EVAL,
                ScriptKind::Function => KILLED_FUNCTION,
            }
            .to_string()
        })
    }
}

/// `busy-reply-threshold` (alias `lua-time-limit`) in ms; 0: never.
fn busy_reply_threshold(config: &crate::config::Config) -> u64 {
    config
        .extra
        .get("busy-reply-threshold")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::net::NetLimits;
    use std::sync::Arc;

    fn state() -> State {
        let c = Config::default();
        let limits = Arc::new(NetLimits::new(
            c.proto_max_bulk_len,
            c.client_query_buffer_limit,
        ));
        State::new(c, limits, 1)
    }

    #[test]
    fn kill_answers_as_valkey() {
        let mut s = state();
        assert_eq!(s.kill_script(ScriptKind::Eval), Err(NOTBUSY));
        assert_eq!(s.kill_script(ScriptKind::Function), Err(NOTBUSY));
        s.script_started(ScriptKind::Eval, "abc".into(), 7, Vec::new());
        assert_eq!(s.kill_script(ScriptKind::Function), Err(BUSY_EVAL));
        assert_eq!(s.kill_script(ScriptKind::Eval), Ok(()));
        assert!(s.script_run.as_ref().is_some_and(|r| r.killed));
        s.script_ended();
        s.script_started(ScriptKind::Function, "f".into(), 7, Vec::new());
        assert_eq!(s.busy_error(), BUSY_FUNCTION);
        assert_eq!(s.kill_script(ScriptKind::Eval), Err(BUSY_FUNCTION));
        // A write first: neither kills it (the write is checked first).
        s.script_wrote();
        assert_eq!(s.kill_script(ScriptKind::Eval), Err(UNKILLABLE));
        assert_eq!(s.kill_script(ScriptKind::Function), Err(UNKILLABLE));
        s.script_ended();
        assert!(s.script_run.is_none() && !s.mode.busy);
    }

    #[test]
    fn interrupt_times_out_past_the_threshold_only() {
        let mut s = state();
        let mut clients = Clients::default();
        assert_eq!(s.script_interrupt(&mut clients), None);
        s.script_started(ScriptKind::Eval, "abc".into(), 7, Vec::new());
        assert_eq!(s.script_interrupt(&mut clients), None);
        assert!(!s.mode.busy);
        s.config.extra.insert("busy-reply-threshold", "0".into());
        if let Some(r) = s.script_run.as_mut() {
            r.start = r.start.earlier_by(std::time::Duration::from_secs(10));
        }
        // 0: never times out.
        assert_eq!(s.script_interrupt(&mut clients), None);
        assert!(!s.mode.busy);
        s.config.extra.insert("busy-reply-threshold", "10".into());
        assert_eq!(s.script_interrupt(&mut clients), None);
        assert!(s.mode.busy && !s.mode.is_normal());
        assert_eq!(s.kill_script(ScriptKind::Eval), Ok(()));
        assert_eq!(
            s.script_interrupt(&mut clients).as_deref(),
            Some(KILLED_EVAL)
        );
        s.script_ended();
        assert!(s.mode.is_normal());
    }
}
