//! Redis 7.0's geohash arithmetic (geohash.c, geohash_helper.c and the
//! helpers of geo.c), with the same floating-point operations in the same
//! order, so scores, positions, hashes, distances and search areas come out
//! bit for bit as Redis's do. The GEO commands are built on top of this.
//!
//! A position is stored as a sorted-set score: the 52-bit interleaving of
//! 26 bits of latitude (even bits) and 26 bits of longitude (odd bits),
//! each the position's offset within Redis's limits, ±180 and
//! ±85.05112878 (the limits of the Web Mercator projection).
//!
//! For the command layer:
//! - GEOADD: [`check_pair`] (or [`encode`]) turns a longitude, latitude pair
//!   into a score, or into Redis's `invalid longitude,latitude pair` error;
//! - GEOPOS: [`decode_score`] then [`fmt_coord`] for each coordinate;
//! - GEOHASH: [`hash_string`];
//! - GEODIST: [`distance`] divided by a [`unit_factor`], then
//!   [`fmt_distance`];
//! - searches: build a [`Shape`], take [`search_ranges`] (the `[min, max)`
//!   score ranges of the 9 areas, in Redis's order), walk each range of the
//!   sorted set in score order and keep the members [`point_in_shape`]
//!   accepts, with their distance in metres. That yields the same members in
//!   the same order Redis collects them before its sort.

/// Bits per coordinate in a stored score (`GEO_STEP_MAX`).
pub const GEO_STEP_MAX: u8 = 26;
/// Smallest latitude Redis accepts (`GEO_LAT_MIN`).
pub const GEO_LAT_MIN: f64 = -85.05112878;
/// Largest latitude Redis accepts (`GEO_LAT_MAX`).
pub const GEO_LAT_MAX: f64 = 85.05112878;
/// Smallest longitude Redis accepts (`GEO_LONG_MIN`).
pub const GEO_LONG_MIN: f64 = -180.0;
/// Largest longitude Redis accepts (`GEO_LONG_MAX`).
pub const GEO_LONG_MAX: f64 = 180.0;

/// The Earth's quadratic mean radius for WGS-84, as Redis uses it.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
/// `M_PI / 180.0`.
const D_R: f64 = std::f64::consts::PI / 180.0;

/// The error GEOADD and the searches give for an unknown unit.
pub const UNIT_ERROR: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// A coordinate range (`GeoHashRange`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Range {
    min: f64,
    max: f64,
}

impl Range {
    fn is_zero(&self) -> bool {
        self.min == 0.0 && self.max == 0.0
    }
}

const LONG_RANGE: Range = Range {
    min: GEO_LONG_MIN,
    max: GEO_LONG_MAX,
};
const LAT_RANGE: Range = Range {
    min: GEO_LAT_MIN,
    max: GEO_LAT_MAX,
};

/// A geohash of `step` bits per coordinate (`GeoHashBits`). All zero is
/// "no area" (`GZERO`/`HASHISZERO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bits {
    /// The interleaved bits, latitude in the even positions.
    pub bits: u64,
    /// Bits per coordinate.
    pub step: u8,
}

impl Bits {
    fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash's first score, left-aligned to 52 bits (`geohashAlign52Bits`).
    pub fn align52(&self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

/// A decoded cell (`GeoHashArea`): its longitude and latitude bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Area {
    lon: Range,
    lat: Range,
}

/// Spreads the 32 bits of `v` over the even bit positions of a u64.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bit positions of `v` into a u32 (inverse of `spread`).
fn squeeze(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0xFFFF_FFFF) as u32
}

/// `interleave64`: latitude bits in the even positions, longitude's in the
/// odd ones.
fn interleave(lat: u32, lon: u32) -> u64 {
    spread(lat) | (spread(lon) << 1)
}

/// `deinterleave64`: (latitude part, longitude part).
fn deinterleave(bits: u64) -> (u32, u32) {
    (squeeze(bits), squeeze(bits >> 1))
}

