//! Geo commands against the real server, replies compared byte for byte
//! with what Valkey 9.1 sends for the same commands (RESP2 and RESP3);
//! the transcripts were recorded from valkey-server 9.1.2.

mod common;

use common::q;
use std::net::TcpStream;

/// A connection switched to RESP3.
fn resp3(srv: &common::Server) -> TcpStream {
    let mut s = srv.raw();
    let _ = q(&mut s, &["HELLO", "3"]);
    s
}

server_test!(geoadd_pos_dist_hash, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOADD",
                "pts",
                "13.361389",
                "38.115556",
                "Palermo",
                "15.087269",
                "37.502669",
                "Catania"
            ]
        ),
        ":2\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOADD", "pts", "NX", "XX", "1", "2", "a"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOADD", "pts", "GT", "1", "2"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOADD", "pts", "181", "2", "a"]),
        "-ERR invalid longitude,latitude pair 181.000000,2.000000\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOADD", "pts", "1", "86", "a"]),
        "-ERR invalid longitude,latitude pair 1.000000,86.000000\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOADD", "pts", "x", "2", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOADD", "pts", "1", "inf", "a"]),
        "-ERR invalid longitude,latitude pair 1.000000,inf\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOADD", "pts", "CH", "CH", "CH"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["GEOADD", "pts", "CH", "NX", "1", "2", "a", "13", "38", "Palermo"]
        ),
        ":1\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOADD",
                "pts",
                "CH",
                "XX",
                "13.361389",
                "38.1",
                "Palermo",
                "1",
                "1",
                "b"
            ]
        ),
        ":1\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOADD", "pts", "XX", "1", "1", "zz"]),
        ":0\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZSCORE", "pts", "Palermo"]),
        "$16\r\n3479099893316159\r\n"
    );
    assert_eq!(q(&mut s, &["ZCARD", "pts"]), ":3\r\n");
    assert_eq!(
        q(&mut s, &["GEOPOS", "pts", "Palermo", "nope", "Catania"]),
        "*3\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.10000081174143105\r\n*-1\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"
    );
    assert_eq!(q(&mut s, &["GEOPOS", "nokey", "a"]), "*1\r\n*-1\r\n");
    assert_eq!(q(&mut s, &["GEOPOS", "pts"]), "*0\r\n");
    assert_eq!(
        q(&mut s, &["GEODIST", "pts", "Palermo", "Catania"]),
        "$11\r\n165587.0522\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEODIST", "pts", "Palermo", "Catania", "km"]),
        "$8\r\n165.5871\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEODIST", "pts", "Palermo", "Catania", "MI"]),
        "$8\r\n102.8913\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEODIST", "pts", "Palermo", "Catania", "ft"]),
        "$11\r\n543264.6071\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEODIST", "pts", "Palermo", "Catania", "parsec"]),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEODIST", "pts", "Palermo", "Catania", "km", "x"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(q(&mut s, &["GEODIST", "nokey", "a", "b"]), "$-1\r\n");
    assert_eq!(q(&mut s, &["GEODIST", "pts", "Palermo", "nope"]), "$-1\r\n");
    assert_eq!(
        q(&mut s, &["GEODIST", "pts", "Palermo", "Palermo"]),
        "$6\r\n0.0000\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOHASH", "pts", "Palermo", "Catania", "nope"]),
        "*3\r\n$11\r\nsqc88pckwf0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n"
    );
    assert_eq!(q(&mut s, &["GEOHASH", "nokey", "a"]), "*1\r\n$-1\r\n");
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOADD",
                "pts",
                "-180",
                "-85.05112878",
                "s",
                "180",
                "85.05112878",
                "n"
            ]
        ),
        ":2\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOPOS", "pts", "s", "n"]),
        "*2\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOHASH", "pts", "s", "n"]),
        "*2\r\n$11\r\n00bh0hbj200\r\n$11\r\nbp05b5048p0\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["ZADD", "pts", "-5", "neg", "1e20", "huge", "1.5", "frac"]
        ),
        ":3\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOPOS", "pts", "neg", "huge", "frac"]),
        "*3\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112497791824921\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOHASH", "pts", "neg", "huge"]),
        "*2\r\n$11\r\nbp05b5048p0\r\n$11\r\n00bh0hbj200\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEODIST", "pts", "neg", "huge"]),
        "$13\r\n18919844.5891\r\n"
    );
    assert_eq!(q(&mut s, &["SET", "str", "x"]), "+OK\r\n");
    assert_eq!(
        q(&mut s, &["GEOADD", "str", "1", "1", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOPOS", "str", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEODIST", "str", "a", "b", "xx"]),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOHASH", "str", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
});

