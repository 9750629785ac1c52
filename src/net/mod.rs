//! The IO side: sockets, reading, RESP parsing and writing replies.
//!
//! Never touches the keyspace or executes a command: parsed commands leave as
//! `ToMain` messages and replies arrive as `ToIo` messages. `conns` is the set
//! of connections one thread polls (an IO thread, or the main thread itself at
//! `io-threads 1`); `io_thread` is the IO thread's loop; `listener` binds and
//! accepts on the main thread.

pub mod conn;
pub mod conns;
pub mod io_thread;
pub mod listener;

use std::sync::atomic::{AtomicUsize, Ordering};

pub use conns::ConnSet;

/// Limits the IO threads enforce, changeable at run time by CONFIG SET.
#[derive(Debug)]
pub struct NetLimits {
    pub max_bulk_len: AtomicUsize,
    pub query_buf_limit: AtomicUsize,
}

impl NetLimits {
    pub fn new(max_bulk_len: usize, query_buf_limit: usize) -> Self {
        NetLimits {
            max_bulk_len: AtomicUsize::new(max_bulk_len),
            query_buf_limit: AtomicUsize::new(query_buf_limit),
        }
    }
    pub fn max_bulk_len(&self) -> usize {
        self.max_bulk_len.load(Ordering::Relaxed)
    }
    pub fn query_buf_limit(&self) -> usize {
        self.query_buf_limit.load(Ordering::Relaxed)
    }
}

/// Tokens below this are reserved for listeners, wakers and signals.
pub const FIRST_CONN_TOKEN: usize = 64;
