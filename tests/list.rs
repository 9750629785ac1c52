//! List commands against the real server, replies compared byte for byte
//! with what Valkey 9.1 sends for the same commands (RESP2 and RESP3).

mod common;

use common::{arr, bulk, int, q, EMPTY, NOT_INT, NULL, NULL_ARRAY, OK, SYNTAX, WRONGTYPE};

use std::io::Write;
use std::net::TcpStream;

fn all(s: &mut TcpStream, key: &str) -> String {
    q(s, &["LRANGE", key, "0", "-1"])
}

fn encoding(s: &mut TcpStream, key: &str) -> String {
    q(s, &["OBJECT", "ENCODING", key])
}

server_test!(push_and_range, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["RPUSH", "l", "a", "b", "c"]), int(3));
    assert_eq!(q(&mut s, &["LPUSH", "l", "x", "y"]), int(5));
    assert_eq!(all(&mut s, "l"), arr(&["y", "x", "a", "b", "c"]));
    assert_eq!(q(&mut s, &["LPUSHX", "l", "z"]), int(6));
    assert_eq!(q(&mut s, &["RPUSHX", "l", "w", "v"]), int(8));
    assert_eq!(q(&mut s, &["LPUSHX", "nokey", "z"]), int(0));
    assert_eq!(q(&mut s, &["RPUSHX", "nokey", "z"]), int(0));
    assert_eq!(q(&mut s, &["EXISTS", "nokey"]), int(0));
    assert_eq!(q(&mut s, &["LLEN", "l"]), int(8));
    assert_eq!(q(&mut s, &["LLEN", "nokey"]), int(0));
    assert_eq!(q(&mut s, &["TYPE", "l"]), "+list\r\n");
    // Ranges: negative indexes, clamping, empty ranges.
    assert_eq!(
        q(&mut s, &["LRANGE", "l", "-3", "100"]),
        arr(&["c", "w", "v"])
    );
    assert_eq!(q(&mut s, &["LRANGE", "l", "-100", "1"]), arr(&["z", "y"]));
    assert_eq!(q(&mut s, &["LRANGE", "l", "5", "2"]), EMPTY);
    assert_eq!(q(&mut s, &["LRANGE", "l", "8", "10"]), EMPTY);
    assert_eq!(q(&mut s, &["LRANGE", "nokey", "0", "-1"]), EMPTY);
    assert_eq!(q(&mut s, &["LRANGE", "l", "a", "1"]), NOT_INT);
    assert_eq!(q(&mut s, &["LRANGE", "nokey", "0", "x"]), NOT_INT);
    // Integers are stored compactly but read back as the same text.
    let nums = [
        "0",
        "-1",
        "127",
        "128",
        "-4096",
        "70000",
        "-9223372036854775808",
        "007",
        "-0",
    ];
    let mut args = vec!["RPUSH", "n"];
    args.extend(nums);
    assert_eq!(q(&mut s, &args), int(nums.len() as i64));
    assert_eq!(all(&mut s, "n"), arr(&nums));
    assert_eq!(
        q(&mut s, &["LPUSH", "l"]),
        "-ERR wrong number of arguments for 'lpush' command\r\n"
    );
});