server_test!(searches, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOADD",
                "pts",
                "13.361389",
                "38.115556",
                "Palermo",
                "15.087269",
                "37.502669",
                "Catania"
            ]
        ),
        ":2\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOADD", "pts", "2.35", "48.85", "Paris", "-0.1278", "51.5074", "London", "13.36",
                "38.11", "Palermo2"
            ]
        ),
        ":3\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km"
            ]
        ),
        "*3\r\n$8\r\nPalermo2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "pts", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "WITHDIST", "WITHCOORD", "WITHHASH"]),
        "*3\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*4\r\n$8\r\nPalermo2\r\n$8\r\n190.1377\r\n:3479099943497504\r\n*2\r\n$20\r\n13.35999995470046997\r\n$20\r\n38.11000028671502804\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "pts", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "DESC", "WITHDIST"]),
        "*3\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$8\r\nPalermo2\r\n$8\r\n190.1377\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMMEMBER",
                "Palermo",
                "BYRADIUS",
                "200",
                "km",
                "COUNT",
                "1"
            ]
        ),
        "*1\r\n$7\r\nPalermo\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMMEMBER",
                "Paris",
                "BYRADIUS",
                "2000",
                "km",
                "COUNT",
                "2",
                "ANY"
            ]
        ),
        "*2\r\n$5\r\nParis\r\n$8\r\nPalermo2\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "pts", "FROMMEMBER", "Paris", "BYRADIUS", "2000", "mi", "COUNT", "3", "DESC", "WITHDIST"]),
        "*3\r\n*2\r\n$7\r\nCatania\r\n$9\r\n1010.6706\r\n*2\r\n$8\r\nPalermo2\r\n$8\r\n923.0825\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n922.8014\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "pts", "FROMLONLAT", "0", "0", "BYRADIUS", "100000", "km", "WITHDIST"]),
        "*5\r\n*2\r\n$8\r\nPalermo2\r\n$9\r\n4454.1128\r\n*2\r\n$7\r\nPalermo\r\n$9\r\n4454.7332\r\n*2\r\n$7\r\nCatania\r\n$9\r\n4449.6961\r\n*2\r\n$5\r\nParis\r\n$9\r\n5438.0868\r\n*2\r\n$6\r\nLondon\r\n$9\r\n5728.9902\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "0",
                "m"
            ]
        ),
        "*0\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "pts", "BYPOLYGON", "4", "10", "30", "20", "30", "20", "40", "10", "40", "WITHCOORD", "WITHDIST", "WITHHASH"]),
        "*3\r\n*4\r\n$8\r\nPalermo2\r\n$11\r\n365119.7211\r\n:3479099943497504\r\n*2\r\n$20\r\n13.35999995470046997\r\n$20\r\n38.11000028671502804\r\n*4\r\n$7\r\nPalermo\r\n$11\r\n365634.1492\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*4\r\n$7\r\nCatania\r\n$11\r\n267053.9696\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEORADIUS", "pts", "15", "37", "200", "km", "WITHDIST"]),
        "*3\r\n*2\r\n$8\r\nPalermo2\r\n$8\r\n190.1377\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEORADIUS",
                "pts",
                "15",
                "37",
                "2000",
                "km",
                "COUNT",
                "2",
                "ANY"
            ]
        ),
        "*2\r\n$8\r\nPalermo2\r\n$7\r\nPalermo\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["GEORADIUS_RO", "pts", "15", "37", "2000", "ft", "WITHCOORD"]
        ),
        "*0\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["GEORADIUS_RO", "pts", "15", "37", "2000000", "FT", "ASC"]
        ),
        "*3\r\n$7\r\nCatania\r\n$8\r\nPalermo2\r\n$7\r\nPalermo\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEORADIUSBYMEMBER", "pts", "Palermo", "200", "km", "WITHDIST", "ASC"]),
        "*3\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$8\r\nPalermo2\r\n$6\r\n0.6298\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEORADIUSBYMEMBER_RO", "pts", "London", "400", "km", "WITHHASH"]),
        "*2\r\n*2\r\n$6\r\nLondon\r\n:2163557714755072\r\n*2\r\n$5\r\nParis\r\n:3663832751688490\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEORADIUSBYMEMBER", "pts", "nope", "200", "km"]),
        "-ERR member nope does not exist\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEORADIUSBYMEMBER", "nokey", "nope", "200", "km"]),
        "*0\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEORADIUSBYMEMBER", "nokey", "m", "x", "km"]),
        "*0\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "nokey",
                "FROMMEMBER",
                "nope",
                "BYRADIUS",
                "200",
                "km"
            ]
        ),
        "*0\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "nokey",
                "BYPOLYGON",
                "3",
                "10",
                "30",
                "20",
                "40",
                "20",
                "30"
            ]
        ),
        "*0\r\n"
    );
});

