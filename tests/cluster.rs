//! CLUSTER and ASKING on a server without cluster mode, at io-threads 1
//! and 4: replies as Valkey 9.1 gives them (captured with raw RESP).

#[macro_use]
mod common;

use common::{arr, int, q, OK};

const DISABLED: &str = "-ERR This instance has cluster support disabled\r\n";

server_test!(cluster_commands_report_cluster_mode_disabled, |srv| {
    let mut c = srv.raw();
    assert_eq!(q(&mut c, &["CONFIG", "RESETSTAT"]), OK);
    for args in [
        &["CLUSTER", "HELP"][..],
        &["CLUSTER", "INFO"],
        &["CLUSTER", "NODES"],
        &["cluster", "slots"],
        &["CLUSTER", "COUNTKEYSINSLOT", "1"],
        &["CLUSTER", "SETSLOT", "1", "STABLE"],
        &["ASKING"],
    ] {
        assert_eq!(q(&mut c, args), DISABLED, "{args:?}");
    }
    // KEYSLOT works without cluster mode; hash tags count.
    assert_eq!(q(&mut c, &["CLUSTER", "KEYSLOT", "foo"]), int(12182));
    assert_eq!(q(&mut c, &["CLUSTER", "KEYSLOT", "{a}b"]), int(15495));
    assert_eq!(q(&mut c, &["CLUSTER", "KEYSLOT", "ab{}c"]), int(3342));
    // The table refuses unknown subcommands and wrong counts first.
    assert_eq!(
        q(&mut c, &["CLUSTER", "FOO"]),
        "-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n"
    );
    assert_eq!(
        q(&mut c, &["CLUSTER", "INFO", "x"]),
        "-ERR wrong number of arguments for 'cluster|info' command\r\n"
    );
    assert_eq!(
        q(&mut c, &["CLUSTER"]),
        "-ERR wrong number of arguments for 'cluster' command\r\n"
    );
    assert_eq!(
        q(&mut c, &["ASKING", "x"]),
        "-ERR wrong number of arguments for 'asking' command\r\n"
    );
    // Refused by the handler: failed calls, their errors counted as ERR.
    // Refused by the table: rejected calls of the subcommand when it
    // exists (none for FOO), else of the command.
    let stats = q(&mut c, &["INFO", "commandstats"]);
    let counts = |name: &str| {
        let line = stats
            .lines()
            .find(|l| l.starts_with(&format!("cmdstat_{name}:")))
            .unwrap_or_default();
        let calls = line.split(',').next().unwrap_or_default();
        let tail: Vec<&str> = line.rsplitn(3, ',').collect();
        format!("{calls} {} {}", tail.get(1).unwrap_or(&""), tail[0])
    };
    assert_eq!(
        counts("cluster|help"),
        "cmdstat_cluster|help:calls=1 rejected_calls=0 failed_calls=1"
    );
    assert_eq!(
        counts("cluster|info"),
        "cmdstat_cluster|info:calls=1 rejected_calls=1 failed_calls=1"
    );
    assert_eq!(
        counts("cluster"),
        "cmdstat_cluster:calls=0 rejected_calls=1 failed_calls=0"
    );
    assert_eq!(
        counts("asking"),
        "cmdstat_asking:calls=1 rejected_calls=1 failed_calls=1"
    );
    assert_eq!(
        counts("cluster|keyslot"),
        "cmdstat_cluster|keyslot:calls=3 rejected_calls=0 failed_calls=0"
    );
    let errors = q(&mut c, &["INFO", "errorstats"]);
    assert!(errors.contains("errorstat_ERR:count=11\r\n"), "{errors}");
    // Listed like any command.
    assert!(q(
        &mut c,
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "cl*help"]
    )
    .contains("$12\r\ncluster|help\r\n"));
    assert_eq!(
        q(
            &mut c,
            &["COMMAND", "LIST", "FILTERBY", "PATTERN", "asking"]
        ),
        arr(&["asking"])
    );
    assert_eq!(
        q(&mut c, &["COMMAND", "GETKEYS", "cluster", "info"]),
        "-ERR The command has no key arguments\r\n"
    );
});

/// The `flags=` field of CLIENT INFO.
fn client_flags(c: &mut std::net::TcpStream) -> String {
    let info = q(c, &["CLIENT", "INFO"]);
    info.split(' ')
        .find_map(|f| f.strip_prefix("flags="))
        .unwrap_or_default()
        .to_string()
}

server_test!(readonly_and_readwrite_set_the_connection_flag, |srv| {
    let mut c = srv.raw();
    assert_eq!(client_flags(&mut c), "N");
    assert_eq!(q(&mut c, &["READONLY"]), OK);
    assert_eq!(client_flags(&mut c), "r");
    // In Valkey's letter order, between the others.
    assert_eq!(q(&mut c, &["CLIENT", "NO-EVICT", "on"]), OK);
    assert_eq!(q(&mut c, &["CLIENT", "NO-TOUCH", "on"]), OK);
    assert_eq!(client_flags(&mut c), "reT");
    assert_eq!(q(&mut c, &["READWRITE"]), OK);
    assert_eq!(client_flags(&mut c), "eT");
    assert_eq!(
        q(&mut c, &["READWRITE", "x"]),
        "-ERR wrong number of arguments for 'readwrite' command\r\n"
    );
    // RESET clears it.
    assert_eq!(q(&mut c, &["READONLY"]), OK);
    assert_eq!(q(&mut c, &["RESET"]), "+RESET\r\n");
    assert_eq!(client_flags(&mut c), "N");
    // Reads and writes run as before.
    assert_eq!(q(&mut c, &["READONLY"]), OK);
    assert_eq!(q(&mut c, &["SET", "k", "v"]), OK);
    assert_eq!(q(&mut c, &["GET", "k"]), "$1\r\nv\r\n");
});