server_test!(pops, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(q(&mut s, &["LPOP", "l"]), bulk("a"));
    assert_eq!(q(&mut s, &["RPOP", "l"]), bulk("e"));
    assert_eq!(q(&mut s, &["LPOP", "l", "0"]), EMPTY);
    assert_eq!(q(&mut s, &["RPOP", "l", "2"]), arr(&["d", "c"]));
    assert_eq!(
        q(&mut s, &["LPOP", "l", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(
        q(&mut s, &["LPOP", "l", "abc"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(
        q(&mut s, &["LPOP", "l", "1", "2"]),
        "-ERR wrong number of arguments for 'lpop' command\r\n"
    );
    // Popping the last element deletes the key.
    assert_eq!(
        q(&mut s, &["LPOP", "l", "9223372036854775807"]),
        arr(&["b"])
    );
    assert_eq!(q(&mut s, &["EXISTS", "l"]), int(0));
    assert_eq!(q(&mut s, &["LPOP", "l"]), NULL);
    assert_eq!(q(&mut s, &["LPOP", "l", "0"]), NULL_ARRAY);
    assert_eq!(q(&mut s, &["RPOP", "l", "2"]), NULL_ARRAY);
    // RESP3: every missing shape is `_`.
    assert!(q(&mut s, &["HELLO", "3"]).starts_with('%'));
    assert_eq!(q(&mut s, &["LPOP", "l"]), "_\r\n");
    assert_eq!(q(&mut s, &["RPOP", "l", "3"]), "_\r\n");
    q(&mut s, &["RPUSH", "l", "a"]);
    assert_eq!(q(&mut s, &["LPOP", "l", "0"]), EMPTY);
    assert_eq!(q(&mut s, &["RPOP", "l", "5"]), arr(&["a"]));
});

server_test!(wrongtype, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SET", "s", "x"]);
    for c in [
        &["LPUSH", "s", "a"][..],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "0"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "a"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "d", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "d"],
        &["LMPOP", "1", "s", "LEFT"],
        &["LMPOP", "2", "nokey", "s", "LEFT"],
        &["BLPOP", "s", "0"],
        &["BRPOP", "nokey", "s", "0"],
        &["BLMOVE", "s", "d", "LEFT", "LEFT", "0"],
        &["BLMPOP", "0", "1", "s", "LEFT"],
    ] {
        assert_eq!(q(&mut s, c), WRONGTYPE, "{c:?}");
    }
    // A wrong-type destination: nothing is popped.
    q(&mut s, &["RPUSH", "l", "a"]);
    assert_eq!(q(&mut s, &["LMOVE", "l", "s", "LEFT", "LEFT"]), WRONGTYPE);
    assert_eq!(q(&mut s, &["RPOPLPUSH", "l", "s"]), WRONGTYPE);
    assert_eq!(q(&mut s, &["LLEN", "l"]), int(1));
});

server_test!(lindex_lset, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["RPUSH", "l", "a", "b", "c"]);
    assert_eq!(q(&mut s, &["LINDEX", "l", "0"]), bulk("a"));
    assert_eq!(q(&mut s, &["LINDEX", "l", "-1"]), bulk("c"));
    assert_eq!(q(&mut s, &["LINDEX", "l", "-3"]), bulk("a"));
    assert_eq!(q(&mut s, &["LINDEX", "l", "3"]), NULL);
    assert_eq!(q(&mut s, &["LINDEX", "l", "-4"]), NULL);
    assert_eq!(q(&mut s, &["LINDEX", "l", "x"]), NOT_INT);
    assert_eq!(q(&mut s, &["LINDEX", "nokey", "x"]), NULL);
    assert_eq!(q(&mut s, &["LSET", "l", "1", "B"]), OK);
    assert_eq!(q(&mut s, &["LSET", "l", "-1", "12345"]), OK);
    assert_eq!(all(&mut s, "l"), arr(&["a", "B", "12345"]));
    assert_eq!(
        q(&mut s, &["LSET", "l", "3", "x"]),
        "-ERR index out of range\r\n"
    );
    assert_eq!(
        q(&mut s, &["LSET", "l", "-4", "x"]),
        "-ERR index out of range\r\n"
    );
    assert_eq!(q(&mut s, &["LSET", "l", "x", "x"]), NOT_INT);
    assert_eq!(
        q(&mut s, &["LSET", "nokey", "0", "x"]),
        "-ERR no such key\r\n"
    );
    assert_eq!(
        q(&mut s, &["LSET", "nokey", "x", "x"]),
        "-ERR no such key\r\n"
    );
});

server_test!(linsert_lrem_ltrim, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["RPUSH", "l", "a", "b", "c", "b"]);
    assert_eq!(q(&mut s, &["LINSERT", "l", "BEFORE", "b", "x"]), int(5));
    assert_eq!(q(&mut s, &["LINSERT", "l", "after", "b", "y"]), int(6));
    assert_eq!(all(&mut s, "l"), arr(&["a", "x", "b", "y", "c", "b"]));
    assert_eq!(q(&mut s, &["LINSERT", "l", "AFTER", "nope", "y"]), int(-1));
    assert_eq!(q(&mut s, &["LINSERT", "nokey", "AFTER", "a", "y"]), int(0));
    assert_eq!(q(&mut s, &["LINSERT", "l", "MIDDLE", "a", "y"]), SYNTAX);
    assert_eq!(q(&mut s, &["LINSERT", "nokey", "MIDDLE", "a", "y"]), SYNTAX);
    // LREM: head first, tail first, all.
    q(&mut s, &["DEL", "r"]);
    q(&mut s, &["RPUSH", "r", "a", "b", "a", "c", "a", "b", "a"]);
    assert_eq!(q(&mut s, &["LREM", "r", "2", "a"]), int(2));
    assert_eq!(all(&mut s, "r"), arr(&["b", "c", "a", "b", "a"]));
    assert_eq!(q(&mut s, &["LREM", "r", "-1", "b"]), int(1));
    assert_eq!(all(&mut s, "r"), arr(&["b", "c", "a", "a"]));
    assert_eq!(q(&mut s, &["LREM", "r", "0", "a"]), int(2));
    assert_eq!(q(&mut s, &["LREM", "r", "0", "zz"]), int(0));
    assert_eq!(q(&mut s, &["LREM", "r", "x", "a"]), NOT_INT);
    assert_eq!(q(&mut s, &["LREM", "nokey", "x", "a"]), NOT_INT);
    assert_eq!(q(&mut s, &["LREM", "nokey", "0", "a"]), int(0));
    assert_eq!(q(&mut s, &["LREM", "r", "0", "b"]), int(1));
    assert_eq!(q(&mut s, &["LREM", "r", "0", "c"]), int(1));
    assert_eq!(q(&mut s, &["EXISTS", "r"]), int(0));
    // Integer elements compare as their text.
    q(&mut s, &["RPUSH", "r", "10", "010", "10"]);
    assert_eq!(q(&mut s, &["LREM", "r", "0", "10"]), int(2));
    assert_eq!(all(&mut s, "r"), arr(&["010"]));
    // LTRIM.
    q(&mut s, &["DEL", "t"]);
    q(&mut s, &["RPUSH", "t", "1", "2", "3", "4", "5"]);
    assert_eq!(q(&mut s, &["LTRIM", "t", "1", "-2"]), OK);
    assert_eq!(all(&mut s, "t"), arr(&["2", "3", "4"]));
    assert_eq!(q(&mut s, &["LTRIM", "t", "-100", "100"]), OK);
    assert_eq!(all(&mut s, "t"), arr(&["2", "3", "4"]));
    assert_eq!(q(&mut s, &["LTRIM", "t", "x", "1"]), NOT_INT);
    assert_eq!(q(&mut s, &["LTRIM", "nokey", "0", "1"]), OK);
    assert_eq!(q(&mut s, &["LTRIM", "t", "2", "1"]), OK);
    assert_eq!(q(&mut s, &["EXISTS", "t"]), int(0));
});

