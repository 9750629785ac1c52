//! Client-side caching (CLIENT TRACKING): the option errors, CACHING,
//! GETREDIR and TRACKINGINFO replies (captured from Valkey 9.1); RESP3
//! invalidation pushes and their order after the receiver's own replies;
//! RESP2 redirection through `__redis__:invalidate`, a broken redirect;
//! BCAST prefixes, NOLOOP, OPTIN/OPTOUT, flushes, expiry, the table limit,
//! INFO and CLIENT LIST. Each at io-threads 1 and 4; waits poll with a
//! deadline.

mod common;

use common::{arr, bulk, cmd, int, q, read_replies, OK, SYNTAX};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sends several commands at once and reads `n` replies (pushes included).
fn pipeline(s: &mut TcpStream, cmds: &[&[&str]], n: usize) -> String {
    let mut all = Vec::new();
    for c in cmds {
        let a: Vec<&[u8]> = c.iter().map(|x| x.as_bytes()).collect();
        all.extend_from_slice(&cmd(&a));
    }
    s.write_all(&all).expect("write");
    String::from_utf8_lossy(&read_replies(s, n)).into_owned()
}

/// Reads the next `n` replies or pushes already on their way.
fn next(s: &mut TcpStream, n: usize) -> String {
    String::from_utf8_lossy(&read_replies(s, n)).into_owned()
}

fn hello3(s: &mut TcpStream) {
    assert!(q(s, &["HELLO", "3"]).starts_with("%7\r\n"));
}

fn client_id(s: &mut TcpStream) -> String {
    q(s, &["CLIENT", "ID"])
        .trim_start_matches(':')
        .trim_end()
        .to_string()
}

/// `>2 invalidate [keys]`.
fn invalidate(keys: &[&str]) -> String {
    format!(">2\r\n{}{}", bulk("invalidate"), arr(keys))
}

/// The RESP2 message a redirect target subscribed to the channel gets.
fn message(payload: &str) -> String {
    format!(
        "*3\r\n{}{}{payload}",
        bulk("message"),
        bulk("__redis__:invalidate")
    )
}

fn info_field(s: &mut TcpStream, section: &str, field: &str) -> String {
    let info = q(s, &["INFO", section]);
    let at = info
        .find(&format!("\r\n{field}:"))
        .unwrap_or_else(|| panic!("no {field} in {info}"));
    let rest = &info[at + field.len() + 3..];
    rest[..rest.find("\r\n").unwrap_or(rest.len())].to_string()
}