// The range checks below are written as Redis's comparisons, which let NaN
// through (`contains` would not); the callers refuse NaN before.
#[allow(clippy::manual_range_contains)]
/// `geohashEncode`: the cell of `step` bits holding the point, within the
/// given ranges. `None` where Redis returns 0 (outside Redis's limits or the
/// ranges, or a step outside 1..=32).
fn encode_in(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Bits> {
    if step > 32 || step == 0 || lat_r.is_zero() || lon_r.is_zero() {
        return None;
    }
    if lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_offset = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    // C converts the offsets (0 ..= 2^step, or NaN) to uint32_t; `as`
    // truncates the same way over that range and gives 0 for NaN, as the
    // x86-64 conversion does.
    Some(Bits {
        bits: interleave(lat_offset as u32, lon_offset as u32),
        step,
    })
}

/// `geohashDecode`: the bounds of a cell. `None` for the zero hash.
fn decode_in(lon_r: Range, lat_r: Range, hash: Bits) -> Option<Area> {
    if hash.is_zero() || lat_r.is_zero() || lon_r.is_zero() {
        return None;
    }
    let (ilat, ilon) = deinterleave(hash.bits);
    let div = (1u64 << hash.step) as f64;
    let lat_scale = lat_r.max - lat_r.min;
    let lon_scale = lon_r.max - lon_r.min;
    // `ilato + 1` is uint32_t arithmetic in Redis: it wraps.
    Some(Area {
        lat: Range {
            min: lat_r.min + (f64::from(ilat) / div) * lat_scale,
            max: lat_r.min + (f64::from(ilat.wrapping_add(1)) / div) * lat_scale,
        },
        lon: Range {
            min: lon_r.min + (f64::from(ilon) / div) * lon_scale,
            max: lon_r.min + (f64::from(ilon.wrapping_add(1)) / div) * lon_scale,
        },
    })
}

/// The cell of `step` bits holding a valid point (`geohashEncodeWGS84`).
pub fn encode_step(lon: f64, lat: f64, step: u8) -> Option<Bits> {
    encode_in(LONG_RANGE, LAT_RANGE, lon, lat, step)
}

/// The score GEOADD stores for a point (`geohashEncodeWGS84` at 26 steps,
/// aligned to 52 bits), or `None` when the pair is outside Redis's limits.
pub fn encode(lon: f64, lat: f64) -> Option<u64> {
    encode_step(lon, lat, GEO_STEP_MAX).map(|h| h.align52())
}

/// Whether a pair is within Redis's limits (`extractLongLatOrReply`).
#[allow(clippy::manual_range_contains)]
pub fn valid_pair(lon: f64, lat: f64) -> bool {
    !(lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX)
}

/// Redis's error for a pair outside the limits, without the leading `-`:
/// `ERR invalid longitude,latitude pair 200.000000,10.000000`.
pub fn invalid_pair_error(lon: f64, lat: f64) -> String {
    format!(
        "ERR invalid longitude,latitude pair {},{}",
        c_fmt(b"%f\0", lon),
        c_fmt(b"%f\0", lat)
    )
}

/// GEOADD's check of a parsed pair: the score to store, or Redis's error.
pub fn check_pair(lon: f64, lat: f64) -> Result<u64, String> {
    if !valid_pair(lon, lat) {
        return Err(invalid_pair_error(lon, lat));
    }
    encode(lon, lat).ok_or_else(|| invalid_pair_error(lon, lat))
}

/// `geohashDecodeAreaToLongLat`: the centre of a cell, clamped to the limits.
fn area_centre(area: &Area) -> (f64, f64) {
    let lon = ((area.lon.min + area.lon.max) / 2.0).clamp(GEO_LONG_MIN, GEO_LONG_MAX);
    let lat = ((area.lat.min + area.lat.max) / 2.0).clamp(GEO_LAT_MIN, GEO_LAT_MAX);
    (lon, lat)
}

/// The position a 52-bit score stands for: its cell's centre, clamped to
/// the limits (`geohashDecodeToLongLatWGS84`). Bits above the 52nd (a score
/// not written by GEOADD) count as Redis counts them.
pub fn decode(bits: u64) -> (f64, f64) {
    let hash = Bits {
        bits,
        step: GEO_STEP_MAX,
    };
    match decode_in(LONG_RANGE, LAT_RANGE, hash) {
        Some(area) => area_centre(&area),
        // A step of 26 is never the zero hash.
        None => (0.0, 0.0),
    }
}

/// `(uint64_t)score` as x86-64 code compiled by GCC computes it, for any
/// score a sorted set may hold (negative, fractional, huge, infinite).
pub fn score_bits(score: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    // cvttsd2si gives 0x8000000000000000 for anything it cannot represent.
    fn cvtt(x: f64) -> u64 {
        if x.is_nan() || !(-TWO63..TWO63).contains(&x) {
            0x8000_0000_0000_0000
        } else {
            x as i64 as u64
        }
    }
    if score < TWO63 {
        cvtt(score)
    } else {
        cvtt(score - TWO63) ^ 0x8000_0000_0000_0000
    }
}

/// The position a sorted-set score stands for (`decodeGeohash`).
pub fn decode_score(score: f64) -> (f64, f64) {
    decode(score_bits(score))
}

const GEO_ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// GEOHASH's 11-character string for a score: the decoded position
/// re-encoded with the standard ranges (±180, ±90), 26 steps, its 52 bits
/// in ten characters and a '0' for the eleventh, as `geohashCommand`.
pub fn hash_string(score: f64) -> [u8; 11] {
    let (lon, lat) = decode_score(score);
    let std_lon = Range {
        min: -180.0,
        max: 180.0,
    };
    let std_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    // The centre of a cell is always inside both ranges; Redis ignores the
    // return value, and would read zero bits only if it could fail.
    let bits = encode_in(std_lon, std_lat, lon, lat, GEO_STEP_MAX)
        .map(|h| h.bits)
        .unwrap_or(0);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = GEO_ALPHABET[idx as usize];
    }
    out
}