server_test!(lpos, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["RPUSH", "l", "a", "b", "c", "a", "b", "c", "a"]);
    assert_eq!(q(&mut s, &["LPOS", "l", "a"]), int(0));
    assert_eq!(q(&mut s, &["LPOS", "l", "c"]), int(2));
    assert_eq!(q(&mut s, &["LPOS", "l", "z"]), NULL);
    assert_eq!(
        q(&mut s, &["LPOS", "l", "a", "RANK", "-1", "COUNT", "2"]),
        "*2\r\n:6\r\n:3\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["LPOS", "l", "a", "RANK", "2", "COUNT", "0", "MAXLEN", "5"]
        ),
        "*1\r\n:3\r\n"
    );
    assert_eq!(
        q(&mut s, &["LPOS", "l", "a", "RANK", "-2", "MAXLEN", "3"]),
        NULL
    );
    assert_eq!(
        q(
            &mut s,
            &["LPOS", "l", "a", "COUNT", "0", "RANK", "-1", "COUNT", "1"]
        ),
        "*1\r\n:6\r\n"
    );
    assert_eq!(
        q(&mut s, &["LPOS", "l", "a", "COUNT", "0"]),
        "*3\r\n:0\r\n:3\r\n:6\r\n"
    );
    assert_eq!(
        q(&mut s, &["LPOS", "l", "a", "RANK", "9223372036854775807"]),
        NULL
    );
    assert_eq!(q(&mut s, &["LPOS", "l", "z", "COUNT", "0"]), EMPTY);
    assert_eq!(q(&mut s, &["LPOS", "nokey", "a"]), NULL);
    assert_eq!(q(&mut s, &["LPOS", "nokey", "a", "COUNT", "0"]), EMPTY);
    assert_eq!(
        q(&mut s, &["LPOS", "l", "a", "RANK", "0"]),
        "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"
    );
    assert_eq!(
        q(&mut s, &["LPOS", "l", "a", "RANK", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(q(&mut s, &["LPOS", "l", "a", "RANK", "x"]), NOT_INT);
    assert_eq!(
        q(&mut s, &["LPOS", "l", "a", "COUNT", "-1"]),
        "-ERR COUNT can't be negative\r\n"
    );
    assert_eq!(
        q(&mut s, &["LPOS", "l", "a", "COUNT", "x"]),
        "-ERR COUNT can't be negative\r\n"
    );
    assert_eq!(
        q(&mut s, &["LPOS", "l", "a", "MAXLEN", "-1"]),
        "-ERR MAXLEN can't be negative\r\n"
    );
    assert_eq!(q(&mut s, &["LPOS", "l", "a", "RANK"]), SYNTAX);
    assert_eq!(q(&mut s, &["LPOS", "l", "a", "FOO"]), SYNTAX);
    assert!(q(&mut s, &["HELLO", "3"]).starts_with('%'));
    assert_eq!(q(&mut s, &["LPOS", "nokey", "a"]), "_\r\n");
});

server_test!(lmove_rpoplpush, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["RPUSH", "src", "a", "b", "c"]);
    assert_eq!(
        q(&mut s, &["LMOVE", "src", "dst", "LEFT", "RIGHT"]),
        bulk("a")
    );
    assert_eq!(
        q(&mut s, &["LMOVE", "src", "dst", "right", "left"]),
        bulk("c")
    );
    assert_eq!(all(&mut s, "dst"), arr(&["c", "a"]));
    assert_eq!(q(&mut s, &["RPOPLPUSH", "src", "dst"]), bulk("b"));
    assert_eq!(q(&mut s, &["EXISTS", "src"]), int(0));
    assert_eq!(all(&mut s, "dst"), arr(&["b", "c", "a"]));
    // Same key: rotation.
    assert_eq!(
        q(&mut s, &["LMOVE", "dst", "dst", "LEFT", "RIGHT"]),
        bulk("b")
    );
    assert_eq!(all(&mut s, "dst"), arr(&["c", "a", "b"]));
    assert_eq!(q(&mut s, &["RPOPLPUSH", "dst", "dst"]), bulk("b"));
    assert_eq!(all(&mut s, "dst"), arr(&["b", "c", "a"]));
    assert_eq!(q(&mut s, &["LMOVE", "nokey", "dst", "LEFT", "LEFT"]), NULL);
    assert_eq!(q(&mut s, &["RPOPLPUSH", "nokey", "dst"]), NULL);
    assert_eq!(q(&mut s, &["LMOVE", "dst", "x", "UP", "LEFT"]), SYNTAX);
    assert_eq!(q(&mut s, &["LMOVE", "nokey", "x", "LEFT", "DOWN"]), SYNTAX);
    assert!(q(&mut s, &["HELLO", "3"]).starts_with('%'));
    assert_eq!(
        q(&mut s, &["LMOVE", "nokey", "dst", "LEFT", "LEFT"]),
        "_\r\n"
    );
});

