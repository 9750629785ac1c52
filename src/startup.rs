//! Startup wiring: pid file, the listening sockets, then the main loop (which
//! spawns the IO threads). Startup and failure are logged in Valkey's words, which
//! tools and the Valkey test suite wait for (`Server initialized`, `Ready to
//! accept connections tcp`, `Failed listening on port ...`).

use std::io::{self, IsTerminal};

use crate::config::Config;
use crate::exec::main_loop::MainLoop;
use crate::VERSION;

/// Runs the server until shutdown.
pub fn run(config: Config) -> io::Result<()> {
    let pidfile = config.pidfile.clone();
    let show_logo = config.get("always-show-logo").as_deref() == Some("yes")
        || (config.logfile.is_empty() && io::stdout().is_terminal());
    let wanted_port = config.port;
    let server = match MainLoop::new(config) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("Warning: {e}");
            tracing::warn!("Failed listening on port {wanted_port} (tcp), aborting.");
            return Err(e);
        }
    };
    let addrs = server.local_addrs();
    let port = addrs.first().map(|a| a.port()).unwrap_or(0);
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            tracing::warn!("Failed to write PID file: {e}");
        }
    }
    if show_logo {
        tracing::info!(target: crate::log::RAW, "{}", logo(port));
    } else {
        tracing::info!("Running mode=standalone, port={port}.");
    }
    for a in &addrs {
        tracing::debug!("Listening on {a}");
    }
    tracing::info!("Server initialized");
    tracing::info!("Ready to accept connections tcp");
    let r = server.run();
    if !pidfile.is_empty() {
        let _ = std::fs::remove_file(&pidfile);
    }
    r
}

/// The banner shown with `always-show-logo yes` or on a terminal. Its
/// `PID: n` line is what the Valkey test suite looks for before `Server
/// initialized`.
fn logo(port: u16) -> String {
    let pid = std::process::id();
    let bits = usize::BITS;
    format!(
        "
        .-~~~~~~~~~-.
      .'   .-----.   '.        ferrokey {VERSION} (00000000/0) {bits} bit
     /    /  ___  \\    \\
    |    |  (___)  |    |      Running in standalone mode
    |    |   | |   |    |      Port: {port}
     \\    \\  |_|  /    /       PID: {pid}
      '.   '-----'   .'
        '-~~~~~~~~~-'          A Valkey-compatible server in Rust
"
    )
}
