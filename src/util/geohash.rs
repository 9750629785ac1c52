//! Valkey's geohash arithmetic, bit for bit: the 52-bit interleaved hash a
//! geo set keeps as each member's score, its decoding to the centre of the
//! cell, the 8 neighbours of a cell, the search areas for a radius, box or
//! polygon query (step estimation, the edge and pole adjustments), the
//! haversine distance on a sphere of radius 6372797.560856 m, and the
//! fixed formats Valkey prints coordinates and distances in.
//!
//! Everything here is plain `f64` arithmetic in the same order as Valkey's C
//! (no fused multiply-adds, the same libm functions), so that coordinates
//! and distances match Valkey's replies to the last printed digit.

/// Bits per coordinate of a stored hash (52 bits in all).
pub const STEP_MAX: u8 = 26;
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// The sphere distances are measured on (metres).
pub const EARTH_RADIUS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

#[inline]
fn deg_rad(a: f64) -> f64 {
    a * D_R
}

#[inline]
fn rad_deg(a: f64) -> f64 {
    a / D_R
}

/// A hash of `step` bits per coordinate (longitude on odd bits, latitude on
/// even ones). `step == 0` with `bits == 0` is the "no cell" value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Hash {
    pub bits: u64,
    pub step: u8,
}

impl Hash {
    pub const ZERO: Hash = Hash { bits: 0, step: 0 };

    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// Left-aligned to 52 bits: the score range a cell covers starts here.
    pub fn align52(&self) -> u64 {
        self.bits << (52 - self.step as u32 * 2)
    }

    /// The score range `[min, max)` holding every point of this cell.
    pub fn score_range(&self) -> (u64, u64) {
        let next = Hash {
            bits: self.bits.wrapping_add(1),
            step: self.step,
        };
        (self.align52(), next.align52())
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The rectangle of a cell.
#[derive(Clone, Copy, Debug, Default)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

const WGS84_LONG: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// Bits of `x` on even positions, bits of `y` on odd ones.
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = xlo as u64;
    let mut y = ylo as u64;
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The even bits in the low half, the odd bits in the high half.
fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// Encodes a point at `step` bits per coordinate within the given ranges;
/// None outside the WGS84 limits or the ranges.
pub fn encode_in(
    long_r: Range,
    lat_r: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<Hash> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_r.min
        || latitude > lat_r.max
        || longitude < long_r.min
        || longitude > long_r.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_r.min) / (lat_r.max - lat_r.min);
    let mut long_offset = (longitude - long_r.min) / (long_r.max - long_r.min);
    let scale = (1u64 << step) as f64;
    lat_offset *= scale;
    long_offset *= scale;
    Some(Hash {
        bits: interleave64(lat_offset as u32, long_offset as u32),
        step,
    })
}

/// Encodes a point with Valkey's ranges (latitude within ±85.05112878).
pub fn encode(longitude: f64, latitude: f64, step: u8) -> Option<Hash> {
    encode_in(WGS84_LONG, WGS84_LAT, longitude, latitude, step)
}

/// The score GEOADD stores for a point (already range-checked).
pub fn score_of(longitude: f64, latitude: f64) -> u64 {
    encode(longitude, latitude, STEP_MAX).map_or(0, |h| h.align52())
}

/// The rectangle of a cell; None for the zero hash.
pub fn decode(hash: Hash) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = WGS84_LAT.max - WGS84_LAT.min;
    let long_scale = WGS84_LONG.max - WGS84_LONG.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    // `+ 1` wraps as the C's 32-bit arithmetic does (only for scores no
    // GEOADD writes).
    Some(Area {
        latitude: Range {
            min: WGS84_LAT.min + (ilato as f64 * 1.0 / div) * lat_scale,
            max: WGS84_LAT.min + (ilato.wrapping_add(1) as f64 * 1.0 / div) * lat_scale,
        },
        longitude: Range {
            min: WGS84_LONG.min + (ilono as f64 * 1.0 / div) * long_scale,
            max: WGS84_LONG.min + (ilono.wrapping_add(1) as f64 * 1.0 / div) * long_scale,
        },
    })
}

