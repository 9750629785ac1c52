//! Geo commands: GEOADD, GEOPOS, GEODIST, GEOHASH, and the searches
//! (GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their `_RO`
//! forms). A geo set is a sorted set whose scores are 52-bit geohashes
//! (`util::geohash`); a search scans the score ranges of 9 cells around the
//! query and keeps the points inside its shape, as Valkey's geo.c does, in
//! the same order (so unsorted replies match too).
//!
//! Argument errors come in Valkey's order: the key's type first for the
//! searches, options left to right (a FROMMEMBER member is looked up as
//! its option is read), then the checks across options. GEOADD propagates
//! as the ZADD it amounts to, as Valkey rewrites it.

use bytes::Bytes;

use super::args::{float, int, is};
use super::Ctx;
use crate::config::notify;
use crate::error::{CmdError, CmdResult, SYNTAX, WRONGTYPE};
use crate::keyspace::zset::{Limits, ZSet};
use crate::keyspace::{Access, Db, Free, Value};
use crate::resp::ReplyBuf;
use crate::util::geohash::{
    decode_score, distance, format_coord, format_distance, geohash_string, score_of, search_areas,
    within, Shape, ShapeKind, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN,
};

mod pqsort;
mod rows;

pub use rows::COMMANDS;

const UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";

fn limits(ctx: &Ctx) -> Limits {
    let c = ctx.config();
    Limits::new(c.zset_max_listpack_entries, c.zset_max_listpack_value)
}

