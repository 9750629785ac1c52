//! Scripts that run past `busy-reply-threshold`: other clients get `-BUSY`
//! except for the `allow-busy` commands, SCRIPT KILL stops a script that
//! has not written (UNKILLABLE otherwise, NOTBUSY when idle), and SHUTDOWN
//! NOSAVE exits anyway. Expected replies are transcripts of Valkey 9.1.2
//! (the same commands sent to `valkey-server --save ''`); the cases follow
//! unit/scripting.tcl's "Timedout ..." tests.

#[macro_use]
mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{cmd, q, read_replies, OK};

const BUSY: &str =
    "-BUSY Valkey is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
const NOTBUSY: &str = "-NOTBUSY No scripts in execution right now.\r\n";
const UNKILLABLE: &str = "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n";
const KILLED: &str = "-ERR Script killed by user with SCRIPT KILL. script: on @user_script:1.\r\n";

/// Sends a command without reading its reply.
fn send(s: &mut TcpStream, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    s.write_all(&cmd(&a)).expect("write");
}

fn reply(s: &mut TcpStream) -> String {
    String::from_utf8_lossy(&read_replies(s, 1)).into_owned()
}

/// PINGs on `s` until the server answers BUSY (a script has timed out).
fn wait_busy(s: &mut TcpStream) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = q(s, &["PING"]);
        if r == BUSY {
            return;
        }
        assert_eq!(r, "+PONG\r\n");
        assert!(Instant::now() < deadline, "the script never timed out");
        std::thread::yield_now();
    }
}

server_test!(idle_kill_is_notbusy, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["SCRIPT", "KILL"]), NOTBUSY);
    assert_eq!(q(&mut s, &["EVAL", "return 1", "0"]), ":1\r\n");
    assert_eq!(q(&mut s, &["SCRIPT", "KILL"]), NOTBUSY);
});

server_test!(timed_out_read_only_script_is_killed, |srv| {
    let mut caller = srv.raw();
    let mut other = srv.raw();
    assert_eq!(
        q(&mut other, &["CONFIG", "SET", "busy-reply-threshold", "10"]),
        OK
    );
    send(
        &mut caller,
        &["EVAL", "local i = 0 while true do i = i + 1 end", "0"],
    );
    wait_busy(&mut other);
    // Only the allow-busy commands run; the rest get BUSY after the
    // unknown-command and arity errors.
    for (args, want) in [
        (&["GET", "x"][..], BUSY),
        (
            &["NOSUCH"],
            "-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
        ),
        (&["GET"], "-ERR wrong number of arguments for 'get' command\r\n"),
        (&["SELECT", "0"], OK),
        (&["CLIENT", "SETNAME", "busy"], OK),
        (&["CLIENT", "GETNAME"], "$4\r\nbusy\r\n"),
        (&["SHUTDOWN"], BUSY),
        (&["SHUTDOWN", "SAVE"], BUSY),
        (&["INFO"], BUSY),
        (&["MULTI"], OK),
        (&["SET", "a", "1"], BUSY),
        (
            &["EXEC"],
            "-EXECABORT Transaction discarded because of: BUSY Valkey is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
        ),
    ] {
        assert_eq!(q(&mut other, args), want, "{args:?}");
    }
    // A connection made meanwhile is accepted and served.
    let mut late = srv.raw();
    assert_eq!(q(&mut late, &["PING"]), BUSY);
    assert_eq!(q(&mut late, &["CLIENT", "SETNAME", "late"]), OK);
    assert_eq!(q(&mut other, &["SCRIPT", "KILL"]), OK);
    assert_eq!(reply(&mut caller), KILLED);
    assert_eq!(q(&mut other, &["PING"]), "+PONG\r\n");
    assert_eq!(q(&mut caller, &["PING"]), "+PONG\r\n");
    assert_eq!(q(&mut other, &["SCRIPT", "KILL"]), NOTBUSY);
    let info = q(&mut other, &["INFO", "commandstats"]);
    let line = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(&format!("cmdstat_{name}:")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("eval").starts_with("cmdstat_eval:calls=1,"), "{info}");
    assert!(
        line("eval").ends_with(",rejected_calls=0,failed_calls=1"),
        "{info}"
    );
    assert!(
        line("script|kill").starts_with("cmdstat_script|kill:calls=2,"),
        "{info}"
    );
    assert!(line("get").contains("calls=0,"), "{info}");
    assert!(
        q(&mut other, &["INFO", "errorstats"]).contains("errorstat_BUSY:count="),
        "no BUSY errors counted"
    );
});

