//! COMMAND and its subcommands: replies generated from the command table,
//! checked for Valkey's exact shapes (RESP2 and RESP3) and errors.

mod common;

use common::{cmd, raw_roundtrip};
use ferrokey::commands::CMD_TABLE;
use redis::Value;

fn bulk(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

fn arr(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        other => panic!("not an array: {other:?}"),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        other => panic!("not an int: {other:?}"),
    }
}

/// A RESP2 flat map (name, value, ...) or a RESP3 map, as pairs.
fn pairs(v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Map(m) => m.iter().map(|(k, v)| (bulk(k), v.clone())).collect(),
        Value::Array(a) => a.chunks(2).map(|c| (bulk(&c[0]), c[1].clone())).collect(),
        other => panic!("not a map: {other:?}"),
    }
}

fn field(v: &Value, name: &str) -> Option<Value> {
    pairs(v)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The i-th nested argument entry of a COMMAND DOCS map.
fn nested(v: &Value, i: usize) -> Value {
    arr(&field(v, "arguments").expect("arguments"))[i].clone()
}

fn strings(v: &Value) -> Vec<String> {
    arr(v).iter().map(bulk).collect()
}

fn err(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<Value>(con) {
        Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
        Ok(v) => panic!("{args:?} succeeded: {v:?}"),
    }
}

fn query(con: &mut redis::Connection, args: &[&str]) -> Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// The whole COMMAND INFO GET reply, byte for byte: sets and maps are
/// arrays in RESP2 (a map of n pairs has 2n elements).
fn get_info(resp3: bool) -> String {
    let set = |n: usize| format!("{}{n}\r\n", if resp3 { '~' } else { '*' });
    let map = |n: usize| {
        if resp3 {
            format!("%{n}\r\n")
        } else {
            format!("*{}\r\n", 2 * n)
        }
    };
    let b = |s: &str| format!("${}\r\n{s}\r\n", s.len());
    [
        "*1\r\n*10\r\n".to_string(),
        b("get"),
        ":2\r\n".into(),
        set(2),
        "+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n".into(),
        set(3),
        "+@read\r\n+@string\r\n+@fast\r\n".into(),
        set(0),
        set(1),
        map(3),
        b("flags"),
        set(2),
        "+RO\r\n+access\r\n".into(),
        b("begin_search"),
        map(2),
        b("type"),
        b("index"),
        b("spec"),
        map(1),
        b("index"),
        ":1\r\n".into(),
        b("find_keys"),
        map(2),
        b("type"),
        b("range"),
        b("spec"),
        map(3),
        b("lastkey"),
        ":0\r\n".into(),
        b("keystep"),
        ":1\r\n".into(),
        b("limit"),
        ":0\r\n".into(),
        "*0\r\n".into(),
    ]
    .concat()
}

server_test!(count_matches_table, |srv| {
    let mut con = srv.conn();
    let n: i64 = redis::cmd("COMMAND").arg("COUNT").query(&mut con).unwrap();
    assert_eq!(n as usize, CMD_TABLE.top_level().count());
    assert!(n > 10);
    // COMMAND INFO without names lists every top-level command.
    let all = query(&mut con, &["COMMAND", "INFO"]);
    assert_eq!(arr(&all).len(), n as usize);
    for e in arr(&all) {
        assert_eq!(arr(e).len(), 10);
    }
    assert_eq!(
        err(&mut con, &["COMMAND", "COUNT", "x"]),
        "ERR wrong number of arguments for 'command|count' command"
    );
});

server_test!(info_get_exact_bytes, |srv| {
    let mut s = srv.raw();
    let got = raw_roundtrip(&mut s, &cmd(&[b"COMMAND", b"INFO", b"get"]), 1);
    assert_eq!(String::from_utf8_lossy(&got), get_info(false));
    raw_roundtrip(&mut s, &cmd(&[b"HELLO", b"3"]), 1);
    let got = raw_roundtrip(&mut s, &cmd(&[b"COMMAND", b"INFO", b"GET"]), 1);
    assert_eq!(String::from_utf8_lossy(&got), get_info(true));
    // Unknown names: a null entry in either protocol.
    assert_eq!(
        raw_roundtrip(&mut s, &cmd(&[b"COMMAND", b"INFO", b"nosuch"]), 1),
        b"*1\r\n_\r\n"
    );
    let mut s = srv.raw();
    assert_eq!(
        raw_roundtrip(&mut s, &cmd(&[b"COMMAND", b"INFO", b"nosuch", b"get|x"]), 1),
        b"*2\r\n$-1\r\n$-1\r\n"
    );
});

server_test!(info_shapes, |srv| {
    let mut con = srv.conn();
    let v = query(
        &mut con,
        &["COMMAND", "INFO", "set", "mset", "nosuch", "config|get"],
    );
    let e = arr(&v);
    assert_eq!(e.len(), 4);
    let set = arr(&e[0]);
    assert_eq!(bulk(&set[0]), "set");
    assert_eq!(int(&set[1]), -3);
    assert_eq!(strings(&set[2]), vec!["write", "denyoom"]);
    assert_eq!((int(&set[3]), int(&set[4]), int(&set[5])), (1, 1, 1));
    assert!(strings(&set[6]).contains(&"@write".to_string()));
    assert!(arr(&set[7]).is_empty());
    let specs = arr(&set[8]);
    assert_eq!(specs.len(), 1);
    let bs = field(&specs[0], "begin_search").unwrap();
    assert_eq!(bulk(&field(&bs, "type").unwrap()), "index");
    assert_eq!(
        int(&field(&field(&bs, "spec").unwrap(), "index").unwrap()),
        1
    );
    assert!(arr(&set[9]).is_empty());

    let mset = arr(&e[1]);
    assert_eq!((int(&mset[3]), int(&mset[4]), int(&mset[5])), (1, -1, 2));
    let fk = field(&arr(&mset[8])[0], "find_keys").unwrap();
    assert_eq!(bulk(&field(&fk, "type").unwrap()), "range");
    let spec = field(&fk, "spec").unwrap();
    assert_eq!(int(&field(&spec, "lastkey").unwrap()), -1);
    assert_eq!(int(&field(&spec, "keystep").unwrap()), 2);
    assert_eq!(int(&field(&spec, "limit").unwrap()), 0);

    assert_eq!(e[2], Value::Nil);
    assert_eq!(bulk(&arr(&e[3])[0]), "config|get");

    // A container lists its subcommands as nested entries.
    let v = query(&mut con, &["COMMAND", "INFO", "command"]);
    let c = arr(&arr(&v)[0]);
    assert_eq!(int(&c[1]), -1);
    let subs: Vec<String> = arr(&c[9]).iter().map(|s| bulk(&arr(s)[0])).collect();
    for s in [
        "command|count",
        "command|docs",
        "command|getkeys",
        "command|info",
        "command|list",
    ] {
        assert!(subs.contains(&s.to_string()), "{subs:?}");
    }
});

server_test!(getkeys, |srv| {
    let mut con = srv.conn();
    let keys = |con: &mut redis::Connection, a: &[&str]| {
        let mut v = vec!["COMMAND", "GETKEYS"];
        v.extend_from_slice(a);
        strings(&query(con, &v))
    };
    assert_eq!(keys(&mut con, &["set", "k", "v", "EX", "10"]), vec!["k"]);
    assert_eq!(keys(&mut con, &["GET", "k"]), vec!["k"]);
    assert_eq!(
        keys(&mut con, &["mset", "a", "1", "b", "2"]),
        vec!["a", "b"]
    );
    // An odd MSET still yields its key positions, as Valkey does.
    assert_eq!(keys(&mut con, &["mset", "a", "1", "b"]), vec!["a", "b"]);
    assert_eq!(keys(&mut con, &["del", "a", "b", "c"]), vec!["a", "b", "c"]);

    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "nosuch", "a"]),
        "ERR Invalid command specified"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "config", "nosuch"]),
        "ERR Invalid command specified"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "get"]),
        "ERR Invalid number of arguments specified for command"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "ping"]),
        "ERR The command has no key arguments"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "config", "get", "x"]),
        "ERR The command has no key arguments"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS"]),
        "ERR wrong number of arguments for 'command|getkeys' command"
    );

    // numkeys rows (ZUNIONSTORE-like), whichever the table has: the count
    // picks the keys, a count beyond the arguments is refused.
    let numkeys = CMD_TABLE
        .specs
        .iter()
        .find(|s| s.keys.numkeys_at > 0 && !s.name.contains('|'));
    if let Some(spec) = numkeys {
        let at = spec.keys.numkeys_at as usize;
        let min = spec.arity.unsigned_abs() as usize;
        let mut call: Vec<String> = vec![spec.name.to_string()];
        call.extend((1..at).map(|i| format!("p{i}")));
        call.push("2".into());
        call.extend(["ka".into(), "kb".into()]);
        while call.len() < min {
            call.push("x".into());
        }
        let refs: Vec<&str> = call.iter().map(|s| s.as_str()).collect();
        let got = keys(&mut con, &refs);
        assert!(
            got.ends_with(&["ka".to_string(), "kb".to_string()]),
            "{got:?}"
        );
        let mut bad = refs.clone();
        bad[at] = "99";
        let mut v = vec!["COMMAND", "GETKEYS"];
        v.extend_from_slice(&bad);
        assert_eq!(
            err(&mut con, &v),
            "ERR Invalid arguments specified for command"
        );
    }
});

