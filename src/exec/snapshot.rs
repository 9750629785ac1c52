//! Drives a keyspace snapshot (`keyspace::snapshot`) from the main loop.
//!
//! While one runs, every event-loop turn gives it one step of at most
//! `STEP_BUDGET` after the turn's commands, and the loop does not sleep in
//! its poll, so a save progresses at full speed between commands without
//! ever holding them up longer than one step. What starts a snapshot and
//! where its records go (the RDB writer) is the caller's: nothing here is
//! reachable from a command yet.

use std::time::Duration;

use crate::keyspace::snapshot::{Background, Progress, SnapshotSink, SnapshotStats};
use crate::state::State;

/// Main-thread time one step may take.
pub const STEP_BUDGET: Duration = Duration::from_micros(500);

/// Starts a snapshot of every db into `sink`; false while one is running.
pub fn start(state: &mut State, sink: Box<dyn SnapshotSink + Send>) -> bool {
    if state.snapshot.is_some() {
        return false;
    }
    state.snapshot = Background::start(&mut state.dbs, sink);
    state.snapshot.is_some()
}

/// One step of the running snapshot, if any; its stats when it finished.
pub fn tick(state: &mut State) -> Option<SnapshotStats> {
    let bg = state.snapshot.as_mut()?;
    if bg.step(&mut state.dbs, STEP_BUDGET) == Progress::More {
        return None;
    }
    let stats = bg.stats();
    state.snapshot = None;
    Some(stats)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::Config;
    use crate::exec::Harness;
    use crate::keyspace::snapshot::{ChannelSink, OwnedRecord};
    use crate::keyspace::Value;
    use crate::util::rng::Rng;

    type Image = HashMap<(usize, Vec<u8>), (String, i64)>;

    fn shown(v: &Value) -> String {
        match v {
            Value::Str(s) => String::from_utf8_lossy(&s.to_bytes()).into_owned(),
            other => format!("{other:?}"),
        }
    }

    fn image(state: &State) -> Image {
        let mut m = Image::new();
        for (i, db) in state.dbs.iter().enumerate() {
            for e in db.table().iter() {
                m.insert((i, e.key().to_vec()), (shown(&e.value()), e.expire()));
            }
        }
        m
    }

    fn collect(into: &mut Image, rx: &std::sync::mpsc::Receiver<Vec<OwnedRecord>>) {
        for r in rx.try_iter().flatten() {
            let prev = into.insert((r.db, r.key.to_vec()), (shown(&r.value), r.expire_ms));
            assert!(prev.is_none(), "{:?} reported twice", r.key);
        }
    }

    /// A write command of any family on a random key, in a random db.
    fn random_command(rng: &mut Rng, i: usize) -> Vec<String> {
        let k = format!("k{}", rng.below(300));
        let k2 = format!("k{}", rng.below(300));
        let args: Vec<String> = match rng.below(22) {
            0 => vec!["SET".into(), k, format!("v{i}")],
            1 => vec!["APPEND".into(), k, "+".into()],
            2 => vec!["INCR".into(), k],
            3 => vec!["DEL".into(), k],
            4 => vec!["UNLINK".into(), k],
            5 => vec!["RPUSH".into(), k, format!("e{i}")],
            6 => vec!["LPOP".into(), k],
            7 => vec!["SADD".into(), k, format!("m{}", i % 7)],
            8 => vec!["SPOP".into(), k],
            9 => vec!["HSET".into(), k, "f".into(), format!("{i}")],
            10 => vec!["ZADD".into(), k, format!("{i}"), "z".into()],
            11 => vec!["PEXPIRE".into(), k, format!("{}", rng.below(30))],
            12 => vec!["PERSIST".into(), k],
            13 => vec!["RENAME".into(), k, k2],
            14 => vec!["MOVE".into(), k, format!("{}", rng.below(3))],
            15 => vec!["COPY".into(), k, k2, "REPLACE".into()],
            16 => vec!["SETRANGE".into(), k, "2".into(), "xy".into()],
            17 => vec!["GETDEL".into(), k],
            18 if rng.below(10) == 0 => vec!["FLUSHDB".into()],
            19 if rng.below(10) == 0 => vec!["SWAPDB".into(), "0".into(), "1".into()],
            20 if rng.below(40) == 0 => vec!["FLUSHALL".into()],
            _ => vec![
                "SET".into(),
                k,
                "x".repeat(30 + i % 40),
                "PX".into(),
                "50".into(),
            ],
        };
        args
    }

    #[test]
    fn a_snapshot_driven_between_commands_equals_the_start_image() {
        let mut h = Harness::new(Config::default());
        let c = h.add_client();
        let mut rng = Rng::new(11);
        for round in 0..4 {
            for db in 0..3 {
                h.run_str(c, &["SELECT", &db.to_string()]);
                for i in 0..300 {
                    let cmd = random_command(&mut rng, i);
                    let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
                    if !matches!(args[0], "FLUSHDB" | "FLUSHALL" | "SWAPDB") {
                        h.run_str(c, &args);
                    }
                }
            }
            let want = image(&h.state);
            assert!(want.len() > 200, "a keyspace to save: {}", want.len());
            let (sink, rx) = ChannelSink::new(4, 2048);
            assert!(start(&mut h.state, Box::new(sink)));
            let (other, _rx2) = ChannelSink::new(1, 1);
            assert!(!start(&mut h.state, Box::new(other)), "one at a time");
            let mut got = Image::new();
            let mut i = 0;
            let stats = loop {
                for _ in 0..1 + rng.below(4) {
                    h.run_str(c, &["SELECT", &rng.below(3).to_string()]);
                    let cmd = random_command(&mut rng, i);
                    let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
                    h.run_str(c, &args);
                    i += 1;
                }
                let done = tick(&mut h.state);
                collect(&mut got, &rx);
                if let Some(stats) = done {
                    break stats;
                }
                assert!(i < 1_000_000, "the snapshot ends");
            };
            collect(&mut got, &rx);
            assert_eq!(got, want, "round {round}");
            assert!(stats.records as usize == want.len());
            assert!(h.state.snapshot.is_none());
        }
    }
}