/// The centre of a cell, clamped to the WGS84 limits: (longitude, latitude).
fn area_center(area: &Area) -> (f64, f64) {
    let x = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let y = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (x, y)
}

/// C's `(uint64_t)d` on x86-64: what Valkey makes of a score before
/// decoding it (any score a ZADD could write, not only GEOADD's).
pub fn score_bits(d: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    // cvttsd2si: out of range (and NaN) is the "indefinite" 1 << 63.
    let cvt = |v: f64| -> u64 {
        if !(-TWO63..TWO63).contains(&v) {
            1u64 << 63
        } else {
            (v as i64) as u64
        }
    };
    if d >= TWO63 {
        cvt(d - TWO63) ^ (1u64 << 63)
    } else {
        cvt(d)
    }
}

/// The point a member's score stands for: (longitude, latitude).
pub fn decode_score(score: f64) -> (f64, f64) {
    let hash = Hash {
        bits: score_bits(score),
        step: STEP_MAX,
    };
    // The step is never 0, so the hash is never the zero hash.
    decode(hash).map_or((0.0, 0.0), |a| area_center(&a))
}

/// The standard 11-character geohash of a member's score (GEOHASH):
/// decoded, then re-encoded over latitude ±90 as other tools expect.
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (x, y) = decode_score(score);
    let bits = encode_in(
        Range {
            min: -180.0,
            max: 180.0,
        },
        Range {
            min: -90.0,
            max: 90.0,
        },
        x,
        y,
        26,
    )
    .map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    out
}

// ---------------------------------------------------------------------------
// Neighbours and search areas

fn move_x(hash: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - hash.step as u32 * 2;
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> shift;
    hash.bits = x | y;
}

fn move_y(hash: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - hash.step as u32 * 2;
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> shift;
    hash.bits = x | y;
}

fn moved(hash: Hash, dx: i8, dy: i8) -> Hash {
    let mut h = hash;
    move_x(&mut h, dx);
    move_y(&mut h, dy);
    h
}

/// A query's shape. Distances are in the query's unit; `conversion` is
/// metres per unit.
#[derive(Clone, Debug)]
pub enum ShapeKind {
    Radius(f64),
    /// Width and height.
    Box(f64, f64),
    /// Vertices as (longitude, latitude); always in metres.
    Polygon(Vec<[f64; 2]>),
}

#[derive(Clone, Debug)]
pub struct Shape {
    pub kind: ShapeKind,
    /// The centre (longitude, latitude); a polygon's is its centroid, set
    /// by `search_areas`.
    pub xy: [f64; 2],
    pub conversion: f64,
}

/// The cells a query scans, in Valkey's order: the centre cell, then north,
/// south, east, west, north-east, north-west, south-east, south-west. A
/// cell not worth scanning is `Hash::ZERO`.
pub struct Areas {
    pub cells: [Hash; 9],
}