server_test!(getkeysandflags, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        raw_roundtrip(
            &mut s,
            &cmd(&[b"COMMAND", b"GETKEYSANDFLAGS", b"get", b"k"]),
            1
        ),
        b"*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n"
    );
    raw_roundtrip(&mut s, &cmd(&[b"HELLO", b"3"]), 1);
    assert_eq!(
        raw_roundtrip(
            &mut s,
            &cmd(&[b"COMMAND", b"GETKEYSANDFLAGS", b"get", b"k"]),
            1
        ),
        b"*1\r\n*2\r\n$1\r\nk\r\n~2\r\n+RO\r\n+access\r\n"
    );
    assert_eq!(
        raw_roundtrip(&mut s, &cmd(&[b"COMMAND", b"GETKEYSANDFLAGS", b"ping"]), 1),
        b"-ERR The command has no key arguments\r\n"
    );
});

server_test!(docs_get_and_set, |srv| {
    let mut s = srv.raw();
    let want = "*2\r\n$3\r\nget\r\n*10\r\n\
        $7\r\nsummary\r\n$34\r\nReturns the string value of a key.\r\n\
        $5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n\
        $10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*8\r\n\
        $4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n\
        $12\r\ndisplay_text\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n";
    let got = raw_roundtrip(&mut s, &cmd(&[b"COMMAND", b"DOCS", b"get"]), 1);
    assert_eq!(String::from_utf8_lossy(&got), want);

    let mut con = srv.conn();
    let v = query(&mut con, &["COMMAND", "DOCS", "set", "nosuch", "SET"]);
    let docs = pairs(&v);
    // Unknown names are left out, repeated ones repeated.
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].0, "set");
    let set = &docs[0].1;
    assert_eq!(bulk(&field(set, "group").unwrap()), "string");
    let args = field(set, "arguments").unwrap();
    let args = arr(&args);
    assert_eq!(args.len(), 5);
    let names: Vec<String> = args
        .iter()
        .map(|a| bulk(&field(a, "name").unwrap()))
        .collect();
    assert_eq!(names[0], "key");
    assert_eq!(names[1], "value");
    assert_eq!(bulk(&field(&args[1], "type").unwrap()), "string");
    // [NX | XX ...]: an optional oneof of pure tokens.
    let cond = &args[2];
    assert_eq!(bulk(&field(cond, "type").unwrap()), "oneof");
    assert_eq!(strings(&field(cond, "flags").unwrap()), vec!["optional"]);
    assert!(field(cond, "display_text").is_none());
    let nx = &nested(cond, 0);
    assert_eq!(bulk(&field(nx, "type").unwrap()), "pure-token");
    assert_eq!(bulk(&field(nx, "token").unwrap()), "NX");
    assert_eq!(bulk(&field(nx, "name").unwrap()), "nx");
    // [GET]
    assert_eq!(bulk(&field(&args[3], "token").unwrap()), "GET");
    // [EX seconds | PX milliseconds | EXAT unix-time-seconds | ...]
    let exp = &args[4];
    assert_eq!(bulk(&field(exp, "name").unwrap()), "expiration");
    let members = field(exp, "arguments").unwrap();
    let ex = &arr(&members)[0];
    assert_eq!(bulk(&field(ex, "name").unwrap()), "seconds");
    assert_eq!(bulk(&field(ex, "type").unwrap()), "integer");
    assert_eq!(bulk(&field(ex, "token").unwrap()), "EX");
    let exat = &arr(&members)[2];
    assert_eq!(bulk(&field(exat, "type").unwrap()), "unix-time");
    let keepttl = arr(&members).last().unwrap();
    assert_eq!(bulk(&field(keepttl, "type").unwrap()), "pure-token");

    // `key [key ...]`: one key argument flagged multiple.
    let v = query(&mut con, &["COMMAND", "DOCS", "del"]);
    let del = &pairs(&v)[0].1;
    let a = &nested(del, 0);
    assert_eq!(strings(&field(a, "flags").unwrap()), vec!["multiple"]);
    assert_eq!(int(&field(a, "key_spec_index").unwrap()), 0);

    // Containers document their subcommands.
    let v = query(&mut con, &["COMMAND", "DOCS", "command"]);
    let c = &pairs(&v)[0].1;
    let subs = pairs(&field(c, "subcommands").unwrap());
    let list = &subs.iter().find(|(n, _)| n == "command|list").unwrap().1;
    let filter = &nested(list, 0);
    assert_eq!(bulk(&field(filter, "token").unwrap()), "FILTERBY");
    assert_eq!(bulk(&field(filter, "type").unwrap()), "oneof");

    // No names: every top-level command.
    let all = query(&mut con, &["COMMAND", "DOCS"]);
    assert_eq!(pairs(&all).len(), CMD_TABLE.top_level().count());
});

