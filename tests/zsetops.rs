//! The sorted-set algebra (ZUNION, ZINTER, ZDIFF, their STORE forms and
//! ZINTERCARD) beyond the corpus, each against redis-server 7.0.15:
//! - random inputs (sorted sets packed and skip lists, sets intset and
//!   hashtable, missing keys, a string), random weights (inf, -inf, 0, -0,
//!   fractions), aggregates and options, the destination sometimes an
//!   input; every reply compared byte for byte, and after each STORE the
//!   stored members, scores and OBJECT ENCODING;
//! - the keyspace events, captured with PSUBSCRIBE on both servers;
//! - the AOF: the STORE forms written as received, and the file replayed.

mod common;

use common::resp::RawConn;
use common::{wait_for, TestServer};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Input keys; `none` is never written, `str` holds a string.
const INPUTS: &[&str] = &["a0", "a1", "a2", "a3"];

fn member() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u32..160).prop_map(|i| i.to_string()),
        4 => (0u32..160).prop_map(|i| format!("m{i}")),
        // Longer than zset-max-listpack-value: a skip list from the start.
        1 => (0u32..3).prop_map(|i| format!("{}{i}", "L".repeat(65))),
    ]
}

fn score() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (-5i32..6).prop_map(|v| v.to_string()),
        1 => Just("0.1".to_string()),
        1 => Just("1.5".to_string()),
        1 => Just("-2.25".to_string()),
        1 => Just("3.3333333333333335".to_string()),
        2 => Just("inf".to_string()),
        2 => Just("-inf".to_string()),
        1 => Just("1e300".to_string()),
        1 => Just("-0".to_string()),
    ]
}

fn weight() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (-3i32..4).prop_map(|v| v.to_string()),
        // 0 x inf is NaN, which each aggregate treats its own way.
        2 => Just("0".to_string()),
        1 => Just("0.1".to_string()),
        1 => Just("0.5".to_string()),
        1 => Just("-0".to_string()),
        1 => Just("inf".to_string()),
        1 => Just("-inf".to_string()),
        1 => Just("1e308".to_string()),
        1 => Just("2.5e-3".to_string()),
    ]
}

/// A few elements, or past the 128 entries of a packed sorted set.
fn sized<S: Strategy>(elem: impl Fn() -> S) -> impl Strategy<Value = Vec<S::Value>> {
    prop_oneof![
        3 => prop::collection::vec(elem(), 1..10),
        1 => prop::collection::vec(elem(), 125..140),
    ]
}

/// The commands that fill one input key: a sorted set small (packed) or
/// past 128 members (a skip list), or a set of integers (intset) or of
/// strings (hashtable), or nothing.
fn input(key: &'static str) -> impl Strategy<Value = Vec<Vec<String>>> {
    let zset = sized(|| (score(), member())).prop_map(move |pairs| {
        let mut c = vec!["ZADD".to_string(), key.to_string()];
        for (s, m) in pairs {
            c.push(s);
            c.push(m);
        }
        vec![c]
    });
    let ints = sized(|| (0u32..160).prop_map(|i| i.to_string()));
    let strs = sized(member);
    let set = prop_oneof![ints, strs].prop_map(move |ms| {
        let mut c = vec!["SADD".to_string(), key.to_string()];
        c.extend(ms);
        vec![c]
    });
    prop_oneof![3 => zset, 2 => set, 1 => Just(Vec::new())]
}

fn source() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(INPUTS).prop_map(String::from),
        1 => Just("none".to_string()),
        1 => Just("d".to_string()),
    ]
}

/// One algebra command with options fit for it, now and then one that is
/// not (then both servers answer an error); after a STORE form, what the
/// destination holds.
fn op() -> impl Strategy<Value = Vec<Vec<String>>> {
    let name = prop::sample::select(vec![
        "ZUNION",
        "ZINTER",
        "ZDIFF",
        "ZUNIONSTORE",
        "ZINTERSTORE",
        "ZDIFFSTORE",
        "ZINTERCARD",
    ]);
    let dst = prop_oneof![3 => Just("d".to_string()), 1 => source()];
    (
        name,
        dst,
        prop::collection::vec(source(), 1..5),
        prop::option::of(prop::collection::vec(weight(), 4)),
        prop::option::of(prop::sample::select(vec![
            "SUM", "MIN", "MAX", "sum", "Max",
        ])),
        any::<bool>(),
        prop::option::of(0u32..6),
        prop::option::weighted(
            0.05,
            prop::sample::select(vec!["STR", "WITHSCORES", "LIMIT"]),
        ),
    )
        .prop_map(|(name, dst, keys, ws, agg, withscores, limit, odd)| {
            let store = name.ends_with("STORE");
            let mut c = vec![name.to_string()];
            if store {
                c.push(dst.clone());
            }
            c.push(keys.len().to_string());
            c.extend(keys.iter().map(|k| {
                if odd == Some("STR") && k == "none" {
                    "str".to_string()
                } else {
                    k.clone()
                }
            }));
            let algebra = name != "ZINTERCARD";
            let weighted = algebra && !name.starts_with("ZDIFF");
            if let (true, Some(ws)) = (weighted, ws) {
                c.push("WEIGHTS".into());
                c.extend(ws[..keys.len()].iter().cloned());
            }
            if let (true, Some(a)) = (weighted, agg) {
                c.push("AGGREGATE".into());
                c.push(a.into());
            }
            if (!store && algebra && withscores) || odd == Some("WITHSCORES") {
                c.push("WITHSCORES".into());
            }
            if let (false, Some(l)) = (algebra, limit) {
                c.push("LIMIT".into());
                c.push(l.to_string());
            } else if odd == Some("LIMIT") {
                c.extend(["LIMIT".to_string(), "1".to_string()]);
            }
            let mut cmds = vec![c];
            if store {
                cmds.push(vec![
                    "ZRANGE".into(),
                    dst.clone(),
                    "0".into(),
                    "-1".into(),
                    "WITHSCORES".into(),
                ]);
                cmds.push(vec!["OBJECT".into(), "ENCODING".into(), dst.clone()]);
                cmds.push(vec!["TYPE".into(), dst]);
            }
            cmds
        })
}

