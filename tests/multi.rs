//! Transactions (MULTI EXEC DISCARD WATCH UNWATCH), at io-threads 1 and 4,
//! with replies as Valkey 9.1 gives them (captured with raw RESP).

#[macro_use]
mod common;

use common::{arr, bulk, cmd, int, q, read_replies, NULL_ARRAY, OK};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const QUEUED: &str = "+QUEUED\r\n";
const EXECABORT: &str = "-EXECABORT Transaction discarded because of previous errors.\r\n";

fn send(s: &mut TcpStream, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    s.write_all(&cmd(&a)).expect("write");
}

/// Polls `INFO clients` until it shows `field`.
fn wait_info(s: &mut TcpStream, field: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !q(s, &["INFO", "clients"]).contains(field) {
        assert!(Instant::now() < deadline, "never saw {field:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

server_test!(queued_commands_run_at_exec, |srv| {
    let mut c = srv.raw();
    assert_eq!(q(&mut c, &["RPUSH", "l", "a", "b"]), int(2));
    assert_eq!(q(&mut c, &["MULTI"]), OK);
    assert_eq!(q(&mut c, &["LRANGE", "l", "0", "-1"]), QUEUED);
    assert_eq!(q(&mut c, &["PING"]), QUEUED);
    assert_eq!(q(&mut c, &["INCR", "n"]), QUEUED);
    // A run-time error is one element; the rest still run.
    assert_eq!(q(&mut c, &["LPUSH", "n", "x"]), QUEUED);
    assert_eq!(q(&mut c, &["INCR", "n"]), QUEUED);
    assert_eq!(
        q(&mut c, &["EXEC"]),
        format!(
            "*5\r\n{}+PONG\r\n{}-WRONGTYPE Operation against a key holding the wrong kind of value\r\n{}",
            arr(&["a", "b"]),
            int(1),
            int(2)
        )
    );
    // DISCARD drops the queue.
    assert_eq!(q(&mut c, &["MULTI"]), OK);
    assert_eq!(q(&mut c, &["DEL", "l"]), QUEUED);
    assert_eq!(q(&mut c, &["DISCARD"]), OK);
    assert_eq!(q(&mut c, &["LLEN", "l"]), int(2));
    // An empty transaction.
    assert_eq!(q(&mut c, &["MULTI"]), OK);
    assert_eq!(q(&mut c, &["EXEC"]), "*0\r\n");
    // The same, pipelined in one write.
    c.write_all(b"MULTI\r\nSET p 1\r\nGET p\r\nEXEC\r\n")
        .expect("write");
    let got = String::from_utf8_lossy(&read_replies(&mut c, 4)).into_owned();
    assert_eq!(got, format!("{OK}{QUEUED}{QUEUED}*2\r\n{OK}{}", bulk("1")));
});

server_test!(errors_while_queueing_abort_exec, |srv| {
    let mut c = srv.raw();
    assert_eq!(q(&mut c, &["MULTI"]), OK);
    assert_eq!(q(&mut c, &["SET", "a", "1"]), QUEUED);
    assert_eq!(
        q(&mut c, &["NOSUCH", "x"]),
        "-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n"
    );
    assert_eq!(q(&mut c, &["SET", "b", "1"]), QUEUED);
    assert_eq!(q(&mut c, &["EXEC"]), EXECABORT);
    assert_eq!(q(&mut c, &["EXISTS", "a", "b"]), int(0));
    // Nested MULTI and WATCH are refused (no-multi) and abort it too.
    assert_eq!(q(&mut c, &["MULTI"]), OK);
    assert_eq!(
        q(&mut c, &["MULTI"]),
        "-ERR Command 'multi' not allowed inside a transaction\r\n"
    );
    assert_eq!(
        q(&mut c, &["WATCH", "x"]),
        "-ERR Command 'watch' not allowed inside a transaction\r\n"
    );
    assert_eq!(
        q(&mut c, &["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(q(&mut c, &["EXEC"]), EXECABORT);
    assert_eq!(q(&mut c, &["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(q(&mut c, &["DISCARD"]), "-ERR DISCARD without MULTI\r\n");
    assert_eq!(q(&mut c, &["PING"]), "+PONG\r\n");
    let info = q(&mut c, &["INFO", "errorstats"]);
    assert!(info.contains("errorstat_EXECABORT:count=2"), "{info}");
});

server_test!(watched_keys_changed_by_others_fail_exec, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    assert_eq!(q(&mut a, &["SET", "k", "1"]), OK);
    assert_eq!(q(&mut a, &["WATCH", "k", "other"]), OK);
    assert!(q(&mut b, &["INFO", "clients"]).contains("watching_clients:1\r\n"));
    assert!(q(&mut b, &["INFO", "clients"]).contains("total_watched_keys:2\r\n"));
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["INCR", "k"]), QUEUED);
    let list = q(&mut b, &["CLIENT", "LIST"]);
    assert!(
        list.contains("flags=x ") && list.contains("multi=1 watch=2"),
        "{list}"
    );
    // The same value still counts as a change.
    assert_eq!(q(&mut b, &["SET", "k", "1"]), OK);
    let list = q(&mut b, &["CLIENT", "LIST"]);
    assert!(
        list.contains("flags=xd ") && list.contains("watch=0"),
        "{list}"
    );
    assert_eq!(q(&mut a, &["EXEC"]), NULL_ARRAY);
    assert_eq!(q(&mut a, &["GET", "k"]), bulk("1"));
    // Watches end with EXEC: a later change fails nothing.
    assert_eq!(q(&mut a, &["WATCH", "k"]), OK);
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["INCR", "k"]), QUEUED);
    assert_eq!(q(&mut a, &["EXEC"]), "*1\r\n:2\r\n");
    assert_eq!(q(&mut b, &["SET", "k", "5"]), OK);
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["EXEC"]), "*0\r\n");
    // UNWATCH forgets; DISCARD clears the dirty flag.
    assert_eq!(q(&mut a, &["WATCH", "k"]), OK);
    assert_eq!(q(&mut b, &["SET", "k", "6"]), OK);
    assert_eq!(q(&mut a, &["UNWATCH"]), OK);
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["EXEC"]), "*0\r\n");
    assert_eq!(q(&mut a, &["WATCH", "k"]), OK);
    assert_eq!(q(&mut b, &["SET", "k", "7"]), OK);
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["DISCARD"]), OK);
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["INCR", "k"]), QUEUED);
    assert_eq!(q(&mut a, &["EXEC"]), "*1\r\n:8\r\n");
    // In RESP3 a failed EXEC is a null.
    assert!(q(&mut a, &["HELLO", "3"]).starts_with('%'));
    assert_eq!(q(&mut a, &["WATCH", "k"]), OK);
    assert_eq!(q(&mut b, &["DEL", "k"]), int(1));
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["EXEC"]), "_\r\n");
    // A watcher that disconnects leaves no watch behind.
    assert_eq!(q(&mut a, &["WATCH", "x", "y"]), OK);
    drop(a);
    wait_info(&mut b, "total_watched_keys:0\r\n");
});

