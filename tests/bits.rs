//! Bitmaps and HyperLogLog against redis-server: random command sequences
//! compared reply by reply (and value by value with GET), HyperLogLog
//! bytes after random PFADDs through the sparse-to-dense promotion,
//! PFMERGE of mixed encodings, values carried from one server to the
//! other, and corrupted HyperLogLogs that must get Redis's errors and never
//! bring the server down.
//!
//! The sequences come from a seeded generator; a failure prints the seed,
//! the step and the command, so it can be replayed.

mod common;

use common::resp::RawConn;
use common::rng::Rng;
use common::TestServer;

/// Runs `args` on both servers and fails on different replies.
fn both(r: &mut RawConn, g: &mut RawConn, args: &[Vec<u8>], ctx: &str) -> Vec<u8> {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_slice()).collect();
    let want = r.cmd(&a);
    let got = g.cmd(&a);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want),
        "{ctx}: {:?}",
        args.iter()
            .map(|x| String::from_utf8_lossy(x).into_owned())
            .collect::<Vec<_>>()
    );
    want
}

fn strs(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

const BKEYS: &[&str] = &["b1", "b2", "b3", "h"];

fn bit_offset(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => rng.int_range(-3, -1).to_string(),
        1 => "x".into(),
        2 => rng.int_range(0, 2000).to_string(),
        _ => rng.int_range(0, 120).to_string(),
    }
}

fn index(rng: &mut Rng) -> String {
    match rng.below(12) {
        0 => "x".into(),
        1 => rng.int_range(-200, 200).to_string(),
        _ => rng.int_range(-12, 40).to_string(),
    }
}

fn field_type(rng: &mut Rng) -> String {
    match rng.below(14) {
        0 => "u64".into(),
        1 => "i0".into(),
        2 => "i64".into(),
        3 => "u63".into(),
        4 => "x8".into(),
        n => format!(
            "{}{}",
            if n % 2 == 0 { "i" } else { "u" },
            rng.int_range(1, 16)
        ),
    }
}

fn field_value(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => i64::MAX.to_string(),
        1 => i64::MIN.to_string(),
        2 => rng.int_range(-100_000, 100_000).to_string(),
        3 => "v".into(),
        _ => rng.int_range(-300, 300).to_string(),
    }
}

fn bitmap_command(rng: &mut Rng) -> Vec<String> {
    let k = rng.pick(BKEYS).to_string();
    let mut c: Vec<String> = Vec::new();
    match rng.below(20) {
        0..=3 => {
            let v = if rng.below(15) == 0 {
                "2"
            } else {
                rng.pick(&["0", "1"])
            };
            c.extend(["SETBIT".into(), k, bit_offset(rng), v.into()]);
        }
        4 | 5 => c.extend(["GETBIT".into(), k, bit_offset(rng)]),
        6 | 7 => {
            c.extend(["BITCOUNT".into(), k]);
            if rng.below(4) != 0 {
                c.extend([index(rng), index(rng)]);
                if rng.below(2) == 0 {
                    c.push(rng.pick(&["BIT", "BYTE", "bit", "bits"]).into());
                }
            }
        }
        8 | 9 => {
            let bit = if rng.below(15) == 0 {
                "2"
            } else {
                rng.pick(&["0", "1"])
            };
            c.extend(["BITPOS".into(), k, bit.into()]);
            let n = rng.below(4);
            if n >= 1 {
                c.push(index(rng));
            }
            if n >= 2 {
                c.push(index(rng));
            }
            if n >= 3 {
                c.push(rng.pick(&["BIT", "BYTE", "byte", "x"]).into());
            }
        }
        10 | 11 => {
            let op = rng.pick(&["AND", "OR", "XOR", "NOT", "not", "NOR"]);
            c.extend(["BITOP".into(), op.into(), rng.pick(BKEYS).into()]);
            for _ in 0..rng.int_range(1, 3) {
                c.push(rng.pick(&["b1", "b2", "b3", "missing", "h"]).into());
            }
        }
        12..=15 => {
            c.push(
                if rng.below(6) == 0 {
                    "BITFIELD_RO"
                } else {
                    "BITFIELD"
                }
                .into(),
            );
            c.push(k);
            for _ in 0..rng.int_range(0, 4) {
                match rng.below(8) {
                    0 => c.extend([
                        "OVERFLOW".into(),
                        rng.pick(&["WRAP", "SAT", "FAIL", "sat", "nope"]).into(),
                    ]),
                    1..=3 => {
                        c.extend(["GET".into(), field_type(rng), field_offset(rng)]);
                    }
                    4 | 5 => c.extend([
                        "SET".into(),
                        field_type(rng),
                        field_offset(rng),
                        field_value(rng),
                    ]),
                    _ => c.extend([
                        "INCRBY".into(),
                        field_type(rng),
                        field_offset(rng),
                        field_value(rng),
                    ]),
                }
            }
        }
        16 if rng.below(2) == 0 => {
            // Runs of ones, where BITPOS 0 must look past them.
            let ones = "\u{ff}".repeat(rng.int_range(1, 6) as usize);
            let tail = rng.pick(&["", "\u{fe}", "\u{7f}", "\u{00}"]);
            c.extend(["SET".into(), k, format!("{ones}{tail}")]);
        }
        16 => {
            let len = rng.int_range(0, 12) as usize;
            let v: String = (0..len)
                .map(|_| char::from(b"\x00\x01\x7f\xffab1"[rng.below(7) as usize]))
                .collect();
            c.extend(["SET".into(), k, v]);
        }
        17 => c.extend(["SET".into(), k, rng.int_range(-500, 500).to_string()]),
        18 => c.extend(["APPEND".into(), k, "z".into()]),
        _ => c.extend(["OBJECT".into(), "ENCODING".into(), k]),
    }
    c
}