server_test!(search_errors, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOADD",
                "pts",
                "13.361389",
                "38.115556",
                "Palermo",
                "15.087269",
                "37.502669",
                "Catania"
            ]
        ),
        ":2\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMMEMBER",
                "nope",
                "BYRADIUS",
                "200",
                "km"
            ]
        ),
        "-ERR member nope does not exist\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMMEMBER",
                "nope",
                "BYRADIUS",
                "x",
                "km"
            ]
        ),
        "-ERR member nope does not exist\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "nokey",
                "FROMMEMBER",
                "nope",
                "BYRADIUS",
                "x",
                "km"
            ]
        ),
        "-ERR need numeric radius\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "pts", "BYRADIUS", "200", "km"]),
        "-ERR wrong number of arguments for 'geosearch' command\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["geosearch", "pts", "BYRADIUS", "200", "km", "ASC"]
        ),
        "-ERR wrong number of arguments for 'geosearch' command\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["GEOSEARCH", "pts", "FROMLONLAT", "15", "37", "COUNT", "1"]
        ),
        "-ERR exactly one of BYRADIUS, BYBOX and BYPOLYGON can be specified for GEOSEARCH\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "COUNT",
                "0"
            ]
        ),
        "-ERR COUNT must be > 0\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "COUNT",
                "x"
            ]
        ),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "ANY"
            ]
        ),
        "-ERR the ANY argument requires COUNT argument\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "-1",
                "km"
            ]
        ),
        "-ERR radius cannot be negative\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "1",
                "parsec"
            ]
        ),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "-1",
                "1",
                "km"
            ]
        ),
        "-ERR height or width cannot be negative\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "x",
                "1",
                "km"
            ]
        ),
        "-ERR need numeric width\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "1",
                "x",
                "km"
            ]
        ),
        "-ERR need numeric height\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "1",
                "km",
                "BYBOX",
                "1",
                "1",
                "km"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "FROMMEMBER",
                "Palermo",
                "BYRADIUS",
                "1",
                "km"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "1",
                "km",
                "STORE",
                "x"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "1",
                "km",
                "STOREDIST"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "200",
                "37",
                "BYRADIUS",
                "1",
                "km"
            ]
        ),
        "-ERR invalid longitude,latitude pair 200.000000,37.000000\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "1e-400",
                "37",
                "BYRADIUS",
                "1",
                "km"
            ]
        ),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYPOLYGON",
                "3",
                "10",
                "30",
                "20",
                "40",
                "20",
                "30"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["GEOSEARCH", "pts", "BYPOLYGON", "2", "1", "1", "2", "2"]
        ),
        "-ERR GEOSEARCH BYPOLYGON must have at least 3 vertices\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["GEOSEARCH", "pts", "BYPOLYGON", "3", "1", "1", "2", "2"]
        ),
        "-ERR GEOSEARCH BYPOLYGON must have at least 3 vertices\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "BYPOLYGON",
                "x",
                "1",
                "1",
                "2",
                "2",
                "3",
                "3"
            ]
        ),
        "-ERR invalid number of vertices\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "BYPOLYGON",
                "10000000000",
                "1",
                "1",
                "2",
                "2",
                "3",
                "3"
            ]
        ),
        "-ERR invalid number of vertices\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "BYPOLYGON",
                "3",
                "1",
                "1",
                "2",
                "2",
                "3",
                "300"
            ]
        ),
        "-ERR invalid longitude,latitude pair 3.000000,300.000000\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "pts",
                "BYPOLYGON",
                "3",
                "10",
                "30",
                "20",
                "40",
                "20",
                "30",
                "FROMMEMBER",
                "Palermo"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "WITHDIST"
            ]
        ),
        "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "STORE",
                "x"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEORADIUS", "pts", "15", "37", "200", "km", "STORE", "dst", "WITHDIST"]),
        "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEORADIUS_RO",
                "pts",
                "15",
                "37",
                "200",
                "km",
                "STORE",
                "dst"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["GEORADIUS", "pts", "15", "37", "1", "km", "STORE"]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEORADIUS",
                "pts",
                "15",
                "37",
                "200",
                "km",
                "FROMLONLAT",
                "1",
                "1"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["GEORADIUS", "pts", "15", "37", "200", "km", "ANY"]
        ),
        "-ERR the ANY argument requires COUNT argument\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEORADIUS", "nokey", "15", "37", "x", "km"]),
        "-ERR need numeric radius\r\n"
    );
    assert_eq!(q(&mut s, &["SET", "str", "x"]), "+OK\r\n");
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "str",
                "FROMLONLAT",
                "1",
                "1",
                "BYRADIUS",
                "x",
                "km"
            ]
        ),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEORADIUS", "str", "1", "1", "1", "km"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
});