/// Reads a zset (hit/miss counted); None when the key is missing.
fn read<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<Option<&'a ZSet>, CmdError> {
    match db.lookup(key, now, Access::READ) {
        None => Ok(None),
        Some(e) => match super::stored(e.value())? {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// A longitude, latitude pair within the WGS84 limits Valkey indexes.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], CmdError> {
    let x = float(lon)?;
    let y = float(lat)?;
    if !(LONG_MIN..=LONG_MAX).contains(&x) || !(LAT_MIN..=LAT_MAX).contains(&y) {
        return Err(CmdError::owned(format!(
            "ERR invalid longitude,latitude pair {x:.6},{y:.6}"
        )));
    }
    Ok([x, y])
}

/// Metres per unit.
fn unit(a: &[u8]) -> Result<f64, CmdError> {
    if is(a, "m") {
        Ok(1.0)
    } else if is(a, "km") {
        Ok(1000.0)
    } else if is(a, "ft") {
        Ok(0.3048)
    } else if is(a, "mi") {
        Ok(1609.34)
    } else {
        Err(UNIT.into())
    }
}

/// `<radius> <unit>`: the radius and metres per unit.
fn radius_arg(r: &[u8], u: &[u8]) -> Result<(f64, f64), CmdError> {
    let radius = crate::util::num::parse_f64(r).ok_or(CmdError::from("ERR need numeric radius"))?;
    if radius < 0.0 {
        return Err("ERR radius cannot be negative".into());
    }
    Ok((radius, unit(u)?))
}

/// `<width> <height> <unit>`.
fn box_arg(w: &[u8], h: &[u8], u: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    use crate::util::num::parse_f64;
    let width = parse_f64(w).ok_or(CmdError::from("ERR need numeric width"))?;
    let height = parse_f64(h).ok_or(CmdError::from("ERR need numeric height"))?;
    if height < 0.0 || width < 0.0 {
        return Err("ERR height or width cannot be negative".into());
    }
    Ok((width, height, unit(u)?))
}

/// Text for an error that quotes an argument as C's `%s` does (up to a
/// NUL byte).
fn quoted(a: &[u8]) -> String {
    let end = a.iter().position(|&b| b == 0).unwrap_or(a.len());
    String::from_utf8_lossy(&a[..end]).into_owned()
}

/// The position of a member, or Valkey's error.
fn member_xy(z: &ZSet, m: &[u8]) -> Result<[f64; 2], CmdError> {
    match z.score(m) {
        Some(s) => {
            let (x, y) = decode_score(s);
            Ok([x, y])
        }
        None => Err(CmdError::owned(format!(
            "ERR member {} does not exist",
            quoted(m)
        ))),
    }
}

/// A coordinate: a bulk string in RESP2, a double in RESP3, both in the
/// `%.17Lf` text Valkey prints.
fn reply_coord(out: &mut ReplyBuf, v: f64) {
    let s = format_coord(v);
    if out.is_resp3() {
        out.raw(b",");
        out.raw(s.as_bytes());
        out.raw(b"\r\n");
    } else {
        out.bulk(s.as_bytes());
    }
}

// ---------------------------------------------------------------------------
// GEOADD

fn geoadd(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut first = 2;
    while first < argv.len() {
        let a = &argv[first][..];
        if is(a, "nx") {
            nx = true;
        } else if is(a, "xx") {
            xx = true;
        } else if is(a, "ch") {
            ch = true;
        } else {
            break;
        }
        first += 1;
    }
    if !(argv.len() - first).is_multiple_of(3) || (xx && nx) {
        return Err(SYNTAX.into());
    }
    let elements = (argv.len() - first) / 3;
    let mut scores = Vec::with_capacity(elements);
    for i in 0..elements {
        let at = first + 3 * i;
        let [x, y] = lon_lat(&argv[at], &argv[at + 1])?;
        scores.push(score_of(x, y));
    }
    // What remains is ZADD's work, with its checks.
    if elements == 0 {
        return Err(SYNTAX.into());
    }
    let key = &argv[1][..];
    let now = ctx.now;
    let lim = limits(ctx);
    let maxlen = (0..elements)
        .map(|i| argv[first + 3 * i + 2].len())
        .max()
        .unwrap_or(0);
    let exists = match ctx.db().lookup(key, now, Access::PEEK) {
        None => false,
        Some(e) if matches!(&*e.value(), Value::ZSet(_)) => true,
        Some(_) => return Err(WRONGTYPE.into()),
    };
    let (mut added, mut updated) = (0i64, 0i64);
    if !exists {
        if xx {
            ctx.out.int(0);
            return Ok(());
        }
        let z = ZSet::with_hint(elements, maxlen, lim);
        ctx.db().add(key, Value::ZSet(Box::new(z)), now);
        ctx.notify(notify::NEW, "new", key);
    }
    if let Some(Value::ZSet(z)) = ctx
        .db()
        .lookup(key, now, Access::WRITE)
        .map(|e| e.value_mut())
    {
        if exists {
            z.maybe_convert(elements, maxlen, lim);
        }
        for (i, &bits) in scores.iter().enumerate() {
            let member = &argv[first + 3 * i + 2][..];
            let score = bits as f64;
            match z.score(member) {
                Some(cur) => {
                    if nx {
                        continue;
                    }
                    if score != cur {
                        z.update(member, cur, score);
                        updated += 1;
                    }
                }
                None => {
                    if xx {
                        continue;
                    }
                    z.insert_new(member, score, lim);
                    added += 1;
                }
            }
        }
    }
    if added + updated > 0 {
        ctx.dirty((added + updated) as u64);
        ctx.modified(key);
        ctx.notify(notify::ZSET, "zadd", key);
        if ctx.propagating() {
            // Valkey runs GEOADD as the ZADD it builds, and that is what
            // replicas and the AOF get.
            let mut zadd = Vec::with_capacity(first + 2 * elements);
            zadd.push(Bytes::from_static(b"zadd"));
            zadd.extend(argv[1..first].iter().cloned());
            for (i, bits) in scores.iter().enumerate() {
                zadd.push(Bytes::from(bits.to_string()));
                zadd.push(argv[first + 3 * i + 2].clone());
            }
            ctx.rewrite(zadd);
        }
    }
    if added > 0 {
        ctx.signal_ready(key);
    }
    ctx.out.int(if ch { added + updated } else { added });
    Ok(())
}

// ---------------------------------------------------------------------------
// GEOPOS, GEOHASH, GEODIST

fn geopos(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let z = read(db, &argv[1], now)?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            None => out.null_array(),
            Some(s) => {
                let (x, y) = decode_score(s);
                out.array(2);
                reply_coord(out, x);
                reply_coord(out, y);
            }
        }
    }
    Ok(())
}

fn geohash(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let z = read(db, &argv[1], now)?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            None => out.null(),
            Some(s) => out.bulk(&geohash_string(s)),
        }
    }
    Ok(())
}