fn wait_field(s: &mut TcpStream, section: &str, field: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while info_field(s, section, field) != want {
        assert!(Instant::now() < deadline, "{field} never became {want}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

const BCAST_SWITCH: &str = "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n";
const OPT_SWITCH: &str = "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n";
const CACHING_OFF: &str = "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n";
const NO_REDIRECT: &str = "-ERR The client ID you want redirect to does not exist\r\n";

server_test!(option_errors_and_info_replies_match_valkey, |srv| {
    let mut s = srv.raw();
    let me = client_id(&mut s);
    let cases: &[(&[&str], String)] = &[
        (&["CLIENT", "TRACKING", "foo"], SYNTAX.into()),
        (&["CLIENT", "TRACKING", "on", "foo"], SYNTAX.into()),
        (&["CLIENT", "TRACKING", "on", "PREFIX"], SYNTAX.into()),
        (
            &["CLIENT", "TRACKING", "on", "REDIRECT", "abc"],
            "-ERR value is not an integer or out of range\r\n".into(),
        ),
        (
            &["CLIENT", "TRACKING", "on", "REDIRECT", "-1"],
            NO_REDIRECT.into(),
        ),
        (
            &["CLIENT", "TRACKING", "on", "REDIRECT", "99999"],
            NO_REDIRECT.into(),
        ),
        (
            &["CLIENT", "TRACKING", "on", "REDIRECT", &me, "REDIRECT", &me],
            "-ERR A client can only redirect to a single other client\r\n".into(),
        ),
        (
            &["CLIENT", "TRACKING", "on", "PREFIX", "a"],
            "-ERR PREFIX option requires BCAST mode to be enabled\r\n".into(),
        ),
        (
            &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"],
            "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n".into(),
        ),
        (
            &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
            "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n".into(),
        ),
        (
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "ab"],
            "-ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single client must not overlap.\r\n".into(),
        ),
        (&["CLIENT", "CACHING", "yes"], CACHING_OFF.into()),
        (&["CLIENT", "GETREDIR"], int(-1)),
        (
            &["CLIENT", "TRACKINGINFO"],
            format!(
                "*6\r\n{}*1\r\n{}{}{}{}*0\r\n",
                bulk("flags"),
                bulk("off"),
                bulk("redirect"),
                int(-1),
                bulk("prefixes")
            ),
        ),
        (&["CLIENT", "TRACKING", "on", "OPTOUT", "NOLOOP"], OK.into()),
        (&["CLIENT", "TRACKING", "on", "OPTIN"], OPT_SWITCH.into()),
        (&["CLIENT", "TRACKING", "on", "BCAST"], BCAST_SWITCH.into()),
        (
            &["CLIENT", "CACHING", "yes"],
            "-ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.\r\n"
                .into(),
        ),
        (&["CLIENT", "CACHING", "maybe"], SYNTAX.into()),
        (&["CLIENT", "CACHING", "no"], OK.into()),
        // A CLIENT subcommand keeps CACHING for the next command.
        (
            &["CLIENT", "TRACKINGINFO"],
            format!(
                "*6\r\n{}*4\r\n{}{}{}{}{}{}{}*0\r\n",
                bulk("flags"),
                bulk("on"),
                bulk("optout"),
                bulk("caching-no"),
                bulk("noloop"),
                bulk("redirect"),
                int(0),
                bulk("prefixes")
            ),
        ),
        (&["CLIENT", "GETREDIR"], int(0)),
        (&["CLIENT", "TRACKING", "off"], OK.into()),
        (
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a"],
            OK.into(),
        ),
        (
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "bz"],
            "-ERR Prefix 'bz' overlaps with an existing prefix 'b'. Prefixes for a single client must not overlap.\r\n".into(),
        ),
        (
            &["CLIENT", "CACHING", "no"],
            "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"
                .into(),
        ),
    ];
    for (args, want) in cases {
        assert_eq!(&q(&mut s, args), want, "{args:?}");
    }
    // RESP3: the flags are a set inside a map; prefixes in order.
    hello3(&mut s);
    assert_eq!(
        q(&mut s, &["CLIENT", "TRACKINGINFO"]),
        format!(
            "%3\r\n{}~2\r\n{}{}{}{}{}*2\r\n{}{}",
            bulk("flags"),
            bulk("on"),
            bulk("bcast"),
            bulk("redirect"),
            int(0),
            bulk("prefixes"),
            bulk("a"),
            bulk("b")
        )
    );
    let list = q(&mut s, &["CLIENT", "LIST", "ID", &me]);
    assert!(list.contains(" flags=tB "), "{list}");
    assert!(list.contains(" redir=0 "), "{list}");
    let mut other = srv.raw();
    assert_eq!(info_field(&mut other, "clients", "tracking_clients"), "1");
    assert_eq!(
        info_field(&mut other, "stats", "tracking_total_prefixes"),
        "2"
    );
    // RESET turns tracking off and drops the prefixes.
    assert_eq!(q(&mut s, &["RESET"]), "+RESET\r\n");
    assert_eq!(info_field(&mut other, "clients", "tracking_clients"), "0");
    assert_eq!(
        info_field(&mut other, "stats", "tracking_total_prefixes"),
        "0"
    );
});

server_test!(resp3_invalidations_follow_the_receivers_replies, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    hello3(&mut a);
    assert_eq!(q(&mut a, &["CLIENT", "TRACKING", "on"]), OK);
    assert_eq!(q(&mut b, &["MSET", "k", "1", "other", "1"]), OK);
    assert_eq!(q(&mut a, &["GET", "k"]), bulk("1"));
    assert_eq!(
        q(&mut a, &["MGET", "k", "missing"]),
        "*2\r\n$1\r\n1\r\n_\r\n"
    );
    assert_eq!(info_field(&mut b, "stats", "tracking_total_keys"), "2");
    // Another client's write: one push, and the key is forgotten.
    assert_eq!(q(&mut b, &["SET", "other", "2"]), OK);
    assert_eq!(q(&mut b, &["SET", "k", "2"]), OK);
    assert_eq!(next(&mut a, 1), invalidate(&["k"]));
    assert_eq!(q(&mut b, &["SET", "k", "3"]), OK);
    assert_eq!(q(&mut a, &["PING"]), "+PONG\r\n");
    // Its own write: the reply, then the push.
    assert_eq!(q(&mut a, &["HGET", "h", "f"]), "_\r\n");
    assert_eq!(
        pipeline(&mut a, &[&["HSET", "h", "f", "1"]], 2),
        format!("{}{}", int(1), invalidate(&["h"]))
    );
    // In a transaction: after the whole EXEC reply.
    assert_eq!(q(&mut a, &["GET", "k"]), bulk("3"));
    assert_eq!(
        pipeline(
            &mut a,
            &[&["MULTI"], &["INCR", "k"], &["GET", "other"], &["EXEC"]],
            5
        ),
        format!(
            "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n{}{}{}",
            int(4),
            bulk("2"),
            invalidate(&["k"])
        )
    );
    // FLUSHDB in a transaction: a null invalidation after the reply.
    assert_eq!(q(&mut a, &["GET", "k"]), bulk("4"));
    assert_eq!(
        pipeline(&mut a, &[&["MULTI"], &["FLUSHDB"], &["EXEC"]], 4),
        "+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n"
    );
    assert_eq!(info_field(&mut b, "stats", "tracking_total_keys"), "0");
    // An expired key (found by a lookup or by the cron) is invalidated.
    assert_eq!(q(&mut b, &["SET", "x", "1", "PX", "50"]), OK);
    assert_eq!(q(&mut a, &["GET", "x"]), bulk("1"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while q(&mut b, &["PTTL", "x"]) != int(-2) {
        assert!(Instant::now() < deadline, "x never expired");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(next(&mut a, 1), invalidate(&["x"]));
    // RESP2 without a redirect: tracked, but nothing can be sent.
    assert!(q(&mut a, &["HELLO", "2"]).starts_with("*14\r\n"));
    assert_eq!(q(&mut a, &["GET", "k"]), "$-1\r\n");
    assert_eq!(q(&mut b, &["SET", "k", "5"]), OK);
    assert_eq!(q(&mut a, &["PING"]), "+PONG\r\n");
});

server_test!(noloop_optin_and_optout, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    hello3(&mut a);
    assert_eq!(q(&mut a, &["CLIENT", "TRACKING", "on", "NOLOOP"]), OK);
    assert_eq!(q(&mut a, &["MGET", "mine", "theirs"]), "*2\r\n_\r\n_\r\n");
    assert_eq!(q(&mut a, &["SET", "mine", "1"]), OK);
    assert_eq!(q(&mut b, &["SET", "theirs", "1"]), OK);
    assert_eq!(next(&mut a, 1), invalidate(&["theirs"]));
    assert_eq!(q(&mut a, &["CLIENT", "TRACKING", "off"]), OK);
    // OPTIN: only the command after CLIENT CACHING yes is tracked.
    assert_eq!(q(&mut a, &["CLIENT", "TRACKING", "on", "OPTIN"]), OK);
    assert_eq!(q(&mut a, &["GET", "skipped"]), "_\r\n");
    assert_eq!(q(&mut a, &["CLIENT", "CACHING", "yes"]), OK);
    assert_eq!(q(&mut a, &["GET", "cached"]), "_\r\n");
    assert_eq!(q(&mut a, &["GET", "skipped2"]), "_\r\n");
    assert_eq!(
        q(
            &mut b,
            &["MSET", "skipped", "1", "skipped2", "1", "cached", "1"]
        ),
        OK
    );
    assert_eq!(next(&mut a, 1), invalidate(&["cached"]));
    assert_eq!(q(&mut a, &["CLIENT", "TRACKING", "off"]), OK);
    // OPTOUT: every read but the one after CLIENT CACHING no.
    assert_eq!(q(&mut a, &["CLIENT", "TRACKING", "on", "OPTOUT"]), OK);
    assert_eq!(q(&mut a, &["CLIENT", "CACHING", "no"]), OK);
    assert_eq!(q(&mut a, &["GET", "skipped"]), bulk("1"));
    assert_eq!(q(&mut a, &["GET", "cached"]), bulk("1"));
    assert_eq!(q(&mut b, &["MSET", "skipped", "2", "cached", "2"]), OK);
    assert_eq!(next(&mut a, 1), invalidate(&["cached"]));
});

server_test!(resp2_redirect_and_broken_redirect, |srv| {
    let mut r = srv.raw();
    let mut t = srv.raw();
    let mut w = srv.raw();
    let rid = client_id(&mut r);
    assert_eq!(
        q(&mut r, &["SUBSCRIBE", "__redis__:invalidate"]),
        format!(
            "*3\r\n{}{}{}",
            bulk("subscribe"),
            bulk("__redis__:invalidate"),
            int(1)
        )
    );
    assert_eq!(
        q(&mut t, &["CLIENT", "TRACKING", "on", "REDIRECT", &rid]),
        OK
    );
    assert_eq!(
        q(&mut t, &["CLIENT", "GETREDIR"]),
        int(rid.parse().unwrap())
    );
    assert_eq!(q(&mut t, &["GET", "a"]), "$-1\r\n");
    assert_eq!(q(&mut w, &["SET", "a", "1"]), OK);
    assert_eq!(next(&mut r, 1), message(&arr(&["a"])));
    // A flush: a null, in the tracking client's protocol.
    assert_eq!(q(&mut w, &["FLUSHALL"]), OK);
    assert_eq!(next(&mut r, 1), message("$-1\r\n"));
    // The target goes away: the redirect is broken; a RESP3 client is told.
    assert_eq!(q(&mut t, &["GET", "a"]), "$-1\r\n");
    hello3(&mut t);
    drop(r);
    wait_field(&mut w, "clients", "connected_clients", "2");
    assert_eq!(q(&mut w, &["SET", "a", "2"]), OK);
    assert_eq!(
        next(&mut t, 1),
        format!(
            ">2\r\n{}{}",
            bulk("tracking-redir-broken"),
            int(rid.parse().unwrap())
        )
    );
    let tid = client_id(&mut t);
    let list = q(&mut t, &["CLIENT", "LIST", "ID", &tid]);
    assert!(list.contains(" flags=tR "), "{list}");
    assert!(list.contains(&format!(" redir={rid} ")), "{list}");
    let info = q(&mut t, &["CLIENT", "TRACKINGINFO"]);
    assert!(
        info.contains("~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n"),
        "{info}"
    );
    // Disconnecting turns tracking off.
    drop(t);
    wait_field(&mut w, "clients", "tracking_clients", "0");
});

server_test!(bcast_prefixes_batch_per_loop_and_noloop, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    hello3(&mut a);
    assert_eq!(
        q(
            &mut a,
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "PREFIX", "b:", "NOLOOP"]
        ),
        OK
    );
    // One command's keys leave together, sorted, per prefix.
    assert_eq!(
        q(
            &mut b,
            &["MSET", "a:2", "1", "a:1", "1", "c:1", "1", "b:1", "1"]
        ),
        OK
    );
    let got = next(&mut a, 2);
    assert_eq!(
        got,
        format!("{}{}", invalidate(&["a:1", "a:2"]), invalidate(&["b:1"]))
    );
    // NOLOOP: its own changes are left out.
    assert_eq!(q(&mut a, &["SET", "a:3", "x"]), OK);
    assert_eq!(q(&mut b, &["SET", "a:4", "x"]), OK);
    assert_eq!(next(&mut a, 1), invalidate(&["a:4"]));
    // Expiry by the cron reaches BCAST clients too (the key set by the
    // NOLOOP client itself: only its expiry is sent).
    assert_eq!(q(&mut a, &["SET", "b:gone", "1", "PX", "1"]), OK);
    assert_eq!(next(&mut a, 1), invalidate(&["b:gone"]));
    // Adding a prefix keeps the others.
    assert_eq!(
        q(
            &mut a,
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c:"]
        ),
        OK
    );
    assert_eq!(q(&mut b, &["DEL", "c:1"]), int(1));
    assert_eq!(next(&mut a, 1), invalidate(&["c:1"]));
    // The empty prefix is every key.
    let mut all = srv.raw();
    hello3(&mut all);
    assert_eq!(q(&mut all, &["CLIENT", "TRACKING", "on", "BCAST"]), OK);
    assert_eq!(q(&mut b, &["SET", "zzz", "1"]), OK);
    assert_eq!(next(&mut all, 1), invalidate(&["zzz"]));
    assert_eq!(info_field(&mut b, "stats", "tracking_total_prefixes"), "4");
});