/// `geohashGetLatDistance`: metres between two latitudes on one meridian.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// `geohashGetDistance`: the haversine great-circle distance in metres,
/// with Redis 7.0's short cut when the longitudes are the same.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// Metres per unit (`extractUnitOrReply`): m, km, ft, mi in any case.
/// `None` for anything else (the caller replies [`UNIT_ERROR`]).
pub fn unit_factor(unit: &[u8]) -> Option<f64> {
    if unit.eq_ignore_ascii_case(b"m") {
        Some(1.0)
    } else if unit.eq_ignore_ascii_case(b"km") {
        Some(1000.0)
    } else if unit.eq_ignore_ascii_case(b"ft") {
        Some(0.3048)
    } else if unit.eq_ignore_ascii_case(b"mi") {
        Some(1609.34)
    } else {
        None
    }
}

/// C's `snprintf(fmt, v)` for a format taking one double.
fn c_fmt(fmt: &[u8], v: f64) -> String {
    let mut buf = vec![0u8; 64];
    loop {
        // SAFETY: `fmt` is NUL-terminated and takes exactly one double;
        // snprintf writes at most `buf.len()` bytes into `buf`.
        let n =
            unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr().cast(), v) };
        let Ok(n) = usize::try_from(n) else {
            return String::new();
        };
        if n < buf.len() {
            buf.truncate(n);
            return String::from_utf8_lossy(&buf).into_owned();
        }
        buf.resize(n + 1, 0);
    }
}

/// A distance as GEODIST and WITHDIST reply it (`addReplyDoubleDistance`,
/// which in 7.0.15 is `fixedpoint_d2string(.., 4)`: the distance times
/// 10^4 rounded by `llrint`, half to even, then printed with four
/// decimals). It differs from `%.4f` where the product's rounding does:
/// 6253208.07765 (a double a hair above) is "6253208.0776" here, "6253208.0777" in printf.
pub fn fmt_distance(d: f64) -> String {
    let scaled = d * 10_000.0;
    let r = scaled.round_ties_even();
    // llrint of NaN or a value out of range is LLONG_MIN on x86-64.
    let v = if r.is_nan()
        || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&r)
    {
        i64::MIN
    } else {
        r as i64
    };
    if d == 0.0 {
        return "0.0000".into();
    }
    let sign = if v < 0 { "-" } else { "" };
    let abs = v.unsigned_abs();
    format!("{sign}{}.{:04}", abs / 10_000, abs % 10_000)
}