server_test!(docs_resp3_types, |srv| {
    let mut s = srv.raw();
    raw_roundtrip(&mut s, &cmd(&[b"HELLO", b"3"]), 1);
    let got = raw_roundtrip(&mut s, &cmd(&[b"COMMAND", b"DOCS", b"del"]), 1);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("%1\r\n$3\r\ndel\r\n%5\r\n"), "{text}");
    assert!(
        text.ends_with("$5\r\nflags\r\n~1\r\n+multiple\r\n"),
        "{text}"
    );
});

server_test!(list_filters, |srv| {
    let mut con = srv.conn();
    let all = strings(&query(&mut con, &["COMMAND", "LIST"]));
    // Subcommands are listed too.
    assert!(all.contains(&"get".to_string()));
    assert!(all.contains(&"config|get".to_string()));
    assert_eq!(all.len(), CMD_TABLE.specs.len());

    let mut got = strings(&query(
        &mut con,
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "command*"],
    ));
    got.sort();
    assert_eq!(
        got,
        vec![
            "command",
            "command|count",
            "command|docs",
            "command|getkeys",
            "command|getkeysandflags",
            "command|help",
            "command|info",
            "command|list"
        ]
    );
    let got = strings(&query(
        &mut con,
        &["command", "list", "filterby", "pattern", "CONFIG|G*"],
    ));
    assert_eq!(got, vec!["config|get"]);

    let read = strings(&query(
        &mut con,
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "READ"],
    ));
    assert!(read.contains(&"get".to_string()));
    assert!(!read.contains(&"set".to_string()));
    let write = strings(&query(
        &mut con,
        &["COMMAND", "LIST", "FILTERBY", "aclcat", "write"],
    ));
    assert!(write.contains(&"set".to_string()));
    // Category names go without `@`; unknown ones and modules match nothing.
    for f in [["ACLCAT", "@read"], ["ACLCAT", "nosuch"], ["MODULE", "x"]] {
        let v = query(&mut con, &["COMMAND", "LIST", "FILTERBY", f[0], f[1]]);
        assert!(arr(&v).is_empty(), "{f:?}");
    }

    for bad in [
        &["COMMAND", "LIST", "FILTERBY"][..],
        &["COMMAND", "LIST", "foo"],
        &["COMMAND", "LIST", "FILTERBY", "foo", "bar"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"],
    ] {
        assert_eq!(err(&mut con, bad), "ERR syntax error", "{bad:?}");
    }
});

