//! The IO side: sockets, reading, RESP parsing and writing replies.
//!
//! Never touches the keyspace or executes a command: parsed commands leave as
//! `ToMain` messages and replies arrive as `ToIo` messages (`message`, carried
//! by the `ring`s). `conn_set` is the set of connections one thread polls (an
//! IO thread, or the main thread itself at `io-threads 1`); `io_thread` is the
//! IO thread's loop; `listener` binds and accepts on the main thread;
//! `stream` is a client socket, TCP or Unix-domain.

pub mod conn;
pub mod conn_set;
pub mod io_thread;
pub mod listener;
pub mod message;
pub mod stream;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

pub use conn_set::ConnSet;

/// Limits the IO threads enforce, changeable at run time by CONFIG SET.
#[derive(Debug)]
pub struct NetLimits {
    pub max_bulk_len: AtomicUsize,
    pub query_buf_limit: AtomicUsize,
    /// `client-output-buffer-limit normal`: hard bytes, soft bytes, soft seconds (0: none).
    pub out_hard: AtomicU64,
    pub out_soft: AtomicU64,
    pub out_soft_secs: AtomicU64,
    /// `client-output-buffer-limit pubsub`, the same three.
    pub pubsub_hard: AtomicU64,
    pub pubsub_soft: AtomicU64,
    pub pubsub_soft_secs: AtomicU64,
}

impl NetLimits {
    pub fn new(max_bulk_len: usize, query_buf_limit: usize) -> Self {
        NetLimits {
            max_bulk_len: AtomicUsize::new(max_bulk_len),
            query_buf_limit: AtomicUsize::new(query_buf_limit),
            out_hard: AtomicU64::new(0),
            out_soft: AtomicU64::new(0),
            out_soft_secs: AtomicU64::new(0),
            pubsub_hard: AtomicU64::new(0),
            pubsub_soft: AtomicU64::new(0),
            pubsub_soft_secs: AtomicU64::new(0),
        }
    }

    /// Copies the limits from the configuration (at start, and after CONFIG SET).
    pub fn sync(&self, config: &crate::config::Config) {
        self.max_bulk_len
            .store(config.proto_max_bulk_len, Ordering::Relaxed);
        self.query_buf_limit
            .store(config.client_query_buffer_limit, Ordering::Relaxed);
        let (hard, soft, secs) = config.client_output_buffer_limit[0];
        self.out_hard.store(hard, Ordering::Relaxed);
        self.out_soft.store(soft, Ordering::Relaxed);
        self.out_soft_secs.store(secs, Ordering::Relaxed);
        let (hard, soft, secs) = config.client_output_buffer_limit[2];
        self.pubsub_hard.store(hard, Ordering::Relaxed);
        self.pubsub_soft.store(soft, Ordering::Relaxed);
        self.pubsub_soft_secs.store(secs, Ordering::Relaxed);
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