/// A coordinate as GEOPOS and WITHCOORD reply it (`addReplyHumanLongDouble`:
/// `%.17Lf` with the trailing zeroes and a lone `.` removed, `-0` as `0`).
/// The same text goes in a RESP2 bulk string and after RESP3's `,`.
pub fn fmt_coord(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // A double widened to long double is the same number, and glibc prints
    // both exactly, so `%.17f` gives `%.17Lf`'s digits.
    let mut s = c_fmt(b"%.17f\0", v);
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').len();
        s.truncate(trimmed);
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// What a search covers (`GeoShape`): a circle or an axis-aligned box
/// around a centre. Sizes are in the request's unit; `conversion` is its
/// metres per unit ([`unit_factor`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Centre longitude.
    pub lon: f64,
    /// Centre latitude.
    pub lat: f64,
    /// Metres per unit of the sizes below.
    pub conversion: f64,
    /// Circle or box.
    pub kind: ShapeKind,
}

/// The two shapes of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShapeKind {
    /// BYRADIUS (and GEORADIUS*).
    Radius(f64),
    /// BYBOX width height.
    Box {
        /// East-west size.
        width: f64,
        /// North-south size.
        height: f64,
    },
}

/// `geohashEstimateStepsByRadius`: the cell size (steps) for a search of
/// that radius at that latitude.
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

/// `geohashBoundingBox`: [min lon, min lat, max lon, max lat] of a shape.
pub fn bounding_box(shape: &Shape) -> [f64; 4] {
    let (lon, lat) = (shape.lon, shape.lat);
    let (height, width) = match shape.kind {
        ShapeKind::Radius(r) => (shape.conversion * r, shape.conversion * r),
        ShapeKind::Box { width, height } => (
            shape.conversion * (height / 2.0),
            shape.conversion * (width / 2.0),
        ),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat + lat_delta).cos());
    let long_delta_bottom =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat - lat_delta).cos());
    let southern = lat < 0.0;
    let delta = if southern {
        long_delta_bottom
    } else {
        long_delta_top
    };
    [lon - delta, lat - lat_delta, lon + delta, lat + lat_delta]
}

/// The 8 neighbours of a cell (`GeoHashNeighbors`); zero where dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Neighbors {
    /// North.
    pub north: Bits,
    /// South.
    pub south: Bits,
    /// East.
    pub east: Bits,
    /// West.
    pub west: Bits,
    /// North-east.
    pub north_east: Bits,
    /// North-west.
    pub north_west: Bits,
    /// South-east.
    pub south_east: Bits,
    /// South-west.
    pub south_west: Bits,
}

/// `geohash_move_x`: one cell east (`d > 0`) or west, wrapping.
fn move_x(hash: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let mut x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    hash.bits = x | y;
}

/// `geohash_move_y`: one cell north (`d > 0`) or south, wrapping.
fn move_y(hash: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> shift;
    hash.bits = x | y;
}

fn moved(hash: Bits, dx: i8, dy: i8) -> Bits {
    let mut h = hash;
    move_x(&mut h, dx);
    move_y(&mut h, dy);
    h
}

/// `geohashNeighbors`. `hash.step` must be 1..=32.
pub fn neighbors(hash: Bits) -> Neighbors {
    Neighbors {
        east: moved(hash, 1, 0),
        west: moved(hash, -1, 0),
        south: moved(hash, 0, -1),
        north: moved(hash, 0, 1),
        north_west: moved(hash, -1, 1),
        north_east: moved(hash, 1, 1),
        south_east: moved(hash, 1, -1),
        south_west: moved(hash, -1, -1),
    }
}

/// The cells a search looks at (`GeoHashRadius`): the centre's cell and
/// the neighbours left after Redis drops the useless ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// The cell holding the centre.
    pub hash: Bits,
    /// Its neighbours; zero where dropped.
    pub neighbors: Neighbors,
}

