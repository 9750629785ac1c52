//! The main thread: it alone owns the keyspace and runs commands.
//!
//! `main_loop` accepts connections, drains the IO threads' rings, hands
//! commands to the `batch` executor (which `prefetch`es keys and runs each
//! command through the `call` path) and routes replies back through
//! `Outbox`. The state it runs commands on is `crate::state`.

pub mod aof;
pub mod aof_load;
pub mod batch;
pub mod busy;
pub mod call;
pub mod cron;
#[cfg(test)]
mod effects_tests;
pub mod harness;
pub mod lazyfree;
pub mod load;
pub mod loading;
pub mod main_loop;
pub mod prefetch;
pub mod save;
pub mod snapshot;
mod tracking;

pub use harness::Harness;

use crate::net::message::ToIo;

/// Messages for the IO side produced while executing, per thread
/// (index 0: the main thread's own connections at `io-threads 1`).
pub struct Outbox {
    pub per_thread: Vec<Vec<ToIo>>,
}

impl Outbox {
    pub fn new(threads: usize) -> Self {
        Outbox {
            per_thread: (0..threads.max(1)).map(|_| Vec::new()).collect(),
        }
    }

    #[inline]
    pub fn send(&mut self, thread: usize, msg: ToIo) {
        self.per_thread[thread].push(msg);
    }

    pub fn is_empty(&self) -> bool {
        self.per_thread.iter().all(Vec::is_empty)
    }
}