fn field_offset(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => format!("#{}", rng.int_range(0, 12)),
        1 => "-1".into(),
        _ => rng.int_range(0, 100).to_string(),
    }
}

/// SET's value from `bitmap_command` is made of chars; send their bytes
/// (`char::from(0xff)` is U+00FF, which must go as the byte 0xff).
fn encode(c: &[String]) -> Vec<Vec<u8>> {
    c.iter()
        .map(|s| {
            if s.chars().all(|ch| (ch as u32) < 256) {
                s.chars().map(|ch| ch as u8).collect()
            } else {
                s.as_bytes().to_vec()
            }
        })
        .collect()
}

#[test]
fn random_bitmap_commands_match_redis() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let (mut r, mut g) = (redis.raw_conn(), gostore.raw_conn());
    for seed in 1..=6u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        both(&mut r, &mut g, &strs(&["FLUSHALL"]), "flush");
        both(&mut r, &mut g, &strs(&["HSET", "h", "f", "v"]), "hash");
        // HELLO's reply names the client id, which differs.
        let proto = if seed % 2 == 0 { "3" } else { "2" };
        r.cmd_str(&["HELLO", proto]);
        g.cmd_str(&["HELLO", proto]);
        for step in 0..700 {
            let c = bitmap_command(&mut rng);
            both(
                &mut r,
                &mut g,
                &encode(&c),
                &format!("seed {seed} step {step}"),
            );
            if step % 50 == 49 {
                for k in BKEYS {
                    both(
                        &mut r,
                        &mut g,
                        &strs(&["GET", k]),
                        &format!("seed {seed} step {step}"),
                    );
                }
            }
        }
    }
}

/// A random element: short, sometimes empty, any bytes.
fn element(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(12) as usize;
    (0..len).map(|_| rng.next() as u8).collect()
}

#[test]
fn random_pfadds_give_redis_bytes_and_counts_through_promotion() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let (mut r, mut g) = (redis.raw_conn(), gostore.raw_conn());
    // The default limit, and a small one so promotion comes early.
    for (seed, limit) in [(11u64, "3000"), (12, "200"), (13, "3000")] {
        let mut rng = Rng(seed);
        both(&mut r, &mut g, &strs(&["FLUSHALL"]), "flush");
        let set = strs(&["CONFIG", "SET", "hll-sparse-max-bytes", limit]);
        both(&mut r, &mut g, &set, "limit");
        let mut promoted_at = None;
        for step in 0..600 {
            let key = format!("p{}", rng.below(2));
            let mut c = vec![b"PFADD".to_vec(), key.clone().into_bytes()];
            for _ in 0..rng.int_range(0, 16) {
                c.push(element(&mut rng));
            }
            let ctx = format!("seed {seed} step {step}");
            both(&mut r, &mut g, &c, &ctx);
            both(&mut r, &mut g, &strs(&["GET", &key]), &ctx);
            if step % 7 == 0 {
                both(&mut r, &mut g, &strs(&["PFCOUNT", &key]), &ctx);
                both(&mut r, &mut g, &strs(&["GET", &key]), &ctx);
            }
            let enc = both(&mut r, &mut g, &strs(&["PFDEBUG", "ENCODING", &key]), &ctx);
            if enc.starts_with(b"+dense") && promoted_at.is_none() {
                promoted_at = Some(step);
            }
        }
        both(&mut r, &mut g, &strs(&["PFCOUNT", "p0", "p1"]), "union");
        // Each round must reach the dense encoding, or the limit went untested.
        assert!(
            promoted_at.is_some(),
            "seed {seed}: never promoted to dense"
        );
    }
}

