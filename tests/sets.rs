//! Sets beyond the differential corpus: what the AOF receives (Redis 7.0's
//! propagation: SPOP as SREM per member or DEL), the random commands'
//! properties against redis-server (counts, membership, distinctness,
//! shapes), encodings and conversions step by step against redis-server,
//! big sets freed on the lazyfree thread, and the set directive.

mod common;

use std::collections::BTreeSet;

use common::resp::{self, RawConn};
use common::{wait_for, TestServer};

/// The commands in the AOF's incr file of a server, as text.
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

/// The bytes of a bulk string leaf (`$n\r\n...\r\n`).
fn bulk_bytes(raw: &[u8]) -> Vec<u8> {
    assert_eq!(
        raw.first(),
        Some(&b'$'),
        "{:?}",
        String::from_utf8_lossy(raw)
    );
    let start = raw.windows(2).position(|w| w == b"\r\n").expect("header") + 2;
    raw[start..raw.len() - 2].to_vec()
}

/// The bulk strings of an aggregate reply.
fn members(reply: &str) -> Vec<Vec<u8>> {
    match resp::parse(reply.as_bytes()) {
        resp::Reply::Agg(b'*' | b'~', v) => v
            .into_iter()
            .map(|e| match e {
                resp::Reply::Leaf(b) => bulk_bytes(&b),
                other => panic!("not a bulk string: {other:?}"),
            })
            .collect(),
        other => panic!("not an array or set: {other:?}"),
    }
}

fn smembers(c: &mut RawConn, key: &str) -> BTreeSet<Vec<u8>> {
    members(&c.cmd_str(&["SMEMBERS", key]))
        .into_iter()
        .collect()
}