server_test!(a_pcall_does_not_keep_a_killed_script_alive, |srv| {
    let mut caller = srv.raw();
    let mut other = srv.raw();
    assert_eq!(
        q(&mut other, &["CONFIG", "SET", "lua-time-limit", "10"]),
        OK
    );
    send(
        &mut caller,
        &[
            "EVAL",
            "local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end",
            "0",
        ],
    );
    wait_busy(&mut other);
    assert_eq!(q(&mut other, &["SCRIPT", "KILL"]), OK);
    assert_eq!(reply(&mut caller), KILLED);
    // A pcall that returns at once gives the script its result (Valkey's
    // hook raises again only at the next line).
    send(
        &mut caller,
        &[
            "EVAL",
            "return pcall(function() while true do end end)",
            "0",
        ],
    );
    wait_busy(&mut other);
    assert_eq!(q(&mut other, &["SCRIPT", "KILL"]), OK);
    assert_eq!(reply(&mut caller), "$-1\r\n");
    assert_eq!(q(&mut other, &["PING"]), "+PONG\r\n");
});

server_test!(a_killed_script_does_not_drop_its_pipeline, |srv| {
    let mut caller = srv.raw();
    let mut other = srv.raw();
    assert_eq!(
        q(&mut other, &["CONFIG", "SET", "lua-time-limit", "10"]),
        OK
    );
    // EVAL and PING in one write: the PING waits for the script.
    let mut buf = cmd(&[b"EVAL", b"while 1 do redis.call('ping') end", b"0"]);
    buf.extend_from_slice(&cmd(&[b"PING"]));
    caller.write_all(&buf).expect("write");
    wait_busy(&mut other);
    assert_eq!(q(&mut other, &["SCRIPT", "KILL"]), OK);
    assert_eq!(
        String::from_utf8_lossy(&read_replies(&mut caller, 2)),
        format!("{KILLED}+PONG\r\n")
    );
});

