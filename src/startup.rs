//! Startup wiring: pid file, the listening sockets (TCP on `bind`/`port`,
//! and `unixsocket`), then the main loop (which spawns the IO threads and
//! loads the RDB file while serving).
//! Startup and failure are logged in Valkey's words, which tools and the
//! Valkey test suite wait for (`Server initialized`, `Ready to accept
//! connections tcp`, `Failed listening on port ...`).

use std::io::{self, IsTerminal};

use crate::config::Config;
use crate::exec::main_loop::MainLoop;
use crate::net::listener::{self, Listener};
use crate::VERSION;

/// Runs the server until shutdown.
pub fn run(config: Config) -> io::Result<()> {
    let pidfile = config.pidfile.clone();
    let show_logo = config.get("always-show-logo").as_deref() == Some("yes")
        || (config.logfile.is_empty() && io::stdout().is_terminal());
    let port = config.port;
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
    let listeners = match open_listeners(&config) {
        Ok(l) => l,
        Err(e) => {
            remove_pidfile(&pidfile);
            return Err(e);
        }
    };
    let tcp = listeners.iter().any(|l| matches!(l, Listener::Tcp(..)));
    let unix = listeners.iter().any(|l| matches!(l, Listener::Unix(..)));
    for l in &listeners {
        match l {
            Listener::Tcp(_, a) => tracing::debug!("Listening on {a}"),
            Listener::Unix(_, p) => tracing::debug!("Listening on {p}"),
        }
    }
    let server = match MainLoop::new(config, listeners) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("{e}");
            remove_pidfile(&pidfile);
            return Err(e);
        }
    };
    tracing::info!("Server initialized");
    // Logged once the RDB file, if any, is loaded (tools wait for them).
    let mut ready = Vec::new();
    if tcp {
        ready.push("Ready to accept connections tcp");
    }
    if unix {
        ready.push("Ready to accept connections unix");
    }
    let r = server.run(ready);
    remove_pidfile(&pidfile);
    r
}

fn remove_pidfile(pidfile: &str) {
    if !pidfile.is_empty() {
        let _ = std::fs::remove_file(pidfile);
    }
}

/// Binds the TCP listeners (none at `port 0`), then the Unix socket if
/// `unixsocket` names one. A failure is logged as Valkey logs it (the
/// suite restarts on another port when it reads `Failed listening on
/// port`).
fn open_listeners(config: &Config) -> io::Result<Vec<Listener>> {
    let mut listeners = match listener::bind_tcp(&config.bind, config.port, config.tcp_backlog) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("Warning: {e}");
            let port = config.port;
            tracing::warn!("Failed listening on port {port} (tcp), aborting.");
            return Err(e);
        }
    };
    let path = config.get("unixsocket").unwrap_or_default();
    if !path.is_empty() {
        let perm = config
            .get("unixsocketperm")
            .and_then(|p| u32::from_str_radix(&p, 8).ok())
            .unwrap_or(0);
        let group = config.get("unixsocketgroup").unwrap_or_default();
        match listener::bind_unix(&path, perm, &group, config.tcp_backlog) {
            Ok(l) => listeners.push(Listener::Unix(l, path.into())),
            Err(e) => {
                tracing::warn!("{e}");
                return Err(e);
            }
        }
    }
    if listeners.is_empty() {
        tracing::warn!("Configured to not listen anywhere, exiting.");
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "Configured to not listen anywhere",
        ));
    }
    Ok(listeners)
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
