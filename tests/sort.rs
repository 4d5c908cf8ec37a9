//! SORT beyond the corpus: random lists, weights and option mixes sent to
//! redis-server and gostore, every reply (and every stored result)
//! compared byte for byte; and what SORT ... STORE writes to the AOF.
//!
//! Seeded (SORT_SEED overrides; failures print the seed and the command).

mod common;

use common::resp::RawConn;
use common::rng::Rng;
use common::{wait_for, TestServer};

/// Element and weight texts: numbers in many spellings, words, empty,
/// bytes after a NUL, duplicates. No overflowing numbers: Redis leaves
/// ERANGE in errno for later SORTs (docs/compatibility.md).
const VALUES: &[&str] = &[
    "0", "1", "2", "3", "10", "-1", "-0", "1.5", "01", "1e1", " 4", "0x10", "inf", "-inf", "", "a",
    "b", "B", "ab", "a b", "zz", "1a", "3\x00x", "3\x00y", "\u{e9}", "nan", "  ", "7 ",
];

/// Values that are numbers to strtod, for lists that must sort.
const NUMBERS: &[&str] = &[
    "0", "1", "2", "3", "10", "-1", "-0", "1.5", "01", "1e1", " 4", "0x10", "inf", "-inf", "",
    "3\x00x", "3\x00y", "2.50",
];

fn send(c: &mut RawConn, args: &[Vec<u8>]) -> Vec<u8> {
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    c.cmd(&refs)
}

fn words(s: &[&str]) -> Vec<Vec<u8>> {
    s.iter().map(|w| w.as_bytes().to_vec()).collect()
}

/// Random data: a list `l`, string weights `w_<e>`, hash weights
/// `h_<e>` field `f`, some keys of the wrong type.
fn fill(rng: &mut Rng, numeric: bool) -> Vec<Vec<Vec<u8>>> {
    let pool = if numeric { NUMBERS } else { VALUES };
    let mut cmds = vec![words(&["FLUSHALL"])];
    let n = rng.index(25);
    let mut elems: Vec<&str> = Vec::new();
    for _ in 0..n {
        elems.push(rng.pick(pool));
    }
    if !elems.is_empty() {
        let mut c = words(&["RPUSH", "l"]);
        c.extend(words(&elems));
        cmds.push(c);
    }
    for e in &elems {
        match rng.index(6) {
            0 => {}
            1 => cmds.push(vec![
                b"SET".to_vec(),
                format!("w_{e}").into_bytes(),
                rng.pick(if numeric { NUMBERS } else { VALUES }).into(),
            ]),
            2 => cmds.push(vec![
                b"HSET".to_vec(),
                format!("h_{e}").into_bytes(),
                b"f".to_vec(),
                rng.pick(pool).into(),
            ]),
            3 => cmds.push(vec![
                b"RPUSH".to_vec(),
                format!("w_{e}").into_bytes(),
                b"x".to_vec(),
            ]),
            4 => cmds.push(vec![
                b"SET".to_vec(),
                format!("h_{e}").into_bytes(),
                b"5".to_vec(),
            ]),
            _ => cmds.push(vec![
                b"SET".to_vec(),
                format!("w_{e}").into_bytes(),
                rng.pick(NUMBERS).into(),
            ]),
        }
    }
    cmds
}

/// A random SORT (or SORT_RO) command on `l`.
fn sort_cmd(rng: &mut Rng) -> Vec<Vec<u8>> {
    let ro = rng.index(4) == 0;
    let mut c = words(&[if ro { "SORT_RO" } else { "SORT" }, "l"]);
    let opts = rng.index(5);
    for _ in 0..opts {
        match rng.index(8) {
            0 => c.extend(words(&[rng.pick(&["ASC", "DESC", "asc", "desc"])])),
            1 => c.extend(words(&["ALPHA"])),
            2 => {
                let by = rng.pick(&["w_*", "h_*->f", "nosort", "missing_*", "*", "h_*->", "w_*x"]);
                c.extend(words(&["BY", by]));
            }
            3 => {
                let s = rng.pick(&["0", "1", "2", "-1", "5", "30", "-100"]);
                let n = rng.pick(&["0", "1", "3", "-1", "10", "100"]);
                c.extend(words(&["LIMIT", s, n]));
            }
            4 | 5 => {
                let g = rng.pick(&["#", "w_*", "h_*->f", "nostar", "h_*", "w_*->f"]);
                c.extend(words(&["GET", g]));
            }
            6 if !ro => c.extend(words(&["STORE", "dst"])),
            _ => c.extend(words(&["DESC"])),
        }
    }
    c
}

fn seed() -> u64 {
    std::env::var("SORT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x2545_F491_4F6C_DD1D)
}

#[test]
fn random_sorts_match_redis() {
    let seed = seed();
    let mut rng = Rng(seed);
    let r = TestServer::redis(&[]);
    let g = TestServer::gostore(&[]);
    let mut rc = r.raw_conn();
    let mut gc = g.raw_conn();
    let mut errors = 0;
    let mut stored = 0;
    for round in 0..300 {
        let numeric = round % 2 == 0;
        for c in fill(&mut rng, numeric) {
            assert_eq!(
                send(&mut gc, &c),
                send(&mut rc, &c),
                "seed {seed}: setup {c:?}"
            );
        }
        for _ in 0..8 {
            let c = sort_cmd(&mut rng);
            let (want, got) = (send(&mut rc, &c), send(&mut gc, &c));
            let shown: Vec<String> = c
                .iter()
                .map(|a| String::from_utf8_lossy(a).into())
                .collect();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "seed {seed}: {shown:?}"
            );
            if want.starts_with(b"-") {
                errors += 1;
            }
            if c.iter().any(|a| a == b"STORE") {
                let lr = words(&["LRANGE", "dst", "0", "-1"]);
                assert_eq!(
                    send(&mut gc, &lr),
                    send(&mut rc, &lr),
                    "seed {seed}: after {shown:?}"
                );
                stored += 1;
            }
        }
    }
    // The mix must exercise both paths.
    assert!(errors > 10 && errors < 1500, "{errors} errors");
    assert!(stored > 50, "{stored} stores");
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

/// SORT ... STORE is written as received (also when it deletes the
/// destination); SORT without STORE, and a STORE that changes nothing,
/// are not written.
#[test]
fn the_aof_gets_what_redis_propagates_for_sort() {
    let g = TestServer::gostore(&[]);
    let r = TestServer::redis(&["--appendonly", "yes"]);
    let script: &[&[&str]] = &[
        &["RPUSH", "l", "3", "1", "2"],
        &["SORT", "l"],
        &["SORT_RO", "l", "DESC"],
        &["SORT", "l", "DESC", "STORE", "d"],
        &[
            "SORT", "l", "BY", "nosort", "GET", "#", "GET", "w_*", "STORE", "d",
        ],
        &["SORT", "nosuch", "STORE", "d"],
        &["SORT", "nosuch", "STORE", "d"],
        &["SORT", "l", "LIMIT", "0", "0", "STORE", "nothing"],
        &["SORT", "l", "foo", "STORE", "d"],
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
    assert_eq!(ga.matches("SORT\r\n").count(), 3, "{ga}");
}
