//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT against the real binary.
//! Every expected reply is a transcript of Valkey 9.1.2 (raw RESP, the same
//! command sent to `valkey-server --save ''`).

#[macro_use]
mod common;

use common::{q, OK};

/// Sends each (command, expected reply) pair in order.
fn transcript(srv: &common::Server, steps: &[(&[&str], &str)]) {
    let mut s = srv.raw();
    for (args, want) in steps {
        assert_eq!(q(&mut s, args), *want, "{args:?}");
    }
}

server_test!(calls_and_their_errors, |srv| {
    transcript(
        srv,
        &[
            (&["SET", "s", "abc"], OK),
            (
                &["EVAL", "return redis.call('incr')", "0"],
                "-ERR Wrong number of args calling command from script script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return redis.call('nope')", "0"],
                "-ERR Unknown command called from script script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return redis.call('set','x',{})", "0"],
                "-ERR Command arguments must be strings or integers script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return redis.call()", "0"],
                "-ERR Please specify at least one argument for this call script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return redis.call('incr','s')", "0"],
                "-ERR value is not an integer or out of range script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "local x = 1\nreturn redis.call('incr','s')", "0"],
                "-ERR value is not an integer or out of range script: on @user_script:2.\r\n",
            ),
            (
                &["EVAL", "return redis.pcall('incr','s')", "0"],
                "-ERR value is not an integer or out of range\r\n",
            ),
            (
                &[
                    "EVAL",
                    "local ok, e = pcall(function() return redis.call('incr','s') end); return e",
                    "0",
                ],
                "$43\r\nERR value is not an integer or out of range\r\n",
            ),
            (
                &["EVAL", "return redis.call('client','list')", "0"],
                "-ERR This Valkey command is not allowed from script script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return redis.call('set',KEYS[1],ARGV[1])", "1", "kk", "vv"],
                OK,
            ),
            (&["GET", "kk"], "$2\r\nvv\r\n"),
            (&["EVAL", "return redis.call('set', 'x', 1.5)", "0"], OK),
            (&["GET", "x"], "$3\r\n1.5\r\n"),
            (&["EVAL", "return redis.call('set', 'x', 1e20)", "0"], OK),
            (&["GET", "x"], "$5\r\n1e+20\r\n"),
            // Lua's whole stack of arguments (8,000 slots, less the
            // function): the reply still has room.
            (
                &[
                    "EVAL",
                    "local a = {} for i=1,7999 do a[i] = 1 end return redis.call('lpush', KEYS[1], unpack(a))",
                    "1",
                    "ul",
                ],
                ":7999\r\n",
            ),
            (
                &["EVAL", "local t = redis.pcall('incr', 's') return {t.err, type(t.ignore_error_stats_update)}", "0"],
                "*2\r\n$43\r\nERR value is not an integer or out of range\r\n$7\r\nboolean\r\n",
            ),
        ],
    );
});

server_test!(raised_errors_name_the_line, |srv| {
    transcript(
        srv,
        &[
            (
                &["EVAL", "error('boom')", "0"],
                "-ERR user_script:1: boom script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "error({err='X y'})", "0"],
                "-X y script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "error({})", "0"],
                "-ERR unknown error script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "error()", "0"],
                "-ERR nil script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return (", "0"],
                "-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n",
            ),
            (
                &["EVAL", "return redis.setresp(4)", "0"],
                "-ERR RESP version must be 2 or 3. script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return redis.log()", "0"],
                "-ERR server.log() requires two arguments or more. script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return redis.set_repl(9)", "0"],
                "-ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE. script: on @user_script:1.\r\n",
            ),
            (&["EVAL", "return redis.error_reply('My err')", "0"], "-My err\r\n"),
            (&["EVAL", "return redis.error_reply('nocode')", "0"], "-ERR nocode\r\n"),
            (
                &["EVAL", "return redis.status_reply()", "0"],
                "-ERR wrong number or type of arguments\r\n",
            ),
            (&["EVAL", "return redis.status_reply('FINE')", "0"], "+FINE\r\n"),
        ],
    );
});

