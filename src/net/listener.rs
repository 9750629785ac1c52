//! Listening sockets: `bind` addresses and `port`, as in valkey.conf.

use std::io;
use std::net::{IpAddr, SocketAddr};

use mio::net::TcpListener;

/// Binds every address in `bind` on `port`. An address written `-addr` is
/// optional: failing to bind it (no IPv6, say) is not an error.
pub fn bind_all(bind: &[String], port: u16) -> io::Result<Vec<(TcpListener, SocketAddr)>> {
    let mut out = Vec::new();
    let mut last_err = None;
    for spec in bind {
        let (optional, addr) = match spec.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, spec.as_str()),
        };
        let ip: IpAddr = match addr {
            "*" => "0.0.0.0".parse().expect("literal"),
            "::*" => "::".parse().expect("literal"),
            a => a.parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("invalid bind address '{a}'"),
                )
            })?,
        };
        let sa = SocketAddr::new(ip, port);
        match TcpListener::bind(sa) {
            Ok(l) => {
                let local = l.local_addr()?;
                out.push((l, local));
            }
            Err(e) if optional => {
                tracing::debug!("skipping optional bind address {sa}: {e}");
            }
            Err(e) => {
                last_err = Some(io::Error::new(
                    e.kind(),
                    format!("Could not create server TCP listening socket {sa}: {e}"),
                ));
                break;
            }
        }
    }
    if let Some(e) = last_err {
        return Err(e);
    }
    if out.is_empty() && port != 0 {
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            "Failed listening on all bind addresses",
        ));
    }
    Ok(out)
}