server_test!(the_table_limit_evicts_keys_with_invalidations, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    hello3(&mut a);
    assert_eq!(q(&mut a, &["CLIENT", "TRACKING", "on"]), OK);
    let keys: Vec<String> = (0..250).map(|i| format!("key{i}")).collect();
    let mut mget = vec!["MGET"];
    mget.extend(keys.iter().map(String::as_str));
    assert!(q(&mut a, &mget).starts_with("*250\r\n"));
    assert_eq!(info_field(&mut b, "stats", "tracking_total_keys"), "250");
    assert_eq!(info_field(&mut b, "stats", "tracking_total_items"), "250");
    assert_eq!(
        q(&mut b, &["CONFIG", "SET", "tracking-table-max-keys", "1"]),
        OK
    );
    // 249 invalidations, one key each, then nothing more.
    let all = next(&mut a, 249);
    let mut evicted = std::collections::HashSet::new();
    for m in all.split(">2\r\n").skip(1) {
        let key = m.rsplit("\r\n").nth(1).expect("a key").to_string();
        assert_eq!(format!(">2\r\n{m}"), invalidate(&[&key]));
        assert!(keys.contains(&key) && evicted.insert(key));
    }
    assert_eq!(evicted.len(), 249);
    assert_eq!(q(&mut a, &["PING"]), "+PONG\r\n");
    assert_eq!(info_field(&mut b, "stats", "tracking_total_keys"), "1");
    assert_eq!(
        q(&mut b, &["CONFIG", "GET", "tracking-table-max-keys"]),
        arr(&["tracking-table-max-keys", "1"])
    );
});