fn geodist(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let to_meter = match argv.len() {
        5 => unit(&argv[4])?,
        n if n > 5 => return Err(SYNTAX.into()),
        _ => 1.0,
    };
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let Some(z) = read(db, &argv[1], now)? else {
        out.null();
        return Ok(());
    };
    match (z.score(&argv[2]), z.score(&argv[3])) {
        (Some(a), Some(b)) => {
            let (x1, y1) = decode_score(a);
            let (x2, y2) = decode_score(b);
            out.bulk(format_distance(distance(x1, y1, x2, y2) / to_meter).as_bytes());
        }
        _ => out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The searches

/// Which command runs the search (Valkey's georadiusGeneric flags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GEORADIUS: center and radius as fixed arguments.
    Coords,
    /// GEORADIUSBYMEMBER: a member's position and a radius.
    Member,
    /// GEOSEARCH and GEOSEARCHSTORE: FROM... and BY... options.
    Search,
}

struct Flags {
    kind: Kind,
    /// The `_RO` forms: no STORE/STOREDIST.
    nostore: bool,
    /// GEOSEARCHSTORE.
    store: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// One point found.
struct Point<'z> {
    member: &'z [u8],
    score: f64,
    dist: f64,
    x: f64,
    y: f64,
}

fn georadius(ctx: &mut Ctx) -> CmdResult {
    search(
        ctx,
        1,
        Flags {
            kind: Kind::Coords,
            nostore: false,
            store: false,
        },
    )
}

fn georadius_ro(ctx: &mut Ctx) -> CmdResult {
    search(
        ctx,
        1,
        Flags {
            kind: Kind::Coords,
            nostore: true,
            store: false,
        },
    )
}

fn georadiusbymember(ctx: &mut Ctx) -> CmdResult {
    search(
        ctx,
        1,
        Flags {
            kind: Kind::Member,
            nostore: false,
            store: false,
        },
    )
}

fn georadiusbymember_ro(ctx: &mut Ctx) -> CmdResult {
    search(
        ctx,
        1,
        Flags {
            kind: Kind::Member,
            nostore: true,
            store: false,
        },
    )
}

fn geosearch(ctx: &mut Ctx) -> CmdResult {
    search(
        ctx,
        1,
        Flags {
            kind: Kind::Search,
            nostore: false,
            store: false,
        },
    )
}

fn geosearchstore(ctx: &mut Ctx) -> CmdResult {
    search(
        ctx,
        2,
        Flags {
            kind: Kind::Search,
            nostore: false,
            store: true,
        },
    )
}

/// What a search was asked for, after parsing.
struct Query<'a> {
    shape: Shape,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    sort: Sort,
    any: bool,
    count: usize,
    /// The destination and whether it gets distances (STOREDIST).
    store: Option<(&'a [u8], bool)>,
}

/// Parses a search's arguments in Valkey's order; `z` is the source (for
/// FROMMEMBER and GEORADIUSBYMEMBER), None when the key is missing.
fn parse<'a>(
    argv: &'a [Bytes],
    src: usize,
    flags: &Flags,
    z: Option<&ZSet>,
) -> Result<Query<'a>, CmdError> {
    let mut shape = Shape {
        kind: ShapeKind::Radius(0.0),
        xy: [0.0, 0.0],
        conversion: 0.0,
    };
    let mut store: Option<(&[u8], bool)> = None;
    let base = match flags.kind {
        Kind::Coords => {
            shape.xy = lon_lat(&argv[2], &argv[3])?;
            let (r, conv) = radius_arg(&argv[4], &argv[5])?;
            shape.kind = ShapeKind::Radius(r);
            shape.conversion = conv;
            6
        }
        Kind::Member => {
            // Without a source the reply is empty whatever the radius says,
            // but the options are still parsed for their errors.
            if let Some(z) = z {
                shape.xy = member_xy(z, &argv[2])?;
                let (r, conv) = radius_arg(&argv[3], &argv[4])?;
                shape.kind = ShapeKind::Radius(r);
                shape.conversion = conv;
            }
            5
        }
        Kind::Search => {
            if flags.store {
                store = Some((&argv[1][..], false));
            }
            src + 1
        }
    };
    let search = flags.kind == Kind::Search;
    let (mut withdist, mut withhash, mut withcoord, mut any) = (false, false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox, mut bypolygon) =
        (false, false, false, false, false);
    let mut sort = Sort::None;
    let mut count: i64 = 0;
    let remaining = argv.len().saturating_sub(base);
    let mut i = 0;
    while i < remaining {
        let arg = &argv[base + i][..];
        let at = |k: usize| &argv[base + i + k][..];
        if is(arg, "withdist") {
            withdist = true;
        } else if is(arg, "withhash") {
            withhash = true;
        } else if is(arg, "withcoord") {
            withcoord = true;
        } else if is(arg, "any") {
            any = true;
        } else if is(arg, "asc") {
            sort = Sort::Asc;
        } else if is(arg, "desc") {
            sort = Sort::Desc;
        } else if is(arg, "count") && i + 1 < remaining {
            count = int(at(1))?;
            if count <= 0 {
                return Err("ERR COUNT must be > 0".into());
            }
            i += 1;
        } else if (is(arg, "store") || is(arg, "storedist"))
            && i + 1 < remaining
            && !flags.nostore
            && !search
        {
            store = Some((at(1), is(arg, "storedist")));
            i += 1;
        } else if is(arg, "storedist") && search && flags.store {
            store = store.map(|(k, _)| (k, true));
        } else if is(arg, "frommember") && i + 1 < remaining && search && !fromloc && !bypolygon {
            if let Some(z) = z {
                shape.xy = member_xy(z, at(1))?;
            }
            frommember = true;
            i += 1;
        } else if is(arg, "fromlonlat") && i + 2 < remaining && search && !frommember && !bypolygon
        {
            shape.xy = lon_lat(at(1), at(2))?;
            fromloc = true;
            i += 2;
        } else if is(arg, "byradius") && i + 2 < remaining && search && !bybox && !bypolygon {
            let (r, conv) = radius_arg(at(1), at(2))?;
            shape.kind = ShapeKind::Radius(r);
            shape.conversion = conv;
            byradius = true;
            i += 2;
        } else if is(arg, "bybox") && i + 3 < remaining && search && !byradius && !bypolygon {
            let (w, h, conv) = box_arg(at(1), at(2), at(3))?;
            shape.kind = ShapeKind::Box(w, h);
            shape.conversion = conv;
            bybox = true;
            i += 3;
        } else if is(arg, "bypolygon")
            && i + 2 < remaining
            && search
            && !byradius
            && !bybox
            && !frommember
            && !fromloc
        {
            let n = crate::util::num::parse_i64(at(1))
                .filter(|n| i32::try_from(*n).is_ok())
                .ok_or(CmdError::from("ERR invalid number of vertices"))?;
            let possible = (remaining - i - 2) / 2;
            if n < 3 || (possible as i64) < n {
                return Err("ERR GEOSEARCH BYPOLYGON must have at least 3 vertices".into());
            }
            let n = n as usize;
            let mut points = Vec::with_capacity(n);
            for j in 0..n {
                points.push(lon_lat(at(2 + 2 * j), at(3 + 2 * j))?);
            }
            shape.kind = ShapeKind::Polygon(points);
            shape.conversion = 1.0;
            bypolygon = true;
            i += 1 + 2 * n;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if store.is_some() && (withdist || withhash || withcoord) {
        return Err(CmdError::owned(format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if flags.store {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )));
    }
    if search && !(frommember || fromloc) && !bypolygon {
        return Err(CmdError::owned(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            quoted(&argv[0])
        )));
    }
    if search && !(byradius || bybox || bypolygon) {
        return Err(CmdError::owned(format!(
            "ERR exactly one of BYRADIUS, BYBOX and BYPOLYGON can be specified for {}",
            quoted(&argv[0])
        )));
    }
    if any && count == 0 {
        return Err("ERR the ANY argument requires COUNT argument".into());
    }
    Ok(Query {
        shape,
        withdist,
        withhash,
        withcoord,
        sort,
        any,
        count: count as usize,
        store,
    })
}