server_test!(a_timed_out_script_that_ends_replies_normally, |srv| {
    let mut caller = srv.raw();
    let mut other = srv.raw();
    let mut waiter = srv.raw();
    assert_eq!(
        q(&mut other, &["CONFIG", "SET", "busy-reply-threshold", "10"]),
        OK
    );
    // A blocked client is not served while the script is busy, even when
    // an allowed command runs meanwhile: it gets what the script left.
    send(&mut waiter, &["BLPOP", "x", "0"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !q(&mut other, &["INFO", "clients"]).contains("blocked_clients:1") {
        assert!(Instant::now() < deadline, "BLPOP never blocked");
        std::thread::yield_now();
    }
    send(
        &mut caller,
        &[
            "EVAL",
            "redis.call('lpush', KEYS[1], 'y') local t = os.clock() while os.clock() - t < 1 do end redis.call('lpush', KEYS[1], 'z') return 'ok'",
            "1",
            "x",
        ],
    );
    wait_busy(&mut other);
    assert_eq!(q(&mut other, &["CLIENT", "SETNAME", "meanwhile"]), OK);
    assert_eq!(q(&mut other, &["SCRIPT", "KILL"]), UNKILLABLE);
    assert_eq!(reply(&mut caller), "$2\r\nok\r\n");
    assert_eq!(reply(&mut waiter), "*2\r\n$1\r\nx\r\n$1\r\nz\r\n");
    assert_eq!(q(&mut caller, &["PING"]), "+PONG\r\n");
    assert_eq!(q(&mut other, &["PING"]), "+PONG\r\n");
    assert_eq!(
        q(&mut other, &["LRANGE", "x", "0", "-1"]),
        "*1\r\n$1\r\ny\r\n"
    );
});

server_test!(threshold_zero_never_times_out, |srv| {
    let mut caller = srv.raw();
    let mut other = srv.raw();
    assert_eq!(
        q(&mut other, &["CONFIG", "SET", "busy-reply-threshold", "0"]),
        OK
    );
    send(
        &mut caller,
        &[
            "EVAL",
            "local t = os.clock() while os.clock() - t < 0.3 do end return 1",
            "0",
        ],
    );
    // Whenever it is read, the PING waits for the script: never BUSY.
    assert_eq!(q(&mut other, &["PING"]), "+PONG\r\n");
    assert_eq!(reply(&mut caller), ":1\r\n");
});

/// A script that wrote cannot be killed; SHUTDOWN NOSAVE ends the server.
fn unkillable_then_shutdown_nosave(io_threads: usize) {
    let mut srv = common::Server::start(io_threads);
    let mut caller = srv.raw();
    let mut other = srv.raw();
    assert_eq!(
        q(&mut other, &["CONFIG", "SET", "busy-reply-threshold", "10"]),
        OK
    );
    send(
        &mut caller,
        &[
            "EVAL",
            "redis.call('set',KEYS[1],'y'); while true do end",
            "1",
            "x",
        ],
    );
    wait_busy(&mut other);
    assert_eq!(q(&mut other, &["SCRIPT", "KILL"]), UNKILLABLE);
    assert_eq!(q(&mut other, &["PING"]), BUSY);
    assert_eq!(q(&mut other, &["SHUTDOWN"]), BUSY);
    send(&mut other, &["SHUTDOWN", "NOSAVE"]);
    // No reply: both connections close as the process exits.
    assert!(common::read_to_close(&mut other).is_empty());
    assert!(common::read_to_close(&mut caller).is_empty());
    let status = srv.wait_exit(Duration::from_secs(20)).expect("exited");
    assert!(status.success(), "{status:?}");
    assert!(TcpStream::connect(("127.0.0.1", srv.port)).is_err());
}

#[test]
fn unkillable_then_shutdown_nosave_io_threads_1() {
    unkillable_then_shutdown_nosave(1);
}

#[test]
fn unkillable_then_shutdown_nosave_io_threads_4() {
    unkillable_then_shutdown_nosave(4);
}

// A script further down a pipeline (FUNCTION LOAD, FCALL, PING in one
// write, as unit/scripting.tcl's "Timedout script does not cause a false
// dead client" sends) with another client's PING sent right behind it:
// that PING must not wait behind the script (it gets BUSY), and the
// pipeline's replies keep their order.
server_test!(
    a_script_later_in_a_pipeline_does_not_hold_other_clients,
    |srv| {
        let mut caller = srv.raw();
        let mut other = srv.raw();
        assert_eq!(
            q(&mut other, &["CONFIG", "SET", "lua-time-limit", "10"]),
            OK
        );
        let code = "#!lua name=test\nserver.register_function('test', function() while 1 do server.call('ping') end end)";
        let mut buf = cmd(&[b"FUNCTION", b"LOAD", b"REPLACE", code.as_bytes()]);
        buf.extend_from_slice(&cmd(&[b"FCALL", b"test", b"0"]));
        buf.extend_from_slice(&cmd(&[b"PING"]));
        caller.write_all(&buf).expect("write");
        // At once: very likely in the same event-loop turn as the pipeline.
        send(&mut other, &["PING"]);
        let first = reply(&mut other);
        assert!(
            first == "+PONG\r\n" || first == BUSY.replace("SCRIPT KILL", "FUNCTION KILL"),
            "{first}"
        );
        let busy = BUSY.replace("SCRIPT KILL", "FUNCTION KILL");
        let deadline = Instant::now() + Duration::from_secs(20);
        while q(&mut other, &["PING"]) != busy {
            assert!(Instant::now() < deadline, "the function never timed out");
        }
        assert_eq!(q(&mut other, &["FUNCTION", "KILL"]), OK);
        assert_eq!(
        String::from_utf8_lossy(&read_replies(&mut caller, 3)),
        "$4\r\ntest\r\n-ERR Script killed by user with FUNCTION KILL. script: on @user_function:2.\r\n+PONG\r\n"
    );
        assert_eq!(q(&mut other, &["PING"]), "+PONG\r\n");
    }
);

server_test!(
    function_stats_names_the_busy_function_as_registered,
    |srv| {
        let mut caller = srv.raw();
        let mut other = srv.raw();
        assert_eq!(
            q(&mut other, &["CONFIG", "SET", "busy-reply-threshold", "10"]),
            OK
        );
        let lib = "#!lua name=lib\nredis.register_function{function_name='spin', callback=function(keys, args) while true do end end, flags={'no-writes'}}";
        assert_eq!(q(&mut other, &["FUNCTION", "LOAD", lib]), "$3\r\nlib\r\n");
        send(&mut caller, &["FCALL", "SPIN", "1", "myKey", "ArgOne"]);
        // Valkey 9.1: the name as registered, the command as the caller sent it.
        let want = "*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n*5\r\n$5\r\nFCALL\r\n$4\r\nSPIN\r\n$1\r\n1\r\n$5\r\nmyKey\r\n$6\r\nArgOne\r\n$11\r\nduration_ms\r\n:";
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = q(&mut other, &["FUNCTION", "STATS"]);
            if r.starts_with(want) {
                assert!(r.ends_with("\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:1\r\n"), "{r}");
                break;
            }
            // Before the threshold FUNCTION STATS waits for the script; it
            // may also see no running script yet.
            assert!(r.starts_with("*4\r\n$14\r\nrunning_script\r\n"), "{r}");
            assert!(
                Instant::now() < deadline,
                "never saw the running function: {r}"
            );
        }
        assert_eq!(q(&mut other, &["FUNCTION", "KILL"]), OK);
        assert_eq!(
            reply(&mut caller),
            "-ERR Script killed by user with FUNCTION KILL. script: on @user_function:2.\r\n"
        );
    }
);