#[test]
fn the_aof_gets_what_redis_propagates_for_set_commands() {
    let g = TestServer::gostore(&[]);
    let r = TestServer::redis(&["--appendonly", "yes"]);
    // Only commands whose effect is not random: SPOP of a one-member set or
    // of the whole set.
    let script: &[&[&str]] = &[
        &["SADD", "s", "1", "2", "3"],
        &["SADD", "s", "2"],
        &["SADD", "s", "a"],
        &["SREM", "s", "nothere"],
        &["SREM", "s", "1", "x"],
        &["SMOVE", "s", "d", "2"],
        &["SMOVE", "s", "d", "nothere"],
        &["SMOVE", "s", "s", "3"],
        &["SADD", "one", "only"],
        &["SPOP", "one"],
        &["SPOP", "one"],
        &["SADD", "p", "1", "2", "3"],
        &["SPOP", "p", "0"],
        &["SPOP", "p", "3"],
        &["SPOP", "nokey", "3"],
        &["SADD", "p", "x"],
        &["SPOP", "p", "10"],
        &["SINTERSTORE", "st", "s", "d"],
        &["SINTERSTORE", "st", "s", "nokey"],
        &["SUNIONSTORE", "st", "s", "d"],
        &["SDIFFSTORE", "st", "s", "s"],
        &["SDIFFSTORE", "st", "s", "s"],
        &["SADD", "one", "x"],
        &["SMOVE", "one", "d", "x"],
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
    // What makes these equal is not trivial: SPOP is written as SREM or DEL.
    assert!(!ga.contains("SPOP"));
    assert!(
        ga.contains("*3\r\n$4\r\nSREM\r\n$3\r\none\r\n$4\r\nonly\r\n"),
        "{ga}"
    );
    assert_eq!(ga.matches("*2\r\n$3\r\nDEL\r\n$1\r\np\r\n").count(), 2);
}

#[test]
fn spop_with_a_count_is_written_as_one_srem_per_member_popped() {
    for (members_of, count) in [(10, 2), (10, 9), (1000, 3), (1000, 900)] {
        let g = TestServer::gostore(&[]);
        let mut c = g.raw_conn();
        // Integers (an intset up to 512) or words (a hashtable).
        let all: Vec<String> = (0..members_of)
            .map(|i| {
                if members_of > 512 {
                    format!("m{i}")
                } else {
                    i.to_string()
                }
            })
            .collect();
        let mut argv = vec!["SADD", "s"];
        argv.extend(all.iter().map(String::as_str));
        c.cmd_str(&argv);
        let popped = members(&c.cmd_str(&["SPOP", "s", &count.to_string()]));
        let distinct: BTreeSet<_> = popped.iter().cloned().collect();
        assert_eq!((popped.len(), distinct.len()), (count, count));
        let left = smembers(&mut c, "s");
        assert_eq!(left.len(), members_of - count);
        assert!(left.is_disjoint(&distinct));
        c.cmd_str(&["SET", "end", "1"]);
        wait_for(10, "the AOF to have the last command", || {
            incr_aof(&g).contains("$3\r\nend\r\n")
        });
        let aof = incr_aof(&g);
        assert!(aof.contains("*1\r\n$5\r\nMULTI\r\n") && aof.contains("*1\r\n$4\r\nEXEC\r\n"));
        assert_eq!(aof.matches("$4\r\nSREM\r\n").count(), count, "{members_of}");
        for m in &popped {
            let srem = format!(
                "*3\r\n$4\r\nSREM\r\n$1\r\ns\r\n${}\r\n{}\r\n",
                m.len(),
                String::from_utf8_lossy(m)
            );
            assert!(aof.contains(&srem), "{srem:?}");
        }
        // Replayed, the log gives the same set.
        drop(c);
        let mut g = g;
        assert_eq!(g.sigterm(), Some(0));
        g.restart();
        let mut c = g.raw_conn();
        assert_eq!(smembers(&mut c, "s"), left);
    }
}

/// The RESP shapes (types and lengths) of a reply.
fn shape(reply: &str) -> String {
    match resp::parse(reply.as_bytes()) {
        resp::Reply::Agg(t, v) => format!("{}{}", t as char, v.len()),
        resp::Reply::Leaf(b) => String::from_utf8_lossy(&b[..1]).into_owned(),
    }
}

#[test]
fn random_picks_have_redis_s_shape_and_properties_in_both_encodings() {
    let g = TestServer::gostore(&[]);
    let r = TestServer::redis(&[]);
    for proto in ["2", "3"] {
        let mut gc = g.raw_conn();
        let mut rc = r.raw_conn();
        for c in [&mut gc, &mut rc] {
            c.cmd_str(&["HELLO", proto]);
            c.cmd_str(&["FLUSHALL"]);
        }
        for (key, n, ints) in [
            ("ints", 50, true),
            ("words", 50, false),
            ("big", 800, false),
        ] {
            let all: Vec<String> = (0..n)
                .map(|i| if ints { i.to_string() } else { format!("w{i}") })
                .collect();
            let mut argv = vec!["SADD", key];
            argv.extend(all.iter().map(String::as_str));
            assert_eq!(gc.cmd_str(&argv), rc.cmd_str(&argv));
            let want: BTreeSet<Vec<u8>> = all.iter().map(|s| s.as_bytes().to_vec()).collect();
            // SRANDMEMBER's four cases: repeats, whole set, copy less
            // random, distinct picks.
            for count in [
                -(n as i64) * 3,
                -1,
                1,
                2,
                n as i64 / 3 * 2,
                n as i64,
                n as i64 + 5,
            ] {
                let cmd = ["SRANDMEMBER", key, &count.to_string()];
                let (gr, rr) = (gc.cmd_str(&cmd), rc.cmd_str(&cmd));
                assert_eq!(shape(&gr), shape(&rr), "{cmd:?}");
                let got = members(&gr);
                assert!(got.iter().all(|m| want.contains(m)), "{cmd:?}");
                if count > 0 {
                    let distinct: BTreeSet<_> = got.iter().cloned().collect();
                    assert_eq!(distinct.len(), got.len(), "{cmd:?}");
                }
            }
            // Repeats are drawn from the whole set.
            let draws = format!("-{}", n * 30);
            let cmd = ["SRANDMEMBER", key, &draws];
            let seen: BTreeSet<Vec<u8>> = members(&gc.cmd_str(&cmd)).into_iter().collect();
            assert!(seen == want, "{} of {n} members came up", seen.len());
            let single = gc.cmd_str(&["SRANDMEMBER", key]);
            assert!(want.contains(&bulk_bytes(single.as_bytes())), "{single:?}");
            // SPOP: one, then a few, then most, then the rest.
            let mut left = want.clone();
            for count in ["1", "3", &(n / 5 * 4).to_string(), "100000"] {
                let cmd = ["SPOP", key, count];
                let (gr, rr) = (gc.cmd_str(&cmd), rc.cmd_str(&cmd));
                assert_eq!(shape(&gr), shape(&rr), "{cmd:?}");
                for m in members(&gr) {
                    assert!(
                        left.remove(&m),
                        "{cmd:?}: {m:?} popped twice or never there"
                    );
                }
                assert!(smembers(&mut gc, key) == left, "{cmd:?}");
            }
            assert!(left.is_empty());
            assert_eq!(gc.cmd_str(&["EXISTS", key]), ":0\r\n");
        }
    }
}

/// A small deterministic generator for the conversion walk.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn encodings_follow_redis_through_random_writes_and_stores() {
    let g = TestServer::gostore(&[]);
    let r = TestServer::redis(&[]);
    let mut gc = g.raw_conn();
    let mut rc = r.raw_conn();
    for c in [&mut gc, &mut rc] {
        c.cmd_str(&["CONFIG", "SET", "set-max-intset-entries", "20"]);
    }
    let mut rng = Lcg(15);
    let keys = ["a", "b", "c", "d"];
    let member = |rng: &mut Lcg| -> String {
        match rng.below(10) {
            0 => format!("w{}", rng.below(5)),
            1 => format!("{}", rng.below(1 << 40)),
            2 => format!("0{}", rng.below(9)),
            _ => format!("{}", rng.below(40) as i64 - 10),
        }
    };
    for step in 0..1500 {
        let k = keys[rng.below(4) as usize];
        let k2 = keys[rng.below(4) as usize];
        let k3 = keys[rng.below(4) as usize];
        let m = member(&mut rng);
        let cmd: Vec<String> = match rng.below(9) {
            0..=2 => {
                let mut v = vec!["SADD".to_string(), k.to_string()];
                v.extend((0..1 + rng.below(4)).map(|_| member(&mut rng)));
                v
            }
            3 | 4 => vec!["SREM".into(), k.into(), m.clone(), member(&mut rng)],
            5 => vec!["SMOVE".into(), k.into(), k2.into(), m],
            6 => vec!["SINTERSTORE".into(), k.into(), k2.into(), k3.into()],
            7 => vec!["SUNIONSTORE".into(), k.into(), k2.into(), k3.into()],
            _ => vec!["SDIFFSTORE".into(), k.into(), k2.into(), k3.into()],
        };
        let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
        assert_eq!(gc.cmd_str(&cmd), rc.cmd_str(&cmd), "step {step}: {cmd:?}");
        for key in keys {
            let enc = ["OBJECT", "ENCODING", key];
            assert_eq!(
                gc.cmd_str(&enc),
                rc.cmd_str(&enc),
                "step {step}: {cmd:?} then {key}"
            );
            assert_eq!(
                smembers(&mut gc, key),
                smembers(&mut rc, key),
                "step {step}"
            );
        }
    }
}

