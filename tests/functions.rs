//! FUNCTION and FCALL against the real binary. Every expected reply is a
//! transcript of Valkey 9.1.2 (the same commands sent to `valkey-server`).

#[macro_use]
mod common;

use common::dir_server::DirServer as Srv;
use common::{q, OK};
use std::sync::atomic::{AtomicUsize, Ordering};

const LIB: &str = "#!lua name=lib\nredis.register_function{function_name='f1', callback=function(k, a) return {k[1], a[1]} end, flags={'no-writes'}, description='desc'}";

fn transcript(srv: &common::Server, steps: &[(&[&str], &str)]) {
    let mut s = srv.raw();
    for (args, want) in steps {
        assert_eq!(q(&mut s, args), *want, "{args:?}");
    }
}

server_test!(load_refuses_as_valkey_does, |srv| {
    let e = |m: &str| format!("-ERR {m}\r\n");
    let reg = |m: &str| format!("-ERR Error registering functions: ERR {m}\r\n");
    transcript(
        srv,
        &[
            (&["FUNCTION", "LOAD", "return 1"], &e("Missing library metadata")),
            (&["FUNCTION", "LOAD", "#!lua\nreturn 1"], &e("Library name was not given")),
            (
                &["FUNCTION", "LOAD", "#!lua name=a-b\nreturn 1"],
                &e("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
            ),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib foo=bar\nreturn 1"],
                &e("Invalid metadata value given: foo=bar"),
            ),
            (&["FUNCTION", "LOAD", "#!lua5 name=lib\nreturn 1"], &e("Engine 'lua5' not found")),
            (&["FUNCTION", "LOAD", "#!lua name=lib\nreturn 1"], &e("No functions registered")),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib\nreturn ("],
                &e("Error compiling function: user_function:2: unexpected symbol near '<eof>'"),
            ),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib\nerror('x')"],
                &reg("user_function:2: Script attempted to access nonexistent global variable 'error'"),
            ),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib\nredis.call('ping')"],
                &reg("user_function:2: Script attempted to access nonexistent global variable 'call'"),
            ),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f-1', function() return 1 end)"],
                &e("Function names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
            ),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f1', function() return 1 end) redis.register_function('f1', function() return 1 end)"],
                &e("Function already exists in the library"),
            ),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f1')"],
                &reg("calling server.register_function with a single argument is only applicable to Lua table (representing named arguments)."),
            ),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function(1, 2)"],
                &reg("second argument to server.register_function must be a function"),
            ),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function{function_name='f1', callback=function() return 1 end, flags={'bad'}}"],
                &reg("unknown flag given"),
            ),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function{function_name='f1', callback=function() return 1 end, foo=1}"],
                &reg("unknown argument given to server.register_function"),
            ),
            (
                &["FUNCTION", "LOAD", "#!lua name=t9\nx = 1"],
                &reg("user_function:2: Attempt to modify a readonly table"),
            ),
        ],
    );
});

server_test!(load_list_call_and_delete, |srv| {
    transcript(
        srv,
        &[
            (&["FUNCTION", "LOAD", LIB], "$3\r\nlib\r\n"),
            (&["FUNCTION", "LOAD", LIB], "-ERR Library 'lib' already exists\r\n"),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f1', function() return 1 end)"],
                "-ERR Function f1 already exists\r\n",
            ),
            (&["FCALL", "f1", "1", "k", "a"], "*2\r\n$1\r\nk\r\n$1\r\na\r\n"),
            (&["FCALL_RO", "f1", "1", "k", "a"], "*2\r\n$1\r\nk\r\n$1\r\na\r\n"),
            (&["FCALL", "nofunc", "0"], "-ERR Function not found\r\n"),
            (&["FCALL", "f1", "-1"], "-ERR Number of keys can't be negative\r\n"),
            (
                &["FUNCTION", "LIST"],
                "*1\r\n*6\r\n$12\r\nlibrary_name\r\n$3\r\nlib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*1\r\n*6\r\n$4\r\nname\r\n$2\r\nf1\r\n$11\r\ndescription\r\n$4\r\ndesc\r\n$5\r\nflags\r\n*1\r\n+no-writes\r\n",
            ),
            (
                &["FUNCTION", "STATS"],
                "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:1\r\n",
            ),
            (&["FUNCTION", "LIST", "bad"], "-ERR Unknown argument bad\r\n"),
            (
                &["FUNCTION", "LIST", "libraryname"],
                "-ERR library name argument was not given\r\n",
            ),
            (&["FUNCTION", "DELETE", "nolib"], "-ERR Library not found\r\n"),
            (&["FUNCTION", "KILL"], "-NOTBUSY No scripts in execution right now.\r\n"),
            (
                &["FUNCTION", "FLUSH", "x"],
                "-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n",
            ),
            (
                &["FUNCTION", "RESTORE", "bad"],
                "-ERR DUMP payload version or checksum are wrong\r\n",
            ),
            (&["SET", "s", "abc"], OK),
            (
                &["FUNCTION", "LOAD", "#!lua name=t6\nredis.register_function('f6', function() return redis.call('incr', 's') end)"],
                "$2\r\nt6\r\n",
            ),
            (
                &["FCALL", "f6", "0"],
                "-ERR value is not an integer or out of range script: on @user_function:2.\r\n",
            ),
            (
                &["FCALL_RO", "f6", "0"],
                "-ERR Can not execute a script with write flag using *_ro command.\r\n",
            ),
            (&["FUNCTION", "DELETE", "t6"], OK),
            (&["FCALL", "f6", "0"], "-ERR Function not found\r\n"),
        ],
    );
});