server_test!(lmpop, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["RPUSH", "l", "a", "b", "c"]);
    assert_eq!(
        q(&mut s, &["LMPOP", "2", "nokey", "l", "LEFT"]),
        "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"
    );
    assert_eq!(
        q(&mut s, &["LMPOP", "1", "l", "RIGHT", "COUNT", "5"]),
        "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    assert_eq!(q(&mut s, &["EXISTS", "l"]), int(0));
    assert_eq!(q(&mut s, &["LMPOP", "1", "l", "LEFT"]), NULL_ARRAY);
    let numkeys = "-ERR numkeys should be greater than 0\r\n";
    let count = "-ERR count should be greater than 0\r\n";
    assert_eq!(q(&mut s, &["LMPOP", "0", "l", "LEFT"]), numkeys);
    assert_eq!(q(&mut s, &["LMPOP", "-1", "l", "LEFT"]), numkeys);
    assert_eq!(q(&mut s, &["LMPOP", "abc", "l", "LEFT"]), numkeys);
    assert_eq!(q(&mut s, &["LMPOP", "3", "l", "LEFT"]), SYNTAX);
    assert_eq!(
        q(&mut s, &["LMPOP", "9223372036854775807", "l", "LEFT"]),
        SYNTAX
    );
    assert_eq!(q(&mut s, &["LMPOP", "1", "l", "MIDDLE"]), SYNTAX);
    assert_eq!(q(&mut s, &["LMPOP", "1", "l", "LEFT", "COUNT", "0"]), count);
    assert_eq!(
        q(&mut s, &["LMPOP", "1", "l", "LEFT", "COUNT", "-1"]),
        count
    );
    assert_eq!(q(&mut s, &["LMPOP", "1", "l", "LEFT", "COUNT", "x"]), count);
    assert_eq!(q(&mut s, &["LMPOP", "1", "l", "LEFT", "COUNT"]), SYNTAX);
    assert_eq!(
        q(
            &mut s,
            &["LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "2"]
        ),
        SYNTAX
    );
    assert_eq!(q(&mut s, &["LMPOP", "1", "l", "LEFT", "FOO"]), SYNTAX);
    assert!(q(&mut s, &["HELLO", "3"]).starts_with('%'));
    assert_eq!(q(&mut s, &["LMPOP", "1", "l", "LEFT"]), "_\r\n");
    q(&mut s, &["RPUSH", "l", "a"]);
    assert_eq!(
        q(&mut s, &["LMPOP", "1", "l", "LEFT"]),
        "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"
    );
});