impl Areas {
    /// The 9 cells in the order Redis searches them (`membersOfAllNeighbors`):
    /// centre, N, S, E, W, NE, NW, SE, SW.
    pub fn in_order(&self) -> [Bits; 9] {
        let n = &self.neighbors;
        [
            self.hash,
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ]
    }
}

/// `geohashCalculateAreasByShapeWGS84`: the centre's cell at the estimated
/// step (one coarser when a neighbour does not reach the bounding box),
/// and its neighbours less those wholly outside the bounding box.
pub fn areas(shape: &Shape) -> Areas {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let radius_meters = match shape.kind {
        ShapeKind::Radius(r) => r,
        ShapeKind::Box { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * shape.conversion;
    let mut steps = estimate_steps(radius_meters, shape.lat);

    let cell = |steps: u8| {
        let hash = encode_step(shape.lon, shape.lat, steps).unwrap_or(Bits {
            bits: 0,
            step: steps,
        });
        let nb = neighbors(hash);
        let area = decode_in(LONG_RANGE, LAT_RANGE, hash);
        (hash, nb, area)
    };
    let (mut hash, mut nb, mut area) = cell(steps);

    let dec = |b: Bits| decode_in(LONG_RANGE, LAT_RANGE, b);
    let mut decrease = false;
    if let Some(north) = dec(nb.north) {
        decrease |= north.lat.max < max_lat;
    }
    if let Some(south) = dec(nb.south) {
        decrease |= south.lat.min > min_lat;
    }
    if let Some(east) = dec(nb.east) {
        decrease |= east.lon.max < max_lon;
    }
    if let Some(west) = dec(nb.west) {
        decrease |= west.lon.min > min_lon;
    }
    if steps > 1 && decrease {
        steps -= 1;
        (hash, nb, area) = cell(steps);
    }

    if steps >= 2 {
        if let Some(area) = area {
            let zero = Bits::default();
            if area.lat.min < min_lat {
                nb.south = zero;
                nb.south_west = zero;
                nb.south_east = zero;
            }
            if area.lat.max > max_lat {
                nb.north = zero;
                nb.north_east = zero;
                nb.north_west = zero;
            }
            if area.lon.min < min_lon {
                nb.west = zero;
                nb.south_west = zero;
                nb.north_west = zero;
            }
            if area.lon.max > max_lon {
                nb.east = zero;
                nb.south_east = zero;
                nb.north_east = zero;
            }
        }
    }
    Areas {
        hash,
        neighbors: nb,
    }
}

/// The score range `[min, max)` holding every point of a cell
/// (`scoresOfGeoHashBox`).
pub fn cell_scores(hash: Bits) -> (u64, u64) {
    let min = hash.align52();
    let next = Bits {
        bits: hash.bits + 1,
        step: hash.step,
    };
    (min, next.align52())
}

/// The sorted-set score ranges `[min, max)` a search walks, in Redis's
/// order (`membersOfAllNeighbors`): dropped neighbours are skipped, and so
/// is a cell equal to the one walked just before it (never the centre's
/// first neighbour, as Redis's check is). The caller walks each range in
/// score order, keeps what [`point_in_shape`] accepts, and with ANY stops
/// once it has COUNT points (also before starting the next range).
pub fn search_ranges(shape: &Shape) -> Vec<(u64, u64)> {
    let cells = areas(shape).in_order();
    let mut out = Vec::with_capacity(9);
    let mut last: usize = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        if last != 0 && *cell == cells[last] {
            continue;
        }
        out.push(cell_scores(*cell));
        last = i;
    }
    out
}

/// `geohashGetDistanceIfInRectangle`: the distance in metres from the
/// centre (`lon1`, `lat1`) to the point, when the point lies in the box.
pub fn distance_if_in_rectangle(
    width_m: f64,
    height_m: f64,
    lon1: f64,
    lat1: f64,
    lon2: f64,
    lat2: f64,
) -> Option<f64> {
    if lat_distance(lat2, lat1) > height_m / 2.0 {
        return None;
    }
    if distance(lon2, lat2, lon1, lat2) > width_m / 2.0 {
        return None;
    }
    Some(distance(lon1, lat1, lon2, lat2))
}

/// Whether a point lies in the shape, and if so its distance in metres
/// from the centre (`geoAppendIfWithinShape`'s test).
pub fn in_shape(shape: &Shape, lon: f64, lat: f64) -> Option<f64> {
    match shape.kind {
        ShapeKind::Radius(r) => {
            let d = distance(shape.lon, shape.lat, lon, lat);
            (d <= r * shape.conversion).then_some(d)
        }
        ShapeKind::Box { width, height } => distance_if_in_rectangle(
            width * shape.conversion,
            height * shape.conversion,
            shape.lon,
            shape.lat,
            lon,
            lat,
        ),
    }
}

/// A member's point as a search collects it (`geoPoint`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Decoded longitude.
    pub lon: f64,
    /// Decoded latitude.
    pub lat: f64,
    /// Distance from the centre in metres (divide by the conversion for the
    /// reply).
    pub dist: f64,
}

