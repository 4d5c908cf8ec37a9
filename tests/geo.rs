//! GEO commands beyond the corpus: random geo sets (clustered points, exact
//! duplicates for ties, listpack and skiplist sizes) searched with random
//! shapes and every option mix on redis-server and gostore, in RESP2 and
//! RESP3, every reply and every stored result (ZRANGE WITHSCORES) compared
//! byte for byte; and what the GEO writes put in the AOF, and that it
//! replays.
//!
//! Seeded (GEO_SEED overrides; failures print the seed and the command).

mod common;

use common::resp::RawConn;
use common::rng::Rng;
use common::{wait_for, TestServer};

fn send(c: &mut RawConn, args: &[String]) -> Vec<u8> {
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.cmd(&refs)
}

fn words(s: &[&str]) -> Vec<String> {
    s.iter().map(|w| w.to_string()).collect()
}

/// Cluster centres: ordinary places, the antimeridian, near the limits.
const CENTRES: &[(f64, f64)] = &[
    (13.36, 38.11),
    (-0.12, 51.5),
    (179.95, 0.5),
    (-179.9, -10.0),
    (0.0, 84.9),
    (151.2, -33.9),
    (0.0, 0.0),
];

/// A coordinate in one of several spellings Redis reads the same way.
fn coord(rng: &mut Rng, v: f64) -> String {
    match rng.index(4) {
        0 => format!("{v:.6}"),
        1 => format!("{v}"),
        2 => format!("{v:e}"),
        _ => format!("{v:.2}"),
    }
}

fn clamp_point(lon: f64, lat: f64) -> (f64, f64) {
    (lon.clamp(-180.0, 180.0), lat.clamp(-85.05, 85.05))
}

/// A random point near a centre (spread from metres to hundreds of km).
fn near(rng: &mut Rng, c: (f64, f64)) -> (f64, f64) {
    let spread = [0.0001, 0.01, 0.5, 3.0][rng.index(4)];
    clamp_point(
        c.0 + rng.float_range(-spread, spread),
        c.1 + rng.float_range(-spread, spread),
    )
}

/// GEOADDs filling `g` (sizes on both sides of the listpack limit), with
/// exact duplicates under other names, and a string key `s`.
fn fill(rng: &mut Rng) -> (Vec<Vec<String>>, usize) {
    let mut cmds = vec![words(&["FLUSHALL"]), words(&["SET", "s", "x"])];
    let n = [5, 40, 127, 129, 300][rng.index(5)];
    let mut add = words(&["GEOADD", "g"]);
    let mut last = (0.0, 0.0);
    for i in 0..n {
        let p = if i > 0 && rng.chance(10) {
            last
        } else {
            let c = CENTRES[rng.index(CENTRES.len())];
            near(rng, c)
        };
        last = p;
        add.push(coord(rng, p.0));
        add.push(coord(rng, p.1));
        add.push(format!("m{i}"));
        if add.len() > 60 {
            cmds.push(std::mem::replace(&mut add, words(&["GEOADD", "g"])));
        }
    }
    if add.len() > 2 {
        cmds.push(add);
    }
    (cmds, n)
}

const UNITS: &[&str] = &["m", "km", "ft", "mi", "KM", "Mi"];

/// A size in `unit` around a spread of metres (0 now and then).
fn size(rng: &mut Rng, unit: &str) -> String {
    if rng.chance(3) {
        return "0".into();
    }
    let metres =
        [50.0, 2_000.0, 60_000.0, 400_000.0, 3_000_000.0][rng.index(5)] * rng.float_range(0.2, 1.5);
    let per = match unit.to_ascii_lowercase().as_str() {
        "km" => 1000.0,
        "ft" => 0.3048,
        "mi" => 1609.34,
        _ => 1.0,
    };
    format!("{}", (metres / per * 100.0).round() / 100.0)
}

/// The centre of a search: a point near a cluster.
fn centre(rng: &mut Rng) -> (String, String) {
    let c = CENTRES[rng.index(CENTRES.len())];
    let p = near(rng, c);
    (coord(rng, p.0), coord(rng, p.1))
}

/// A member to search from: usually present, sometimes not.
fn member(rng: &mut Rng, n: usize) -> String {
    if rng.chance(5) {
        "missing".into()
    } else {
        format!("m{}", rng.index(n))
    }
}