server_test!(encodings_by_count, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "list-max-listpack-size", "4"]),
        OK
    );
    q(&mut s, &["RPUSH", "l", "a", "b", "c", "d"]);
    assert_eq!(encoding(&mut s, "l"), bulk("listpack"));
    q(&mut s, &["RPUSH", "l", "e"]);
    assert_eq!(encoding(&mut s, "l"), bulk("quicklist"));
    // Back to listpack only at half the limit, with a single node.
    q(&mut s, &["RPOP", "l"]);
    q(&mut s, &["RPOP", "l"]);
    assert_eq!(encoding(&mut s, "l"), bulk("quicklist"));
    q(&mut s, &["RPOP", "l"]);
    assert_eq!(encoding(&mut s, "l"), bulk("listpack"));
    // LSET checks as if an element were added.
    q(&mut s, &["DEL", "l"]);
    q(&mut s, &["RPUSH", "l", "a", "b", "c", "d"]);
    assert_eq!(q(&mut s, &["LSET", "l", "0", "x"]), OK);
    assert_eq!(encoding(&mut s, "l"), bulk("quicklist"));
    // LTRIM shrinks.
    q(&mut s, &["RPUSH", "l", "1", "2", "3", "4", "5", "6"]);
    q(&mut s, &["LTRIM", "l", "0", "1"]);
    assert_eq!(encoding(&mut s, "l"), bulk("listpack"));
    assert_eq!(all(&mut s, "l"), arr(&["x", "b"]));
    // LINSERT converts even when the pivot is missing.
    q(&mut s, &["RPUSH", "l", "c", "d"]);
    assert_eq!(q(&mut s, &["LINSERT", "l", "BEFORE", "nope", "z"]), int(-1));
    assert_eq!(encoding(&mut s, "l"), bulk("quicklist"));
});