server_test!(help_and_unknown, |srv| {
    let mut con = srv.conn();
    let v = query(&mut con, &["COMMAND", "HELP"]);
    let lines = strings(&v);
    assert_eq!(lines.len(), 21);
    assert!(lines[0].starts_with("COMMAND <subcommand>"));
    assert_eq!(lines.last().unwrap(), "    Print this help.");
    assert_eq!(
        err(&mut con, &["COMMAND", "HELP", "x"]),
        "ERR wrong number of arguments for 'command|help' command"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "foo"]),
        "ERR unknown subcommand 'foo'. Try COMMAND HELP."
    );
});

mod bare {
    use super::*;

    /// Bare COMMAND runs the container itself (arity -1); needs the
    /// table's resolve() to let a container without subcommand through
    /// when its own arity allows it.
    #[test]
    fn bare_command_lists_all() {
        let srv = common::Server::start(1);
        let mut con = srv.conn();
        let v = query(&mut con, &["COMMAND"]);
        assert_eq!(arr(&v).len(), CMD_TABLE.top_level().count());
    }
}

// Commands whose keys Valkey finds with its own key function: SET's flags
// depend on GET (`variable_flags`), SORT's STORE key can be anywhere
// (`movablekeys`). Expected bytes are Valkey 9.1's.
server_test!(key_functions, |srv| {
    let mut s = srv.raw();
    let q = |s: &mut std::net::TcpStream, args: &[&str]| {
        let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
        String::from_utf8_lossy(&raw_roundtrip(s, &cmd(&a), 1)).into_owned()
    };
    let set_spec = "$5\r\nnotes\r\n$48\r\nRW and ACCESS due to the optional `GET` argument\r\n\
        $5\r\nflags\r\n*4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n\
        $12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
        $9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n\
        *6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n";
    assert_eq!(
        q(&mut s, &["COMMAND", "INFO", "set"]),
        format!(
            "*1\r\n*10\r\n$3\r\nset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n\
             *3\r\n+@write\r\n+@string\r\n+@slow\r\n*0\r\n*1\r\n*8\r\n{set_spec}*0\r\n"
        )
    );
    assert_eq!(
        q(&mut s, &["COMMAND", "GETKEYSANDFLAGS", "set", "k", "v"]),
        "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+OW\r\n+update\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "COMMAND",
                "GETKEYSANDFLAGS",
                "set",
                "k",
                "v",
                "px",
                "1",
                "GeT"
            ]
        ),
        "*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n"
    );

    let unknown = |notes: &str, flags: &str| {
        format!(
            "*8\r\n$5\r\nnotes\r\n${}\r\n{notes}\r\n$5\r\nflags\r\n{flags}\
             $12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n*0\r\n\
             $9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n*0\r\n",
            notes.len()
        )
    };
    let sorted_key = "*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n\
        $12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
        $9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n\
        *6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n";
    let by_get = unknown(
        "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from \
         the content of the key we sort",
        "*2\r\n+RO\r\n+access\r\n",
    );
    let store = unknown(
        "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear \
         anywhere in the argument array",
        "*2\r\n+OW\r\n+update\r\n",
    );
    let info = q(&mut s, &["COMMAND", "INFO", "sort"]);
    assert!(
        info.starts_with("*1\r\n*10\r\n$4\r\nsort\r\n:-2\r\n*3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n"),
        "{info}"
    );
    assert!(
        info.ends_with(&format!("*0\r\n*3\r\n{sorted_key}{by_get}{store}*0\r\n")),
        "{info}"
    );
    let info = q(&mut s, &["COMMAND", "INFO", "sort_ro"]);
    assert!(
        info.contains("+readonly\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n"),
        "{info}"
    );
    assert!(
        info.ends_with(&format!("*0\r\n*2\r\n{sorted_key}{by_get}*0\r\n")),
        "{info}"
    );
    // The last STORE wins; LIMIT skips two arguments, GET and BY one.
    assert_eq!(
        q(
            &mut s,
            &[
                "COMMAND", "GETKEYS", "sort", "abc", "store", "invalid", "store", "stillbad",
                "store", "def"
            ]
        ),
        "*2\r\n$3\r\nabc\r\n$3\r\ndef\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["COMMAND", "GETKEYSANDFLAGS", "sort", "abc", "limit", "store", "1", "get", "store", "by", "store", "store", "x"]
        ),
        "*2\r\n*2\r\n$3\r\nabc\r\n*2\r\n+RO\r\n+access\r\n*2\r\n$1\r\nx\r\n*2\r\n+OW\r\n+update\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["COMMAND", "GETKEYS", "sort_ro", "abc", "store", "x"]
        ),
        "*1\r\n$3\r\nabc\r\n"
    );
});