server_test!(stores, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOADD",
                "pts",
                "13.361389",
                "38.115556",
                "Palermo",
                "15.087269",
                "37.502669",
                "Catania"
            ]
        ),
        ":2\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOADD", "pts", "2.35", "48.85", "Paris"]),
        ":1\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km"
            ]
        ),
        ":2\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "STOREDIST"
            ]
        ),
        ":2\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        "*4\r\n$7\r\nCatania\r\n$16\r\n56.4412578701582\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"
    );
    assert_eq!(
        q(&mut s, &["OBJECT", "ENCODING", "dst"]),
        "$8\r\nlistpack\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "1",
                "km"
            ]
        ),
        ":0\r\n"
    );
    assert_eq!(q(&mut s, &["EXISTS", "dst"]), ":0\r\n");
    assert_eq!(q(&mut s, &["SET", "dst", "x", "EX", "100"]), "+OK\r\n");
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "COUNT",
                "1"
            ]
        ),
        ":1\r\n"
    );
    assert_eq!(q(&mut s, &["TTL", "dst"]), ":-1\r\n");
    assert_eq!(
        q(&mut s, &["ZRANGE", "dst", "0", "-1"]),
        "*1\r\n$7\r\nCatania\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "nokey",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km"
            ]
        ),
        ":0\r\n"
    );
    assert_eq!(q(&mut s, &["EXISTS", "dst"]), ":0\r\n");
    assert_eq!(
        q(
            &mut s,
            &["GEORADIUS", "pts", "15", "37", "200", "km", "STORE", "dst2"]
        ),
        ":2\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "dst2", "0", "-1", "WITHSCORES"]),
        "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEORADIUS",
                "pts",
                "15",
                "37",
                "2000",
                "km",
                "STOREDIST",
                "dst2",
                "DESC",
                "COUNT",
                "2"
            ]
        ),
        ":2\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "dst2", "0", "-1", "WITHSCORES"]),
        "*4\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n$5\r\nParis\r\n$18\r\n1668.2449167407121\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEORADIUSBYMEMBER",
                "pts",
                "Paris",
                "10",
                "km",
                "STORE",
                "dst2"
            ]
        ),
        ":1\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "dst2", "0", "-1", "WITHSCORES"]),
        "*2\r\n$5\r\nParis\r\n$16\r\n3663832751688490\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEORADIUSBYMEMBER",
                "nokey",
                "nope",
                "200",
                "km",
                "STORE",
                "dst2"
            ]
        ),
        ":0\r\n"
    );
    assert_eq!(q(&mut s, &["EXISTS", "dst2"]), ":0\r\n");
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCHSTORE",
                "pts",
                "pts",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km"
            ]
        ),
        ":2\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "pts", "0", "-1"]),
        "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"
    );
});