server_test!(dump_and_restore_round_trip, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["FUNCTION", "LOAD", LIB]), "$3\r\nlib\r\n");
    let mut c = srv.conn();
    let payload: Vec<u8> = redis::cmd("FUNCTION").arg("DUMP").query(&mut c).unwrap();
    let restore = |c: &mut redis::Connection, policy: Option<&str>| -> redis::RedisResult<String> {
        let mut cmd = redis::cmd("FUNCTION");
        cmd.arg("RESTORE").arg(&payload);
        if let Some(p) = policy {
            cmd.arg(p);
        }
        cmd.query(c)
    };
    let e = restore(&mut c, None).unwrap_err();
    assert_eq!(e.detail(), Some("Library lib already exists"), "{e}");
    assert_eq!(restore(&mut c, Some("REPLACE")).unwrap(), "OK");
    assert_eq!(q(&mut s, &["FUNCTION", "FLUSH"]), OK);
    assert_eq!(
        q(&mut s, &["FCALL", "f1", "0"]),
        "-ERR Function not found\r\n"
    );
    assert_eq!(restore(&mut c, Some("FLUSH")).unwrap(), "OK");
    assert_eq!(
        q(&mut s, &["FCALL", "f1", "1", "x", "y"]),
        "*2\r\n$1\r\nx\r\n$1\r\ny\r\n"
    );
});

fn fresh_dir() -> std::path::PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "ferrokey-functions-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fcall(c: &mut redis::Connection) -> redis::RedisResult<Vec<String>> {
    redis::cmd("FCALL")
        .arg("f1")
        .arg(1)
        .arg("k")
        .arg("a")
        .query(c)
}

/// Libraries are kept by SAVE and found again at startup, by DEBUG RELOAD,
/// and through the AOF with and without an RDB preamble (after a rewrite
/// and from FUNCTION LOAD commands).
#[test]
fn libraries_survive_restarts() {
    let want = vec!["k".to_string(), "a".to_string()];
    // RDB. (A DirServer removes its directory when dropped: the stopped
    // ones live until the end.)
    let d = fresh_dir();
    let args = ["--save", "", "--enable-debug-command", "yes"];
    let mut first = Srv::spawn(&d, 1, &args);
    first.ready();
    let mut c = first.conn();
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(LIB)
        .query(&mut c)
        .unwrap();
    let _: String = redis::cmd("DEBUG").arg("RELOAD").query(&mut c).unwrap();
    assert_eq!(fcall(&mut c).unwrap(), want);
    let _: String = redis::cmd("SAVE").query(&mut c).unwrap();
    let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut c);
    first.exit();
    let mut second = Srv::spawn(&d, 1, &args);
    second.ready();
    assert_eq!(fcall(&mut second.conn()).unwrap(), want);
    drop(second);
    drop(first);
    // AOF: FUNCTION LOAD commands, then a rewrite with each BASE format.
    for preamble in ["yes", "no"] {
        let d = fresh_dir();
        let args = [
            "--save",
            "",
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            preamble,
        ];
        let mut first = Srv::spawn(&d, 1, &args);
        first.ready();
        let mut c = first.conn();
        let _: String = redis::cmd("FUNCTION")
            .arg("LOAD")
            .arg(LIB)
            .query(&mut c)
            .unwrap();
        let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut c);
        first.exit();
        let mut second = Srv::spawn(&d, 1, &args);
        second.ready();
        let mut c = second.conn();
        assert_eq!(
            fcall(&mut c).unwrap(),
            want,
            "preamble {preamble}, replayed"
        );
        let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
            if info.contains("aof_rewrite_in_progress:0")
                && info.contains("aof_rewrite_scheduled:0")
            {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "rewrite never ended");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut c);
        second.exit();
        let mut third = Srv::spawn(&d, 1, &args);
        third.ready();
        assert_eq!(
            fcall(&mut third.conn()).unwrap(),
            want,
            "preamble {preamble}, rewritten"
        );
        drop(third);
        drop(second);
        drop(first);
    }
}

server_test!(names_options_and_timeout_as_valkey, |srv| {
    transcript(
        srv,
        &[
            (
                &["FUNCTION", "LOAD", "REPLACE", "#!lua name=test\nredis.register_function('test', function() return 'hello1' end)"],
                "$4\r\ntest\r\n",
            ),
            (&["FCALL", "TEST", "0"], "$6\r\nhello1\r\n"),
            (&["FCALL", "test", "bad_arg"], "-ERR Bad number of keys provided\r\n"),
            (
                &["FUNCTION", "LOAD", "REPLACE", "#!lua name=lib2\nserver.register_function(nil, function() return 1 end)"],
                "-ERR Error registering functions: ERR first argument to server.register_function must be a string\r\n",
            ),
            (
                &["FUNCTION", "LOAD", "foo", "REPLACE", "#!lua name=lib2\nserver.register_function('a', function() return 1 end)"],
                "-ERR Unknown option given: foo\r\n",
            ),
            (
                &["FUNCTION", "LOAD", "#!lua name=lib3\nlocal a = 1\nwhile 1 do a = a + 1 end"],
                "-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n",
            ),
            (&["PING"], "+PONG\r\n"),
        ],
    );
});