// Key specifications and tips are declared in the rows (meta::Doc), as Valkey 9.1 has them:
// expected bytes are Valkey's replies to the same commands.
server_test!(valkey_key_specs_and_tips, |srv| {
    let mut s = srv.raw();
    let q = |s: &mut std::net::TcpStream, args: &[&str]| {
        let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
        String::from_utf8_lossy(&raw_roundtrip(s, &cmd(&a), 1)).into_owned()
    };
    let del_spec = |map: &str, set: &str| {
        format!(
            "{map}{set}2\r\n+RM\r\n+delete\r\n$12\r\nbegin_search\r\n{m2}$4\r\ntype\r\n$5\r\nindex\r\n\
             $4\r\nspec\r\n{m1}$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n{m2}$4\r\ntype\r\n$5\r\nrange\r\n\
             $4\r\nspec\r\n{m3}$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n",
            m1 = if set == "~" { "%1\r\n" } else { "*2\r\n" },
            m2 = if set == "~" { "%2\r\n" } else { "*4\r\n" },
            m3 = if set == "~" { "%3\r\n" } else { "*6\r\n" },
        )
    };
    assert_eq!(
        q(&mut s, &["COMMAND", "INFO", "del"]),
        format!(
            "*1\r\n*10\r\n$3\r\ndel\r\n:-2\r\n*1\r\n+write\r\n:1\r\n:-1\r\n:1\r\n\
             *3\r\n+@keyspace\r\n+@write\r\n+@slow\r\n\
             *2\r\n$26\r\nrequest_policy:multi_shard\r\n$23\r\nresponse_policy:agg_sum\r\n\
             *1\r\n{}*0\r\n",
            del_spec("*6\r\n$5\r\nflags\r\n", "*")
        )
    );
    q(&mut s, &["HELLO", "3"]);
    assert_eq!(
        q(&mut s, &["COMMAND", "INFO", "del"]),
        format!(
            "*1\r\n*10\r\n$3\r\ndel\r\n:-2\r\n~1\r\n+write\r\n:1\r\n:-1\r\n:1\r\n\
             ~3\r\n+@keyspace\r\n+@write\r\n+@slow\r\n\
             ~2\r\n$26\r\nrequest_policy:multi_shard\r\n$23\r\nresponse_policy:agg_sum\r\n\
             ~1\r\n{}*0\r\n",
            del_spec("%3\r\n$5\r\nflags\r\n", "~")
        )
    );
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["COMMAND", "GETKEYSANDFLAGS", "lmove", "a", "b", "left", "right"]),
        "*2\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$1\r\nb\r\n*2\r\n+RW\r\n+insert\r\n"
    );
    assert_eq!(
        q(&mut s, &["COMMAND", "GETKEYSANDFLAGS", "append", "k", "v"]),
        "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RW\r\n+insert\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "COMMAND",
                "GETKEYSANDFLAGS",
                "zunionstore",
                "d",
                "2",
                "a",
                "b"
            ]
        ),
        "*3\r\n*2\r\n$1\r\nd\r\n*2\r\n+OW\r\n+update\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n\
         *2\r\n$1\r\nb\r\n*2\r\n+RO\r\n+access\r\n"
    );
});

