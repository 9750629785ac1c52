//! Wiring: logging, pid file, then the main loop (which spawns the IO threads).

use std::io;

use crate::config::Config;
use crate::exec::main_loop::Server;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The version reported as `redis_version`, so clients enable 7.2 features.
pub const REDIS_COMPAT_VERSION: &str = "7.2.4";

/// Runs the server until shutdown.
pub fn run(config: Config) -> io::Result<()> {
    let pidfile = config.pidfile.clone();
    let io_threads = config.io_threads;
    let server = Server::new(config)?;
    let addrs = server.local_addrs();
    let port = addrs.first().map(|a| a.port()).unwrap_or(0);
    tracing::info!(
        "ferrokey {VERSION} (redis_version {REDIS_COMPAT_VERSION}) starting: pid={}, port={port}, io-threads={io_threads}",
        std::process::id()
    );
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            tracing::warn!("Failed to write PID file {pidfile}: {e}");
        }
    }
    for a in &addrs {
        tracing::info!("Listening on {a}");
    }
    tracing::info!("Ready to accept connections tcp");
    let r = server.run();
    if !pidfile.is_empty() {
        let _ = std::fs::remove_file(&pidfile);
    }
    r
}