#[test]
fn pfmerge_of_mixed_encodings_matches_redis() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let (mut r, mut g) = (redis.raw_conn(), gostore.raw_conn());
    let mut rng = Rng(99);
    for round in 0..8 {
        both(&mut r, &mut g, &strs(&["FLUSHALL"]), "flush");
        for (k, n) in [("s1", 20), ("s2", 300), ("d1", 3000)] {
            let mut c = vec![b"PFADD".to_vec(), k.as_bytes().to_vec()];
            for _ in 0..n {
                c.push(element(&mut rng));
            }
            both(&mut r, &mut g, &c, k);
        }
        if round % 2 == 0 {
            both(
                &mut r,
                &mut g,
                &strs(&["PFDEBUG", "TODENSE", "s2"]),
                "todense",
            );
        }
        let dest = ["s1", "new", "d1", "s2"][round % 4];
        let srcs: &[&str] = match round % 3 {
            0 => &["s1", "s2"],
            1 => &["s1", "d1", "missing"],
            _ => &["d1", "s2", "s1"],
        };
        let mut c = vec!["PFMERGE", dest];
        c.extend_from_slice(srcs);
        let ctx = format!("round {round}");
        both(&mut r, &mut g, &strs(&c), &ctx);
        for k in ["s1", "s2", "d1", "new"] {
            both(&mut r, &mut g, &strs(&["GET", k]), &ctx);
            both(&mut r, &mut g, &strs(&["PFCOUNT", k]), &ctx);
        }
        both(
            &mut r,
            &mut g,
            &strs(&["PFCOUNT", "s1", "s2", "d1", "new"]),
            &ctx,
        );
    }
}

/// The bulk payload of a RESP bulk reply.
fn bulk(reply: &[u8]) -> Vec<u8> {
    let at = reply.iter().position(|&c| c == b'\n').expect("bulk header");
    reply[at + 1..reply.len() - 2].to_vec()
}

#[test]
fn hyperloglogs_move_between_servers() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let (mut r, mut g) = (redis.raw_conn(), gostore.raw_conn());
    let mut rng = Rng(5);
    for n in [3usize, 400, 5000] {
        let mut add = vec![b"PFADD".to_vec(), b"src".to_vec()];
        for _ in 0..n {
            add.push(element(&mut rng));
        }
        let a: Vec<&[u8]> = add.iter().map(|x| x.as_slice()).collect();
        // Written by Redis, read and extended by GoStore; and the reverse.
        carry(&mut r, &mut g, &a, n);
        carry(&mut g, &mut r, &a, n);
    }
}

/// Adds `add` on `from`, SETs the bytes on both, and compares what each
/// makes of them.
fn carry(from: &mut RawConn, to: &mut RawConn, add: &[&[u8]], n: usize) {
    from.cmd(&[b"DEL", b"src"]);
    to.cmd(&[b"DEL", b"src"]);
    from.cmd(add);
    to.cmd(add);
    let bytes = bulk(&from.cmd(&[b"GET", b"src"]));
    assert!(bytes.starts_with(b"HYLL"));
    to.cmd(&[b"SET", b"moved", &bytes]);
    from.cmd(&[b"SET", b"moved", &bytes]);
    for c in [
        &[&b"PFCOUNT"[..], b"moved"][..],
        &[b"PFADD", b"moved", b"one", b"two", b"three"],
        &[b"PFCOUNT", b"moved"],
        &[b"GET", b"moved"],
        &[b"PFCOUNT", b"moved", b"src"],
    ] {
        assert_eq!(to.cmd(c), from.cmd(c), "n={n} {c:?}");
    }
}