server_test!(the_sandbox_is_read_only, |srv| {
    let ro = "Attempt to modify a readonly table";
    let mut s = srv.raw();
    for code in [
        "a=10",
        "setmetatable(_G, {})",
        "local g = getmetatable(_G); g.__index = {}",
        "redis = function() return 1 end",
        "_G = {}",
        "redis.call = function() return 1 end",
        "cjson.encode = function() return 1 end",
        "cmsgpack.pack = function() return 1 end",
        "bit.lshift = function() return 1 end",
        "string.x = 1",
        "getmetatable('').__index = 5",
        "rawset(_G, 'x', 1)",
        "local f = loadstring('x = 5'); f()",
    ] {
        let r = q(&mut s, &["EVAL", code, "0"]);
        assert!(r.starts_with("-ERR") && r.contains(ro), "{code}: {r}");
    }
    for (code, global) in [
        ("return a", "a"),
        ("loadfile('some file')", "loadfile"),
        ("dofile('some file')", "dofile"),
        ("print('some data')", "print"),
    ] {
        let r = q(&mut s, &["EVAL", code, "0"]);
        let want = format!("Script attempted to access nonexistent global variable '{global}'");
        assert!(r.contains(&want), "{code}: {r}");
    }
    assert!(q(
        &mut s,
        &[
            "EVAL",
            "return loadstring(string.dump(function() return 1 end))()",
            "0"
        ]
    )
    .contains("attempt to call a nil value"));
    assert!(q(&mut s, &["EVAL", "os.execute()", "0"]).contains("attempt to call field 'execute'"));
    // Nothing a script did is seen by the next one.
    assert_eq!(
        q(&mut s, &["EVAL", "return rawget(_G, 'redis') ~= nil", "0"]),
        ":1\r\n"
    );
    assert_eq!(
        q(&mut s, &["EVAL", "return os.clock() >= 0", "0"]),
        ":1\r\n"
    );
    assert_eq!(
        q(&mut s, &["EVAL", "return _VERSION", "0"]),
        "$7\r\nLua 5.1\r\n"
    );
});

server_test!(return_values_convert_as_in_valkey, |srv| {
    transcript(
        srv,
        &[
            (
                &[
                    "EVAL",
                    "return {1,2,{ok='x'},{err='E x'},false,true,3.9,-2.5}",
                    "0",
                ],
                "*8\r\n:1\r\n:2\r\n+x\r\n-E x\r\n$-1\r\n:1\r\n:3\r\n:-2\r\n",
            ),
            (&["EVAL", "return {double=1.5}", "0"], "$3\r\n1.5\r\n"),
            (
                &["EVAL", "return {map={a=1}}", "0"],
                "*2\r\n$1\r\na\r\n:1\r\n",
            ),
            (&["EVAL", "return {ok='a\\r\\nb'}", "0"], "+a  b\r\n"),
            (&["EVAL", "return 1e20", "0"], ":-9223372036854775808\r\n"),
            (&["EVAL", "return nil", "0"], "$-1\r\n"),
            (
                &["EVAL", "return #KEYS..#ARGV", "2", "a", "b", "c"],
                "$2\r\n21\r\n",
            ),
            (
                &[
                    "EVAL",
                    "redis.setresp(3); return redis.call('hgetall','nokey')",
                    "0",
                ],
                "*0\r\n",
            ),
            (
                &[
                    "EVAL",
                    "redis.setresp(3); local t = redis.call('hgetall','nokey'); return type(t.map)",
                    "0",
                ],
                "$5\r\ntable\r\n",
            ),
            (
                &[
                    "EVAL",
                    "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}",
                    "0",
                ],
                "*2\r\n$5\r\n7.2.4\r\n:459268\r\n",
            ),
            (
                &["EVAL", "return redis.sha1hex('')", "0"],
                "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n",
            ),
        ],
    );
});

