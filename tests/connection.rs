//! Connection commands against the real server: PING, ECHO, SELECT, QUIT,
//! RESET, AUTH, HELLO and CLIENT, with replies compared byte for byte with
//! what Valkey sends (RESP2 and RESP3).

mod common;

use common::{cmd, raw_roundtrip, Server};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One command, one reply, as bytes.
fn rt(s: &mut TcpStream, args: &[&str]) -> Vec<u8> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    raw_roundtrip(s, &cmd(&args), 1)
}

/// Like `rt`, as text, for readable assertions.
fn rts(s: &mut TcpStream, args: &[&str]) -> String {
    String::from_utf8_lossy(&rt(s, args)).into_owned()
}

fn client_id(s: &mut TcpStream) -> i64 {
    let r = rts(s, &["CLIENT", "ID"]);
    r.trim_start_matches(':')
        .trim_end()
        .parse()
        .unwrap_or_else(|_| panic!("CLIENT ID replied {r:?}"))
}

/// Asserts the server closes `s` (EOF, or a reset), never a read timeout.
fn assert_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return buf,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return buf,
            Err(e) => panic!("connection not closed ({e}); read so far {buf:?}"),
        }
    }
}

fn hello_reply(proto: u8, id: i64) -> Vec<u8> {
    let head = if proto == 3 { "%7" } else { "*14" };
    format!(
        "{head}\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n\
         $5\r\nproto\r\n:{proto}\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n\
         $4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    )
    .into_bytes()
}

/// The `key=value` fields of one CLIENT LIST / CLIENT INFO line.
fn fields(line: &str) -> Vec<(String, String)> {
    line.trim_end()
        .split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn field(line: &str, key: &str) -> String {
    fields(line)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {line:?}"))
}

/// CLIENT LIST / INFO through the redis crate: the text.
fn info_text(c: &mut redis::Connection, args: &[&str]) -> String {
    let mut q = redis::cmd("CLIENT");
    for a in args {
        q.arg(*a);
    }
    q.query(c).expect("CLIENT LIST/INFO")
}

server_test!(ping_echo_select, |srv| {
    let mut s = srv.raw();
    assert_eq!(rt(&mut s, &["PING"]), b"+PONG\r\n");
    assert_eq!(rt(&mut s, &["ping", "hi"]), b"$2\r\nhi\r\n");
    assert_eq!(
        rts(&mut s, &["PING", "a", "b"]),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
    assert_eq!(rt(&mut s, &["ECHO", ""]), b"$0\r\n\r\n");
    assert_eq!(
        rts(&mut s, &["ECHO"]),
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    assert_eq!(
        rts(&mut s, &["ECHO", "a", "b"]),
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    assert_eq!(rt(&mut s, &["SELECT", "15"]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["SET", "k", "in15"]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["SELECT", "0"]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["GET", "k"]), b"$-1\r\n");
    assert_eq!(rt(&mut s, &["SELECT", "15"]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["GET", "k"]), b"$4\r\nin15\r\n");
    for bad in ["16", "-1"] {
        assert_eq!(
            rts(&mut s, &["SELECT", bad]),
            "-ERR DB index is out of range\r\n"
        );
    }
    for bad in ["x", "1.0", "01", ""] {
        assert_eq!(
            rts(&mut s, &["SELECT", bad]),
            "-ERR value is not an integer or out of range\r\n"
        );
    }
    // RESP3 changes nothing for PING: still a simple string.
    rt(&mut s, &["HELLO", "3"]);
    assert_eq!(rt(&mut s, &["PING"]), b"+PONG\r\n");
    assert_eq!(rt(&mut s, &["PING", "x"]), b"$1\r\nx\r\n");
});

server_test!(quit_closes_after_ok, |srv| {
    let mut s = srv.raw();
    assert_eq!(rt(&mut s, &["PING"]), b"+PONG\r\n");
    s.write_all(&cmd(&[b"QUIT", b"extra", b"args"])).unwrap();
    assert_eq!(assert_closed(&mut s), b"+OK\r\n");
    // Inline too.
    let mut s = srv.raw();
    s.write_all(b"QUIT\r\n").unwrap();
    assert_eq!(assert_closed(&mut s), b"+OK\r\n");
});

server_test!(hello_switches_protocol, |srv| {
    let mut s = srv.raw();
    let id = client_id(&mut s);
    assert_eq!(rt(&mut s, &["HELLO"]), hello_reply(2, id));
    assert_eq!(rt(&mut s, &["HELLO", "2"]), hello_reply(2, id));
    assert_eq!(rt(&mut s, &["CLIENT", "GETNAME"]), b"$-1\r\n");
    // The reply to HELLO 3 is already RESP3.
    assert_eq!(rt(&mut s, &["HELLO", "3"]), hello_reply(3, id));
    assert_eq!(rt(&mut s, &["CLIENT", "GETNAME"]), b"_\r\n");
    assert_eq!(rt(&mut s, &["HELLO"]), hello_reply(3, id));
    // Errors leave the protocol as it was.
    assert_eq!(
        rts(&mut s, &["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        rts(&mut s, &["HELLO", "1"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    for bad in ["x", "03", "+3", " 3"] {
        assert_eq!(
            rts(&mut s, &["HELLO", bad]),
            "-ERR Protocol version is not an integer or out of range\r\n"
        );
    }
    assert_eq!(
        rts(&mut s, &["HELLO", "2", "foo"]),
        "-ERR Syntax error in HELLO option 'foo'\r\n"
    );
    assert_eq!(
        rts(&mut s, &["HELLO", "2", "AUTH", "default"]),
        "-ERR Syntax error in HELLO option 'AUTH'\r\n"
    );
    assert_eq!(
        rts(&mut s, &["HELLO", "2", "SETNAME"]),
        "-ERR Syntax error in HELLO option 'SETNAME'\r\n"
    );
    assert_eq!(
        rts(&mut s, &["HELLO", "2", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(rt(&mut s, &["CLIENT", "GETNAME"]), b"_\r\n");
    // SETNAME and AUTH together; the last SETNAME wins. With no password
    // configured the default user takes any password.
    assert_eq!(
        rt(
            &mut s,
            &["hello", "2", "auth", "default", "any", "setname", "n1", "SETNAME", "n2"]
        ),
        hello_reply(2, id)
    );
    assert_eq!(rt(&mut s, &["CLIENT", "GETNAME"]), b"$2\r\nn2\r\n");
    assert_eq!(
        rts(&mut s, &["HELLO", "3", "AUTH", "nobody", "x"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    // Still RESP2 after the failed HELLO.
    assert_eq!(rt(&mut s, &["CLIENT", "SETNAME", ""]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["CLIENT", "GETNAME"]), b"$-1\r\n");
});

server_test!(auth_without_password, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        rts(&mut s, &["AUTH", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. \
         Are you sure your configuration is correct?\r\n"
    );
    // The default user has no password: any password is right for it.
    assert_eq!(rt(&mut s, &["AUTH", "default", "x"]), b"+OK\r\n");
    for user in ["nobody", "DEFAULT"] {
        assert_eq!(
            rts(&mut s, &["AUTH", user, "x"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
    }
    assert_eq!(
        rts(&mut s, &["AUTH", "a", "b", "c"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        rts(&mut s, &["AUTH"]),
        "-ERR wrong number of arguments for 'auth' command\r\n"
    );
    assert_eq!(rt(&mut s, &["PING"]), b"+PONG\r\n");
});

const NOAUTH: &str = "-NOAUTH Authentication required.\r\n";
const WRONGPASS: &str = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
const HELLO_NOAUTH: &str = "-NOAUTH HELLO must be called with the client already authenticated, \
    otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client \
    and select the RESP protocol version at the same time\r\n";

fn auth_with_password(io_threads: &str) {
    let srv = Server::start_with(&["--requirepass", "s3cret", "--io-threads", io_threads]);
    let mut s = srv.raw();
    assert_eq!(rts(&mut s, &["PING"]), NOAUTH);
    assert_eq!(rts(&mut s, &["CLIENT", "ID"]), NOAUTH);
    assert_eq!(rts(&mut s, &["SELECT", "1"]), NOAUTH);
    assert_eq!(rts(&mut s, &["HELLO"]), HELLO_NOAUTH);
    assert_eq!(rts(&mut s, &["HELLO", "3"]), HELLO_NOAUTH);
    assert_eq!(
        rts(&mut s, &["HELLO", "3", "AUTH", "default", "bad"]),
        WRONGPASS
    );
    assert_eq!(rts(&mut s, &["AUTH", "bad"]), WRONGPASS);
    assert_eq!(rts(&mut s, &["AUTH", "s3cre"]), WRONGPASS);
    assert_eq!(rts(&mut s, &["AUTH", "s3crett"]), WRONGPASS);
    assert_eq!(rts(&mut s, &["AUTH", "nobody", "s3cret"]), WRONGPASS);
    assert_eq!(rts(&mut s, &["PING"]), NOAUTH);
    assert_eq!(rt(&mut s, &["AUTH", "s3cret"]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["PING"]), b"+PONG\r\n");
    // A failed AUTH does not undo an earlier success.
    assert_eq!(rts(&mut s, &["AUTH", "bad"]), WRONGPASS);
    assert_eq!(rt(&mut s, &["PING"]), b"+PONG\r\n");
    // RESET logs out.
    assert_eq!(rt(&mut s, &["RESET"]), b"+RESET\r\n");
    assert_eq!(rts(&mut s, &["PING"]), NOAUTH);
    assert_eq!(rt(&mut s, &["AUTH", "default", "s3cret"]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["PING"]), b"+PONG\r\n");

    // HELLO with AUTH and SETNAME authenticates, names, and switches.
    let mut s = srv.raw();
    let reply = rt(
        &mut s,
        &["HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "app"],
    );
    assert!(reply.starts_with(b"%7\r\n$6\r\nserver\r\n"), "{reply:?}");
    let id = client_id(&mut s);
    assert_eq!(reply, hello_reply(3, id));
    assert_eq!(rt(&mut s, &["CLIENT", "GETNAME"]), b"$3\r\napp\r\n");

    // QUIT works before authentication.
    let mut s = srv.raw();
    s.write_all(&cmd(&[b"QUIT"])).unwrap();
    assert_eq!(assert_closed(&mut s), b"+OK\r\n");

    // The redis crate authenticates from the URL.
    let client = redis::Client::open(format!("redis://:s3cret@127.0.0.1:{}/", srv.port)).unwrap();
    let mut c = client.get_connection().unwrap();
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn auth_with_password_io_threads_1() {
    auth_with_password("1");
}

#[test]
fn auth_with_password_io_threads_4() {
    auth_with_password("4");
}

server_test!(reset_restores_a_new_connection, |srv| {
    let mut s = srv.raw();
    rt(&mut s, &["HELLO", "3", "SETNAME", "nn"]);
    assert_eq!(rt(&mut s, &["SELECT", "2"]), b"+OK\r\n");
    assert_eq!(
        rt(&mut s, &["CLIENT", "SETINFO", "LIB-NAME", "mylib"]),
        b"+OK\r\n"
    );
    assert_eq!(rt(&mut s, &["CLIENT", "NO-EVICT", "on"]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["CLIENT", "NO-TOUCH", "on"]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["RESET"]), b"+RESET\r\n");
    assert_eq!(
        rts(&mut s, &["RESET", "x"]),
        "-ERR wrong number of arguments for 'reset' command\r\n"
    );
    // Back to RESP2, db 0, no name, no flags; the library name stays.
    assert_eq!(rt(&mut s, &["CLIENT", "GETNAME"]), b"$-1\r\n");
    let info = rts(&mut s, &["CLIENT", "INFO"]);
    assert!(info.starts_with('$'), "{info}");
    assert_eq!(field(&info, "db"), "0");
    assert_eq!(field(&info, "resp"), "2");
    assert_eq!(field(&info, "flags"), "N");
    assert_eq!(field(&info, "name"), "");
    assert_eq!(field(&info, "lib-name"), "mylib");
});

server_test!(client_id_names_and_info, |srv| {
    let mut s = srv.raw();
    let id = client_id(&mut s);
    assert!(id > 0);
    let mut other = srv.raw();
    assert!(client_id(&mut other) > id, "ids grow");
    assert_eq!(rt(&mut s, &["CLIENT", "GETNAME"]), b"$-1\r\n");
    assert_eq!(rt(&mut s, &["CLIENT", "SETNAME", "worker-1"]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["client", "getname"]), b"$8\r\nworker-1\r\n");
    for bad in ["a b", "a\nb", "é"] {
        assert_eq!(
            rts(&mut s, &["CLIENT", "SETNAME", bad]),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
        );
    }
    assert_eq!(rt(&mut s, &["CLIENT", "GETNAME"]), b"$8\r\nworker-1\r\n");
    assert_eq!(rt(&mut s, &["CLIENT", "SETNAME", ""]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["CLIENT", "GETNAME"]), b"$-1\r\n");

    assert_eq!(
        rt(&mut s, &["CLIENT", "SETINFO", "lib-name", "redis-py(x)"]),
        b"+OK\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CLIENT", "SETINFO", "LIB-VER", "1.2.3"]),
        b"+OK\r\n"
    );
    assert_eq!(
        rts(&mut s, &["CLIENT", "SETINFO", "Lib-Name", "a b"]),
        "-ERR Lib-Name cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        rts(&mut s, &["CLIENT", "SETINFO", "lib-ver", "a\nb"]),
        "-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        rts(&mut s, &["CLIENT", "SETINFO", "foo", "x"]),
        "-ERR Unrecognized option 'foo'\r\n"
    );
    assert_eq!(
        rts(&mut s, &["CLIENT", "SETINFO", "LIB-NAME"]),
        "-ERR wrong number of arguments for 'client|setinfo' command\r\n"
    );
    let info = rts(&mut s, &["CLIENT", "INFO"]);
    assert_eq!(field(&info, "lib-name"), "redis-py(x)");
    assert_eq!(field(&info, "lib-ver"), "1.2.3");
});

server_test!(client_errors, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        rts(&mut s, &["CLIENT"]),
        "-ERR wrong number of arguments for 'client' command\r\n"
    );
    assert_eq!(
        rts(&mut s, &["CLIENT", "foo"]),
        "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"
    );
    for (args, name) in [
        (&["CLIENT", "ID", "x"][..], "client|id"),
        (&["CLIENT", "INFO", "x"], "client|info"),
        (&["CLIENT", "HELP", "x"], "client|help"),
        (&["CLIENT", "REPLY"], "client|reply"),
        (&["CLIENT", "NO-EVICT"], "client|no-evict"),
        (&["CLIENT", "NO-TOUCH"], "client|no-touch"),
        (&["CLIENT", "KILL"], "client|kill"),
        (&["CLIENT", "SETNAME"], "client|setname"),
        (&["CLIENT", "GETNAME", "x"], "client|getname"),
    ] {
        assert_eq!(
            rts(&mut s, args),
            format!("-ERR wrong number of arguments for '{name}' command\r\n")
        );
    }
    for args in [
        &["CLIENT", "NO-EVICT", "x"][..],
        &["CLIENT", "NO-TOUCH", "maybe"],
        &["CLIENT", "REPLY", "x"],
        &["CLIENT", "LIST", "foo"],
        &["CLIENT", "LIST", "TYPE"],
        &["CLIENT", "LIST", "ID"],
        &["CLIENT", "LIST", "ID", "x"],
        &["CLIENT", "LIST", "ID", "05"],
        &["CLIENT", "LIST", "NOT-MAXAGE", "1"],
        &["CLIENT", "KILL", "FOO", "bar"],
        &["CLIENT", "KILL", "ID", "1", "x"],
        &["CLIENT", "KILL", "ID", "x", "TYPE", "normal"],
        &["CLIENT", "KILL", "SKIPME", "maybe"],
        &["CLIENT", "KILL", "TYPE", "normal", "TYPE"],
    ] {
        assert_eq!(rts(&mut s, args), "-ERR syntax error\r\n", "{args:?}");
    }
});

server_test!(client_help_lists_subcommands, |srv| {
    let mut s = srv.raw();
    let help = rts(&mut s, &["client", "help"]);
    let mut lines = help.split("\r\n");
    let head = lines.next().unwrap();
    let n: usize = head.trim_start_matches('*').parse().unwrap();
    let body: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert_eq!(body.len(), n);
    assert!(body.iter().all(|l| l.starts_with('+')), "{help}");
    assert_eq!(
        body[0],
        "+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(body[n - 2..], ["+HELP", "+    Print this help."]);
    // Every subcommand named in the help exists.
    for l in &body[1..] {
        let l = &l[1..];
        if l.starts_with(' ') {
            continue;
        }
        let sub = l.split(' ').next().unwrap();
        let r = rts(&mut s, &["CLIENT", sub, "x", "y", "z", "w"]);
        assert!(!r.contains("unknown subcommand"), "{sub}: {r}");
    }
});

/// Valkey 9's CLIENT LIST fields, in order.
const LIST_FIELDS: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "capa",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "watch",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
    "lib-name",
    "lib-ver",
    "tot-net-in",
    "tot-net-out",
    "tot-cmds",
];

server_test!(client_list_and_info_format, |srv| {
    let mut c = srv.conn();
    let mut s = srv.raw();
    let my_id = client_id(&mut s);
    assert_eq!(rt(&mut s, &["SELECT", "3"]), b"+OK\r\n");
    assert_eq!(rt(&mut s, &["CLIENT", "SETNAME", "raw"]), b"+OK\r\n");

    let info = info_text(&mut c, &["INFO"]);
    assert!(
        info.ends_with('\n') && info.lines().count() == 1,
        "{info:?}"
    );
    let keys: Vec<String> = fields(&info).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, LIST_FIELDS);
    assert_eq!(field(&info, "cmd"), "client|info");
    assert_eq!(field(&info, "user"), "default");
    assert_eq!(field(&info, "flags"), "N");
    assert_eq!(field(&info, "multi"), "-1");
    assert_eq!(field(&info, "redir"), "-1");
    assert_eq!(field(&info, "events"), "r");
    assert_eq!(field(&info, "argv-mem"), "10");

    let list = info_text(&mut c, &["LIST"]);
    let mine: Vec<&str> = list
        .lines()
        .filter(|l| field(l, "id") == my_id.to_string())
        .collect();
    assert_eq!(mine.len(), 1, "{list}");
    let line = mine[0];
    assert_eq!(field(line, "name"), "raw");
    assert_eq!(field(line, "db"), "3");
    assert_eq!(field(line, "cmd"), "client|setname");
    assert_eq!(field(line, "laddr"), format!("127.0.0.1:{}", srv.port));
    assert_eq!(field(line, "addr"), s.local_addr().unwrap().to_string());
    // In connection order.
    let ids: Vec<i64> = list
        .lines()
        .map(|l| field(l, "id").parse().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);

    // RESP3: a verbatim string.
    rt(&mut s, &["HELLO", "3"]);
    let r = rts(&mut s, &["CLIENT", "INFO"]);
    assert!(r.starts_with('='), "{r}");
    let body = r.split_once("\r\n").unwrap().1;
    assert!(body.starts_with("txt:id="), "{r}");
    assert_eq!(field(body, "resp"), "3");
    let len: usize = r[1..r.find('\r').unwrap()].parse().unwrap();
    assert_eq!(len, body.len() - 2);
});

server_test!(client_list_filters, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    let ia = client_id(&mut a).to_string();
    let ib = client_id(&mut b).to_string();
    assert_eq!(rt(&mut b, &["CLIENT", "SETNAME", "bee"]), b"+OK\r\n");
    assert_eq!(rt(&mut b, &["SELECT", "5"]), b"+OK\r\n");
    assert_eq!(rt(&mut b, &["CLIENT", "NO-EVICT", "ON"]), b"+OK\r\n");
    let ids = |s: &mut TcpStream, filter: &[&str]| -> Vec<String> {
        let mut args = vec!["CLIENT", "LIST"];
        args.extend_from_slice(filter);
        let r = rts(s, &args);
        assert!(r.starts_with('$'), "{filter:?}: {r}");
        r.split_once("\r\n")
            .unwrap()
            .1
            .lines()
            .filter(|l| l.starts_with("id="))
            .map(|l| field(l, "id"))
            .collect()
    };
    let ab = vec![ia.clone(), ib.clone()];
    assert_eq!(ids(&mut a, &["ID", &ib, &ia]), ab);
    assert_eq!(ids(&mut a, &["ID", &ia, &ia]), vec![ia.clone()]);
    assert_eq!(ids(&mut a, &["ID", &ia, "ID", &ib]), ab);
    assert_eq!(ids(&mut a, &["TYPE", "normal", "ID", &ia, &ib]), ab);
    assert_eq!(
        ids(&mut a, &["TYPE", "pubsub", "ID", &ia, &ib]),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "SKIPME", "yes"]),
        vec![ib.clone()]
    );
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "NOT-ID", &ib]),
        vec![ia.clone()]
    );
    assert_eq!(ids(&mut a, &["NAME", "bee"]), vec![ib.clone()]);
    assert_eq!(ids(&mut a, &["NAME", "BEE"]), Vec::<String>::new());
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "NOT-NAME", "bee"]),
        vec![ia.clone()]
    );
    assert_eq!(ids(&mut a, &["ID", &ia, &ib, "DB", "5"]), vec![ib.clone()]);
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "NOT-DB", "5"]),
        vec![ia.clone()]
    );
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "FLAGS", "e"]),
        vec![ib.clone()]
    );
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "FLAGS", "N"]),
        vec![ia.clone()]
    );
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "NOT-FLAGS", "e"]),
        vec![ia.clone()]
    );
    assert_eq!(ids(&mut a, &["ID", &ia, &ib, "USER", "default"]), ab);
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "NOT-USER", "default"]),
        Vec::<String>::new()
    );
    assert_eq!(ids(&mut a, &["ID", &ia, &ib, "IP", "127.0.0.1"]), ab);
    assert_eq!(ids(&mut a, &["ID", &ia, &ib, "CAPA", ""]), ab);
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "CAPA", "r"]),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "MAXAGE", "100000"]),
        Vec::<String>::new()
    );
    let baddr = b.local_addr().unwrap().to_string();
    assert_eq!(ids(&mut a, &["ADDR", &baddr]), vec![ib.clone()]);
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "NOT-ADDR", &baddr]),
        vec![ia.clone()]
    );
    let laddr = format!("127.0.0.1:{}", srv.port);
    assert_eq!(ids(&mut a, &["ID", &ia, &ib, "LADDR", &laddr]), ab);
    // The last value of a repeated filter counts.
    assert_eq!(
        ids(&mut a, &["ID", &ia, &ib, "DB", "5", "DB", "0"]),
        vec![ia.clone()]
    );

    let err = |s: &mut TcpStream, filter: &[&str]| {
        let mut args = vec!["CLIENT", "LIST"];
        args.extend_from_slice(filter);
        rts(s, &args)
    };
    assert_eq!(
        err(&mut a, &["TYPE", "foo"]),
        "-ERR Unknown client type 'foo'\r\n"
    );
    assert_eq!(
        err(&mut a, &["NOT-TYPE", "bar"]),
        "-ERR Unknown client type 'bar'\r\n"
    );
    assert_eq!(err(&mut a, &["USER", "x"]), "-ERR No such user 'x'\r\n");
    assert_eq!(
        err(&mut a, &["ID", "0"]),
        "-ERR client-id should be greater than 0\r\n"
    );
    assert_eq!(
        err(&mut a, &["ID", &ia, "-1"]),
        "-ERR client-id should be greater than 0\r\n"
    );
    assert_eq!(
        err(&mut a, &["MAXAGE", "0"]),
        "-ERR maxage should be greater than 0\r\n"
    );
    assert_eq!(
        err(&mut a, &["MAXAGE", "x"]),
        "-ERR maxage is not an integer or out of range\r\n"
    );
    assert_eq!(
        err(&mut a, &["IDLE", "0"]),
        "-ERR idle should be greater than 0\r\n"
    );
    assert_eq!(
        err(&mut a, &["IDLE", "1.5"]),
        "-ERR idle is not an integer or out of range\r\n"
    );
    assert_eq!(
        err(&mut a, &["DB", "16"]),
        "-ERR DB number should be between 0 and 15\r\n"
    );
    assert_eq!(
        err(&mut a, &["DB", "x"]),
        "-ERR DB is not an integer or out of range\r\n"
    );
    assert_eq!(
        err(&mut a, &["NOT-DB", "-1"]),
        "-ERR NOT-DB number should be between 0 and 15\r\n"
    );
    assert_eq!(
        err(&mut a, &["NOT-DB", "x"]),
        "-ERR NOT-DB is not an integer or out of range\r\n"
    );
    assert_eq!(
        err(&mut a, &["FLAGS", "zz"]),
        "-ERR Unknown flags found in the provided filter: zz\r\n"
    );
    assert_eq!(
        err(&mut a, &["NOT-FLAGS", "n"]),
        "-ERR Unknown flags found in the NOT-FLAGS filter: n\r\n"
    );
    assert_eq!(
        err(&mut a, &["CAPA", "redirect"]),
        "-ERR Unknown capa found in the provided filter: redirect\r\n"
    );
    assert_eq!(
        err(&mut a, &["NOT-CAPA", "x"]),
        "-ERR Unknown capa found in the NOT-CAPA filter: x\r\n"
    );
});