fn scenario() -> impl Strategy<Value = (Vec<Vec<String>>, bool)> {
    (
        input(INPUTS[0]),
        input(INPUTS[1]),
        input(INPUTS[2]),
        input(INPUTS[3]),
        prop::collection::vec(op(), 1..10),
        any::<bool>(),
    )
        .prop_map(|(a, b, c, d, ops, resp3)| {
            let mut cmds = vec![vec!["SET".to_string(), "str".to_string(), "v".to_string()]];
            cmds.extend(a);
            cmds.extend(b);
            cmds.extend(c);
            cmds.extend(d);
            for i in INPUTS {
                cmds.push(vec!["OBJECT".into(), "ENCODING".into(), i.to_string()]);
            }
            cmds.extend(ops.into_iter().flatten());
            (cmds, resp3)
        })
}

fn run(c: &mut RawConn, cmds: &[Vec<String>]) -> Vec<String> {
    cmds.iter()
        .map(|cmd| {
            let a: Vec<&str> = cmd.iter().map(String::as_str).collect();
            c.cmd_str(&a)
        })
        .collect()
}

#[test]
fn random_algebra_replies_and_stored_results_match_redis() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let cases = std::env::var("ZSETOPS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 2000,
        ..Config::default()
    });
    let result = runner.run(&scenario(), |(cmds, resp3)| {
        let mut r = redis.raw_conn();
        let mut g = gostore.raw_conn();
        for c in [&mut r, &mut g] {
            c.cmd(&[b"FLUSHALL"]);
            if resp3 {
                c.cmd(&[b"HELLO", b"3"]);
            }
        }
        let rr = run(&mut r, &cmds);
        let gr = run(&mut g, &cmds);
        for (i, (a, b)) in rr.iter().zip(&gr).enumerate() {
            prop_assert_eq!(
                a,
                b,
                "command {} {:?} (RESP{})",
                i,
                cmds[i],
                if resp3 { 3 } else { 2 }
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Commands and the keyspace events redis-server 7.0.15 publishes for each
/// (`notify-keyspace-events AKEnm`): every STORE form, empty results over
/// an existing and a missing destination, a destination of another type,
/// the destination as an input, lookups of missing keys, and errors (which
/// publish nothing). GoStore's events for the same steps are checked by
/// `zset_algebra_emits_redis_s_events` in src/commands/events_tests.rs
/// (GoStore has no PSUBSCRIBE): keep the two lists equal.
type Step = (&'static str, &'static [(&'static str, &'static str)]);
const KEYSPACE_EVENTS: &[Step] = &[
    ("ZADD z1 1 a 2 b 3 c", &[("new", "z1"), ("zadd", "z1")]),
    ("ZADD z2 10 b 20 c 30 d", &[("new", "z2"), ("zadd", "z2")]),
    ("SADD s1 1 2 a", &[("new", "s1"), ("sadd", "s1")]),
    (
        "ZUNIONSTORE u 3 z1 z2 s1 WEIGHTS 1 inf -inf",
        &[("new", "u"), ("zunionstore", "u")],
    ),
    (
        "ZINTERSTORE i 2 z1 z2 AGGREGATE MAX",
        &[("new", "i"), ("zinterstore", "i")],
    ),
    (
        "ZDIFFSTORE df 2 z1 z2",
        &[("new", "df"), ("zdiffstore", "df")],
    ),
    ("ZDIFFSTORE df 2 z1 z1", &[("del", "df")]),
    ("ZDIFFSTORE df 2 z1 z1", &[]),
    (
        "ZINTERSTORE i 2 z1 none",
        &[("keymiss", "none"), ("del", "i")],
    ),
    ("SET str x", &[("new", "str"), ("set", "str")]),
    ("ZUNIONSTORE str 1 s1", &[("zunionstore", "str")]),
    (
        "ZUNIONSTORE z1 2 z1 z2 WEIGHTS 2 0.5",
        &[("zunionstore", "z1")],
    ),
    ("ZUNION 2 z1 none WITHSCORES", &[("keymiss", "none")]),
    ("ZINTERCARD 2 z1 z2 LIMIT 1", &[]),
    ("ZDIFF 2 none z1", &[("keymiss", "none")]),
    ("ZUNIONSTORE e 0 z1", &[]),
    ("ZUNIONSTORE e 1 z1 WEIGHTS x", &[]),
    ("ZINTERSTORE e 1 str", &[("new", "e"), ("zinterstore", "e")]),
    (
        "ZINTERSTORE e 2 none z1",
        &[("keymiss", "none"), ("del", "e")],
    ),
];

/// Reads pmessage events from a PSUBSCRIBEd connection up to the `set` of
/// key `end`.
fn events_until_end(c: &mut RawConn) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        let msg = c.read_reply();
        let text = String::from_utf8_lossy(&msg).into_owned();
        // *4 $8 pmessage $pattern $channel $key
        let parts: Vec<&str> = text.split("\r\n").collect();
        let (channel, key) = (parts[6], parts[8]);
        let event = channel.rsplit(':').next().unwrap_or_default().to_string();
        if event == "set" && key == "end" {
            return out;
        }
        out.push((event, key.to_string()));
    }
}

#[test]
fn the_expected_keyspace_events_are_redis_s() {
    let r = TestServer::redis(&["--notify-keyspace-events", "AKEnm"]);
    let mut sub = r.raw_conn();
    sub.cmd_str(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    let mut c = r.raw_conn();
    for (line, _) in KEYSPACE_EVENTS {
        let argv: Vec<&str> = line.split(' ').collect();
        c.cmd_str(&argv);
    }
    c.cmd_str(&["SET", "end", "1"]);
    // `new` comes before `set` for end: drop it.
    let mut got = events_until_end(&mut sub);
    assert_eq!(got.pop(), Some(("new".into(), "end".into())));
    let want: Vec<(String, String)> = KEYSPACE_EVENTS
        .iter()
        .flat_map(|(_, evs)| evs.iter().map(|(e, k)| (e.to_string(), k.to_string())))
        .collect();
    assert_eq!(got, want);
}

/// What the AOF test runs: the event steps, a WITHSCORES reply, errors.
fn aof_script() -> Vec<Vec<&'static str>> {
    let mut s: Vec<Vec<&str>> = KEYSPACE_EVENTS
        .iter()
        .map(|(l, _)| l.split(' ').collect())
        .collect();
    s.push(vec!["ZINTERSTORE", "e2", "1", "lst"]);
    s.push(vec!["SET", "end", "1"]);
    s
}

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

fn dump(c: &mut RawConn) -> Vec<String> {
    ["u", "i", "df", "str", "z1", "z2", "s1", "e"]
        .iter()
        .flat_map(|k| {
            [
                c.cmd_str(&["TYPE", k]),
                c.cmd_str(&["OBJECT", "ENCODING", k]),
                c.cmd_str(&["ZRANGE", k, "0", "-1", "WITHSCORES"]),
            ]
        })
        .collect()
}

#[test]
fn store_forms_are_written_as_received_and_replay() {
    let args = ["--appendonly", "yes"];
    let (mut g, r) = (TestServer::gostore(&args), TestServer::redis(&args));
    let mut gc = g.raw_conn();
    let mut rc = r.raw_conn();
    for cmd in aof_script() {
        assert_eq!(gc.cmd_str(&cmd), rc.cmd_str(&cmd), "{cmd:?}");
    }
    wait_for(10, "both AOFs to have the last command", || {
        incr_aof(&g).contains("$3\r\nend\r\n") && incr_aof(&r).contains("$3\r\nend\r\n")
    });
    let (ga, ra) = (incr_aof(&g), incr_aof(&r));
    assert_eq!(ga, ra);
    assert!(
        ga.contains("$11\r\nZUNIONSTORE\r\n$1\r\nu\r\n$1\r\n3\r\n$2\r\nz1\r\n$2\r\nz2\r\n$2\r\ns1\r\n$7\r\nWEIGHTS\r\n$1\r\n1\r\n$3\r\ninf\r\n$4\r\n-inf\r\n"),
        "{ga}"
    );
    // The second empty ZDIFFSTORE deleted nothing, so it is not written.
    assert_eq!(ga.matches("ZDIFFSTORE").count(), 2, "{ga}");
    let before = dump(&mut gc);
    assert_eq!(before, dump(&mut rc));
    drop(gc);
    g.sigterm();
    g.restart();
    let mut gc = g.raw_conn();
    assert_eq!(dump(&mut gc), before);
}
