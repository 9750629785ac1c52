//! Listening sockets: `bind` addresses and `port`, as in valkey.conf.

use std::io;
use std::net::{IpAddr, SocketAddr};

use mio::net::TcpListener;

/// Binds every address in `bind` on `port`. An address written `-addr` is
/// optional: failing to bind it (no IPv6, say) is not an error.
pub fn bind_all(
    bind: &[String],
    port: u16,
    backlog: u32,
) -> io::Result<Vec<(TcpListener, SocketAddr)>> {
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
        match bind_one(sa, backlog) {
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

/// One listening socket with SO_REUSEADDR and the configured backlog
/// (`tcp-backlog`), which mio's own `bind` does not take.
fn bind_one(sa: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(sa), Type::STREAM, None)?;
    if sa.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&sa.into())?;
    socket.listen(backlog.min(i32::MAX as u32) as i32)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// Turns on TCP keepalive probes every `secs` seconds (0: leave off), as
/// `tcp-keepalive` does in Valkey: first probe after `secs`, then every
/// third of that.
pub fn set_keepalive(stream: &mio::net::TcpStream, secs: u64) -> io::Result<()> {
    if secs == 0 {
        return Ok(());
    }
    let time = std::time::Duration::from_secs(secs);
    let ka = socket2::TcpKeepalive::new()
        .with_time(time)
        .with_interval(std::time::Duration::from_secs((secs / 3).max(1)));
    socket2::SockRef::from(stream).set_tcp_keepalive(&ka)
}
