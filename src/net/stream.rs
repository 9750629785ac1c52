//! A client socket, TCP or Unix-domain (`unixsocket`), and the peer address
//! CLIENT LIST and the slow log print for it.
//!
//! Both kinds are plain stream sockets: reading goes through the file
//! descriptor (`AsFd`), so the connection code has one path for both; only
//! writing and registration with the poll choose by kind.

use std::fmt;
use std::io::{self, IoSlice, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;

use mio::event::Source;
use mio::net::{TcpStream, UnixStream};
use mio::{Interest, Registry, Token};

/// One accepted client socket.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl AsFd for Stream {
    #[inline]
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Unix(s) => s.as_fd(),
        }
    }
}

impl Write for Stream {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    #[inline]
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Unix(s) => s.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Source for Stream {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(registry, token, interests),
            Stream::Unix(s) => s.register(registry, token, interests),
        }
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(registry, token, interests),
            Stream::Unix(s) => s.reregister(registry, token, interests),
        }
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(registry),
            Stream::Unix(s) => s.deregister(registry),
        }
    }
}

impl From<TcpStream> for Stream {
    fn from(s: TcpStream) -> Self {
        Stream::Tcp(s)
    }
}

impl From<UnixStream> for Stream {
    fn from(s: UnixStream) -> Self {
        Stream::Unix(s)
    }
}

/// A client's address (CLIENT LIST `addr`/`laddr`): an IP and port, or the
/// path of the Unix socket it came through (the peer of a Unix socket has no
/// name of its own, so Valkey names both ends by the server's path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerAddr {
    Tcp(SocketAddr),
    Unix(Arc<str>),
}

impl PeerAddr {
    /// Connected through the Unix socket (CLIENT LIST flag `U`).
    pub fn is_unix(&self) -> bool {
        matches!(self, PeerAddr::Unix(_))
    }

    /// The address without the port (CLIENT LIST/KILL's `IP` filter, and
    /// the "local client" test of `enable-debug-command local`). A Unix
    /// client's reads `<path>:0`; Valkey 9.1 matches no `IP` filter value
    /// to a Unix client (neither the path nor `<path>:0`), which this does
    /// not reproduce for `<path>:0`.
    pub fn ip(&self) -> PeerIp<'_> {
        match self {
            PeerAddr::Tcp(a) => PeerIp::Ip(a.ip()),
            PeerAddr::Unix(p) => PeerIp::Unix(p),
        }
    }
}

impl From<SocketAddr> for PeerAddr {
    fn from(a: SocketAddr) -> Self {
        PeerAddr::Tcp(a)
    }
}

/// Valkey 9.1 writes a Unix client as `[<path>:0]:0`: its address string is
/// `<path>:0`, which then gets the port appended, bracketed because it holds
/// a colon (as an IPv6 address would).
impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerAddr::Tcp(a) => a.fmt(f),
            PeerAddr::Unix(p) => write!(f, "[{p}:0]:0"),
        }
    }
}

/// The address part of a `PeerAddr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerIp<'a> {
    Ip(IpAddr),
    Unix(&'a str),
}

impl PeerIp<'_> {
    /// A client on this host: a loopback address, or the Unix socket (as
    /// Valkey's `islocalClient`).
    pub fn is_loopback(&self) -> bool {
        match self {
            PeerIp::Ip(ip) => ip.is_loopback(),
            PeerIp::Unix(_) => true,
        }
    }
}

impl fmt::Display for PeerIp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerIp::Ip(ip) => ip.fmt(f),
            PeerIp::Unix(p) => write!(f, "{p}:0"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_addresses_print_as_valkey_9_does() {
        let u = PeerAddr::Unix("/tmp/s".into());
        assert_eq!(u.to_string(), "[/tmp/s:0]:0");
        assert_eq!(u.ip().to_string(), "/tmp/s:0");
        assert!(u.is_unix() && u.ip().is_loopback());
        let t = PeerAddr::from("127.0.0.1:5".parse::<SocketAddr>().unwrap());
        assert_eq!(t.to_string(), "127.0.0.1:5");
        assert!(!t.is_unix() && t.ip().is_loopback());
        let r = PeerAddr::from("10.0.0.1:5".parse::<SocketAddr>().unwrap());
        assert!(!r.ip().is_loopback());
    }
}