/// Options common to every search, in random order: sorting, COUNT [ANY],
/// the WITH* flags (unless storing, mostly).
fn options(rng: &mut Rng, storing: bool) -> Vec<String> {
    let mut opts: Vec<Vec<String>> = Vec::new();
    match rng.index(4) {
        0 => opts.push(words(&["ASC"])),
        1 => opts.push(words(&["DESC"])),
        _ => {}
    }
    if rng.chance(50) {
        let n = [1, 2, 3, 5, 10, 50, 1000][rng.index(7)];
        let mut c = vec!["COUNT".to_string(), n.to_string()];
        if rng.chance(40) {
            c.push("ANY".into());
        }
        opts.push(c);
    }
    if !storing || rng.chance(3) {
        for w in ["WITHDIST", "WITHHASH", "WITHCOORD"] {
            if rng.chance(40) {
                opts.push(words(&[w]));
            }
        }
    }
    // Now and then a mistake: ANY alone, COUNT 0.
    if rng.chance(2) {
        opts.push(words(&["ANY"]));
    }
    if rng.chance(1) {
        opts.push(words(&["COUNT", "0"]));
    }
    for i in (1..opts.len()).rev() {
        let j = rng.index(i + 1);
        opts.swap(i, j);
    }
    opts.concat()
}

/// A random search and whether it stores into `dst`.
fn search_cmd(rng: &mut Rng, n: usize) -> (Vec<String>, bool) {
    let src = if rng.chance(3) {
        rng.pick(&["nokey", "s"])
    } else {
        "g"
    };
    match rng.index(6) {
        0 | 1 => {
            let store = rng.chance(40);
            let mut c = if store {
                words(&["GEOSEARCHSTORE", "dst", src])
            } else {
                words(&["GEOSEARCH", src])
            };
            let mut parts: Vec<Vec<String>> = Vec::new();
            if rng.chance(50) {
                parts.push(vec!["FROMMEMBER".into(), member(rng, n)]);
            } else {
                let (lon, lat) = centre(rng);
                parts.push(vec!["FROMLONLAT".into(), lon, lat]);
            }
            let unit = rng.pick(UNITS);
            if rng.chance(50) {
                parts.push(vec!["BYRADIUS".into(), size(rng, unit), unit.into()]);
            } else {
                parts.push(vec![
                    "BYBOX".into(),
                    size(rng, unit),
                    size(rng, unit),
                    unit.into(),
                ]);
            }
            if rng.chance(50) {
                parts.swap(0, 1);
            }
            c.extend(parts.concat());
            c.extend(options(rng, store));
            if store && rng.chance(50) {
                c.push("STOREDIST".into());
            }
            (c, store)
        }
        k => {
            let by_member = k >= 4;
            let ro = rng.chance(20);
            let name = match (by_member, ro) {
                (false, false) => "GEORADIUS",
                (false, true) => "GEORADIUS_RO",
                (true, false) => "GEORADIUSBYMEMBER",
                (true, true) => "GEORADIUSBYMEMBER_RO",
            };
            let mut c = words(&[name, src]);
            if by_member {
                c.push(member(rng, n));
            } else {
                let (lon, lat) = centre(rng);
                c.push(lon);
                c.push(lat);
            }
            let unit = rng.pick(UNITS);
            c.push(size(rng, unit));
            c.push(unit.into());
            let store = !ro && rng.chance(40);
            c.extend(options(rng, store));
            if store {
                c.push(rng.pick(&["STORE", "STOREDIST"]).into());
                c.push("dst".into());
            }
            (c, store)
        }
    }
}

/// GEODIST, GEOPOS, GEOHASH on random members.
fn lookup_cmd(rng: &mut Rng, n: usize) -> Vec<String> {
    match rng.index(3) {
        0 => {
            let mut c = words(&["GEODIST", "g"]);
            c.push(member(rng, n));
            c.push(member(rng, n));
            if rng.chance(70) {
                c.push(rng.pick(UNITS).into());
            }
            c
        }
        k => {
            let mut c = words(&[if k == 1 { "GEOPOS" } else { "GEOHASH" }, "g"]);
            for _ in 0..rng.index(4) + 1 {
                c.push(member(rng, n));
            }
            c
        }
    }
}

fn seed() -> u64 {
    std::env::var("GEO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15)
}

fn shown(c: &[String]) -> String {
    c.join(" ")
}

#[test]
fn random_geo_searches_match_redis() {
    let seed = seed();
    let mut rng = Rng(seed);
    let r = TestServer::redis(&[]);
    let g = TestServer::gostore(&[]);
    let mut rc = [r.raw_conn(), r.raw_conn()];
    let mut gc = [g.raw_conn(), g.raw_conn()];
    let hello = words(&["HELLO", "3"]);
    send(&mut rc[1], &hello);
    send(&mut gc[1], &hello);
    let (mut errors, mut stored, mut nonempty, mut ordered_ties) = (0, 0, 0, 0);
    for _round in 0..120 {
        let (setup, n) = fill(&mut rng);
        for c in &setup {
            assert_eq!(
                String::from_utf8_lossy(&send(&mut gc[0], c)),
                String::from_utf8_lossy(&send(&mut rc[0], c)),
                "seed {seed}: setup {}",
                shown(c)
            );
        }
        for _ in 0..25 {
            let p = rng.index(2);
            let (c, store) = if rng.chance(15) {
                (lookup_cmd(&mut rng, n), false)
            } else {
                search_cmd(&mut rng, n)
            };
            let (want, got) = (send(&mut rc[p], &c), send(&mut gc[p], &c));
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "seed {seed}: RESP{} {}",
                p + 2,
                shown(&c)
            );
            if want.starts_with(b"-") {
                errors += 1;
            } else if want.len() > 8 && !store {
                nonempty += 1;
                if c.iter().any(|a| a == "ASC" || a == "DESC") {
                    ordered_ties += 1;
                }
            }
            if store {
                let zr = words(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]);
                assert_eq!(
                    String::from_utf8_lossy(&send(&mut gc[p], &zr)),
                    String::from_utf8_lossy(&send(&mut rc[p], &zr)),
                    "seed {seed}: after {}",
                    shown(&c)
                );
                let enc = words(&["OBJECT", "ENCODING", "dst"]);
                assert_eq!(
                    send(&mut gc[p], &enc),
                    send(&mut rc[p], &enc),
                    "seed {seed}: encoding after {}",
                    shown(&c)
                );
                stored += 1;
            }
        }
    }
    // The mix must exercise every path.
    assert!(errors > 20 && errors < 1000, "{errors} errors");
    assert!(stored > 300, "{stored} stores");
    assert!(nonempty > 500, "{nonempty} non-empty results");
    assert!(ordered_ties > 100, "{ordered_ties} sorted results");
}