#[test]
fn unlink_frees_a_big_set_on_the_helper_thread() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    let lazyfreed = |c: &mut RawConn| -> u64 {
        let info = c.cmd_str(&["INFO", "memory"]);
        info.lines()
            .find_map(|l| l.strip_prefix("lazyfreed_objects:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("lazyfreed_objects in INFO")
    };
    // A hashtable of 1000 members: its free effort (the member count) is
    // over LAZYFREE_THRESHOLD, as in Redis.
    let mut argv: Vec<Vec<u8>> = vec![b"SADD".to_vec(), b"big".to_vec()];
    argv.extend((0..1000).map(|i| format!("member{i}").into_bytes()));
    let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    assert_eq!(c.cmd(&refs), b":1000\r\n");
    // An intset is one buffer: freed in place however many members.
    let mut ints: Vec<Vec<u8>> = vec![b"SADD".to_vec(), b"ints".to_vec()];
    ints.extend((0..500).map(|i| i.to_string().into_bytes()));
    let irefs: Vec<&[u8]> = ints.iter().map(|a| a.as_slice()).collect();
    assert_eq!(c.cmd(&irefs), b":500\r\n");
    assert_eq!(c.cmd_str(&["UNLINK", "ints"]), ":1\r\n");
    assert_eq!(lazyfreed(&mut c), 0, "intsets are freed in place");
    assert_eq!(c.cmd_str(&["UNLINK", "big"]), ":1\r\n");
    assert_eq!(c.cmd_str(&["EXISTS", "big"]), ":0\r\n");
    wait_for(10, "the helper thread to free the set", || {
        lazyfreed(&mut c) == 1
    });
    // DEL frees in place.
    c.cmd(&refs);
    assert_eq!(c.cmd_str(&["DEL", "big"]), ":1\r\n");
    assert_eq!(lazyfreed(&mut c), 1);
}

#[test]
fn set_directive_reads_and_checks_as_redis() {
    let g = TestServer::gostore(&[]);
    let r = TestServer::redis(&[]);
    let mut gc = g.raw_conn();
    let mut rc = r.raw_conn();
    for cmd in [
        &["CONFIG", "GET", "set-max-intset-entries"][..],
        &["CONFIG", "SET", "set-max-intset-entries", "2"],
        &["CONFIG", "GET", "set-max-intset-entries"],
        &["CONFIG", "SET", "set-max-intset-entries", "-1"],
        &[
            "CONFIG",
            "SET",
            "set-max-intset-entries",
            "9223372036854775807",
        ],
        &["CONFIG", "GET", "set-max-intset-entries"],
        &[
            "CONFIG",
            "SET",
            "set-max-intset-entries",
            "9223372036854775808",
        ],
        &["CONFIG", "SET", "set-max-intset-entries", "1kb"],
        &["CONFIG", "SET", "set-max-intset-entries", "x"],
        &["CONFIG", "SET", "set-max-intset-entries", "2"],
        &["SADD", "s", "1", "2"],
        &["OBJECT", "ENCODING", "s"],
        &["SADD", "s", "3"],
        &["OBJECT", "ENCODING", "s"],
    ] {
        assert_eq!(gc.cmd_str(cmd), rc.cmd_str(cmd), "{cmd:?}");
    }
    // From the command line too.
    let g = TestServer::gostore(&["--set-max-intset-entries", "1"]);
    let mut gc = g.raw_conn();
    gc.cmd_str(&["SADD", "s", "1", "2"]);
    assert_eq!(
        gc.cmd_str(&["OBJECT", "ENCODING", "s"]),
        "$9\r\nhashtable\r\n"
    );
}

/// used_memory less the clients' buffers (one INFO's figures): what the
/// dataset holds.
fn dataset_memory(c: &mut RawConn) -> i64 {
    let text = c.cmd_str(&["INFO", "memory"]);
    let field = |name: &str| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("INFO has no integer {name}"))
    };
    field("used_memory") - field("mem_clients_normal")
}