/// The points of `z` inside the query's shape, in Valkey's scan order;
/// with ANY, stops at `count`.
fn collect<'z>(z: &'z ZSet, q: &mut Query) -> Vec<Point<'z>> {
    let areas = search_areas(&mut q.shape);
    let shape = &q.shape;
    let limit = if q.any { q.count } else { 0 };
    let mut pts: Vec<Point<'z>> = Vec::new();
    let mut last = 0usize;
    for (i, cell) in areas.cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Huge radii make neighbours coincide: skip a repeat of the cell
        // just scanned (Valkey never compares with the centre cell).
        if last != 0 && *cell == areas.cells[last] {
            continue;
        }
        if !pts.is_empty() && limit != 0 && pts.len() >= limit {
            break;
        }
        let (min, max) = cell.score_range();
        z.for_score_range(min as f64, max as f64, |member, score| {
            let (x, y) = decode_score(score);
            if let Some(dist) = within(shape, x, y) {
                pts.push(Point {
                    member,
                    score,
                    dist,
                    x,
                    y,
                });
            }
            !(limit != 0 && pts.len() >= limit)
        });
        last = i;
    }
    pts
}

fn search(ctx: &mut Ctx, src: usize, flags: Flags) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let lim = limits(ctx);
    let (db, out) = ctx.db_and_out();
    let z = read(db, &argv[src], now)?;
    let mut q = parse(argv, src, &flags, z)?;
    let Some(z) = z else {
        match q.store {
            Some((dst, _)) => {
                store_result(ctx, dst, None, 0, &flags);
            }
            None => out.array(0),
        }
        return Ok(());
    };
    if q.count != 0 && q.sort == Sort::None && !q.any {
        q.sort = Sort::Asc;
    }
    let mut pts = collect(z, &mut q);
    if pts.is_empty() && q.store.is_none() {
        out.array(0);
        return Ok(());
    }
    let returned = if q.count == 0 || pts.len() < q.count {
        pts.len()
    } else {
        q.count
    };
    if q.sort != Sort::None {
        let desc = q.sort == Sort::Desc;
        let cmp = |a: &Point, b: &Point| -> i32 {
            let c = if a.dist > b.dist {
                1
            } else if a.dist == b.dist {
                0
            } else {
                -1
            };
            if desc {
                -c
            } else {
                c
            }
        };
        if returned == pts.len() {
            // glibc's qsort is a merge sort here: stable, as this is.
            pts.sort_by(|a, b| cmp(a, b).cmp(&0));
        } else {
            pqsort::pqsort(&mut pts, &cmp, 0, returned - 1);
        }
    }
    let conversion = q.shape.conversion;
    let Some((dst, storedist)) = q.store else {
        let options = q.withdist as usize + q.withhash as usize + q.withcoord as usize;
        out.array(returned);
        for p in &pts[..returned] {
            if options > 0 {
                out.array(options + 1);
            }
            out.bulk(p.member);
            if q.withdist {
                out.bulk(format_distance(p.dist / conversion).as_bytes());
            }
            if q.withhash {
                out.int(p.score as i64);
            }
            if q.withcoord {
                out.array(2);
                reply_coord(out, p.x);
                reply_coord(out, p.y);
            }
        }
        return Ok(());
    };
    let result = (returned > 0).then(|| {
        let maxlen = pts[..returned]
            .iter()
            .map(|p| p.member.len())
            .max()
            .unwrap_or(0);
        let mut nz = ZSet::with_hint(returned, maxlen, lim);
        for p in &pts[..returned] {
            let score = if storedist {
                p.dist / conversion
            } else {
                p.score
            };
            nz.insert_new(p.member, score, lim);
        }
        nz
    });
    drop(pts);
    store_result(ctx, dst, result, returned, &flags);
    Ok(())
}

/// Stores a search's result under `dst` (deleting it when there is none)
/// and replies its size.
fn store_result(ctx: &mut Ctx, dst: &[u8], result: Option<ZSet>, n: usize, flags: &Flags) {
    let now = ctx.now;
    match result {
        Some(z) => {
            ctx.notify_if_new(dst);
            ctx.db().set(dst, Value::ZSet(Box::new(z)), false, now);
            ctx.dirty(n as u64);
            ctx.modified(dst);
            let event = if flags.kind == Kind::Search {
                "geosearchstore"
            } else {
                "georadiusstore"
            };
            ctx.notify(notify::ZSET, event, dst);
            ctx.signal_ready(dst);
        }
        None => {
            if ctx.db().delete(dst, now, Free::Sync) {
                ctx.modified(dst);
                ctx.notify(notify::GENERIC, "del", dst);
                ctx.dirty(1);
            }
        }
    }
    ctx.out.int(n as i64);
}