// A refused command ends CLIENT CACHING's one command, except a CLIENT
// subcommand with the wrong arity (Valkey 9.1: unknown command, wrong
// arity and an unknown CLIENT subcommand end it; `CLIENT CACHING` with no
// argument does not).
server_test!(a_refused_command_ends_caching_as_valkey, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    hello3(&mut a);
    assert_eq!(q(&mut a, &["CLIENT", "TRACKING", "on", "OPTIN"]), OK);
    let refusals: [&[&str]; 3] = [&["FOOBAR"], &["GET"], &["CLIENT", "FOO"]];
    for (i, refused) in refusals.iter().enumerate() {
        let key = format!("ended{i}");
        assert_eq!(q(&mut a, &["CLIENT", "CACHING", "yes"]), OK);
        assert!(q(&mut a, refused).starts_with("-ERR "));
        assert_eq!(q(&mut a, &["GET", &key]), "_\r\n");
        assert_eq!(q(&mut b, &["SET", &key, "v"]), OK);
    }
    assert_eq!(q(&mut a, &["CLIENT", "CACHING", "yes"]), OK);
    assert!(q(&mut a, &["CLIENT", "CACHING"]).starts_with("-ERR wrong number"));
    assert_eq!(q(&mut a, &["GET", "kept"]), "_\r\n");
    assert_eq!(q(&mut b, &["SET", "kept", "v"]), OK);
    // Only the last read was tracked: the first invalidation is its key.
    assert_eq!(next(&mut a, 1), invalidate(&["kept"]));
});