server_test!(flushes_and_swapdb_touch_keys_that_change, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    // FLUSHALL touches a watched key that exists...
    assert_eq!(q(&mut a, &["SET", "x", "30"]), OK);
    assert_eq!(q(&mut a, &["WATCH", "x"]), OK);
    assert_eq!(q(&mut b, &["FLUSHALL"]), OK);
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["EXEC"]), NULL_ARRAY);
    // ...but not one that does not.
    assert_eq!(q(&mut a, &["WATCH", "x"]), OK);
    assert_eq!(q(&mut b, &["FLUSHDB"]), OK);
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["PING"]), QUEUED);
    assert_eq!(q(&mut a, &["EXEC"]), "*1\r\n+PONG\r\n");
    // SWAPDB touches a missing watched key that the swap creates.
    assert_eq!(q(&mut b, &["SELECT", "1"]), OK);
    assert_eq!(q(&mut b, &["SET", "x", "1"]), OK);
    assert_eq!(q(&mut a, &["WATCH", "x"]), OK);
    assert_eq!(q(&mut b, &["SWAPDB", "0", "1"]), OK);
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["EXEC"]), NULL_ARRAY);
    // A watch remembers its db.
    assert_eq!(q(&mut a, &["WATCH", "x"]), OK);
    assert_eq!(q(&mut b, &["SET", "x", "2"]), OK); // db 1: not watched
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["EXEC"]), "*0\r\n");
});

mod watched_keys_that_expire {
    use super::*;