/// A stored score tested against a shape: its decoded point and distance
/// when inside (`geoAppendIfWithinShape`).
pub fn point_in_shape(shape: &Shape, score: f64) -> Option<Point> {
    let (lon, lat) = decode_score(score);
    in_shape(shape, lon, lat).map(|dist| Point { lon, lat, dist })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_round_trips() {
        for (a, b) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            let v = interleave(a, b);
            assert_eq!(deinterleave(v), (a, b));
            // Latitude's lowest bit is bit 0, longitude's is bit 1.
            assert_eq!(interleave(1, 0), 1);
            assert_eq!(interleave(0, 1), 2);
        }
    }

    // Expected values below come from redis-server 7.0.15
    // (GEOADD k 13.361389 38.115556 Palermo 15.087269 37.502669 Catania).
    #[test]
    fn palermo_catania_as_redis() {
        let p = encode(13.361389, 38.115556).unwrap();
        let c = encode(15.087269, 37.502669).unwrap();
        assert_eq!(p, 3479099956230698);
        assert_eq!(c, 3479447370796909);
        let (plon, plat) = decode(p);
        assert_eq!(fmt_coord(plon), "13.36138933897018433");
        assert_eq!(fmt_coord(plat), "38.11555639549629859");
        assert_eq!(&hash_string(p as f64), b"sqc8b49rny0");
        assert_eq!(&hash_string(c as f64), b"sqdtr74hyu0");
        let (clon, clat) = decode(c);
        let d = distance(plon, plat, clon, clat);
        assert_eq!(fmt_distance(d), "166274.1516");
        assert_eq!(fmt_distance(d / 1000.0), "166.2742");
        assert_eq!(fmt_distance(d / 1609.34), "103.3182");
    }

    #[test]
    fn limits_and_errors() {
        assert!(encode(180.0, GEO_LAT_MAX).is_some());
        assert!(encode(-180.0, GEO_LAT_MIN).is_some());
        assert_eq!(encode(180.1, 0.0), None);
        assert_eq!(encode(0.0, 85.06), None);
        assert_eq!(
            check_pair(200.0, 10.0),
            Err("ERR invalid longitude,latitude pair 200.000000,10.000000".to_string())
        );
        assert_eq!(
            invalid_pair_error(f64::INFINITY, -90.0),
            "ERR invalid longitude,latitude pair inf,-90.000000"
        );
    }

    #[test]
    fn coordinate_text() {
        assert_eq!(fmt_coord(-0.0), "0");
        assert_eq!(fmt_coord(1.5), "1.5");
        assert_eq!(fmt_coord(180.0), "180");
        assert_eq!(fmt_coord(-1e-20), "0");
        assert_eq!(fmt_distance(0.0), "0.0000");
        assert_eq!(fmt_distance(-0.0), "0.0000");
        assert_eq!(fmt_distance(0.00004), "0.0000");
        assert_eq!(fmt_distance(0.0007), "0.0007");
        assert_eq!(fmt_distance(1.25), "1.2500");
        assert_eq!(fmt_distance(-3.00015), "-3.0002");
        // Seen from redis-server 7.0.15: llrint of the scaled value, not
        // printf's rounding of the exact one.
        assert_eq!(fmt_distance(6253208.07765), "6253208.0776");
    }

    #[test]
    fn unit_factors() {
        assert_eq!(unit_factor(b"KM"), Some(1000.0));
        assert_eq!(unit_factor(b"Mi"), Some(1609.34));
        assert_eq!(unit_factor(b"ft"), Some(0.3048));
        assert_eq!(unit_factor(b"m"), Some(1.0));
        assert_eq!(unit_factor(b"meters"), None);
    }

    #[test]
    fn score_bits_as_x86_64() {
        assert_eq!(score_bits(3.7), 3);
        assert_eq!(score_bits(-1.0), u64::MAX);
        assert_eq!(score_bits(f64::NEG_INFINITY), 0x8000_0000_0000_0000);
        assert_eq!(score_bits(f64::INFINITY), 0);
        assert_eq!(
            score_bits(9_223_372_036_854_775_808.0),
            0x8000_0000_0000_0000
        );
        assert_eq!(score_bits(1e30), 0);
    }

    #[test]
    fn steps_by_radius() {
        assert_eq!(estimate_steps(0.0, 0.0), 26);
        assert_eq!(estimate_steps(1.0, 0.0), 24);
        assert_eq!(estimate_steps(1.0, 70.0), 23);
        assert_eq!(estimate_steps(1.0, -81.0), 22);
        assert_eq!(estimate_steps(5_000_000.0, 0.0), 2);
        assert_eq!(estimate_steps(1e9, 0.0), 1);
    }

    #[test]
    fn neighbours_wrap_and_move_one_cell() {
        let h = encode_step(0.0, 0.0, 2).unwrap();
        let n = neighbors(h);
        let centre = |b: Bits| {
            let a = decode_in(LONG_RANGE, LAT_RANGE, b).unwrap();
            area_centre(&a)
        };
        let (lon, lat) = centre(h);
        let (elon, elat) = centre(n.east);
        assert_eq!(elat, lat);
        assert_eq!(elon, lon + 90.0);
        let (nlon, nlat) = centre(n.north);
        assert_eq!(nlon, lon);
        assert!(nlat > lat);
        // At the east edge, east wraps to the west edge: 8 cells of 45
        // degrees at step 3, the first one centred on -157.5.
        let e = encode_step(179.0, 0.0, 3).unwrap();
        let (wlon, _) = centre(neighbors(e).east);
        assert_eq!(wlon, -157.5);
    }

    #[test]
    fn ranges_cover_the_centre_and_skip_repeats() {
        let shape = Shape {
            lon: 13.0,
            lat: 38.0,
            conversion: 1000.0,
            kind: ShapeKind::Radius(200.0),
        };
        let ranges = search_ranges(&shape);
        let s = encode(13.0, 38.0).unwrap();
        assert!(ranges.iter().any(|&(a, b)| a <= s && s < b));
        assert!(ranges.len() <= 9);
        // A huge radius: step 1, where north and south are one cell, so is
        // west and east; the repeated one is skipped.
        let world = Shape {
            kind: ShapeKind::Radius(20_000.0),
            ..shape
        };
        let a = areas(&world);
        assert_eq!(a.hash.step, 1);
        assert_eq!(a.neighbors.north, a.neighbors.south);
        let r = search_ranges(&world);
        assert!(r.len() < 9, "{r:?}");
    }

    #[test]
    fn box_membership() {
        let shape = Shape {
            lon: 0.0,
            lat: 0.0,
            conversion: 1.0,
            kind: ShapeKind::Box {
                width: 2000.0,
                height: 1000.0,
            },
        };
        assert!(in_shape(&shape, 0.008, 0.004).is_some());
        assert!(in_shape(&shape, 0.0, 0.005).is_none());
        assert!(in_shape(&shape, 0.01, 0.0).is_none());
    }
}