// ACL categories Valkey assigns by hand (the rows' `acl`) and the flags of
// 9.1; expected bytes are Valkey 9.1's.
server_test!(hand_assigned_categories, |srv| {
    let mut s = srv.raw();
    let q = |s: &mut std::net::TcpStream, args: &[&str]| {
        let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
        String::from_utf8_lossy(&raw_roundtrip(s, &cmd(&a), 1)).into_owned()
    };
    assert_eq!(
        q(&mut s, &["COMMAND", "INFO", "keys"]),
        "*1\r\n*10\r\n$4\r\nkeys\r\n:2\r\n*1\r\n+readonly\r\n:0\r\n:0\r\n:0\r\n\
         *4\r\n+@keyspace\r\n+@read\r\n+@slow\r\n+@dangerous\r\n\
         *2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\nnondeterministic_output_order\r\n*0\r\n*0\r\n"
    );
    assert_eq!(
        q(&mut s, &["COMMAND", "INFO", "client|unblock"]),
        "*1\r\n*10\r\n$14\r\nclient|unblock\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n\
         :0\r\n:0\r\n:0\r\n*4\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n"
    );
    assert_eq!(
        q(&mut s, &["COMMAND", "INFO", "command|count"]),
        "*1\r\n*10\r\n$13\r\ncommand|count\r\n:2\r\n*2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n\
         *2\r\n+@slow\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n"
    );
    let dangerous = q(
        &mut s,
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "dangerous"],
    );
    for c in ["keys", "flushall", "flushdb", "swapdb"] {
        assert!(
            dangerous.contains(&format!("${}\r\n{c}\r\n", c.len())),
            "{c}: {dangerous}"
        );
    }
});

// ---- every command's COMMAND INFO and COMMAND DOCS against Valkey 9.1's ----

/// A RESP reply as data, for rendering.
enum Resp {
    Bulk(String),
    Simple(String),
    Int(i64),
    Null,
    Array(Vec<Resp>),
    Set(Vec<Resp>),
    Map(Vec<(Resp, Resp)>),
    Error(String),
}