    fn run(srv: &common::Server) {
        let mut a = srv.raw();
        assert_eq!(q(&mut a, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), OK);
        // Live when watched, expired by EXEC: the transaction fails.
        assert_eq!(q(&mut a, &["SET", "k", "1", "PX", "20"]), OK);
        assert_eq!(q(&mut a, &["WATCH", "k"]), OK);
        // The server waits past the expiry; nothing deletes the key meanwhile.
        assert_eq!(q(&mut a, &["DEBUG", "SLEEP", "0.05"]), OK);
        assert_eq!(q(&mut a, &["MULTI"]), OK);
        assert_eq!(q(&mut a, &["EXEC"]), NULL_ARRAY);
        // Already expired when watched, then deleted: no change.
        assert_eq!(q(&mut a, &["SET", "s", "1", "PX", "1"]), OK);
        assert_eq!(q(&mut a, &["DEBUG", "SLEEP", "0.02"]), OK);
        assert_eq!(q(&mut a, &["WATCH", "s"]), OK);
        assert_eq!(q(&mut a, &["EXISTS", "s"]), int(0));
        assert_eq!(q(&mut a, &["MULTI"]), OK);
        assert_eq!(q(&mut a, &["PING"]), QUEUED);
        assert_eq!(q(&mut a, &["EXEC"]), "*1\r\n+PONG\r\n");
        // ...but given a new value, it changed.
        assert_eq!(q(&mut a, &["SET", "t", "1", "PX", "1"]), OK);
        assert_eq!(q(&mut a, &["DEBUG", "SLEEP", "0.02"]), OK);
        assert_eq!(q(&mut a, &["WATCH", "t"]), OK);
        assert_eq!(q(&mut a, &["SET", "t", "2"]), OK);
        assert_eq!(q(&mut a, &["MULTI"]), OK);
        assert_eq!(q(&mut a, &["EXEC"]), NULL_ARRAY);
        // EXPIRE on a watched key is a change.
        assert_eq!(q(&mut a, &["SET", "e", "1"]), OK);
        assert_eq!(q(&mut a, &["WATCH", "e"]), OK);
        assert_eq!(q(&mut a, &["EXPIRE", "e", "100"]), int(1));
        assert_eq!(q(&mut a, &["MULTI"]), OK);
        assert_eq!(q(&mut a, &["EXEC"]), NULL_ARRAY);
        // The active expiry deleting a watched live key is a change.
        assert_eq!(q(&mut a, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), OK);
        assert_eq!(q(&mut a, &["SELECT", "9"]), OK);
        assert_eq!(q(&mut a, &["SET", "z", "1", "PX", "10"]), OK);
        assert_eq!(q(&mut a, &["WATCH", "z"]), OK);
        let deadline = Instant::now() + Duration::from_secs(20);
        while q(&mut a, &["DBSIZE"]) != int(0) {
            assert!(Instant::now() < deadline, "z never expired");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(q(&mut a, &["MULTI"]), OK);
        assert_eq!(q(&mut a, &["EXEC"]), NULL_ARRAY);
    }

    #[test]
    fn io_threads_1() {
        run(&common::Server::start_with(&[
            "--io-threads",
            "1",
            "--enable-debug-command",
            "yes",
        ]))
    }

    #[test]
    fn io_threads_4() {
        run(&common::Server::start_with(&[
            "--io-threads",
            "4",
            "--events-per-io-thread",
            "0",
            "--enable-debug-command",
            "yes",
        ]))
    }
}

server_test!(blocking_commands_inside_multi_do_not_wait, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["BLPOP", "empty", "0"]), QUEUED);
    assert_eq!(
        q(&mut a, &["BLMOVE", "e1", "e2", "LEFT", "LEFT", "0"]),
        QUEUED
    );
    assert_eq!(q(&mut a, &["BZPOPMIN", "ez", "0"]), QUEUED);
    assert_eq!(q(&mut a, &["EXEC"]), "*3\r\n*-1\r\n$-1\r\n*-1\r\n");
    // A client blocked on a list that a transaction pushes to twice is
    // served after the transaction, seeing both pushes.
    send(&mut b, &["BLPOP", "l", "0"]);
    wait_info(&mut a, "blocked_clients:1\r\n");
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["LPUSH", "l", "a"]), QUEUED);
    assert_eq!(q(&mut a, &["LPUSH", "l", "b"]), QUEUED);
    assert_eq!(q(&mut a, &["EXEC"]), "*2\r\n:1\r\n:2\r\n");
    assert_eq!(
        String::from_utf8_lossy(&read_replies(&mut b, 1)),
        arr(&["l", "b"])
    );
    assert_eq!(q(&mut a, &["LRANGE", "l", "0", "-1"]), arr(&["a"]));
});