server_test!(numkeys_flags_and_the_cache, |srv| {
    let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    transcript(
        srv,
        &[
            (&["EVAL", "return 1", "-1"], "-ERR Number of keys can't be negative\r\n"),
            (
                &["EVAL", "return 1", "3", "a"],
                "-ERR Number of keys can't be greater than number of args\r\n",
            ),
            (&["EVAL", "return 1", "abc"], "-ERR value is not an integer or out of range\r\n"),
            (&["EVALSHA", sha, "0"], "-NOSCRIPT No matching script.\r\n"),
            (&["SCRIPT", "LOAD", "return 1"], &format!("$40\r\n{sha}\r\n")),
            (&["EVALSHA", sha, "0"], ":1\r\n"),
            (&["EVALSHA", &sha.to_uppercase(), "0"], ":1\r\n"),
            (&["SCRIPT", "EXISTS", sha, "x"], "*2\r\n:1\r\n:0\r\n"),
            (&["SCRIPT", "SHOW", sha], "$8\r\nreturn 1\r\n"),
            (&["SCRIPT", "SHOW", "x"], "-NOSCRIPT No matching script.\r\n"),
            (&["SCRIPT", "KILL"], "-NOTBUSY No scripts in execution right now.\r\n"),
            (
                &["SCRIPT", "FLUSH", "foo"],
                "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n",
            ),
            (&["SCRIPT", "FLUSH", "ASYNC"], OK),
            (&["EVALSHA", sha, "0"], "-NOSCRIPT No matching script.\r\n"),
            (
                &["SCRIPT", "LOAD", "return (("],
                "-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n",
            ),
            (
                &["EVAL", "#!lua flags=no-writes\nreturn redis.call('set','x','1')", "0"],
                "-ERR Write commands are not allowed from read-only scripts. script: on @user_script:2.\r\n",
            ),
            (&["EVAL", "#!lua flags=no-writes,allow-oom\nreturn 1", "0"], ":1\r\n"),
            (
                &["EVAL", "#!lua flags=bad\nreturn 1", "0"],
                "-ERR Unexpected flag in script shebang: bad\r\n",
            ),
            (
                &["EVAL", "#!lua foo=bar\nreturn 1", "0"],
                "-ERR Unknown lua shebang option: foo=bar\r\n",
            ),
            (
                &["EVAL", "#!lua5 \nreturn 1", "0"],
                "-ERR Could not find scripting engine 'lua5'\r\n",
            ),
            (&["EVAL", "#!lua", "0"], "-ERR Invalid script shebang\r\n"),
            (
                &["EVAL_RO", "return redis.call('set','x','1')", "0"],
                "-ERR Write commands are not allowed from read-only scripts. script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL_RO", "return redis.call('publish','ch','msg')", "0"],
                "-ERR Write commands are not allowed from read-only scripts. script: on @user_script:1.\r\n",
            ),
            (
                &["EVAL_RO", "#!lua\nreturn redis.call('set','x','1')", "0"],
                "-ERR Can not execute a script with write flag using *_ro command.\r\n",
            ),
            (&["EVAL", "#!lua\nreturn redis.call('set',KEYS[1],'1')", "1", "kk"], OK),
        ],
    );
    let mut s = srv.raw();
    let info = q(&mut s, &["INFO", "memory"]);
    assert!(info.contains("number_of_cached_scripts:"), "{info}");
});

server_test!(a_script_runs_in_the_callers_db_and_leaves_it, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["SELECT", "3"]), OK);
    assert_eq!(
        q(
            &mut s,
            &["EVAL", "redis.call('set','a','1'); redis.call('select','5'); return redis.call('set','b','2')", "0"]
        ),
        OK
    );
    assert_eq!(q(&mut s, &["EXISTS", "a"]), ":1\r\n");
    assert_eq!(q(&mut s, &["EXISTS", "b"]), ":0\r\n");
    assert_eq!(q(&mut s, &["SELECT", "5"]), OK);
    assert_eq!(q(&mut s, &["EXISTS", "b"]), ":1\r\n");
});

server_test!(a_table_that_holds_itself_stops_at_the_depth_limit, |srv| {
    let mut s = srv.raw();
    let r = q(&mut s, &["EVAL", "local t = {} t[1] = t return t", "0"]);
    assert!(
        r.ends_with("-ERR reached lua stack limit\r\n"),
        "{}",
        &r[r.len() - 40..]
    );
    assert_eq!(q(&mut s, &["PING"]), "+PONG\r\n");
});

#[test]
fn debug_can_let_scripts_call_noscript_commands() {
    for io in ["1", "4"] {
        let srv = common::Server::start_with(&[
            "--io-threads",
            io,
            "--events-per-io-thread",
            "0",
            "--enable-debug-command",
            "yes",
        ]);
        transcript(
            &srv,
            &[
                (&["DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1"], OK),
                (&["EVAL", "return redis.call('client','id') > 0", "0"], ":1\r\n"),
                (&["DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0"], OK),
                (
                    &["EVAL", "return redis.call('client','id')", "0"],
                    "-ERR This Valkey command is not allowed from script script: on @user_script:1.\r\n",
                ),
            ],
        );
    }
}