fn parse_resp(buf: &[u8], at: &mut usize) -> Resp {
    let end = at_line_end(buf, *at);
    let line = std::str::from_utf8(&buf[*at + 1..end]).expect("utf-8 header");
    let tag = buf[*at];
    *at = end + 2;
    let n = || line.parse::<i64>().expect("length");
    match tag {
        b'$' if n() < 0 => Resp::Null,
        b'$' => {
            let len = n() as usize;
            let s = String::from_utf8(buf[*at..*at + len].to_vec()).expect("utf-8 bulk");
            *at += len + 2;
            Resp::Bulk(s)
        }
        b'+' => Resp::Simple(line.to_string()),
        b'-' => Resp::Error(line.to_string()),
        b':' => Resp::Int(n()),
        b'_' => Resp::Null,
        b'*' if n() < 0 => Resp::Null,
        b'*' | b'~' => {
            let items = (0..n()).map(|_| parse_resp(buf, at)).collect();
            if tag == b'*' {
                Resp::Array(items)
            } else {
                Resp::Set(items)
            }
        }
        b'%' => Resp::Map(
            (0..n())
                .map(|_| (parse_resp(buf, at), parse_resp(buf, at)))
                .collect(),
        ),
        other => panic!("unexpected reply type {:?}", other as char),
    }
}

fn at_line_end(buf: &[u8], at: usize) -> usize {
    at + buf[at..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("line end")
}

/// Fields whose values are prose (ours are our own words): only their
/// presence is compared. History entries keep their versions.
const PROSE: &[&str] = &["summary", "complexity", "notes", "replaced_by"];

fn text(r: &Resp) -> Option<&str> {
    match r {
        Resp::Bulk(s) | Resp::Simple(s) => Some(s),
        _ => None,
    }
}

fn masked(r: &Resp) -> Resp {
    match r {
        Resp::Bulk(s) => Resp::Bulk(s.clone()),
        Resp::Simple(s) => Resp::Simple(s.clone()),
        Resp::Int(n) => Resp::Int(*n),
        Resp::Null => Resp::Null,
        Resp::Error(e) => Resp::Error(e.clone()),
        Resp::Map(m) => Resp::Map(
            m.iter()
                .map(|(k, v)| (masked(k), mask_value(text(k), v)))
                .collect(),
        ),
        Resp::Array(a) => Resp::Array(mask_flat(a)),
        Resp::Set(a) => Resp::Set(mask_flat(a)),
    }
}

/// A map value: prose replaced, history texts replaced.
fn mask_value(key: Option<&str>, v: &Resp) -> Resp {
    match (key, v) {
        (Some(k), Resp::Bulk(_)) if PROSE.contains(&k) => Resp::Bulk("<prose>".into()),
        (Some(k), Resp::Simple(_)) if PROSE.contains(&k) => Resp::Simple("<prose>".into()),
        (Some("history"), Resp::Array(h)) => {
            Resp::Array(h.iter().map(mask_history_entry).collect())
        }
        (Some("history"), Resp::Set(h)) => Resp::Set(h.iter().map(mask_history_entry).collect()),
        _ => masked(v),
    }
}

fn mask_history_entry(e: &Resp) -> Resp {
    match e {
        Resp::Array(pair) if pair.len() == 2 => Resp::Array(vec![
            masked(&pair[0]),
            mask_value(Some("summary"), &pair[1]),
        ]),
        other => masked(other),
    }
}

/// A RESP2 map is a flat array: keys at even positions.
fn mask_flat(items: &[Resp]) -> Vec<Resp> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let key = text(&items[i]).filter(|k| PROSE.contains(k) || *k == "history");
        match (i % 2 == 0, key, items.get(i + 1)) {
            (true, Some(k), Some(v))
                if (k == "history" && matches!(v, Resp::Array(_) | Resp::Set(_)))
                    || (k != "history" && text(v).is_some()) =>
            {
                out.push(masked(&items[i]));
                out.push(mask_value(Some(k), v));
                i += 2;
            }
            _ => {
                out.push(masked(&items[i]));
                i += 1;
            }
        }
    }
    out
}

/// Valkey orders subcommands by a per-process hash seed: both sides list
/// them sorted by name (DOCS' `subcommands` map, an INFO entry's tenth
/// element).
fn sort_subcommands(r: Resp) -> Resp {
    let name = |r: &Resp| text(r).unwrap_or_default().to_string();
    match r {
        Resp::Map(m) => Resp::Map(
            m.into_iter()
                .map(|(k, v)| {
                    let v = sort_subcommands(v);
                    let v = match (text(&k), v) {
                        (Some("subcommands"), Resp::Map(mut subs)) => {
                            subs.sort_by_key(|(k, _)| name(k));
                            Resp::Map(subs)
                        }
                        (_, v) => v,
                    };
                    (k, v)
                })
                .collect(),
        ),
        Resp::Array(a) => {
            let mut items: Vec<Resp> = a.into_iter().map(sort_subcommands).collect();
            for i in (0..items.len().saturating_sub(1)).step_by(2) {
                if text(&items[i]) == Some("subcommands") {
                    if let Resp::Array(flat) = std::mem::replace(&mut items[i + 1], Resp::Null) {
                        let mut pairs: Vec<(Resp, Resp)> = Vec::new();
                        let mut it = flat.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            pairs.push((k, v));
                        }
                        pairs.sort_by_key(|(k, _)| name(k));
                        items[i + 1] =
                            Resp::Array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect());
                    }
                }
            }
            let info_entry = items.len() == 10
                && matches!(items[0], Resp::Bulk(_))
                && matches!(items[1], Resp::Int(_));
            if info_entry {
                if let Resp::Array(subs) = &mut items[9] {
                    subs.sort_by_key(|e| match e {
                        Resp::Array(f) => f.first().map(name).unwrap_or_default(),
                        _ => String::new(),
                    });
                }
            }
            Resp::Array(items)
        }
        Resp::Set(a) => Resp::Set(a.into_iter().map(sort_subcommands).collect()),
        other => other,
    }
}