/// Sends each command, pipelined 100 at a time, and checks every reply is
/// an integer.
fn pipeline_ints(c: &mut RawConn, cmds: &[Vec<String>]) {
    for chunk in cmds.chunks(100) {
        let mut buf = Vec::new();
        for cmd in chunk {
            let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
            buf.extend(resp::encode(&args));
        }
        c.send(&buf);
        for cmd in chunk {
            let r = c.read_reply();
            assert_eq!(r.first(), Some(&b':'), "{cmd:?}: {}", resp::show(&r));
        }
    }
}

/// `n` SADDs of 10 small integers to keys `{prefix}{i:010}` (the bench's
/// memory row), each integer `scale` times bigger.
fn small_sets(prefix: &str, n: usize, scale: i64) -> Vec<Vec<String>> {
    (0..n)
        .map(|i| {
            let mut v = vec!["SADD".to_string(), format!("{prefix}{i:010}")];
            v.extend((0..10).map(|j| ((i as i64 % 1000 + j * 37) * scale).to_string()));
            v
        })
        .collect()
}

#[test]
fn small_sets_cost_no_more_than_redis_s_and_memory_usage_adds_up() {
    let args = [
        "--appendonly",
        "no",
        "--enable-debug-command",
        "local",
        "--latency-tracking",
        "no",
    ];
    let srv = TestServer::gostore(&args);
    let redis = TestServer::redis(&args);
    let mut c = srv.raw_conn();
    let mut r = redis.raw_conn();
    // 30000 small intsets: both key tables end at 32768 slots.
    let sets = small_sets("set:", 30_000, 1);
    let mut grown = [0i64; 2];
    for (side, conn) in [&mut c, &mut r].into_iter().enumerate() {
        // What the commands' first calls allocate is not the sets'.
        pipeline_ints(conn, &[cmd(&["SADD", "warm", "1"]), cmd(&["DEL", "warm"])]);
        conn.cmd_str(&["MEMORY", "USAGE", "none"]);
        dataset_memory(conn);
        let base = dataset_memory(conn);
        pipeline_ints(conn, &sets);
        // Both key tables have doubled to 32768 slots: the old table goes
        // once rehashing (incremental, then the cron's) is over.
        wait_for(10, "the key table's rehash", || {
            !conn
                .cmd_str(&["DEBUG", "HTSTATS", "0"])
                .contains("rehashing target")
        });
        grown[side] = dataset_memory(conn) - base;
    }
    // A small set is its key's node and one buffer: per set no more than
    // Redis's dictEntry, key, robj and intset (5% for the two allocators'
    // rounding).
    assert!(
        grown[0] * 100 <= grown[1] * 105,
        "30000 small sets: used_memory grew {} here, {} in Redis",
        grown[0],
        grown[1]
    );
    // MEMORY USAGE tells what they hold: with wider integers and some
    // tables beside them, the sum is within 15% of used_memory's growth
    // (the key table's bucket slots aside, as Redis's MEMORY USAGE leaves
    // them out).
    ok_reply(&mut c, &["FLUSHALL"]);
    let slots_before = key_table_slots(&mut c);
    let base = dataset_memory(&mut c);
    let mut shapes = small_sets("a:", 2000, 1);
    shapes.extend(small_sets("b:", 500, 1000));
    shapes.extend(small_sets("c:", 500, 10_000_000_000));
    for i in 0..100 {
        let mut v = vec!["SADD".to_string(), format!("t:{i}")];
        v.extend((0..10).map(|j| format!("member-{j}")));
        shapes.push(v);
    }
    for i in 0..20 {
        let mut v = vec!["SADD".to_string(), format!("big:{i}")];
        v.extend((0..300).map(|j| (j * 7 + i).to_string()));
        shapes.push(v);
    }
    pipeline_ints(&mut c, &shapes);
    wait_for(10, "the key table's rehash", || {
        !c.cmd_str(&["DEBUG", "HTSTATS", "0"])
            .contains("rehashing target")
    });
    let buckets = (key_table_slots(&mut c) - slots_before) * 8;
    let grown = dataset_memory(&mut c) - base - buckets;
    let mut sum = 0;
    for s in &shapes {
        sum += int_reply(&mut c, &["MEMORY", "USAGE", &s[1], "SAMPLES", "0"]);
    }
    assert!(
        (sum - grown).abs() * 100 <= grown * 15,
        "MEMORY USAGE adds up to {sum}, used_memory grew {grown} besides {buckets} of buckets"
    );
}

fn cmd(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn int_reply(c: &mut RawConn, args: &[&str]) -> i64 {
    let r = c.cmd_str(args);
    r.strip_prefix(':')
        .and_then(|s| s.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("{args:?} replied {r:?}"))
}

fn ok_reply(c: &mut RawConn, args: &[&str]) {
    assert_eq!(c.cmd_str(args), "+OK\r\n", "{args:?}");
}

/// Bucket slots of db 0's key table, from MEMORY STATS: its main overhead
/// is 8 bytes per slot plus 40 per key (node header and value).
fn key_table_slots(c: &mut RawConn) -> i64 {
    let stats = c.cmd_str(&["MEMORY", "STATS"]);
    let lines: Vec<&str> = stats.split("\r\n").collect();
    let Some(at) = lines.iter().position(|l| *l == "overhead.hashtable.main") else {
        return 0;
    };
    let main: i64 = lines[at + 1][1..].parse().expect("integer");
    (main - int_reply(c, &["DBSIZE"]) * 40) / 8
}
