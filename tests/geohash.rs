//! Differential tests of GoStore's geohash arithmetic (src/util/geohash.rs)
//! against real redis-server: points go in with GEOADD (or odd scores with
//! ZADD), and Redis's ZSCORE, GEOPOS, GEOHASH, GEODIST and GEOSEARCH
//! replies must equal what the module computes, byte for byte. The GEO
//! commands are built on this module, so these pin its numbers before any
//! command uses them.
//!
//! The generator is seeded (GEO_SEED overrides the seed; a failure prints
//! it) so a failure reproduces.

mod common;

use common::rng::Rng;
use common::TestServer;
use gostore::geohash::{self, Shape, ShapeKind};
use std::collections::HashMap;

fn seed() -> u64 {
    std::env::var("GEO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15)
}

/// A longitude/latitude as the command line carries it: `{}` prints the
/// shortest text that reads back to the same double, so Redis's strtod
/// gets exactly the value the module is given.
fn arg(v: f64) -> String {
    format!("{v}")
}

/// Points: the corners and edges of the limits, cell boundaries, tiny
/// values, and random points, some spread over the world and some in
/// clusters (so that searches find many).
fn points(rng: &mut Rng) -> Vec<(f64, f64)> {
    use geohash::{GEO_LAT_MAX, GEO_LAT_MIN, GEO_LONG_MAX, GEO_LONG_MIN};
    let mut pts = vec![
        (0.0, 0.0),
        (-0.0, -0.0),
        (GEO_LONG_MAX, GEO_LAT_MAX),
        (GEO_LONG_MIN, GEO_LAT_MIN),
        (GEO_LONG_MAX, GEO_LAT_MIN),
        (GEO_LONG_MIN, GEO_LAT_MAX),
        (GEO_LONG_MAX, 0.0),
        (0.0, GEO_LAT_MAX),
        (179.99999999, 85.05112877),
        (-179.99999999, -85.05112877),
        (1e-300, -1e-300),
        (5e-324, 5e-324),
        (90.0, 42.525564390),
        (-90.0, -42.525564390),
        (13.361389, 38.115556),
        (15.087269, 37.502669),
        // 6253208.07765000031 m from the search centre below: a distance
        // whose 4-decimal rounding is a near tie.
        (99.30845886468887, 56.19191780860086),
    ];
    // Exact cell boundaries at a few steps.
    for step in [1u32, 2, 5, 13, 26] {
        let cells = (1u64 << step) as f64;
        for k in [0.0, 1.0, cells / 2.0, cells - 1.0] {
            let lon = GEO_LONG_MIN + k / cells * 360.0;
            let lat = GEO_LAT_MIN + k / cells * (GEO_LAT_MAX - GEO_LAT_MIN);
            pts.push((lon, lat));
        }
    }
    for _ in 0..1500 {
        pts.push((
            rng.float_range(-180.0, 180.0),
            rng.float_range(GEO_LAT_MIN, GEO_LAT_MAX),
        ));
    }
    // Clusters: around random centres, within about a degree; some near the
    // antimeridian and the latitude limits.
    let mut centres: Vec<(f64, f64)> = (0..8)
        .map(|_| (rng.float_range(-170.0, 170.0), rng.float_range(-80.0, 80.0)))
        .collect();
    centres.push((179.5, 10.0));
    centres.push((-179.5, -10.0));
    centres.push((30.0, 84.5));
    centres.push((-60.0, -84.5));
    for &(clon, clat) in &centres {
        for _ in 0..150 {
            let lon = (clon + rng.float_range(-1.0, 1.0)).clamp(GEO_LONG_MIN, GEO_LONG_MAX);
            let lat = (clat + rng.float_range(-0.5, 0.5)).clamp(GEO_LAT_MIN, GEO_LAT_MAX);
            pts.push((lon, lat));
        }
    }
    // Around the circle of the fixed search at (-75.25, 84.95) whose
    // bounding box misses part of it: Redis drops neighbour cells there,
    // and so skips points that are inside the circle.
    for _ in 0..300 {
        pts.push((
            rng.float_range(-140.0, -60.0),
            rng.float_range(82.0, GEO_LAT_MAX),
        ));
    }
    pts
}

/// Loads the points into `key` as members `p<i>`; returns each member's
/// score as Redis stored it: a double, so the few 52-bit scores past 2^53
/// (longitude 180) are rounded, as ZADD rounds GEOADD's integer text.
fn load(con: &mut redis::Connection, key: &str, pts: &[(f64, f64)]) -> Vec<f64> {
    for (chunk_no, chunk) in pts.chunks(500).enumerate() {
        let mut cmd = redis::cmd("GEOADD");
        cmd.arg(key);
        for (j, &(lon, lat)) in chunk.iter().enumerate() {
            cmd.arg(arg(lon))
                .arg(arg(lat))
                .arg(format!("p{}", chunk_no * 500 + j));
        }
        let added: i64 = cmd.query(con).expect("GEOADD");
        assert_eq!(added as usize, chunk.len());
    }
    let mut pipe = redis::pipe();
    for i in 0..pts.len() {
        pipe.cmd("ZSCORE").arg(key).arg(format!("p{i}"));
    }
    let scores: Vec<String> = pipe.query(con).expect("ZSCORE");
    scores
        .iter()
        .map(|s| s.parse::<f64>().expect("score"))
        .collect()
}

/// ZSCORE, GEOPOS and GEOHASH of every point, against encode, decode,
/// fmt_coord and hash_string.
#[test]
fn encode_decode_and_hash_match_redis() {
    let seed = seed();
    let mut rng = Rng(seed);
    let pts = points(&mut rng);
    let srv = TestServer::redis(&[]);
    let mut con = srv.client();
    let scores = load(&mut con, "g", &pts);

    let mut pipe = redis::pipe();
    for i in 0..pts.len() {
        pipe.cmd("GEOPOS").arg("g").arg(format!("p{i}"));
        pipe.cmd("GEOHASH").arg("g").arg(format!("p{i}"));
    }
    let replies: Vec<redis::Value> = pipe.query(&mut con).expect("GEOPOS/GEOHASH");
    for (i, &(lon, lat)) in pts.iter().enumerate() {
        let ctx = format!("seed {seed} point p{i} ({lon:?}, {lat:?})");
        let score = geohash::encode(lon, lat).unwrap_or_else(|| panic!("{ctx}: not encoded"));
        assert_eq!(score as f64, scores[i], "{ctx}: score");
        assert_eq!(geohash::check_pair(lon, lat), Ok(score), "{ctx}");

        let pos: Vec<Option<(String, String)>> =
            redis::from_redis_value(replies[2 * i].clone()).expect("GEOPOS shape");
        let (dlon, dlat) = geohash::decode_score(scores[i]);
        let ours = (geohash::fmt_coord(dlon), geohash::fmt_coord(dlat));
        assert_eq!(pos[0].as_ref(), Some(&ours), "{ctx}: GEOPOS");
        if score < 1 << 53 {
            assert_eq!(geohash::decode(score), (dlon, dlat), "{ctx}");
        }

        let hash: Vec<Option<String>> =
            redis::from_redis_value(replies[2 * i + 1].clone()).expect("GEOHASH shape");
        let ours = String::from_utf8_lossy(&geohash::hash_string(scores[i])).into_owned();
        assert_eq!(hash[0].as_deref(), Some(ours.as_str()), "{ctx}: GEOHASH");
    }
}

/// Scores GEOADD never writes (set with ZADD) still decode as Redis's
/// `(uint64_t)` cast and clamping make them.
#[test]
fn odd_scores_decode_as_redis() {
    let srv = TestServer::redis(&[]);
    let mut con = srv.client();
    let scores: Vec<&str> = vec![
        "-1",
        "-0.5",
        "0.5",
        "3.7",
        "1e30",
        "inf",
        "-inf",
        "-1e30",
        "4503599627370495",
        "4503599627370496",
        "4503599627370497",
        "13510798882111488",
        "9007199254740993",
        "9223372036854775807",
        "18446744073709551615",
        "-9223372036854775808",
        "-4503599627370496",
        "123456789.987654321",
    ];
    let mut zadd = redis::cmd("ZADD");
    zadd.arg("z");
    for (i, s) in scores.iter().enumerate() {
        zadd.arg(*s).arg(format!("m{i}"));
    }
    let _: i64 = zadd.query(&mut con).expect("ZADD");
    for (i, s) in scores.iter().enumerate() {
        let m = format!("m{i}");
        let score: f64 = s.parse().expect("score");
        let pos: Vec<Option<(String, String)>> = redis::cmd("GEOPOS")
            .arg("z")
            .arg(&m)
            .query(&mut con)
            .expect("GEOPOS");
        let (lon, lat) = geohash::decode_score(score);
        let ours = (geohash::fmt_coord(lon), geohash::fmt_coord(lat));
        assert_eq!(pos[0].as_ref(), Some(&ours), "score {s}: GEOPOS");
        let hash: Vec<Option<String>> = redis::cmd("GEOHASH")
            .arg("z")
            .arg(&m)
            .query(&mut con)
            .expect("GEOHASH");
        let ours = String::from_utf8_lossy(&geohash::hash_string(score)).into_owned();
        assert_eq!(
            hash[0].as_deref(),
            Some(ours.as_str()),
            "score {s}: GEOHASH"
        );
    }
}

/// Out-of-range pairs: GEOADD's error text is `invalid_pair_error`'s.
#[test]
fn invalid_pairs_error_as_redis() {
    let srv = TestServer::redis(&[]);
    let mut raw = srv.raw_conn();
    let cases: Vec<(f64, f64)> = vec![
        (180.0000001, 0.0),
        (-180.0000001, 0.0),
        (0.0, 85.05112879),
        (0.0, -85.05112879),
        (200.0, 10.0),
        (-1e300, 1.5),
        (f64::INFINITY, 0.0),
        (0.0, f64::NEG_INFINITY),
        (123.456789123, -90.0),
        (1.0000005e-7, 91.0),
    ];
    for (lon, lat) in cases {
        assert!(!geohash::valid_pair(lon, lat));
        let reply = raw.cmd(&[
            b"GEOADD",
            b"g",
            arg(lon).as_bytes(),
            arg(lat).as_bytes(),
            b"m",
        ]);
        let expect = format!("-{}\r\n", geohash::invalid_pair_error(lon, lat));
        assert_eq!(
            String::from_utf8_lossy(&reply),
            expect,
            "({lon:?}, {lat:?})"
        );
        assert_eq!(geohash::encode(lon, lat), None);
    }
}

/// GEODIST between random pairs (and pairs on one meridian, Redis 7.0's
/// short cut), in every unit.
#[test]
fn distances_match_redis() {
    let seed = seed() ^ 0x5151;
    let mut rng = Rng(seed);
    let mut pts = points(&mut rng);
    // Same longitude as an earlier point: the latitude-only formula.
    for i in 0..200 {
        let lon = pts[i * 7].0;
        pts.push((lon, rng.float_range(-85.0, 85.0)));
    }
    // Pairs on one meridian whose haversine and latitude-only distances
    // round to different fourth decimals (found by search): only the
    // short cut gives Redis's text.
    let tie_pairs = [
        (-177.1520251758767, -14.749761679573645, 81.32285431906979),
        (167.6305243473214, -28.206771210264126, 57.05347206538134),
        (-28.616365717163063, 48.42564116939617, -23.209408757194346),
        (14.482442250491033, -84.01440881542166, 3.67227993579926),
        (-175.51118036918302, 30.602599788955935, -36.83948651392333),
    ];
    let tie_base = pts.len();
    for &(lon, lat1, lat2) in &tie_pairs {
        pts.push((lon, lat1));
        pts.push((lon, lat2));
    }
    let srv = TestServer::redis(&[]);
    let mut con = srv.client();
    let scores = load(&mut con, "g", &pts);
    let units = ["m", "km", "ft", "mi", "KM", "Mi"];
    let n = pts.len() as u64;
    let mut pairs: Vec<(usize, usize, &str)> = Vec::new();
    // Many pairs, so that some distances fall next to a rounding tie of
    // the fourth decimal (about one in 10^4).
    for k in 0..30_000 {
        let a = rng.below(n) as usize;
        let b = if k % 4 == 0 && a >= 1500 {
            // a clustered point and a near neighbour
            (a + 1).min(pts.len() - 1)
        } else {
            rng.below(n) as usize
        };
        pairs.push((a, b, units[rng.below(units.len() as u64) as usize]));
    }
    // The meridian pairs: the new point and the one it shares a longitude with.
    let base = tie_base - 200;
    for i in 0..200 {
        pairs.push((i * 7, base + i, "m"));
    }
    for i in 0..tie_pairs.len() {
        pairs.push((tie_base + 2 * i, tie_base + 2 * i + 1, "m"));
    }
    let mut pipe = redis::pipe();
    for &(a, b, unit) in &pairs {
        pipe.cmd("GEODIST")
            .arg("g")
            .arg(format!("p{a}"))
            .arg(format!("p{b}"))
            .arg(unit);
    }
    let got: Vec<String> = pipe.query(&mut con).expect("GEODIST");
    for (k, &(a, b, unit)) in pairs.iter().enumerate() {
        let (lon1, lat1) = geohash::decode_score(scores[a]);
        let (lon2, lat2) = geohash::decode_score(scores[b]);
        let factor = geohash::unit_factor(unit.as_bytes()).expect("unit");
        let d = geohash::distance(lon1, lat1, lon2, lat2) / factor;
        assert_eq!(
            got[k],
            geohash::fmt_distance(d),
            "seed {seed}: GEODIST p{a} p{b} {unit}"
        );
    }
}

/// One search as Redis's GEOSEARCH argument list.
fn search_args(shape: &Shape, unit: &str) -> Vec<String> {
    let mut a = vec!["FROMLONLAT".to_string(), arg(shape.lon), arg(shape.lat)];
    match shape.kind {
        ShapeKind::Radius(r) => a.extend(["BYRADIUS".into(), arg(r), unit.into()]),
        ShapeKind::Box { width, height } => {
            a.extend(["BYBOX".into(), arg(width), arg(height), unit.into()])
        }
    }
    a
}

/// GEOSEARCH without sorting returns members in the order Redis collects
/// them: range by range (search_ranges), each range in (score, member)
/// order, keeping those in the shape. That list, with its distances and
/// coordinates, must be exactly Redis's reply.
#[test]
fn searches_match_redis() {
    let seed = seed() ^ 0xA5A5;
    let mut rng = Rng(seed);
    let pts = points(&mut rng);
    let srv = TestServer::redis(&[]);
    let mut con = srv.client();
    let scores = load(&mut con, "g", &pts);

    // The sorted set's order: by score, then member.
    let mut by_score: Vec<(f64, String)> = scores
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, format!("p{i}")))
        .collect();
    by_score.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let score_of: HashMap<String, f64> = by_score.iter().map(|(s, m)| (m.clone(), *s)).collect();

    let units = [("m", 1.0), ("km", 1000.0), ("mi", 1609.34), ("ft", 0.3048)];
    let mut shapes: Vec<(Shape, &str)> = Vec::new();
    for k in 0..400 {
        // Centre: a stored point (clusters are dense) or anywhere.
        let (lon, lat) = if k % 3 == 0 {
            (rng.float_range(-180.0, 180.0), rng.float_range(-85.0, 85.0))
        } else {
            pts[rng.below(pts.len() as u64) as usize]
        };
        let (unit, factor) = units[rng.below(4) as usize];
        // Sizes from a metre to beyond the Earth's half circumference.
        let metres = 10f64.powf(rng.float_range(0.0, 7.3));
        let size = (metres / factor * 1000.0).round() / 1000.0;
        let kind = if k % 2 == 0 {
            ShapeKind::Radius(size)
        } else {
            let h = (size * rng.float_range(0.2, 2.0) * 1000.0).round() / 1000.0;
            ShapeKind::Box {
                width: size,
                height: h,
            }
        };
        shapes.push((
            Shape {
                lon,
                lat,
                conversion: factor,
                kind,
            },
            unit,
        ));
    }
    // A few fixed ones: the whole world, zero sizes, the poles' limits.
    for (lon, lat, kind) in [
        (0.0, 0.0, ShapeKind::Radius(20_000_000.0)),
        (
            6.945597713649512,
            43.56292799938221,
            ShapeKind::Radius(10_000_000.0),
        ),
        (
            -75.25348366698846,
            84.94973982477129,
            ShapeKind::Radius(595_907.093),
        ),
        (179.9, 0.0, ShapeKind::Radius(50_000.0)),
        (-179.9, 84.9, ShapeKind::Radius(300_000.0)),
        (0.0, 0.0, ShapeKind::Radius(0.0)),
        (13.361389, 38.115556, ShapeKind::Radius(0.0)),
        (
            0.0,
            0.0,
            ShapeKind::Box {
                width: 40_000_000.0,
                height: 20_000_000.0,
            },
        ),
        (
            -60.0,
            -84.5,
            ShapeKind::Box {
                width: 100_000.0,
                height: 50_000.0,
            },
        ),
    ] {
        shapes.push((
            Shape {
                lon,
                lat,
                conversion: 1.0,
                kind,
            },
            "m",
        ));
    }

    let mut pipe = redis::pipe();
    for (shape, unit) in &shapes {
        let c = pipe.cmd("GEOSEARCH").arg("g");
        for a in search_args(shape, unit) {
            c.arg(a);
        }
        c.arg("WITHDIST").arg("WITHHASH").arg("WITHCOORD");
    }
    type Hit = (String, String, f64, (String, String));
    let replies: Vec<Vec<Hit>> = pipe.query(&mut con).expect("GEOSEARCH");

    let mut nonempty = 0;
    for ((shape, unit), got) in shapes.iter().zip(&replies) {
        let ctx = format!(
            "seed {seed}: GEOSEARCH g {}",
            search_args(shape, unit).join(" ")
        );
        let mut expect: Vec<Hit> = Vec::new();
        for (min, max) in geohash::search_ranges(shape) {
            // Redis compares the double scores with the bounds as doubles.
            let (min, max) = (min as f64, max as f64);
            let start = by_score.partition_point(|(s, _)| *s < min);
            for (s, m) in by_score[start..].iter().take_while(|(s, _)| *s < max) {
                if let Some(p) = geohash::point_in_shape(shape, *s) {
                    expect.push((
                        m.clone(),
                        geohash::fmt_distance(p.dist / shape.conversion),
                        *s,
                        (geohash::fmt_coord(p.lon), geohash::fmt_coord(p.lat)),
                    ));
                }
            }
        }
        if !got.is_empty() {
            nonempty += 1;
        }
        for hit in got {
            assert_eq!(score_of.get(&hit.0), Some(&hit.2), "{ctx}: WITHHASH");
        }
        if let Some(i) = (0..got.len().max(expect.len())).find(|&i| got.get(i) != expect.get(i)) {
            panic!(
                "{ctx}: first difference at {i} of {} (Redis) / {} (ours): Redis {:?}, ours {:?}",
                got.len(),
                expect.len(),
                got.get(i),
                expect.get(i)
            );
        }
    }
    // The searches must have found something to compare.
    assert!(
        nonempty > shapes.len() / 3,
        "only {nonempty} searches found points"
    );
}