/// Errors counted as Valkey 9.1 counts them, and the memory limit against
/// a script's flags (transcripts of Valkey 9.1).
#[test]
fn errorstats_and_allow_oom_as_valkey() {
    let srv = common::Server::start(1);
    let oom = "-OOM command not allowed when used memory > 'maxmemory'.";
    transcript(
        &srv,
        &[
            (&["CONFIG", "RESETSTAT"], OK),
            (&["CONFIG", "SET", "maxmemory", "1"], OK),
            (
                &["EVAL", "return redis.call('set','x','y')", "1", "x"],
                &format!("{oom} script: on @user_script:1.\r\n"),
            ),
            (
                &["INFO", "errorstats"],
                "$37\r\n# Errorstats\r\nerrorstat_OOM:count=1\r\n\r\n",
            ),
            (
                &[
                    "EVAL",
                    "#!lua flags=allow-oom\nreturn redis.call('set','x','y')",
                    "1",
                    "x",
                ],
                OK,
            ),
            (
                &["EVAL", "#!lua flags=\nreturn 1", "0"],
                &format!("{oom}\r\n"),
            ),
            (&["CONFIG", "SET", "maxmemory", "0"], OK),
            (&["CONFIG", "RESETSTAT"], OK),
            (
                &["EVAL", "return redis.pcall('select',99)", "0"],
                "-ERR DB index is out of range\r\n",
            ),
            (
                &["INFO", "errorstats"],
                "$37\r\n# Errorstats\r\nerrorstat_ERR:count=1\r\n\r\n",
            ),
            (&["EVAL", "return {err='MY custom'}", "0"], "-MY custom\r\n"),
            (
                &["INFO", "errorstats"],
                "$59\r\n# Errorstats\r\nerrorstat_ERR:count=1\r\nerrorstat_MY:count=1\r\n\r\n",
            ),
        ],
    );
}

server_test!(time_stands_still_in_a_script, |srv| {
    let mut s = srv.raw();
    let r = q(
        &mut s,
        &[
            "EVAL",
            "local a = redis.call('TIME') local x = 0 for i = 1, 3000000 do x = x + i end local b = redis.call('TIME') return {a[1] == b[1] and a[2] == b[2], a[1]}",
            "0",
        ],
    );
    assert!(r.starts_with("*2\r\n:1\r\n"), "{r}");
});

// Lua strings hash as in Valkey's Lua (MurmurHash3, vendor/lua-src): tables
// iterate in Valkey's order.
server_test!(table_order_follows_valkey, |srv| {
    transcript(
        srv,
        &[
            (
                &[
                    "EVAL",
                    "local t = {} for i=1,12 do t['k'..i]=i end local r = {} for k,v in pairs(t) do r[#r+1]=k end return table.concat(r, ',')",
                    "0",
                ],
                "$38\r\nk9,k2,k3,k6,k7,k11,k10,k1,k8,k4,k12,k5\r\n",
            ),
            (
                &["EVAL", "return cjson.encode({alpha=1,beta=2,gamma=3,delta=4})", "0"],
                "$40\r\n{\"delta\":4,\"alpha\":1,\"gamma\":3,\"beta\":2}\r\n",
            ),
        ],
    );
});

// Valkey 9.1 (the same pipeline against valkey-server): once 128 error
// codes are tracked, a script's own new codes count as
// ERRORSTATS_OVERFLOW, while server errors and codes already tracked keep
// their own lines.
server_test!(script_error_codes_overflow_as_valkey, |srv| {
    use std::io::Write;
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["CONFIG", "RESETSTAT"]), OK);
    let script = "return server.error_reply(string.format('%s my error message', ARGV[1]))";
    let mut pipeline = Vec::new();
    for j in 1..=1100 {
        let j = j.to_string();
        pipeline.extend(common::cmd(&[
            b"EVAL",
            script.as_bytes(),
            b"0",
            j.as_bytes(),
        ]));
    }
    s.write_all(&pipeline).expect("write");
    let replies = String::from_utf8(common::read_replies(&mut s, 1100)).expect("utf8");
    assert!(
        replies.starts_with("-1 my error message\r\n"),
        "{}",
        &replies[..40]
    );
    assert!(replies.ends_with("-1100 my error message\r\n"));
    for (args, want) in [
        (&["SET", "a", "b", "c", "d"][..], "-ERR syntax error\r\n"),
        (
            &[
                "EVAL",
                "return server.error_reply('1 my error message')",
                "0",
            ],
            "-1 my error message\r\n",
        ),
        (
            &["EVAL", "return server.error_reply('My error message')", "0"],
            "-My error message\r\n",
        ),
        (
            &["EVAL", "return {err = 'My error message'}", "0"],
            "-My error message\r\n",
        ),
    ] {
        assert_eq!(q(&mut s, args), want, "{args:?}");
    }
    let info = q(&mut s, &["INFO", "errorstats"]);
    let lines: Vec<&str> = info
        .lines()
        .filter(|l| l.starts_with("errorstat_"))
        .collect();
    assert_eq!(lines.len(), 130, "{info}");
    assert!(
        lines.contains(&"errorstat_ERRORSTATS_OVERFLOW:count=974"),
        "{info}"
    );
    assert!(lines.contains(&"errorstat_ERR:count=1"), "{info}");
    assert!(lines.contains(&"errorstat_1:count=2"), "{info}");
    assert!(
        !lines.iter().any(|l| l.starts_with("errorstat_129:")),
        "{info}"
    );
});