/// JSON string escaping (as the capture script's `json.dumps`).
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The capture script's notation: "bulk" +"simple" 42 _ [array] ~[set] {map}.
fn render(r: &Resp) -> String {
    let list = |v: &[Resp]| v.iter().map(render).collect::<Vec<_>>().join(" ");
    match r {
        Resp::Bulk(s) => json_str(s),
        Resp::Simple(s) => format!("+{}", json_str(s)),
        Resp::Int(n) => n.to_string(),
        Resp::Null => "_".into(),
        Resp::Error(e) => format!("-{}", json_str(e)),
        Resp::Array(a) => format!("[{}]", list(a)),
        Resp::Set(a) => format!("~[{}]", list(a)),
        Resp::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{} {}", render(k), render(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

const VALKEY_META: &str = include_str!("data/valkey-command-meta.txt");

/// The arguments of a captured call: a JSON array of plain strings.
fn json_argv(s: &str) -> Vec<String> {
    let inner = s
        .strip_prefix("[\"")
        .and_then(|s| s.strip_suffix("\"]"))
        .expect("argv array");
    inner.split("\",\"").map(str::to_string).collect()
}

fn reply_of(s: &mut std::net::TcpStream, args: &[&[u8]]) -> Resp {
    let bytes = raw_roundtrip(s, &cmd(args), 1);
    parse_resp(&bytes, &mut 0)
}

server_test!(info_and_docs_match_valkey, |srv| {
    let mut resp2 = srv.raw();
    let mut resp3 = srv.raw();
    raw_roundtrip(&mut resp3, &cmd(&[b"HELLO", b"3"]), 1);
    let mut names = std::collections::BTreeSet::new();
    let mut diffs = Vec::new();
    let mut checked = 0;
    for line in VALKEY_META.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.splitn(4, ' ');
        let (name, kind, third, want) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let got = match kind {
            "info" | "docs" => {
                names.insert(name.to_string());
                let s = if third == "3" { &mut resp3 } else { &mut resp2 };
                let kind_arg = kind.to_ascii_uppercase();
                let r = reply_of(s, &[b"COMMAND", kind_arg.as_bytes(), name.as_bytes()]);
                render(&sort_subcommands(masked(&r)))
            }
            "getkeysandflags" => {
                let argv = json_argv(third);
                let mut args: Vec<&[u8]> = vec![b"COMMAND", b"GETKEYSANDFLAGS"];
                args.extend(argv.iter().map(|a| a.as_bytes()));
                render(&reply_of(&mut resp2, &args))
            }
            "list" => {
                let cat = name.trim_start_matches('@').as_bytes();
                let r = reply_of(
                    &mut resp2,
                    &[b"COMMAND", b"LIST", b"FILTERBY", b"ACLCAT", cat],
                );
                let Resp::Array(mut listed) = r else {
                    panic!("COMMAND LIST {name}: not an array")
                };
                listed.sort_by_key(|x| text(x).unwrap_or_default().to_string());
                render(&Resp::Array(listed))
            }
            other => panic!("unknown line kind {other}"),
        };
        checked += 1;
        if got != want {
            diffs.push(format!(
                "{name} {kind} {third}\n  valkey: {want}\n  ours:   {got}"
            ));
        }
    }
    // The file covers exactly the commands the table has.
    let ours: std::collections::BTreeSet<String> =
        CMD_TABLE.specs.iter().map(|s| s.name.to_string()).collect();
    assert_eq!(
        names, ours,
        "recapture with scripts/capture-command-meta.py"
    );
    assert!(checked > 4 * names.len(), "{checked}");
    assert!(
        diffs.is_empty(),
        "{} of {checked} replies differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
});