// A script's writes are its caller's: NOLOOP keeps them from the caller
// (unit/tracking's 'Invalid keys should not be tracked for scripts in
// NOLOOP mode'), while other clients still hear of them.
server_test!(noloop_covers_the_callers_scripts, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    hello3(&mut a);
    hello3(&mut b);
    assert_eq!(q(&mut a, &["CLIENT", "TRACKING", "on", "NOLOOP"]), OK);
    assert_eq!(q(&mut b, &["CLIENT", "TRACKING", "on"]), OK);
    assert_eq!(q(&mut a, &["SET", "key1", "1"]), OK);
    assert_eq!(q(&mut a, &["GET", "key1"]), bulk("1"));
    assert_eq!(q(&mut b, &["GET", "key1"]), bulk("1"));
    assert_eq!(
        q(
            &mut a,
            &["EVAL", "return redis.call('set', 'key1', '2')", "1", "key1"]
        ),
        OK
    );
    // No push came before this reply.
    assert_eq!(q(&mut a, &["GET", "key1"]), bulk("2"));
    assert_eq!(next(&mut b, 1), invalidate(&["key1"]));
});

// A script's read commands are tracked for its caller, with just the keys
// they read (not the script's declared keys); EVAL_RO alike
// (unit/tracking's 'Tracking only occurs for scripts when a command calls
// a read-only command').
server_test!(script_reads_are_tracked_for_the_caller, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    hello3(&mut a);
    assert_eq!(q(&mut a, &["CLIENT", "TRACKING", "on"]), OK);
    assert_eq!(q(&mut b, &["MSET", "k2", "1", "k1", "1"]), OK);
    for eval in ["EVAL", "EVAL_RO"] {
        let nothing_read = if eval == "EVAL" {
            "redis.call('set', 'k3', 'bar')"
        } else {
            "redis.call('ping')"
        };
        assert_eq!(q(&mut a, &[eval, nothing_read, "2", "k1", "k2"]), "_\r\n");
        assert_eq!(q(&mut b, &["MSET", "k2", "2", "k1", "2"]), OK);
        assert_eq!(q(&mut a, &["PING"]), "+PONG\r\n");
        assert_eq!(
            q(&mut a, &[eval, "redis.call('get', 'k2')", "2", "k1", "k2"]),
            "_\r\n"
        );
        assert_eq!(q(&mut b, &["MSET", "k2", "2", "k3", "2"]), OK);
        assert_eq!(next(&mut a, 1), invalidate(&["k2"]));
        assert_eq!(q(&mut a, &["PING"]), "+PONG\r\n");
    }
});