/// The step (bits per coordinate) whose cells are about the query's size.
pub fn estimate_steps(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The bounding box (min lon, min lat, max lon, max lat); for a polygon
/// also its centroid, stored in `shape.xy`.
fn bounding_box(shape: &mut Shape) -> [f64; 4] {
    let (height, width) = match &shape.kind {
        ShapeKind::Radius(r) => (shape.conversion * r, shape.conversion * r),
        ShapeKind::Box(w, h) => (shape.conversion * h / 2.0, shape.conversion * w / 2.0),
        ShapeKind::Polygon(points) => {
            let (mut x, mut y, mut z) = (0.0f64, 0.0f64, 0.0f64);
            let (mut min_lon, mut max_lon) = (LONG_MAX, LONG_MIN);
            let (mut min_lat, mut max_lat) = (LAT_MAX, LAT_MIN);
            for p in points {
                let (longitude, latitude) = (p[0], p[1]);
                if longitude < min_lon {
                    min_lon = longitude;
                }
                if longitude > max_lon {
                    max_lon = longitude;
                }
                if latitude < min_lat {
                    min_lat = latitude;
                }
                if latitude > max_lat {
                    max_lat = latitude;
                }
                let lon_rad = deg_rad(longitude);
                let lat_rad = deg_rad(latitude);
                x += lat_rad.cos() * lon_rad.cos();
                y += lat_rad.cos() * lon_rad.sin();
                z += lat_rad.sin();
            }
            let central_lon = y.atan2(x);
            let central_hyp = (x * x + y * y).sqrt();
            let central_lat = z.atan2(central_hyp);
            shape.xy = [rad_deg(central_lon), rad_deg(central_lat)];
            return [min_lon, min_lat, max_lon, max_lat];
        }
    };
    let [longitude, latitude] = shape.xy;
    let lat_delta = rad_deg(height / EARTH_RADIUS);
    let long_delta_top = rad_deg(width / EARTH_RADIUS / deg_rad(latitude + lat_delta).cos());
    let long_delta_bottom = rad_deg(width / EARTH_RADIUS / deg_rad(latitude - lat_delta).cos());
    let south = latitude < 0.0;
    let delta = if south {
        long_delta_bottom
    } else {
        long_delta_top
    };
    [
        longitude - delta,
        latitude - lat_delta,
        longitude + delta,
        latitude + lat_delta,
    ]
}

/// The 9 cells covering a query (Valkey's geohashCalculateAreasByShapeWGS84).
pub fn search_areas(shape: &mut Shape) -> Areas {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let [longitude, latitude] = shape.xy;
    let mut radius_meters = match &shape.kind {
        ShapeKind::Radius(r) => *r,
        ShapeKind::Box(w, h) => ((w / 2.0) * (w / 2.0) + (h / 2.0) * (h / 2.0)).sqrt(),
        ShapeKind::Polygon(_) => {
            let corners = [
                distance(longitude, latitude, min_lon, max_lat),
                distance(longitude, latitude, max_lon, max_lat),
                distance(longitude, latitude, min_lon, min_lat),
                distance(longitude, latitude, max_lon, min_lat),
            ];
            let mut r = corners[0];
            for c in &corners[1..] {
                if *c > r {
                    r = *c;
                }
            }
            r
        }
    };
    radius_meters *= shape.conversion;

    let mut steps = estimate_steps(radius_meters, latitude);
    let cells_at = |steps: u8| -> (Hash, Area, [Hash; 8]) {
        // A polygon's centroid can lie beyond the indexed latitudes (vertices
        // around a pole). Valkey then leaves the cell uninitialized (its
        // result depends on the stack: on the client's previous command);
        // here the cell is the nearest one, so the result is the same each
        // time. Other centres were range-checked or decoded.
        let hash = encode(longitude, latitude.clamp(LAT_MIN, LAT_MAX), steps).unwrap_or(Hash {
            bits: 0,
            step: steps,
        });
        let area = decode(hash).unwrap_or_default();
        let n = [
            moved(hash, 0, 1),   // north
            moved(hash, 0, -1),  // south
            moved(hash, 1, 0),   // east
            moved(hash, -1, 0),  // west
            moved(hash, 1, 1),   // north-east
            moved(hash, -1, 1),  // north-west
            moved(hash, 1, -1),  // south-east
            moved(hash, -1, -1), // south-west
        ];
        (hash, area, n)
    };
    let (mut hash, mut area, mut n) = cells_at(steps);

    // A neighbour too close to the query's edge means the step is too fine
    // to cover it: one step coarser.
    let north = decode(n[0]).unwrap_or_default();
    let south = decode(n[1]).unwrap_or_default();
    let east = decode(n[2]).unwrap_or_default();
    let west = decode(n[3]).unwrap_or_default();
    let decrease = north.latitude.max < max_lat
        || south.latitude.min > min_lat
        || east.longitude.max < max_lon
        || west.longitude.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        (hash, area, n) = cells_at(steps);
    }

    // Drop the neighbours the query cannot reach.
    if steps >= 2 {
        const N: usize = 0;
        const S: usize = 1;
        const E: usize = 2;
        const W: usize = 3;
        const NE: usize = 4;
        const NW: usize = 5;
        const SE: usize = 6;
        const SW: usize = 7;
        if area.latitude.min < min_lat {
            n[S] = Hash::ZERO;
            n[SW] = Hash::ZERO;
            n[SE] = Hash::ZERO;
        }
        if area.latitude.max > max_lat {
            n[N] = Hash::ZERO;
            n[NE] = Hash::ZERO;
            n[NW] = Hash::ZERO;
        }
        if area.longitude.min < min_lon {
            n[W] = Hash::ZERO;
            n[SW] = Hash::ZERO;
            n[NW] = Hash::ZERO;
        }
        if area.longitude.max > max_lon {
            n[E] = Hash::ZERO;
            n[SE] = Hash::ZERO;
            n[NE] = Hash::ZERO;
        }
    }
    Areas {
        cells: [hash, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]],
    }
}