#[test]
fn corrupted_hyperloglogs_get_redis_errors_and_never_crash() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let (mut r, mut g) = (redis.raw_conn(), gostore.raw_conn());
    let mut rng = Rng(77);
    let mut valid = Vec::new();
    for (n, dense) in [
        (5, false),
        (60, false),
        (700, false),
        (50, true),
        (5000, true),
    ] {
        let mut add = vec![b"PFADD".to_vec(), b"v".to_vec()];
        for _ in 0..n {
            add.push(element(&mut rng));
        }
        let a: Vec<&[u8]> = add.iter().map(|x| x.as_slice()).collect();
        r.cmd(&[b"DEL", b"v"]);
        r.cmd(&a);
        if dense {
            r.cmd(&[b"PFDEBUG", b"TODENSE", b"v"]);
        }
        valid.push(bulk(&r.cmd(&[b"GET", b"v"])));
    }
    let mut errors = 0;
    for round in 0..600 {
        let mut bad = valid[round % valid.len()].clone();
        for _ in 0..rng.int_range(1, 3) {
            // Mostly the registers, sometimes the header.
            let at = if rng.below(8) == 0 {
                rng.below(16) as usize
            } else {
                16 + rng.below((bad.len() - 16) as u64) as usize
            };
            bad[at] ^= 1 << rng.below(8);
        }
        let ctx = format!("round {round}");
        if std::env::var_os("BITS_DUMP").is_some() {
            std::fs::write("/tmp/bad.hll", &bad).ok();
        }
        let set = vec![b"SET".to_vec(), b"bad".to_vec(), bad];
        both(&mut r, &mut g, &set, &ctx);
        // Reads first: the same count or the same error.
        let count = both(&mut r, &mut g, &strs(&["PFCOUNT", "bad"]), &ctx);
        both(&mut r, &mut g, &strs(&["PFCOUNT", "bad", "nosuch"]), &ctx);
        both(&mut r, &mut g, &strs(&["PFMERGE", "dest", "bad"]), &ctx);
        if count.starts_with(b"-") {
            errors += 1;
        }
        // Writes on GoStore alone: whatever they reply, the server lives.
        for c in [
            &["PFADD", "bad", "a", "b", "c", "d", "e", "f", "g"][..],
            &["PFDEBUG", "GETREG", "bad"],
            &["PFDEBUG", "DECODE", "bad"],
            &["PFDEBUG", "TODENSE", "bad"],
            &["PFCOUNT", "bad"],
            &["PFMERGE", "bad", "dest"],
        ] {
            let reply = g.cmd_str(c);
            assert!(
                !reply.starts_with('-')
                    || reply.starts_with("-INVALIDOBJ Corrupted HLL object detected")
                    || reply.starts_with("-WRONGTYPE Key is not a valid HyperLogLog")
                    || reply.starts_with("-ERR HLL encoding is not sparse"),
                "{ctx}: {c:?} -> {reply}"
            );
        }
        assert_eq!(g.cmd_str(&["PING"]), "+PONG\r\n", "{ctx}");
    }
    // The flips must have produced corrupt values, or nothing was tested.
    assert!(errors > 0, "no flip was detected as corrupt");
}

/// The AOF files both servers write for the same commands: what counts as
/// a change and is propagated (a SETBIT that changes nothing is not, a
/// BITFIELD write that OVERFLOW FAIL skips is not, PFCOUNT writing back
/// the cache is) must be Redis's, byte for byte.
#[test]
fn bit_and_hll_writes_reach_the_aof_as_redis_writes_them() {
    let files = [
        "--appendonly",
        "yes",
        "--appendfilename",
        "database.aof",
        "--appenddirname",
        "appendonlydir",
        "--aof-use-rdb-preamble",
        "no",
    ];
    let (rdir, gdir) = (
        common::TempDir::new("bits-aof-r"),
        common::TempDir::new("bits-aof-g"),
    );
    let redis = TestServer::start_in(common::Kind::Redis, rdir.path(), &files);
    let gostore = TestServer::start_in(common::Kind::GoStore, gdir.path(), &[]);
    let (mut r, mut g) = (redis.raw_conn(), gostore.raw_conn());
    for c in [
        &["SETBIT", "b", "3", "0"][..],
        &["SETBIT", "b", "3", "0"],
        &["SETBIT", "b", "3", "1"],
        &["SETBIT", "b", "3", "1"],
        &["SETBIT", "b", "30", "0"],
        &[
            "BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300",
        ],
        &["BITFIELD", "f", "INCRBY", "u8", "0", "3", "GET", "u8", "0"],
        &["BITFIELD", "f", "GET", "u8", "0"],
        &["BITOP", "OR", "o", "b", "f"],
        &["BITOP", "AND", "o", "nosuch"],
        &["BITOP", "AND", "o", "nosuch"],
        &["PFADD", "h", "a", "b"],
        &["PFADD", "h", "a"],
        &["PFCOUNT", "h"],
        &["PFCOUNT", "h"],
        &["PFMERGE", "m", "h"],
        &["PFDEBUG", "TODENSE", "m"],
        &["PFDEBUG", "TODENSE", "m"],
        &["PFCOUNT", "m", "h"],
        &["SET", "end", "1"],
    ] {
        both(&mut r, &mut g, &strs(c), "aof");
    }
    let incr = |d: &common::TempDir| {
        std::fs::read(d.path().join("appendonlydir/database.aof.1.incr.aof")).expect("incr file")
    };
    let want = incr(&rdir);
    assert!(
        want.ends_with(b"$3\r\nend\r\n$1\r\n1\r\n"),
        "Redis's AOF is complete"
    );
    assert_eq!(
        String::from_utf8_lossy(&incr(&gdir)),
        String::from_utf8_lossy(&want)
    );
}