server_test!(resp3_replies, |srv| {
    let mut s = resp3(srv);
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOADD",
                "pts",
                "13.361389",
                "38.115556",
                "Palermo",
                "15.087269",
                "37.502669",
                "Catania"
            ]
        ),
        ":2\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOADD", "pts", "180", "85.05112878", "n"]),
        ":1\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOPOS", "pts", "Palermo", "nope", "n"]),
        "*3\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n*2\r\n,180\r\n,85.0511287799999991\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEODIST", "pts", "Palermo", "Catania"]),
        "$11\r\n166274.1516\r\n"
    );
    assert_eq!(q(&mut s, &["GEODIST", "pts", "Palermo", "nope"]), "_\r\n");
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "pts", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "WITHCOORD", "WITHDIST", "WITHHASH", "ASC"]),
        "*2\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOHASH", "pts", "Palermo", "nope"]),
        "*2\r\n$11\r\nsqc8b49rny0\r\n_\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "nokey",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km"
            ]
        ),
        "*0\r\n"
    );
    assert_eq!(q(&mut s, &["GEOPOS", "nokey", "a"]), "*1\r\n_\r\n");
});

server_test!(grid_ties_and_partial_sorts, |srv| {
    let mut s = srv.raw();
    // 400 grid points 0.05 degrees apart, and five more on one of them.
    let mut add: Vec<String> = vec!["GEOADD".into(), "g".into()];
    for i in 0..20 {
        for j in 0..20 {
            add.push(format!("{:.2}", 10.0 + i as f64 * 0.05));
            add.push(format!("{:.2}", 45.0 + j as f64 * 0.05));
            add.push(format!("p{i}_{j}"));
        }
    }
    for k in 0..5 {
        add.extend(["10.50".to_string(), "45.50".to_string(), format!("d{k}")]);
    }
    let add: Vec<&str> = add.iter().map(|x| x.as_str()).collect();
    assert_eq!(q(&mut s, &add), ":405\r\n");
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "g", "FROMLONLAT", "10.5", "45.5", "BYRADIUS", "10", "km", "ASC", "COUNT", "7", "WITHDIST"]),
        "*7\r\n*2\r\n$2\r\nd1\r\n$6\r\n0.0002\r\n*2\r\n$6\r\np10_10\r\n$6\r\n0.0002\r\n*2\r\n$2\r\nd4\r\n$6\r\n0.0002\r\n*2\r\n$2\r\nd2\r\n$6\r\n0.0002\r\n*2\r\n$2\r\nd3\r\n$6\r\n0.0002\r\n*2\r\n$2\r\nd0\r\n$6\r\n0.0002\r\n*2\r\n$5\r\np9_10\r\n$6\r\n3.8978\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "g", "FROMLONLAT", "10.5", "45.5", "BYRADIUS", "10", "km", "DESC", "COUNT", "9"]),
        "*9\r\n$5\r\np12_9\r\n$4\r\np8_9\r\n$6\r\np12_11\r\n$5\r\np8_11\r\n$6\r\np12_10\r\n$5\r\np8_10\r\n$5\r\np11_9\r\n$4\r\np9_9\r\n$6\r\np11_11\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "GEOSEARCH",
                "g",
                "FROMLONLAT",
                "10.5",
                "45.5",
                "BYRADIUS",
                "10",
                "km",
                "COUNT",
                "3",
                "ANY"
            ]
        ),
        "*3\r\n$4\r\np8_9\r\n$4\r\np9_9\r\n$5\r\np8_10\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "g", "FROMLONLAT", "10.5", "45.5", "BYRADIUS", "6", "km"]),
        "*10\r\n$5\r\np9_10\r\n$5\r\np10_9\r\n$2\r\nd0\r\n$2\r\nd1\r\n$2\r\nd2\r\n$2\r\nd3\r\n$2\r\nd4\r\n$6\r\np10_10\r\n$6\r\np10_11\r\n$6\r\np11_10\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "g", "FROMMEMBER", "d3", "BYBOX", "20", "20", "km", "COUNT", "50", "WITHDIST"]),
        "*20\r\n*2\r\n$2\r\nd0\r\n$6\r\n0.0000\r\n*2\r\n$2\r\nd1\r\n$6\r\n0.0000\r\n*2\r\n$2\r\nd2\r\n$6\r\n0.0000\r\n*2\r\n$2\r\nd3\r\n$6\r\n0.0000\r\n*2\r\n$2\r\nd4\r\n$6\r\n0.0000\r\n*2\r\n$6\r\np10_10\r\n$6\r\n0.0000\r\n*2\r\n$5\r\np9_10\r\n$6\r\n3.8977\r\n*2\r\n$6\r\np11_10\r\n$6\r\n3.8981\r\n*2\r\n$5\r\np10_9\r\n$6\r\n5.5613\r\n*2\r\n$6\r\np10_11\r\n$6\r\n5.5613\r\n*2\r\n$5\r\np9_11\r\n$6\r\n6.7902\r\n*2\r\n$6\r\np11_11\r\n$6\r\n6.7904\r\n*2\r\n$4\r\np9_9\r\n$6\r\n6.7922\r\n*2\r\n$5\r\np11_9\r\n$6\r\n6.7924\r\n*2\r\n$5\r\np8_10\r\n$6\r\n7.7958\r\n*2\r\n$6\r\np12_10\r\n$6\r\n7.7962\r\n*2\r\n$5\r\np8_11\r\n$6\r\n9.5733\r\n*2\r\n$6\r\np12_11\r\n$6\r\n9.5737\r\n*2\r\n$4\r\np8_9\r\n$6\r\n9.5790\r\n*2\r\n$5\r\np12_9\r\n$6\r\n9.5793\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "g", "FROMLONLAT", "10.52", "45.51", "BYBOX", "9", "7", "km", "ASC"]),
        "*7\r\n$2\r\nd0\r\n$2\r\nd1\r\n$2\r\nd2\r\n$2\r\nd3\r\n$2\r\nd4\r\n$6\r\np10_10\r\n$6\r\np11_10\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEORADIUS", "g", "10.6", "45.6", "5", "km", "COUNT", "12", "DESC", "WITHHASH"]),
        "*3\r\n*2\r\n$6\r\np11_12\r\n:3663213041033256\r\n*2\r\n$6\r\np13_12\r\n:3663213586416170\r\n*2\r\n$6\r\np12_12\r\n:3663213177374890\r\n"
    );
    assert_eq!(
        q(&mut s, &["GEOSEARCH", "g", "BYPOLYGON", "5", "10.1", "45.1", "10.6", "45.05", "10.9", "45.5", "10.4", "45.9", "10.05", "45.4", "COUNT", "20"]),
        "*20\r\n$4\r\np8_8\r\n$4\r\np9_8\r\n$4\r\np8_7\r\n$4\r\np7_8\r\n$4\r\np9_7\r\n$4\r\np7_7\r\n$4\r\np8_9\r\n$5\r\np10_8\r\n$4\r\np9_9\r\n$4\r\np7_9\r\n$5\r\np10_7\r\n$4\r\np6_8\r\n$5\r\np10_9\r\n$4\r\np6_7\r\n$4\r\np8_6\r\n$4\r\np9_6\r\n$4\r\np6_9\r\n$5\r\np11_8\r\n$4\r\np7_6\r\n$5\r\np11_7\r\n"
    );
    assert_eq!(
        q(&mut s, &["OBJECT", "ENCODING", "g"]),
        "$8\r\nskiplist\r\n"
    );
});