// ---------------------------------------------------------------------------
// Distances

/// Distance along a meridian (same longitude).
fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// Haversine great-circle distance in metres.
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    // Practically the same longitude (about 6 nm apart): the cheap formula.
    if v.abs() <= 1e-15 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

/// The distance from the shape's centre to the point if the point is
/// inside the shape.
pub fn within(shape: &Shape, x: f64, y: f64) -> Option<f64> {
    let [cx, cy] = shape.xy;
    match &shape.kind {
        ShapeKind::Radius(r) => {
            let d = distance(cx, cy, x, y);
            (d <= r * shape.conversion).then_some(d)
        }
        ShapeKind::Box(w, h) => {
            let (width_m, height_m) = (w * shape.conversion, h * shape.conversion);
            if lat_distance(y, cy) > height_m / 2.0 {
                return None;
            }
            if distance(x, y, cx, y) > width_m / 2.0 {
                return None;
            }
            Some(distance(cx, cy, x, y))
        }
        ShapeKind::Polygon(v) => {
            let mut inside = false;
            let n = v.len();
            let mut j = n.wrapping_sub(1);
            for i in 0..n {
                let (a, b) = (v[i], v[j]);
                if (a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]
                {
                    inside = !inside;
                }
                j = i;
            }
            inside.then(|| distance(cx, cy, x, y))
        }
    }
}

// ---------------------------------------------------------------------------
// Formats

/// A distance as Valkey replies it: rounded (to even) at 4 decimals of the
/// unit, always with the 4 digits (`fixedpoint_d2string`).
pub fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let scaled = (d * 10000.0).round_ties_even();
    // llrint: out of range is the indefinite value (distances never are).
    let s = if scaled.is_finite() && scaled.abs() < 9.2e18 {
        scaled as i64
    } else {
        i64::MIN
    };
    let neg = s < 0;
    let v = s.unsigned_abs();
    format!(
        "{}{}.{:04}",
        if neg { "-" } else { "" },
        v / 10000,
        v % 10000
    )
}