server_test!(client_flags_no_evict_no_touch, |srv| {
    let mut s = srv.raw();
    let flags = |s: &mut TcpStream| field(&rts(s, &["CLIENT", "INFO"]), "flags");
    assert_eq!(flags(&mut s), "N");
    assert_eq!(rt(&mut s, &["CLIENT", "NO-EVICT", "on"]), b"+OK\r\n");
    assert_eq!(flags(&mut s), "e");
    assert_eq!(rt(&mut s, &["CLIENT", "NO-TOUCH", "ON"]), b"+OK\r\n");
    assert_eq!(flags(&mut s), "eT");
    assert_eq!(rt(&mut s, &["CLIENT", "NO-EVICT", "off"]), b"+OK\r\n");
    assert_eq!(flags(&mut s), "T");
    assert_eq!(rt(&mut s, &["CLIENT", "NO-TOUCH", "Off"]), b"+OK\r\n");
    assert_eq!(flags(&mut s), "N");
});

/// Waits until CLIENT LIST no longer shows `id` (the close is asynchronous).
fn wait_gone(s: &mut TcpStream, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = rts(s, &["CLIENT", "LIST", "ID", id]);
        if r == "$0\r\n\r\n" {
            return;
        }
        assert!(Instant::now() < deadline, "client {id} still listed: {r}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

server_test!(client_kill_other_connections, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    let ib = client_id(&mut b).to_string();
    let ia = client_id(&mut a).to_string();
    // By id: counted, and the victim's connection closes.
    assert_eq!(rt(&mut a, &["CLIENT", "KILL", "ID", &ib]), b":1\r\n");
    assert_eq!(assert_closed(&mut b), b"");
    wait_gone(&mut a, &ib);
    assert_eq!(rt(&mut a, &["CLIENT", "KILL", "ID", &ib]), b":0\r\n");

    // Old form by address: +OK, or an error when nobody matches.
    let mut c = srv.raw();
    let ic = client_id(&mut c).to_string();
    let caddr = c.local_addr().unwrap().to_string();
    assert_eq!(rt(&mut a, &["CLIENT", "KILL", &caddr]), b"+OK\r\n");
    assert_eq!(assert_closed(&mut c), b"");
    wait_gone(&mut a, &ic);
    assert_eq!(
        rts(&mut a, &["CLIENT", "KILL", &caddr]),
        "-ERR No such client\r\n"
    );
    assert_eq!(
        rts(&mut a, &["CLIENT", "KILL", "ID"]),
        "-ERR No such client\r\n"
    );

    // New form by address and by type; SKIPME (default yes) spares the caller.
    let mut d = srv.raw();
    let id_d = client_id(&mut d).to_string();
    let daddr = d.local_addr().unwrap().to_string();
    assert_eq!(
        rt(
            &mut a,
            &["CLIENT", "KILL", "ADDR", &daddr, "TYPE", "normal"]
        ),
        b":1\r\n"
    );
    assert_eq!(assert_closed(&mut d), b"");
    wait_gone(&mut a, &id_d);
    let mut e = srv.raw();
    let mut f = srv.raw();
    let ie = client_id(&mut e).to_string();
    let iff = client_id(&mut f).to_string();
    assert_eq!(
        rt(
            &mut a,
            &["CLIENT", "KILL", "USER", "default", "MAXAGE", "100000"]
        ),
        b":0\r\n"
    );
    assert_eq!(
        rt(&mut a, &["CLIENT", "KILL", "ID", &ie, &iff, &ia]),
        b":2\r\n"
    );
    assert_eq!(assert_closed(&mut e), b"");
    assert_eq!(assert_closed(&mut f), b"");
    assert_eq!(rt(&mut a, &["PING"]), b"+PONG\r\n");
    assert_eq!(
        rts(&mut a, &["CLIENT", "KILL", "ID", "0"]),
        "-ERR client-id should be greater than 0\r\n"
    );
    assert_eq!(
        rts(&mut a, &["CLIENT", "KILL", "TYPE", "foo"]),
        "-ERR Unknown client type 'foo'\r\n"
    );
    assert_eq!(
        rts(&mut a, &["CLIENT", "KILL", "USER", "x"]),
        "-ERR No such user 'x'\r\n"
    );
});

server_test!(client_kill_self_replies_then_closes, |srv| {
    let mut a = srv.raw();
    let ia = client_id(&mut a).to_string();
    a.write_all(&cmd(&[
        b"CLIENT",
        b"KILL",
        b"ID",
        ia.as_bytes(),
        b"SKIPME",
        b"no",
    ]))
    .unwrap();
    assert_eq!(assert_closed(&mut a), b":1\r\n");

    let mut b = srv.raw();
    let baddr = b.local_addr().unwrap().to_string();
    b.write_all(&cmd(&[b"CLIENT", b"KILL", baddr.as_bytes()]))
        .unwrap();
    assert_eq!(assert_closed(&mut b), b"+OK\r\n");
});

server_test!(client_reply_skip, |srv| {
    let mut s = srv.raw();
    s.write_all(
        &[
            cmd(&[b"CLIENT", b"REPLY", b"SKIP"]),
            cmd(&[b"PING", b"b"]),
            cmd(&[b"PING", b"c"]),
            cmd(&[b"CLIENT", b"REPLY", b"SKIP"]),
            cmd(&[b"NOSUCHCOMMAND"]),
            cmd(&[b"PING", b"d"]),
        ]
        .concat(),
    )
    .unwrap();
    assert_eq!(common::read_replies(&mut s, 2), b"$1\r\nc\r\n$1\r\nd\r\n");
    // OFF: nothing comes back until the connection ends.
    s.write_all(
        &[
            cmd(&[b"CLIENT", b"REPLY", b"OFF"]),
            cmd(&[b"PING"]),
            cmd(&[b"QUIT"]),
        ]
        .concat(),
    )
    .unwrap();
    assert_eq!(assert_closed(&mut s), b"");
});

// Executor behaviour seen through connection commands.

/// Needs dispatch.rs to decide suppression after the handler: CLIENT REPLY
/// ON and RESET turn replies back on for their own reply.
#[test]
fn client_reply_on_after_off() {
    let srv = Server::start(1);
    let mut s = srv.raw();
    let steps: &[&[&[u8]]] = &[
        &[b"CLIENT", b"REPLY", b"OFF"],
        &[b"PING"],
        &[b"CLIENT", b"REPLY", b"ON"],
        &[b"PING", b"a"],
        &[b"CLIENT", b"REPLY", b"SKIP"],
        &[b"CLIENT", b"REPLY", b"ON"],
        &[b"PING", b"d"],
        &[b"CLIENT", b"REPLY", b"SKIP"],
        &[b"CLIENT", b"REPLY", b"OFF"],
        &[b"PING", b"h"],
        &[b"RESET"],
        &[b"PING", b"i"],
    ];
    let req: Vec<u8> = steps.iter().flat_map(|a| cmd(a)).collect();
    s.write_all(&req).unwrap();
    assert_eq!(
        common::read_replies(&mut s, 6),
        b"+OK\r\n$1\r\na\r\n+OK\r\n$1\r\nd\r\n+RESET\r\n$1\r\ni\r\n"
    );
}

/// Needs the batch executor to stop running a client's commands once it is
/// to be closed (QUIT, CLIENT KILL of itself), as Valkey does.
#[test]
fn quit_ignores_pipelined_commands() {
    let srv = Server::start(1);
    let mut s = srv.raw();
    s.write_all(b"PING\r\nQUIT\r\nSET after quit\r\n").unwrap();
    assert_eq!(assert_closed(&mut s), b"+PONG\r\n+OK\r\n");
    let mut t = srv.raw();
    assert_eq!(rt(&mut t, &["GET", "after"]), b"$-1\r\n");
}

/// Needs NOAUTH checked before the unknown-command and arity errors of
/// commands that require authentication (exec/dispatch.rs).
#[test]
fn noauth_before_unknown_command() {
    let srv = Server::start_with(&["--requirepass", "pw", "--io-threads", "1"]);
    let mut s = srv.raw();
    assert_eq!(rts(&mut s, &["NOSUCH"]), NOAUTH);
    assert_eq!(rts(&mut s, &["GET"]), NOAUTH);
    assert_eq!(rts(&mut s, &["CLIENT", "FOO"]), NOAUTH);
    assert_eq!(
        rts(&mut s, &["AUTH"]),
        "-ERR wrong number of arguments for 'auth' command\r\n"
    );
}

server_test!(client_unblock_timeout_and_error, |srv| {
    let mut admin = srv.raw();
    let mut waiter = srv.raw();
    let id = client_id(&mut waiter).to_string();
    assert_eq!(rts(&mut admin, &["CLIENT", "UNBLOCK", &id]), ":0\r\n");
    assert_eq!(
        rts(&mut admin, &["CLIENT", "UNBLOCK", &id, "FOO"]),
        "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
    );
    let wait_blocked = |admin: &mut TcpStream| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !rts(admin, &["CLIENT", "LIST", "ID", &id]).contains("flags=b") {
            assert!(Instant::now() < deadline, "client never blocked");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    // TIMEOUT (the default): the blocked command gets its timeout reply.
    waiter
        .write_all(&cmd(&[b"BLPOP", b"nolist", b"0"]))
        .unwrap();
    wait_blocked(&mut admin);
    assert!(rts(&mut admin, &["INFO", "clients"]).contains("blocked_clients:1"));
    assert_eq!(rts(&mut admin, &["CLIENT", "UNBLOCK", &id]), ":1\r\n");
    assert_eq!(common::read_replies(&mut waiter, 1), b"*-1\r\n");
    // ERROR: an UNBLOCKED error instead, and the client works on.
    waiter
        .write_all(&cmd(&[b"BRPOPLPUSH", b"nolist", b"dst", b"0"]))
        .unwrap();
    wait_blocked(&mut admin);
    assert_eq!(
        rts(&mut admin, &["CLIENT", "UNBLOCK", &id, "ERROR"]),
        ":1\r\n"
    );
    assert_eq!(
        common::read_replies(&mut waiter, 1),
        b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    );
    assert_eq!(rts(&mut waiter, &["PING"]), "+PONG\r\n");
    assert!(rts(&mut admin, &["INFO", "clients"]).contains("blocked_clients:0"));
});

// CLIENT LIST / CLIENT INFO tot-net-in, tot-net-out and tot-cmds, as the
// Valkey suite checks them (introspection: "client input output and
// command process statistics").
server_test!(client_byte_and_command_totals, |srv| {
    fn field(info: &str, name: &str) -> u64 {
        let key = format!(" {name}=");
        let at = info
            .find(&key)
            .unwrap_or_else(|| panic!("{name} in {info}"))
            + key.len();
        info[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {info}"))
    }
    let mut s = srv.raw();
    let info1 = common::q(&mut s, &["CLIENT", "INFO"]);
    let info2 = common::q(&mut s, &["CLIENT", "INFO"]);
    // The request itself is counted: *2 $6 client $4 info is 26 bytes.
    assert_eq!(
        field(&info2, "tot-net-in"),
        field(&info1, "tot-net-in") + 26
    );
    assert!(field(&info2, "tot-net-out") > field(&info1, "tot-net-out") + 300);
    assert_eq!(field(&info2, "tot-cmds"), field(&info1, "tot-cmds") + 1);
    // A blocked BLPOP: its bytes in, nothing out, no command yet; once
    // served, its 23-byte reply and one command.
    let mut rd = srv.raw();
    let id = common::q(&mut rd, &["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim_end().to_string();
    let line = |s: &mut std::net::TcpStream| {
        let list = common::q(s, &["CLIENT", "LIST", "ID", &id]);
        (
            field(&list, "tot-net-in"),
            field(&list, "tot-net-out"),
            field(&list, "tot-cmds"),
        )
    };
    let (in3, out3, cmds3) = line(&mut s);
    rd.write_all(&cmd(&[b"BLPOP", b"mylist", b"0"]))
        .expect("write");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while line(&mut s) != (in3 + 34, out3, cmds3) {
        assert!(std::time::Instant::now() < deadline, "{:?}", line(&mut s));
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    common::q(&mut s, &["LPUSH", "mylist", "a"]);
    assert_eq!(
        common::read_replies(&mut rd, 1),
        b"*2\r\n$6\r\nmylist\r\n$1\r\na\r\n"
    );
    assert_eq!(line(&mut s), (in3 + 34, out3 + 23, cmds3 + 1));
});
