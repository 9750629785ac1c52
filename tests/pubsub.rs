//! Pub/Sub: (P|S)SUBSCRIBE and their UNSUBSCRIBEs, PUBLISH, SPUBLISH and
//! PUBSUB, in raw RESP2 and RESP3 bytes captured from Valkey 9.1; the RESP2
//! subscribed mode; delivery across IO threads and its order relative to
//! each client's own replies; the `pubsub` output buffer limit; INFO and
//! CLIENT LIST. Waits poll with a deadline.

mod common;

use common::{bulk, cmd, int, q, read_replies, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn send(s: &mut TcpStream, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    s.write_all(&cmd(&a)).expect("write");
}

/// Sends a pipeline and reads `n` replies (pushes included) as text.
fn pipeline(s: &mut TcpStream, cmds: &[&[&str]], n: usize) -> String {
    let mut all = Vec::new();
    for c in cmds {
        let a: Vec<&[u8]> = c.iter().map(|x| x.as_bytes()).collect();
        all.extend_from_slice(&cmd(&a));
    }
    s.write_all(&all).expect("write");
    String::from_utf8_lossy(&read_replies(s, n)).into_owned()
}

fn hello3(s: &mut TcpStream) {
    let r = q(s, &["HELLO", "3"]);
    assert!(r.starts_with("%7\r\n"), "{r}");
}

/// `[kind, name, count]` as a RESP2 array (`*`) or RESP3 push (`>`).
fn conf(tag: char, kind: &str, name: Option<&str>, count: i64) -> String {
    let name = match (name, tag) {
        (Some(n), _) => bulk(n),
        (None, '>') => "_\r\n".into(),
        (None, _) => "$-1\r\n".into(),
    };
    format!("{tag}3\r\n{}{name}{}", bulk(kind), int(count))
}

fn msg(tag: char, channel: &str, payload: &str) -> String {
    format!(
        "{tag}3\r\n{}{}{}",
        bulk("message"),
        bulk(channel),
        bulk(payload)
    )
}

fn wait_for(s: &mut TcpStream, section: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if q(s, &["INFO", section]).contains(want) {
            return;
        }
        assert!(Instant::now() < deadline, "never saw {want:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

const SUBSCRIBED_GET: &str = "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n";
const SUBSCRIBED_CLIENT_LIST: &str = "-ERR Can't execute 'client|list': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n";

server_test!(resp2_transcript_matches_valkey, |srv| {
    let mut s = srv.raw();
    // Captured from Valkey 9.1 (nothing subscribed, then each kind).
    let r = pipeline(
        &mut s,
        &[
            &["PUBSUB", "NUMSUB", "a", "b"],
            &["PUBSUB", "CHANNELS"],
            &["UNSUBSCRIBE"],
            &["PUNSUBSCRIBE"],
            &["SUNSUBSCRIBE"],
            &["SUBSCRIBE", "a"],
            &["PSUBSCRIBE", "p*"],
            &["SSUBSCRIBE", "s1", "s2"],
            &["GET", "x"],
            &["CLIENT", "LIST"],
            &["PING"],
            &["PING", "hi"],
            &["SUNSUBSCRIBE"],
            &["PUNSUBSCRIBE"],
            &["UNSUBSCRIBE"],
            &["PING"],
        ],
        18,
    );
    let want = [
        "*4\r\n$1\r\na\r\n:0\r\n$1\r\nb\r\n:0\r\n".to_string(),
        "*0\r\n".into(),
        conf('*', "unsubscribe", None, 0),
        conf('*', "punsubscribe", None, 0),
        conf('*', "sunsubscribe", None, 0),
        conf('*', "subscribe", Some("a"), 1),
        conf('*', "psubscribe", Some("p*"), 2),
        conf('*', "ssubscribe", Some("s1"), 1),
        conf('*', "ssubscribe", Some("s2"), 2),
        SUBSCRIBED_GET.into(),
        SUBSCRIBED_CLIENT_LIST.into(),
        "*2\r\n$4\r\npong\r\n$0\r\n\r\n".into(),
        "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n".into(),
    ]
    .concat();
    assert!(r.starts_with(&want), "{r}");
    let rest = &r[want.len()..];
    // Unsubscribing from all: in the registry's order, counts falling.
    let s1 = conf('*', "sunsubscribe", Some("s1"), 1) + &conf('*', "sunsubscribe", Some("s2"), 0);
    let s2 = conf('*', "sunsubscribe", Some("s2"), 1) + &conf('*', "sunsubscribe", Some("s1"), 0);
    let tail = conf('*', "punsubscribe", Some("p*"), 1)
        + &conf('*', "unsubscribe", Some("a"), 0)
        + "+PONG\r\n";
    assert!(rest == s1.clone() + &tail || rest == s2 + &tail, "{rest}");
});

server_test!(resp3_pushes_and_self_delivery_order, |srv| {
    let mut s = srv.raw();
    hello3(&mut s);
    // Captured from Valkey 9.1: the message to the publishing client comes
    // after PUBLISH's reply; channel before pattern; any command allowed.
    let r = pipeline(
        &mut s,
        &[
            &["SUBSCRIBE", "c1"],
            &["PSUBSCRIBE", "c*"],
            &["PUBLISH", "c1", "x"],
            &["UNSUBSCRIBE", "c1"],
            &["PUBLISH", "c1", "y"],
            &["SPUBLISH", "c1", "z"],
            &["SSUBSCRIBE", "c1"],
            &["SPUBLISH", "c1", "z"],
            &["PING"],
            &["GET", "nokey"],
        ],
        14,
    );
    let want = [
        conf('>', "subscribe", Some("c1"), 1),
        conf('>', "psubscribe", Some("c*"), 2),
        ":2\r\n".into(),
        msg('>', "c1", "x"),
        ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nc1\r\n$1\r\nx\r\n".into(),
        conf('>', "unsubscribe", Some("c1"), 1),
        ":1\r\n".into(),
        ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nc1\r\n$1\r\ny\r\n".into(),
        ":0\r\n".into(),
        conf('>', "ssubscribe", Some("c1"), 1),
        ":1\r\n".into(),
        ">3\r\n$8\r\nsmessage\r\n$2\r\nc1\r\n$1\r\nz\r\n".into(),
        "+PONG\r\n".into(),
        "_\r\n".into(),
    ]
    .concat();
    assert_eq!(r, want);
    assert_eq!(
        q(&mut s, &["UNSUBSCRIBE"]),
        conf('>', "unsubscribe", None, 1)
    );
});

server_test!(delivery_to_other_clients_and_pubsub_queries, |srv| {
    let mut sub = srv.raw();
    let mut sub3 = srv.raw();
    let mut p = srv.raw();
    assert_eq!(
        q(&mut sub, &["SUBSCRIBE", "news"]),
        conf('*', "subscribe", Some("news"), 1)
    );
    hello3(&mut sub3);
    assert_eq!(
        q(&mut sub3, &["PSUBSCRIBE", "n*"]),
        conf('>', "psubscribe", Some("n*"), 1)
    );
    assert_eq!(
        q(&mut sub3, &["SSUBSCRIBE", "shard"]),
        conf('>', "ssubscribe", Some("shard"), 1)
    );
    assert_eq!(q(&mut p, &["PUBLISH", "news", "hello"]), int(2));
    assert_eq!(q(&mut p, &["PUBLISH", "other", "x"]), int(0));
    assert_eq!(q(&mut p, &["SPUBLISH", "shard", "s"]), int(1));
    assert_eq!(q(&mut p, &["SPUBLISH", "news", "s"]), int(0));
    assert_eq!(
        String::from_utf8_lossy(&read_replies(&mut sub, 1)),
        msg('*', "news", "hello")
    );
    assert_eq!(
        String::from_utf8_lossy(&read_replies(&mut sub3, 2)),
        ">4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n\
         >3\r\n$8\r\nsmessage\r\n$5\r\nshard\r\n$1\r\ns\r\n"
    );
    assert_eq!(
        q(&mut p, &["PUBSUB", "NUMSUB", "news", "n*", "x"]),
        "*6\r\n$4\r\nnews\r\n:1\r\n$2\r\nn*\r\n:0\r\n$1\r\nx\r\n:0\r\n"
    );
    assert_eq!(q(&mut p, &["PUBSUB", "NUMPAT"]), int(1));
    assert_eq!(q(&mut p, &["PUBSUB", "CHANNELS"]), "*1\r\n$4\r\nnews\r\n");
    assert_eq!(q(&mut p, &["PUBSUB", "CHANNELS", "x*"]), "*0\r\n");
    assert_eq!(
        q(&mut p, &["PUBSUB", "SHARDCHANNELS"]),
        "*1\r\n$5\r\nshard\r\n"
    );
    assert_eq!(
        q(&mut p, &["PUBSUB", "SHARDNUMSUB", "shard"]),
        "*2\r\n$5\r\nshard\r\n:1\r\n"
    );
    assert_eq!(
        q(&mut p, &["PUBSUB", "CHANNELS", "a", "b"]),
        "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n"
    );
    assert_eq!(
        q(&mut p, &["PUBSUB", "NUMPAT", "x"]),
        "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n"
    );
    assert!(q(&mut p, &["PUBSUB", "HELP"]).starts_with(
        "*14\r\n+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
    ));
    let info = q(&mut p, &["INFO"]);
    for line in [
        "pubsub_clients:2\r\n",
        "pubsub_channels:1\r\n",
        "pubsub_patterns:1\r\n",
        "pubsubshard_channels:1\r\n",
    ] {
        assert!(info.contains(line), "{line} in {info}");
    }
    let list = q(&mut p, &["CLIENT", "LIST"]);
    assert!(
        list.contains("flags=P capa= db=0 sub=1 psub=0 ssub=0 "),
        "{list}"
    );
    assert!(
        list.contains("flags=P capa= db=0 sub=0 psub=1 ssub=1 "),
        "{list}"
    );
    assert!(
        list.contains("flags=N capa= db=0 sub=0 psub=0 ssub=0 "),
        "{list}"
    );
    let typed = q(&mut p, &["CLIENT", "LIST", "TYPE", "pubsub"]);
    assert_eq!(typed.matches("flags=P").count(), 2, "{typed}");
    // RESET and disconnecting leave every subscription.
    assert_eq!(q(&mut sub3, &["RESET"]), "+RESET\r\n");
    assert_eq!(q(&mut sub3, &["GET", "k"]), "$-1\r\n");
    drop(sub);
    wait_for(&mut p, "clients", "pubsub_clients:0\r\n");
    let info = q(&mut p, &["INFO"]);
    assert!(info.contains("pubsub_channels:0\r\n"), "{info}");
    assert!(info.contains("pubsub_patterns:0\r\n"), "{info}");
    assert!(info.contains("pubsubshard_channels:0\r\n"), "{info}");
    assert_eq!(q(&mut p, &["PUBLISH", "news", "x"]), int(0));
});

server_test!(many_subscribers_across_threads_in_order, |srv| {
    const SUBS: usize = 24;
    const MSGS: usize = 300;
    let mut subs: Vec<TcpStream> = (0..SUBS).map(|_| srv.raw()).collect();
    for (i, s) in subs.iter_mut().enumerate() {
        if i % 2 == 1 {
            hello3(s);
        }
        send(s, &["SUBSCRIBE", "fan"]);
        read_replies(s, 1);
    }
    let mut p = srv.raw();
    let cmds: Vec<Vec<String>> = (0..MSGS)
        .map(|i| vec!["PUBLISH".into(), "fan".into(), format!("m{i}")])
        .collect();
    let refs: Vec<Vec<&str>> = cmds
        .iter()
        .map(|c| c.iter().map(String::as_str).collect())
        .collect();
    let refs2: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    let r = pipeline(&mut p, &refs2, MSGS);
    assert_eq!(r, int(SUBS as i64).repeat(MSGS));
    for (i, s) in subs.iter_mut().enumerate() {
        let tag = if i % 2 == 1 { '>' } else { '*' };
        let want: String = (0..MSGS)
            .map(|m| msg(tag, "fan", &format!("m{m}")))
            .collect();
        assert_eq!(String::from_utf8_lossy(&read_replies(s, MSGS)), want);
    }
});

server_test!(
    subscriber_pipeline_keeps_order_with_concurrent_publishes,
    |srv| {
        // A RESP3 subscriber pipelines many commands while another client
        // publishes: every reply and message arrives whole, the replies in
        // order, the messages in order.
        let mut sub = srv.raw();
        hello3(&mut sub);
        send(&mut sub, &["SUBSCRIBE", "ch"]);
        read_replies(&mut sub, 1);
        let port = srv.port;
        let publisher = std::thread::spawn(move || {
            let mut p = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            p.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut all = Vec::new();
            for i in 0..2000 {
                all.extend_from_slice(&cmd(&[b"PUBLISH", b"ch", format!("{i}").as_bytes()]));
            }
            p.write_all(&all).unwrap();
            read_replies(&mut p, 2000);
        });
        let mut all = Vec::new();
        for i in 0..2000 {
            all.extend_from_slice(&cmd(&[b"ECHO", format!("e{i}").as_bytes()]));
        }
        sub.write_all(&all).unwrap();
        let text = String::from_utf8_lossy(&read_replies(&mut sub, 4000)).into_owned();
        publisher.join().unwrap();
        let mut echo = 0;
        let mut m = 0;
        let mut rest = text.as_str();
        while !rest.is_empty() {
            let e = bulk(&format!("e{echo}"));
            let p = msg('>', "ch", &m.to_string());
            if let Some(r) = rest.strip_prefix(&e) {
                echo += 1;
                rest = r;
            } else if let Some(r) = rest.strip_prefix(&p) {
                m += 1;
                rest = r;
            } else {
                panic!(
                    "out of order at echo {echo}, message {m}: {:?}",
                    &rest[..rest.len().min(80)]
                );
            }
        }
        assert_eq!((echo, m), (2000, 2000));
    }
);

server_test!(resp2_subscriber_with_pings_reads_arrays, |srv| {
    let mut sub = srv.raw();
    let mut p = srv.raw();
    let r = pipeline(
        &mut sub,
        &[
            &["SUBSCRIBE", "a", "b"],
            &["PING", "x"],
            &["UNSUBSCRIBE", "a"],
        ],
        4,
    );
    assert_eq!(
        r,
        conf('*', "subscribe", Some("a"), 1)
            + &conf('*', "subscribe", Some("b"), 2)
            + "*2\r\n$4\r\npong\r\n$1\r\nx\r\n"
            + &conf('*', "unsubscribe", Some("a"), 1)
    );
    assert_eq!(q(&mut p, &["PUBLISH", "a", "1"]), int(0));
    assert_eq!(q(&mut p, &["PUBLISH", "b", "2"]), int(1));
    assert_eq!(
        String::from_utf8_lossy(&read_replies(&mut sub, 1)),
        msg('*', "b", "2")
    );
    assert_eq!(
        q(&mut sub, &["QUIT"]),
        "+OK\r\n",
        "QUIT is allowed in subscribed mode"
    );
});

#[test]
fn slow_subscriber_is_disconnected_at_the_pubsub_limit() {
    for threads in ["1", "4"] {
        let srv = Server::start_with(&[
            "--io-threads",
            threads,
            "--events-per-io-thread",
            "0",
            "--client-output-buffer-limit",
            "pubsub 1mb 0 0",
        ]);
        let mut slow = srv.raw();
        slow.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        // A small receive buffer so the server's queue, not the kernel's,
        // holds what it does not read.
        socket2::SockRef::from(&slow)
            .set_recv_buffer_size(4096)
            .unwrap();
        let slow_id = q(&mut slow, &["CLIENT", "ID"]);
        let slow_id = format!("id={} ", slow_id.trim_start_matches(':').trim_end());
        send(&mut slow, &["SUBSCRIBE", "big"]);
        let mut reader = srv.raw();
        send(&mut reader, &["SUBSCRIBE", "big"]);
        read_replies(&mut reader, 1);
        let mut p = srv.raw();
        wait_for(&mut p, "clients", "pubsub_clients:2\r\n");
        let payload = "x".repeat(1024);
        let n = 8000; // 8 MB: past 1 MB plus whatever the kernel buffers
        let reader_thread = std::thread::spawn(move || {
            let want_each = msg('*', "big", &"x".repeat(1024)).len();
            let mut got = 0usize;
            let mut buf = vec![0u8; 1 << 16];
            while got < want_each * n {
                let k = reader.read(&mut buf).expect("reader read");
                assert!(k > 0, "reader closed after {got} bytes");
                got += k;
            }
            (got / want_each, reader)
        });
        let mut all = Vec::new();
        for _ in 0..n {
            all.extend_from_slice(&cmd(&[b"PUBLISH", b"big", payload.as_bytes()]));
        }
        p.write_all(&all).unwrap();
        read_replies(&mut p, n);
        let (delivered, _reader) = reader_thread.join().unwrap();
        assert_eq!(delivered, n);
        wait_for(&mut p, "clients", "pubsub_clients:1\r\n");
        // The slow one is the one closed.
        let list = q(&mut p, &["CLIENT", "LIST"]);
        assert!(!list.contains(&slow_id), "io-threads {threads}: {list}");
        assert_eq!(list.matches("flags=P").count(), 1, "{list}");
    }
}

server_test!(confirmations_and_messages_ignore_client_reply_off, |srv| {
    // Valkey sends pub/sub pushes even with CLIENT REPLY OFF (unit/pubsub
    // "PubSub messages with CLIENT REPLY OFF"); other replies stay silent.
    let mut sub = srv.raw();
    let mut p = srv.raw();
    hello3(&mut sub);
    let r = pipeline(
        &mut sub,
        &[
            &["CLIENT", "REPLY", "OFF"],
            &["SUBSCRIBE", "channel"],
            &["PSUBSCRIBE", "ch*"],
            &["GET", "k"],
        ],
        2,
    );
    assert_eq!(
        r,
        conf('>', "subscribe", Some("channel"), 1) + &conf('>', "psubscribe", Some("ch*"), 2)
    );
    assert_eq!(q(&mut p, &["PUBLISH", "channel", "hello"]), int(2));
    let r = pipeline(&mut sub, &[&["UNSUBSCRIBE", "channel"]], 3);
    assert_eq!(
        r,
        msg('>', "channel", "hello")
            + ">4\r\n$8\r\npmessage\r\n$3\r\nch*\r\n$7\r\nchannel\r\n$5\r\nhello\r\n"
            + &conf('>', "unsubscribe", Some("channel"), 1)
    );
});

server_test!(keyspace_notifications_reach_subscribers, |srv| {
    let mut sub = srv.raw();
    let mut c = srv.raw();
    assert_eq!(
        q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        "+OK\r\n"
    );
    sub.write_all(&cmd(&[b"PSUBSCRIBE", b"__key*__:*"]))
        .expect("write");
    assert_eq!(
        String::from_utf8_lossy(&read_replies(&mut sub, 1)),
        "*3\r\n$10\r\npsubscribe\r\n$10\r\n__key*__:*\r\n:1\r\n"
    );
    assert_eq!(q(&mut c, &["SET", "foo", "bar"]), "+OK\r\n");
    let pmsg = |chan: &str, msg: &str| {
        format!(
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n${}\r\n{chan}\r\n${}\r\n{msg}\r\n",
            chan.len(),
            msg.len()
        )
    };
    assert_eq!(
        String::from_utf8_lossy(&read_replies(&mut sub, 2)),
        format!(
            "{}{}",
            pmsg("__keyspace@0__:foo", "set"),
            pmsg("__keyevent@0__:set", "foo")
        )
    );
});

/// `timeout` closes idle clients but not subscribers, which wait for
/// messages (Valkey's clientsCronHandleTimeout), in RESP2 and RESP3.
#[test]
fn subscribers_are_never_timed_out() {
    for io_threads in [1, 4] {
        let srv = Server::start_with(&[
            "--io-threads",
            &io_threads.to_string(),
            "--events-per-io-thread",
            "0",
            "--timeout",
            "1",
        ]);
        let mut sub2 = srv.raw();
        send(&mut sub2, &["SUBSCRIBE", "ch"]);
        assert_eq!(
            String::from_utf8_lossy(&read_replies(&mut sub2, 1)),
            conf('*', "subscribe", Some("ch"), 1)
        );
        let mut sub3 = srv.raw();
        hello3(&mut sub3);
        send(&mut sub3, &["PSUBSCRIBE", "c*"]);
        assert_eq!(
            String::from_utf8_lossy(&read_replies(&mut sub3, 1)),
            conf('>', "psubscribe", Some("c*"), 1)
        );
        let idle = srv.raw();
        let idle_addr = idle.local_addr().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut c = srv.raw();
            let list = q(&mut c, &["CLIENT", "LIST"]);
            if !list.contains(&idle_addr) {
                break;
            }
            assert!(Instant::now() < deadline, "idle client never closed");
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut c = srv.raw();
        assert_eq!(q(&mut c, &["PUBLISH", "ch", "hi"]), int(2));
        assert_eq!(
            String::from_utf8_lossy(&read_replies(&mut sub2, 1)),
            msg('*', "ch", "hi")
        );
    }
}