/// A coordinate as Valkey replies it: `%.17Lf` of the value with trailing
/// zeros (and a bare point) removed, "-0" as "0".
pub fn format_coord(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    let mut s = format!("{d:.17}");
    if s.contains('.') {
        let t = s.trim_end_matches('0').len();
        s.truncate(t);
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_coordinates_match_valkey() {
        // GEOADD pts 13.361389 38.115556 Palermo, then GEOPOS, GEOHASH and
        // WITHHASH from Valkey 9.1.
        let s = score_of(13.361389, 38.115556);
        assert_eq!(s, 3479099956230698);
        let (x, y) = decode_score(s as f64);
        assert_eq!(format_coord(x), "13.36138933897018433");
        assert_eq!(format_coord(y), "38.11555639549629859");
        assert_eq!(&geohash_string(s as f64), b"sqc8b49rny0");
        let c = score_of(15.087269, 37.502669);
        assert_eq!(c, 3479447370796909);
        let (cx, cy) = decode_score(c as f64);
        assert_eq!(format_coord(cx), "15.08726745843887329");
        assert_eq!(format_coord(cy), "37.50266842333162032");
        assert_eq!(format_distance(distance(x, y, cx, cy) / 1000.0), "166.2742");
    }

    #[test]
    fn limits_and_odd_scores() {
        // The corners of the range, and scores GEOADD never writes.
        let n = score_of(180.0, 85.05112878);
        assert_eq!(n, 13510798882111488);
        let (x, y) = decode_score(n as f64);
        assert_eq!(
            (format_coord(x).as_str(), format_coord(y).as_str()),
            ("180", "85.0511287799999991")
        );
        let (x, y) = decode_score(-5.0);
        assert_eq!(
            (format_coord(x).as_str(), format_coord(y).as_str()),
            ("180", "85.0511287799999991")
        );
        let (x, y) = decode_score(1e20);
        assert_eq!(format_coord(x), "-179.99999731779098511");
        assert_eq!(format_coord(y), "-85.05112751263942528");
        assert_eq!(&geohash_string(1e20), b"00bh0hbj200");
        assert_eq!(&geohash_string(-5.0), b"bp05b5048p0");
        assert_eq!(score_bits(-1.0), u64::MAX);
        assert_eq!(score_bits(f64::INFINITY), 0);
        assert!(encode(180.1, 0.0, 26).is_none());
        assert!(encode(0.0, 85.06, 26).is_none());
    }

    #[test]
    fn distance_format_rounds_like_llrint() {
        assert_eq!(format_distance(0.0), "0.0000");
        assert_eq!(format_distance(56.44125787), "56.4413");
        assert_eq!(format_distance(1.23456), "1.2346");
        assert_eq!(format_distance(0.00004), "0.0000");
        assert_eq!(format_distance(12.5), "12.5000");
        assert_eq!(format_coord(-0.0), "0");
        assert_eq!(format_coord(2.5), "2.5");
    }

    #[test]
    fn neighbours_wrap_around_the_antimeridian() {
        let h = encode(179.9999, 0.0, 3).unwrap();
        let east = moved(h, 1, 0);
        let a = decode(east).unwrap();
        assert_eq!(a.longitude.min, -180.0);
        let west = moved(east, -1, 0);
        assert_eq!(west, h);
    }

    #[test]
    fn steps_estimation() {
        assert_eq!(estimate_steps(0.0, 0.0), 26);
        assert_eq!(estimate_steps(200_000.0, 37.0), 6);
        assert_eq!(estimate_steps(200_000.0, 70.0), 5);
        assert_eq!(estimate_steps(200_000.0, -85.0), 4);
        assert_eq!(estimate_steps(1e9, 0.0), 1);
        assert_eq!(estimate_steps(0.01, 0.0), 26);
    }

    #[test]
    fn polygon_membership_and_centroid() {
        let mut shape = Shape {
            kind: ShapeKind::Polygon(vec![[10.0, 30.0], [20.0, 30.0], [20.0, 40.0], [10.0, 40.0]]),
            xy: [0.0, 0.0],
            conversion: 1.0,
        };
        let areas = search_areas(&mut shape);
        assert!(!areas.cells[0].is_zero());
        let (x, y) = decode_score(3479099956230698.0);
        assert!(within(&shape, x, y).is_some());
        assert!(within(&shape, 25.0, 35.0).is_none());
        assert!(within(&shape, 15.0, 45.0).is_none());
    }

    #[test]
    fn polygon_around_the_pole() {
        // Vertices on all sides of the pole: the centroid is at latitude
        // 90, beyond what a cell can hold.
        let mut shape = Shape {
            kind: ShapeKind::Polygon(vec![[0.0, 84.0], [120.0, 84.0], [-120.0, 84.0]]),
            xy: [0.0, 0.0],
            conversion: 1.0,
        };
        let areas = search_areas(&mut shape);
        assert!(shape.xy[1] > LAT_MAX);
        assert!(!areas.cells[0].is_zero());
        let a = decode(areas.cells[0]).unwrap();
        assert!(a.latitude.max >= LAT_MAX);
    }
}
