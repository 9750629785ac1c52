//! CONFIG SET with several pairs, all or nothing as Valkey 9.1: a value
//! that does not parse, or an apply that fails (the new `port` cannot be
//! listened on), leaves every directive as it was; `port` moves the
//! listening sockets at run time, and so does `bind`. Replies captured from Valkey 9.1.

mod common;

use common::{q, Server, OK};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn get(s: &mut TcpStream, name: &str) -> String {
    let r = q(s, &["CONFIG", "GET", name]);
    // *2 $len name $len value
    r.split("\r\n").nth(4).unwrap_or_default().to_string()
}

fn rollback(io_threads: usize) {
    let srv = Server::start(io_threads);
    let mut c = srv.raw();
    let qbl = get(&mut c, "client-query-buffer-limit");
    let mmc = get(&mut c, "maxmemory-clients");
    assert_eq!(q(&mut c, &["CONFIG", "SET", "maxmemory", "10000002"]), OK);
    // A value that does not parse: the first bad one is named.
    assert_eq!(
        q(
            &mut c,
            &[
                "CONFIG",
                "SET",
                "maxmemory",
                "10000001",
                "maxmemory-clients",
                "200%",
                "client-query-buffer-limit",
                "invalid"
            ]
        ),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - \
         percentage argument must be less or equal to 100\r\n"
    );
    assert_eq!(get(&mut c, "maxmemory"), "10000002");
    assert_eq!(get(&mut c, "maxmemory-clients"), mmc);
    assert_eq!(get(&mut c, "client-query-buffer-limit"), qbl);
    // An apply that fails: the port is taken. Nothing changes.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let r = q(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "maxmemory",
            "10000001",
            "port",
            &port,
            "client-query-buffer-limit",
            "10m",
        ],
    );
    assert_eq!(
        r,
        "-ERR CONFIG SET failed (possibly related to argument 'port') - \
         Unable to listen on this port. Check server logs.\r\n"
    );
    assert_eq!(get(&mut c, "maxmemory"), "10000002");
    assert_eq!(get(&mut c, "port"), srv.port.to_string());
    assert_eq!(get(&mut c, "client-query-buffer-limit"), qbl);
    // Still served on the original port.
    assert_eq!(q(&mut srv.raw(), &["PING"]), "+PONG\r\n");
    // Several valid pairs at once.
    assert_eq!(
        q(
            &mut c,
            &[
                "CONFIG",
                "SET",
                "maxmemory",
                "10000001",
                "client-query-buffer-limit",
                "10m"
            ]
        ),
        OK
    );
    assert_eq!(get(&mut c, "maxmemory"), "10000001");
    assert_eq!(get(&mut c, "client-query-buffer-limit"), "10000000");
}

#[test]
fn rollback_io_threads_1() {
    rollback(1);
}

#[test]
fn rollback_io_threads_4() {
    rollback(4);
}

/// A port nobody listens on (bound, then released).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn port_moves(io_threads: usize) {
    let srv = Server::start(io_threads);
    let mut c = srv.raw();
    let new = free_port();
    assert_eq!(q(&mut c, &["CONFIG", "SET", "port", &new.to_string()]), OK);
    // The new port serves; the connection made through the old one stays.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", new)) {
            break s;
        }
        assert!(Instant::now() < deadline, "never listened on {new}");
        std::thread::sleep(Duration::from_millis(5));
    };
    n.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    assert_eq!(q(&mut n, &["PING"]), "+PONG\r\n");
    assert_eq!(q(&mut c, &["PING"]), "+PONG\r\n");
    assert!(q(&mut n, &["INFO", "server"]).contains(&format!("tcp_port:{new}\r\n")));
    assert_eq!(get(&mut n, "port"), new.to_string());
    assert!(TcpStream::connect(("127.0.0.1", srv.port)).is_err());
    // And back.
    let back = srv.port.to_string();
    assert_eq!(q(&mut n, &["CONFIG", "SET", "port", &back]), OK);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", srv.port)).is_err() {
        assert!(Instant::now() < deadline, "never listened on {back}");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(q(&mut srv.raw(), &["PING"]), "+PONG\r\n");
}

#[test]
fn port_moves_io_threads_1() {
    port_moves(1);
}

#[test]
fn port_moves_io_threads_4() {
    port_moves(4);
}

fn bind_moves(io_threads: usize) {
    let srv = Server::start(io_threads);
    let mut c = srv.raw();
    let bind = get(&mut c, "bind");
    // An address this host does not have: nothing changes.
    assert_eq!(
        q(&mut c, &["CONFIG", "SET", "bind", "127.0.0.1 192.0.2.1"]),
        "-ERR CONFIG SET failed (possibly related to argument 'bind') - \
         Failed to bind to specified addresses.\r\n"
    );
    assert_eq!(get(&mut c, "bind"), bind);
    // Both at once: the new port on the new addresses.
    let new = free_port();
    assert_eq!(
        q(
            &mut c,
            &[
                "CONFIG",
                "SET",
                "bind",
                "127.0.0.1 -::1",
                "port",
                &new.to_string()
            ]
        ),
        OK
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", new)) {
            break s;
        }
        assert!(Instant::now() < deadline, "never listened on {new}");
        std::thread::sleep(Duration::from_millis(5));
    };
    n.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    assert_eq!(get(&mut n, "bind"), "127.0.0.1 -::1");
    assert_eq!(q(&mut c, &["PING"]), "+PONG\r\n");
}

#[test]
fn bind_moves_io_threads_1() {
    bind_moves(1);
}

#[test]
fn bind_moves_io_threads_4() {
    bind_moves(4);
}