server_test!(encodings_by_size, |srv| {
    let mut s = srv.raw();
    assert_eq!(encoding(&mut s, "nokey"), NULL);
    q(&mut s, &["RPUSH", "l", "a", "b"]);
    assert_eq!(encoding(&mut s, "l"), bulk("listpack"));
    // The default (-2) is 8 KB per node.
    let big = "x".repeat(9000);
    q(&mut s, &["RPUSH", "l", &big]);
    assert_eq!(encoding(&mut s, "l"), bulk("quicklist"));
    q(&mut s, &["RPOP", "l"]);
    assert_eq!(encoding(&mut s, "l"), bulk("listpack"));
    // -1: 4 KB per node; a large element gets a node of its own.
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "list-max-listpack-size", "-1"]),
        OK
    );
    q(&mut s, &["DEL", "l"]);
    let mid = "y".repeat(5000);
    q(&mut s, &["RPUSH", "l", &mid]);
    assert_eq!(encoding(&mut s, "l"), bulk("quicklist"));
    q(&mut s, &["RPUSH", "l", "a"]);
    q(&mut s, &["LPOP", "l"]);
    assert_eq!(encoding(&mut s, "l"), bulk("listpack"));
    // Many small elements: quicklist, and LTRIM back to a listpack.
    q(&mut s, &["DEL", "l"]);
    let items: Vec<String> = (0..2000).map(|i| format!("element-{i}")).collect();
    let mut args: Vec<&str> = vec!["RPUSH", "l"];
    args.extend(items.iter().map(|x| x.as_str()));
    assert_eq!(q(&mut s, &args), int(2000));
    assert_eq!(encoding(&mut s, "l"), bulk("quicklist"));
    assert_eq!(q(&mut s, &["LINDEX", "l", "1234"]), bulk("element-1234"));
    assert_eq!(q(&mut s, &["LINDEX", "l", "-766"]), bulk("element-1234"));
    assert_eq!(q(&mut s, &["LPOS", "l", "element-1999"]), int(1999));
    assert_eq!(q(&mut s, &["LSET", "l", "1000", "changed"]), OK);
    assert_eq!(
        q(&mut s, &["LINSERT", "l", "AFTER", "changed", "new"]),
        int(2001)
    );
    assert_eq!(
        q(&mut s, &["LRANGE", "l", "999", "1002"]),
        arr(&["element-999", "changed", "new", "element-1001"])
    );
    assert_eq!(q(&mut s, &["LTRIM", "l", "1000", "1009"]), OK);
    assert_eq!(encoding(&mut s, "l"), bulk("listpack"));
    assert_eq!(q(&mut s, &["LLEN", "l"]), int(10));
    assert_eq!(q(&mut s, &["LINDEX", "l", "0"]), bulk("changed"));
});

/// `rdb_changes_since_last_save` from INFO.
fn dirty(s: &mut TcpStream) -> u64 {
    let info = q(s, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save in INFO")
}

// Valkey counts a list move as one change, whether it is LMOVE, RPOPLPUSH
// or a BLMOVE served when a push wakes it (the suite's "BLPOP/BLMOVE should
// increase dirty"); the push that wakes it counts one more.
server_test!(move_counts_one_change, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["RPUSH", "src", "a", "b", "c"]);
    let d0 = dirty(&mut s);
    assert_eq!(
        q(&mut s, &["LMOVE", "src", "dst", "LEFT", "LEFT"]),
        bulk("a")
    );
    assert_eq!(dirty(&mut s), d0 + 1);
    assert_eq!(q(&mut s, &["RPOPLPUSH", "src", "dst"]), bulk("c"));
    assert_eq!(dirty(&mut s), d0 + 2);
    // The last element: the source is deleted, still one change.
    assert_eq!(q(&mut s, &["RPOPLPUSH", "src", "dst"]), bulk("b"));
    assert_eq!(dirty(&mut s), d0 + 3);
    assert_eq!(
        q(&mut s, &["LMOVE", "dst", "dst", "LEFT", "RIGHT"]),
        bulk("b")
    );
    assert_eq!(dirty(&mut s), d0 + 4);

    let mut b = srv.raw();
    b.write_all(&common::cmd(&[
        b"BLMOVE", b"lst", b"lst1", b"LEFT", b"LEFT", b"0",
    ]))
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !q(&mut s, &["INFO", "clients"]).contains("blocked_clients:1\r\n") {
        assert!(std::time::Instant::now() < deadline, "BLMOVE never blocked");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let d1 = dirty(&mut s);
    assert_eq!(q(&mut s, &["LPUSH", "lst", "x"]), int(1));
    assert_eq!(common::read_replies(&mut b, 1), bulk("x").into_bytes());
    assert_eq!(dirty(&mut s), d1 + 2);
    assert_eq!(all(&mut s, "lst1"), arr(&["x"]));
});