/// The AOF's incr file of a server, as text.
fn incr_aof(srv: &TestServer) -> String {
    let dir = srv.path.join("appendonlydir");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return String::new();
    };
    let mut out = String::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".incr.aof") {
            out.push_str(&String::from_utf8_lossy(
                &std::fs::read(e.path()).unwrap_or_default(),
            ));
        }
    }
    out
}

/// GEOADD is written as the `zadd` Redis rewrites it into (options as
/// received, scores the geohashes); GEORADIUS ... STORE, GEORADIUSBYMEMBER
/// ... STOREDIST and GEOSEARCHSTORE as received (also when they delete the
/// destination); reads and no-op writes are not written. The AOF then
/// replays to the same data.
#[test]
fn the_aof_gets_what_redis_propagates_for_geo() {
    let mut g = TestServer::gostore(&["--appendonly", "yes"]);
    let r = TestServer::redis(&["--appendonly", "yes"]);
    let script: &[&[&str]] = &[
        &[
            "GEOADD",
            "k",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ],
        &["GEOADD", "k", "13.361389", "38.115556", "Palermo"],
        &[
            "geoadd", "k", "xx", "Ch", "13.4", "38.1", "Palermo", "1", "1", "nope",
        ],
        &[
            "GEOADD", "k", "NX", "1", "1", "Palermo", "12.5", "37.8", "Marsala",
        ],
        &["GEOADD", "k", "XX", "200", "1", "bad"],
        &["GEOADD", "fresh", "XX", "1", "1", "a"],
        &["GEODIST", "k", "Palermo", "Catania"],
        &[
            "GEOSEARCH",
            "k",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
        ],
        &[
            "GEOSEARCHSTORE",
            "d",
            "k",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "STOREDIST",
            "COUNT",
            "2",
        ],
        &["GEORADIUS", "k", "15", "37", "200", "km", "STORE", "d2"],
        &[
            "GEORADIUSBYMEMBER",
            "k",
            "Palermo",
            "300",
            "km",
            "STOREDIST",
            "d3",
        ],
        &["GEORADIUS_RO", "k", "15", "37", "200", "km"],
        &["GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d2"],
        &["GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d2"],
        &[
            "GEOSEARCHSTORE",
            "d4",
            "nokey",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km",
        ],
        &["SET", "end", "1"],
    ];
    let mut gc = g.raw_conn();
    let mut rc = r.raw_conn();
    for cmd in script {
        assert_eq!(gc.cmd_str(cmd), rc.cmd_str(cmd), "{cmd:?}");
    }
    wait_for(10, "both AOFs to have the last command", || {
        incr_aof(&g).contains("$3\r\nend\r\n") && incr_aof(&r).contains("$3\r\nend\r\n")
    });
    let (ga, ra) = (incr_aof(&g), incr_aof(&r));
    assert_eq!(ga, ra);
    assert_eq!(ga.matches("$4\r\nzadd\r\n").count(), 3, "{ga}");
    assert!(!ga.to_ascii_lowercase().contains("geoadd"), "{ga}");
    assert_eq!(ga.matches("$9\r\nGEORADIUS\r\n").count(), 2, "{ga}");

    // Replayed, the data is Redis's.
    let dump = |c: &mut RawConn| {
        ["k", "d", "d2", "d3", "d4", "fresh"]
            .iter()
            .map(|k| c.cmd_str(&["ZRANGE", k, "0", "-1", "WITHSCORES"]))
            .collect::<Vec<_>>()
    };
    let want = dump(&mut rc);
    drop(gc);
    g.sigterm();
    g.restart();
    let mut gc = g.raw_conn();
    assert_eq!(dump(&mut gc), want);
}