server_test!(over_maxmemory_writes_and_queueing_are_refused, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    assert_eq!(q(&mut a, &["SET", "x", "value"]), OK);
    // Only noeviction can enforce a limit here.
    assert_eq!(
        q(
            &mut b,
            &[
                "CONFIG",
                "SET",
                "maxmemory-policy",
                "allkeys-lru",
                "maxmemory",
                "1"
            ]
        ),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - evicting keys under \
         maxmemory is not supported by ferrokey yet; a limit works with maxmemory-policy \
         noeviction\r\n"
    );
    // A transaction of reads, queued before the limit, still runs.
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["GET", "x"]), QUEUED);
    assert_eq!(q(&mut b, &["CONFIG", "SET", "maxmemory", "1"]), OK);
    assert_eq!(q(&mut a, &["EXEC"]), format!("*1\r\n{}", bulk("value")));
    assert_eq!(q(&mut a, &["SET", "y", "1"]), OOM);
    assert_eq!(q(&mut a, &["GET", "x"]), bulk("value"));
    assert_eq!(q(&mut a, &["DEL", "x"]), int(1));
    // Queueing a write is refused (the transaction aborts); a read is
    // queued; DISCARD still works.
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["GET", "x"]), QUEUED);
    assert_eq!(q(&mut a, &["DISCARD"]), OK);
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["SET", "x", "1"]), OOM);
    assert_eq!(q(&mut a, &["EXEC"]), EXECABORT);
    // A queued write makes EXEC fail once over the limit.
    assert_eq!(q(&mut b, &["CONFIG", "SET", "maxmemory", "0"]), OK);
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["SET", "x", "1"]), QUEUED);
    assert_eq!(q(&mut b, &["CONFIG", "SET", "maxmemory", "1"]), OK);
    assert_eq!(
        q(&mut a, &["EXEC"]),
        "-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > \
         'maxmemory'.\r\n"
    );
    assert_eq!(q(&mut b, &["CONFIG", "SET", "maxmemory", "0"]), OK);
    assert_eq!(q(&mut a, &["SET", "x", "2"]), OK);
    assert_eq!(q(&mut a, &["EXEC"]), "-ERR EXEC without MULTI\r\n");
});

server_test!(min_replicas_to_write_refuses_writes_and_exec, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    const NOREPLICAS: &str = "-NOREPLICAS Not enough good replicas to write.\r\n";
    assert_eq!(q(&mut a, &["CONFIG", "RESETSTAT"]), OK);
    assert_eq!(q(&mut a, &["SET", "xx", "1"]), OK);
    // A write queued before the limit: EXEC is refused and ends the
    // transaction; the write never ran.
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["INCR", "xx"]), QUEUED);
    assert_eq!(
        q(&mut b, &["CONFIG", "SET", "min-replicas-to-write", "2"]),
        OK
    );
    assert_eq!(
        q(&mut a, &["EXEC"]),
        "-EXECABORT Transaction discarded because of: NOREPLICAS Not enough good replicas to \
         write.\r\n"
    );
    assert_eq!(q(&mut a, &["GET", "xx"]), bulk("1"));
    // Writes are refused, reads and PUBLISH (not a write) are not.
    assert_eq!(q(&mut a, &["SET", "a", "1"]), NOREPLICAS);
    assert_eq!(q(&mut a, &["EXPIRE", "nokey", "10"]), NOREPLICAS);
    assert_eq!(q(&mut a, &["PUBLISH", "c", "m"]), int(0));
    // Queueing a write is refused and aborts the transaction.
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["SET", "a", "1"]), NOREPLICAS);
    assert_eq!(q(&mut a, &["GET", "a"]), QUEUED);
    assert_eq!(q(&mut a, &["EXEC"]), EXECABORT);
    // A transaction of reads runs.
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["GET", "xx"]), QUEUED);
    assert_eq!(q(&mut a, &["EXEC"]), format!("*1\r\n{}", bulk("1")));
    assert!(q(&mut a, &["INFO", "replication"]).contains("\r\nmin_slaves_good_slaves:0\r\n"));
    let errors = q(&mut a, &["INFO", "errorstats"]);
    assert!(
        errors.contains("errorstat_EXECABORT:count=2\r\n"),
        "{errors}"
    );
    assert!(
        errors.contains("errorstat_NOREPLICAS:count=3\r\n"),
        "{errors}"
    );
    let stats = q(&mut a, &["INFO", "commandstats"]);
    let line = |name: &str| {
        stats
            .lines()
            .find(|l| l.starts_with(&format!("cmdstat_{name}:")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("set").starts_with("cmdstat_set:calls=1,"), "{stats}");
    assert!(
        line("set").ends_with(",rejected_calls=2,failed_calls=0"),
        "{stats}"
    );
    assert!(
        line("expire").starts_with("cmdstat_expire:calls=0,"),
        "{stats}"
    );
    // The EXEC refused for the limit is rejected, the aborted one failed.
    assert!(
        line("exec").ends_with(",rejected_calls=1,failed_calls=1"),
        "{stats}"
    );
    // A zero lag disarms it, as does a zero count.
    assert_eq!(
        q(&mut b, &["CONFIG", "SET", "min-replicas-max-lag", "0"]),
        OK
    );
    assert_eq!(q(&mut a, &["SET", "a", "1"]), OK);
    assert!(!q(&mut a, &["INFO", "replication"]).contains("min_slaves_good_slaves"));
    assert_eq!(
        q(&mut b, &["CONFIG", "SET", "min-replicas-max-lag", "10"]),
        OK
    );
    assert_eq!(q(&mut a, &["SET", "a", "2"]), NOREPLICAS);
    assert_eq!(
        q(&mut b, &["CONFIG", "SET", "min-replicas-to-write", "0"]),
        OK
    );
    assert_eq!(q(&mut a, &["SET", "a", "3"]), OK);
});
