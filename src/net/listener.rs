//! Listening sockets: `bind` addresses and `port`, and `unixsocket` (with
//! `unixsocketperm` and `unixsocketgroup`), as in valkey.conf; accepting a
//! client on either kind.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use mio::net::{TcpListener, UnixListener};

use super::stream::{PeerAddr, Stream};

/// One listening socket of the main thread's poll.
#[derive(Debug)]
pub enum Listener {
    /// A `bind` address on `port`, and the address it got.
    Tcp(TcpListener, SocketAddr),
    /// `unixsocket`, and its path (the address of its clients).
    Unix(UnixListener, Arc<str>),
}

/// A client just accepted: its socket, its address and the local one.
pub struct Accepted {
    pub stream: Stream,
    pub addr: PeerAddr,
    pub laddr: PeerAddr,
}

impl Listener {
    /// Accepts one waiting client (WouldBlock when none is). A TCP client
    /// gets TCP_NODELAY and the `tcp-keepalive` probes.
    pub fn accept(&self, keepalive_secs: u64) -> io::Result<Accepted> {
        match self {
            Listener::Tcp(l, local) => {
                let (stream, addr) = l.accept()?;
                tracing::debug!("Accepted {addr}");
                let _ = stream.set_nodelay(true);
                if let Err(e) = set_keepalive(&stream, keepalive_secs) {
                    tracing::debug!("tcp-keepalive on {addr}: {e}");
                }
                let laddr = stream.local_addr().unwrap_or(*local);
                Ok(Accepted {
                    stream: Stream::Tcp(stream),
                    addr: PeerAddr::Tcp(addr),
                    laddr: PeerAddr::Tcp(laddr),
                })
            }
            Listener::Unix(l, path) => {
                let (stream, _) = l.accept()?;
                tracing::debug!("Accepted connection to {path}");
                Ok(Accepted {
                    stream: Stream::Unix(stream),
                    addr: PeerAddr::Unix(path.clone()),
                    laddr: PeerAddr::Unix(path.clone()),
                })
            }
        }
    }

    /// Closes the listener; the Unix socket's file goes with it, as Valkey
    /// removes it at shutdown.
    pub fn close(self) {
        if let Listener::Unix(l, path) = self {
            drop(l);
            tracing::info!("Removing the unix socket file.");
            if let Err(e) = std::fs::remove_file(&*path) {
                tracing::warn!("Error removing the unix socket file: {e}");
            }
        }
    }

    /// The TCP address, for a TCP listener.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        match self {
            Listener::Tcp(_, a) => Some(*a),
            Listener::Unix(..) => None,
        }
    }
}

impl mio::event::Source for Listener {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Listener::Tcp(l, _) => l.register(registry, token, interests),
            Listener::Unix(l, _) => l.register(registry, token, interests),
        }
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Listener::Tcp(l, _) => l.reregister(registry, token, interests),
            Listener::Unix(l, _) => l.reregister(registry, token, interests),
        }
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        match self {
            Listener::Tcp(l, _) => l.deregister(registry),
            Listener::Unix(l, _) => l.deregister(registry),
        }
    }
}

/// The `unixsocket` listener: whatever file has the path is removed first
/// (a socket left by an earlier run; Valkey unlinks it unconditionally),
/// then the socket file gets `perm` (0: the umask's) and the group named
/// `group` (empty: unchanged). Errors read as Valkey's.
pub fn bind_unix(path: &str, perm: u32, group: &str, backlog: u32) -> io::Result<UnixListener> {
    let fail = |what: &str, e: io::Error| {
        io::Error::new(e.kind(), format!("Failed opening Unix socket: {what}: {e}"))
    };
    let _ = std::fs::remove_file(path);
    use socket2::{Domain, SockAddr, Socket, Type};
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(|e| fail("socket", e))?;
    let addr = SockAddr::unix(path).map_err(|e| fail("bind", e))?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr).map_err(|e| fail("bind", e))?;
    socket
        .listen(backlog.min(i32::MAX as u32) as i32)
        .map_err(|e| fail("listen", e))?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))
            .map_err(|e| fail("chmod", e))?;
    }
    if !group.is_empty() {
        let gid = group_id(group).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("Failed opening Unix socket: getgrnam error for group '{group}'"),
            )
        })?;
        std::os::unix::fs::lchown(path, None, Some(gid)).map_err(|e| fail("chown", e))?;
    }
    Ok(UnixListener::from_std(
        std::os::unix::net::UnixListener::from(std::os::fd::OwnedFd::from(socket)),
    ))
}

/// The id of the group named `group` (a name only: Valkey does not take a
/// number here either).
fn group_id(group: &str) -> Option<u32> {
    let name = std::ffi::CString::new(group).ok()?;
    // SAFETY: `group` is plain data; all-zero is a valid value to be filled.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; the buffer outlives it and
    // its length is the one passed.
    let rc = unsafe {
        libc::getgrnam_r(
            name.as_ptr(),
            &mut grp,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    (rc == 0 && !found.is_null()).then_some(grp.gr_gid)
}

/// The TCP listeners: every address in `bind` on `port`, none at `port 0`.
pub fn bind_tcp(bind: &[String], port: u16, backlog: u32) -> io::Result<Vec<Listener>> {
    if port == 0 {
        return Ok(Vec::new());
    }
    let all = bind_all(bind, port, backlog)?;
    Ok(all.into_iter().map(|(l, a)| Listener::Tcp(l, a)).collect())
}

/// Binds every address in `bind` on `port`. An address written `-addr` is
/// optional: failing to bind it (no IPv6, say) is not an error.
fn bind_all(
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
fn set_keepalive(stream: &mio::net::TcpStream, secs: u64) -> io::Result<()> {
    if secs == 0 {
        return Ok(());
    }
    let time = std::time::Duration::from_secs(secs);
    let ka = socket2::TcpKeepalive::new()
        .with_time(time)
        .with_interval(std::time::Duration::from_secs((secs / 3).max(1)));
    socket2::SockRef::from(stream).set_tcp_keepalive(&ka)
}
