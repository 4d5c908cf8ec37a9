//! Randomized differential testing of streams: proptest generates sequences
//! of stream commands (XADD with every trim form, XDEL, XTRIM, XRANGE and
//! XREVRANGE with exclusive bounds, XLEN, XREAD, XSETID, every XGROUP
//! subcommand, XREADGROUP on `>` and on history, XACK, XPENDING, XCLAIM,
//! XAUTOCLAIM, XINFO) over two stream keys and a string, with small and
//! default node sizes (so `~` trims meet node boundaries), runs each on
//! redis-server and on GoStore, in RESP2 or RESP3, and compares every reply,
//! then the two streams' whole state.
//!
//! IDs are explicit (`ms-seq`, or `ms-*` with a counter the generator keeps),
//! so every reply is deterministic. Only clock values are masked: seen
//! times, idle times and delivery times; and `radix-tree-nodes`, which
//! GoStore estimates (docs/compatibility.md).
//!
//! Both run with the AOF on: each case's slice of GoStore's AOF must be
//! Redis's (delivery times aside), and a fresh redis-server loading either
//! slice must reach the same state; at the end redis-server loads GoStore's whole AOF directory, before and
//! after BGREWRITEAOF, into the state it reaches from Redis's own.

mod common;

use common::resp::{self, RawConn, Reply};
use common::{wait_for, Kind, TempDir, TestServer};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

/// Stream keys, and sometimes a string.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![6 => Just("s1"), 3 => Just("s2"), 1 => Just("k1")].prop_map(String::from)
}

fn group() -> impl Strategy<Value = String> {
    prop_oneof![4 => Just("g1"), 2 => Just("g2"), 1 => Just("nog")].prop_map(String::from)
}

fn consumer() -> impl Strategy<Value = String> {
    prop_oneof![Just("c1"), Just("c2"), Just("c3")].prop_map(String::from)
}

/// An explicit ID somewhere in the range the generated XADDs write.
fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (0u64..20, 0u64..3).prop_map(|(ms, s)| format!("{ms}-{s}")),
        2 => (0u64..20).prop_map(|ms| ms.to_string()),
        1 => Just("0-0".to_string()),
        1 => Just("18446744073709551615-18446744073709551615".to_string()),
        1 => Just("x".to_string()),
    ]
}

/// A range bound: `-`, `+`, IDs, and exclusive IDs.
fn bound() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just("-".to_string()),
        2 => Just("+".to_string()),
        4 => id(),
        3 => (0u64..20, 0u64..3).prop_map(|(ms, s)| format!("({ms}-{s}")),
        1 => (0u64..20).prop_map(|ms| format!("({ms}")),
        1 => prop_oneof![Just("(-"), Just("(+"), Just("(0-0"), Just("(18446744073709551615-18446744073709551615")]
            .prop_map(String::from),
    ]
}

fn small() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0i64..8).prop_map(|v| v.to_string()),
        1 => Just("-1".to_string()),
        1 => Just("x".to_string()),
    ]
}

/// The ID of an XADD: `next` asks the runner for the next `ms-*` (the
/// counter moves on by 0, 1 or 2 ms), else an explicit or special ID.
fn xadd_id() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (0u64..3).prop_map(|step| format!("@next{step}")),
        2 => id(),
        1 => (0u64..20).prop_map(|ms| format!("{ms}-*")),
        1 => Just("0-0".to_string()),
    ]
}

/// A trim clause: MAXLEN or MINID, `=`, `~` or neither, a threshold, and
/// sometimes LIMIT.
fn trim() -> impl Strategy<Value = Vec<String>> {
    let how = prop_oneof![2 => Just(None), 1 => Just(Some("=")), 3 => Just(Some("~"))];
    let limit = prop_oneof![
        3 => Just(vec![]),
        1 => (0i64..6).prop_map(|n| vec!["LIMIT".to_string(), n.to_string()]),
        1 => Just(vec!["LIMIT".to_string(), "x".to_string()])
    ];
    let threshold = prop_oneof![
        (0i64..10).prop_map(|n| ("MAXLEN".to_string(), n.to_string())),
        Just(("maxlen".to_string(), "-1".to_string())),
        (0u64..20, 0u64..3).prop_map(|(ms, s)| ("MINID".to_string(), format!("{ms}-{s}"))),
        (0u64..20).prop_map(|ms| ("MINID".to_string(), ms.to_string())),
    ];
    (threshold, how, limit).prop_map(|((kind, t), how, limit)| {
        let mut v = vec![kind];
        if let Some(h) = how {
            v.push(h.to_string());
        }
        v.push(t);
        v.extend(limit);
        v
    })
}

fn fields() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        (
            prop_oneof![Just("a"), Just("b"), Just("c")],
            prop_oneof![
                Just("1"),
                Just("two"),
                Just(""),
                Just("xxxxxxxxxxxxxxxxxxxxxxxx")
            ],
        ),
        1..3,
    )
    .prop_map(|v| {
        v.into_iter()
            .flat_map(|(f, x)| [f.to_string(), x.to_string()])
            .collect()
    })
}

fn cat(parts: Vec<Vec<String>>) -> Vec<String> {
    parts.into_iter().flatten().collect()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn opt(p: Vec<String>) -> impl Strategy<Value = Vec<String>> {
    prop_oneof![Just(vec![]), Just(p)]
}

fn count() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        Just(vec![]),
        small().prop_map(|n| vec!["COUNT".to_string(), n])
    ]
}

/// The options of XCLAIM: times that are deterministic (TIME in the past is
/// kept as given) or masked later (IDLE), RETRYCOUNT, FORCE, JUSTID, LASTID.
fn xclaim_opts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            Just(s(&["IDLE", "0"])),
            Just(s(&["TIME", "1000"])),
            small().prop_map(|n| vec!["RETRYCOUNT".to_string(), n]),
            Just(s(&["FORCE"])),
            Just(s(&["JUSTID"])),
            id().prop_map(|i| vec!["LASTID".to_string(), i]),
        ],
        0..3,
    )
    .prop_map(|v| v.concat())
}

fn stream_command() -> impl Strategy<Value = Vec<String>> {
    let group_id =
        || prop_oneof![3 => id(), 2 => Just("$".to_string()), 1 => Just("0".to_string())];
    let entries_read = || {
        prop_oneof![
            3 => Just(vec![]),
            1 => (-1i64..8).prop_map(|n| vec!["ENTRIESREAD".to_string(), n.to_string()])
        ]
    };
    prop_oneof![
        12 => (key(), opt(s(&["NOMKSTREAM"])), xadd_id(), fields())
            .prop_map(|(k, n, i, f)| cat(vec![s(&["XADD"]), vec![k], n, vec![i], f])),
        6 => (key(), trim(), xadd_id(), fields())
            .prop_map(|(k, t, i, f)| cat(vec![s(&["XADD"]), vec![k], t, vec![i], f])),
        2 => (key(), prop::collection::vec(id(), 1..4))
            .prop_map(|(k, ids)| cat(vec![s(&["XDEL"]), vec![k], ids])),
        3 => (key(), trim()).prop_map(|(k, t)| cat(vec![s(&["XTRIM"]), vec![k], t])),
        3 => (key(), bound(), bound(), count(), prop_oneof![Just("XRANGE"), Just("XREVRANGE")])
            .prop_map(|(k, a, b, c, cmd)| cat(vec![s(&[cmd]), vec![k, a, b], c])),
        1 => key().prop_map(|k| vec!["XLEN".to_string(), k]),
        1 => (key(), prop_oneof![Just("0".to_string()), id(), Just("$".to_string())], count())
            .prop_map(|(k, i, c)| cat(vec![s(&["XREAD"]), c, s(&["STREAMS"]), vec![k, i]])),
        1 => (key(), id(), prop_oneof![2 => Just(vec![]), 1 => (0i64..30, id()).prop_map(|(n, m)| vec!["ENTRIESADDED".to_string(), n.to_string(), "MAXDELETEDID".to_string(), m])])
            .prop_map(|(k, i, o)| cat(vec![s(&["XSETID"]), vec![k, i], o])),
        4 => (key(), group(), group_id(), opt(s(&["MKSTREAM"])), entries_read())
            .prop_map(|(k, g, i, m, e)| cat(vec![s(&["XGROUP", "CREATE"]), vec![k, g, i], m, e])),
        2 => (key(), group(), group_id(), entries_read())
            .prop_map(|(k, g, i, e)| cat(vec![s(&["XGROUP", "SETID"]), vec![k, g, i], e])),
        1 => (key(), group(), consumer())
            .prop_map(|(k, g, c)| cat(vec![s(&["XGROUP", "CREATECONSUMER"]), vec![k, g, c]])),
        1 => (key(), group(), consumer())
            .prop_map(|(k, g, c)| cat(vec![s(&["XGROUP", "DELCONSUMER"]), vec![k, g, c]])),
        1 => (key(), group()).prop_map(|(k, g)| cat(vec![s(&["XGROUP", "DESTROY"]), vec![k, g]])),
        8 => (key(), group(), consumer(), count(), opt(s(&["NOACK"])),
              prop_oneof![4 => Just(">".to_string()), 1 => Just("0".to_string()), 1 => id()])
            .prop_map(|(k, g, c, n, a, i)| cat(vec![s(&["XREADGROUP", "GROUP"]), vec![g, c], n, a, s(&["STREAMS"]), vec![k, i]])),
        // Both streams at once, each from its own ID.
        2 => (group(), consumer(), count(), opt(s(&["NOACK"])),
              prop_oneof![3 => Just(">".to_string()), 1 => Just("0".to_string()), 1 => id()],
              prop_oneof![3 => Just(">".to_string()), 1 => Just("0".to_string()), 1 => id()])
            .prop_map(|(g, c, n, a, i, j)| cat(vec![s(&["XREADGROUP", "GROUP"]), vec![g, c], n, a, s(&["STREAMS", "s1", "s2"]), vec![i, j]])),
        1 => (count(), prop_oneof![Just("0".to_string()), id(), Just("$".to_string())], id())
            .prop_map(|(n, i, j)| cat(vec![s(&["XREAD"]), n, s(&["STREAMS", "s2", "s1"]), vec![i, j]])),
        3 => (key(), group(), prop::collection::vec(id(), 1..3))
            .prop_map(|(k, g, ids)| cat(vec![s(&["XACK"]), vec![k, g], ids])),
        2 => (key(), group()).prop_map(|(k, g)| vec!["XPENDING".to_string(), k, g]),
        2 => (key(), group(), opt(s(&["IDLE", "0"])), bound(), bound(), small(), prop_oneof![2 => Just(vec![]), 1 => consumer().prop_map(|c| vec![c])])
            .prop_map(|(k, g, i, a, b, n, c)| cat(vec![s(&["XPENDING"]), vec![k, g], i, vec![a, b, n], c])),
        3 => (key(), group(), consumer(), prop_oneof![Just("0"), Just("3600000")], prop::collection::vec(id(), 1..3), xclaim_opts())
            .prop_map(|(k, g, c, m, ids, o)| cat(vec![s(&["XCLAIM"]), vec![k, g, c, m.to_string()], ids, o])),
        3 => (key(), group(), consumer(), prop_oneof![Just("0"), Just("3600000")], bound(), count(), opt(s(&["JUSTID"])))
            .prop_map(|(k, g, c, m, b, n, j)| cat(vec![s(&["XAUTOCLAIM"]), vec![k, g, c, m.to_string(), b], n, j])),
        2 => (key(), prop_oneof![Just(vec![]), Just(s(&["FULL"])), small().prop_map(|n| vec!["FULL".to_string(), "COUNT".to_string(), n])])
            .prop_map(|(k, f)| cat(vec![s(&["XINFO", "STREAM"]), vec![k], f])),
        1 => key().prop_map(|k| vec!["XINFO".to_string(), "GROUPS".to_string(), k]),
        1 => (key(), group()).prop_map(|(k, g)| vec!["XINFO".to_string(), "CONSUMERS".to_string(), k, g]),
        1 => key().prop_map(|k| vec!["TYPE".to_string(), k]),
        1 => Just(s(&["SET", "k1", "v"])),
        1 => key().prop_map(|k| vec!["DEL".to_string(), k]),
    ]
}

/// Replaces the `@nextN` XADD IDs by `ms-*` with a counter that moves on
/// by N ms, the same for both servers.
fn resolve(cmds: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let mut ms = 1u64;
    cmds.into_iter()
        .map(|c| {
            c.into_iter()
                .map(|a| match a.strip_prefix("@next") {
                    Some(step) => {
                        ms += step.parse::<u64>().unwrap_or(1);
                        format!("{ms}-*")
                    }
                    None => a,
                })
                .collect()
        })
        .collect()
}

/// Field names whose values are clocks: the next item is masked.
const CLOCK_FIELDS: &[&[u8]] = &[b"seen-time", b"idle", b"active-time", b"inactive"];

fn name_of(r: &Reply) -> Option<Vec<u8>> {
    match r {
        Reply::Leaf(b) if b.first() == Some(&b'+') => Some(b[1..b.len() - 2].to_vec()),
        Reply::Leaf(b) if b.first() == Some(&b'$') && !b.starts_with(b"$-1") => {
            let nl = b.iter().position(|&c| c == b'\n')?;
            Some(b[nl + 1..b.len() - 2].to_vec())
        }
        _ => None,
    }
}

fn masked() -> Reply {
    Reply::Leaf(b"+<clock>\r\n".to_vec())
}

/// Masks the clock values (and `radix-tree-nodes`) of an XINFO reply:
/// named fields, and delivery times (integers past year 1973 in ms).
fn mask_info(r: Reply) -> Reply {
    match r {
        Reply::Leaf(b) if b.first() == Some(&b':') => {
            let n: i64 = std::str::from_utf8(&b[1..b.len() - 2])
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            if n > 100_000_000_000 {
                masked()
            } else {
                Reply::Leaf(b)
            }
        }
        Reply::Leaf(b) => Reply::Leaf(b),
        Reply::Agg(t, kids) => {
            let mut out = Vec::with_capacity(kids.len());
            let mut mask_next = false;
            for k in kids {
                if mask_next {
                    out.push(masked());
                    mask_next = false;
                    continue;
                }
                let name = name_of(&k);
                mask_next = name.as_deref().is_some_and(|n| {
                    CLOCK_FIELDS.contains(&n) || n == b"radix-tree-nodes".as_slice()
                });
                out.push(mask_info(k));
            }
            Reply::Agg(t, out)
        }
    }
}

/// XPENDING's extended form: each entry's idle time (its third item).
fn mask_pending(r: Reply) -> Reply {
    match r {
        Reply::Agg(t, kids) => Reply::Agg(
            t,
            kids.into_iter()
                .map(|e| match e {
                    Reply::Agg(u, mut items) if items.len() == 4 => {
                        items[2] = masked();
                        Reply::Agg(u, items)
                    }
                    other => other,
                })
                .collect(),
        ),
        leaf => leaf,
    }
}

fn normalise(cmd: &[String], reply: Vec<u8>) -> String {
    if reply.first() == Some(&b'-') {
        return resp::show(&reply);
    }
    let tree = resp::parse(&reply);
    let tree = match cmd[0].as_str() {
        "XINFO" => mask_info(tree),
        "XPENDING" if cmd.len() > 3 => mask_pending(tree),
        _ => tree,
    };
    resp::show(&tree.bytes())
}

fn run(conn: &mut RawConn, cmds: &[Vec<String>]) -> Vec<String> {
    cmds.iter()
        .map(|c| {
            let args: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
            normalise(c, conn.cmd(&args))
        })
        .collect()
}

/// Everything a server holds of the streams, clocks masked.
fn state(conn: &mut RawConn) -> Vec<String> {
    let mut out = Vec::new();
    let mut put = |c: &mut RawConn, args: &[&str]| {
        let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
        let cmd: Vec<String> = args.iter().map(|x| x.to_string()).collect();
        out.push(format!("{args:?} {}", normalise(&cmd, c.cmd(&a))));
    };
    for k in ["s1", "s2", "k1"] {
        put(conn, &["TYPE", k]);
        put(conn, &["XRANGE", k, "-", "+"]);
        put(conn, &["XINFO", "STREAM", k, "FULL"]);
        put(conn, &["XINFO", "STREAM", k]);
        put(conn, &["XINFO", "GROUPS", k]);
        for g in ["g1", "g2", "nog"] {
            put(conn, &["XPENDING", k, g]);
            put(conn, &["XPENDING", k, g, "-", "+", "100"]);
            put(conn, &["XINFO", "CONSUMERS", k, g]);
        }
    }
    out
}

/// Compares two states, naming the first item that differs.
fn same_state(got: &[String], want: &[String], how: &str, what: &str) -> Result<(), TestCaseError> {
    for (g, w) in got.iter().zip(want) {
        prop_assert_eq!(g, w, "{} {}", how, what);
    }
    prop_assert_eq!(got.len(), want.len());
    Ok(())
}

/// AOF text with the delivery times (the argument after TIME) blanked:
/// they are each server's clock.
fn without_times(aof: &[u8]) -> String {
    let text = String::from_utf8_lossy(aof);
    let mut out = Vec::new();
    let mut blank_next = 0;
    for line in text.split("\r\n") {
        if blank_next == 2 {
            out.push("<time>");
            blank_next = 0;
            continue;
        }
        if blank_next == 1 {
            blank_next = 2;
        }
        if line == "TIME" {
            blank_next = 1;
        }
        out.push(line);
    }
    out.join(" ")
}

/// Writes a marker key and waits until the AOF has it; the AOF's length
/// after it.
fn aof_after_marker(srv: &TestServer, c: &mut RawConn, n: u64) -> usize {
    let tag = format!("marker{n}");
    c.cmd_str(&["SET", "marker", &tag]);
    c.cmd_str(&["DEL", "marker"]);
    let mut len = 0;
    wait_for(10, "the AOF to be written", || {
        let aof = incr_aof(srv);
        len = aof.len();
        aof.windows(tag.len()).any(|w| w == tag.as_bytes()) && aof.ends_with(b"$6\r\nmarker\r\n")
    });
    len
}

/// The incr AOF file of a server, and its bytes.
fn incr_aof(srv: &TestServer) -> Vec<u8> {
    let dir = srv.path.join("appendonlydir");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        if e.file_name().to_string_lossy().ends_with(".incr.aof") {
            out.extend(std::fs::read(e.path()).unwrap_or_default());
        }
    }
    out
}

#[test]
fn random_stream_sequences_reply_like_redis_and_replay_from_the_aof() {
    let redis = TestServer::redis(&["--appendonly", "yes"]);
    let gostore = TestServer::gostore(&["--appendonly", "yes"]);
    let marker = std::cell::Cell::new(0u64);
    let mut runner = TestRunner::new(Config {
        cases: 128,
        max_shrink_iters: 2000,
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec(stream_command(), 1..40).prop_map(resolve),
        any::<bool>(),
        prop_oneof![Just("2"), Just("3"), Just("5"), Just("100")],
        prop_oneof![3 => Just("4096"), 1 => Just("0"), 1 => Just("80")],
    );
    let result = runner.run(&strategy, |(cmds, resp3, entries, bytes)| {
        let mut r = redis.raw_conn();
        let mut g = gostore.raw_conn();
        for c in [&mut r, &mut g] {
            c.cmd(&[b"FLUSHALL"]);
            c.cmd_str(&["CONFIG", "SET", "stream-node-max-entries", entries]);
            c.cmd_str(&["CONFIG", "SET", "stream-node-max-bytes", bytes]);
            if resp3 {
                c.cmd(&[b"HELLO", b"3"]);
            }
        }
        marker.set(marker.get() + 1);
        let from = (
            aof_after_marker(&redis, &mut r, marker.get()),
            aof_after_marker(&gostore, &mut g, marker.get()),
        );
        let rr = run(&mut r, &cmds);
        let gr = run(&mut g, &cmds);
        let what = format!(
            "(RESP{}, node max {entries} entries / {bytes} bytes) in {cmds:?}",
            if resp3 { 3 } else { 2 }
        );
        for (i, (a, b)) in rr.iter().zip(&gr).enumerate() {
            prop_assert_eq!(a, b, "command {} {:?} {}", i, cmds[i], what);
        }
        let want = state(&mut r);
        same_state(&state(&mut g), &want, "final state", &what)?;

        // This case's AOF: GoStore's is Redis's (delivery times aside),
        // and redis-server loads both into the same state (compared with
        // each other, not with the live one: Redis 7.0 does not log a
        // read's entries-read, so its own replay differs from its live
        // groups there).
        marker.set(marker.get() + 1);
        let mut slices = Vec::new();
        for (srv, c, from) in [(&redis, &mut r, from.0), (&gostore, &mut g, from.1)] {
            let to = aof_after_marker(srv, c, marker.get());
            slices.push(incr_aof(srv)[from..to].to_vec());
        }
        prop_assert_eq!(
            without_times(&slices[1]),
            without_times(&slices[0]),
            "the AOF {}",
            what
        );
        // Loaded as an AOF, not sent by a client: a loading server takes
        // forms a client may not send (the `= ... LIMIT` Redis propagates
        // for an approximate trim).
        let mut loaded = Vec::new();
        for slice in &slices {
            let dir = TempDir::new("streams-random-case");
            std::fs::write(dir.path().join("appendonly.aof"), slice).expect("write");
            let replay = TestServer::start_in(Kind::Redis, dir.path(), &["--appendonly", "yes"]);
            let mut p = replay.raw_conn();
            if resp3 {
                p.cmd(&[b"HELLO", b"3"]);
            }
            loaded.push(state(&mut p));
        }
        same_state(
            &loaded[1],
            &loaded[0],
            "GoStore's AOF loaded by redis-server, against Redis's",
            &what,
        )?;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }

    // redis-server loads GoStore's AOF directory (every case, FLUSHALLs
    // between) into the state it reaches from Redis's own; after
    // BGREWRITEAOF on both, the same, and that is the live state.
    // A last, long sequence gives them more to load than a shrunk case
    // may leave.
    let mut g = gostore.raw_conn();
    let mut r = redis.raw_conn();
    let last = prop::collection::vec(stream_command(), 200..201)
        .prop_map(resolve)
        .new_tree(&mut runner)
        .expect("a sequence")
        .current();
    for c in [&mut g, &mut r] {
        c.cmd(&[b"FLUSHALL"]);
        c.cmd_str(&["CONFIG", "SET", "stream-node-max-entries", "3"]);
        c.cmd_str(&["CONFIG", "SET", "stream-node-max-bytes", "4096"]);
    }
    assert_eq!(run(&mut g, &last), run(&mut r, &last), "{last:?}");
    let check = |what: &str| {
        let ours = load_in_redis(&gostore, true);
        let theirs = load_in_redis(&redis, false);
        if let Err(e) = same_state(&ours, &theirs, what, "") {
            panic!("{e}");
        }
        ours
    };
    check("redis-server loading GoStore's AOF, against Redis's");
    let live = state(&mut r);
    // An RDB base keeps the nodes as they are; a RESP base's XADDs are
    // packed again by the loading server, so it is compared with Redis's
    // only.
    for preamble in ["yes", "no"] {
        for (srv, c) in [(&gostore, &mut g), (&redis, &mut r)] {
            c.cmd_str(&["CONFIG", "SET", "aof-use-rdb-preamble", preamble]);
            let done = common::info_field(srv.port, "aof_rewrites")
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            c.cmd_str(&["BGREWRITEAOF"]);
            common::wait_for_rewrites(srv.port, done + 1);
        }
        let rewritten = check(&format!(
            "redis-server loading GoStore's rewritten AOF (preamble {preamble}), against Redis's"
        ));
        if preamble == "yes" {
            if let Err(e) = same_state(
                &rewritten,
                &live,
                "the rewritten AOF loaded, against the live state",
                "",
            ) {
                panic!("{e}");
            }
            // And GoStore loads Redis's RDB base into the same state.
            if let Err(e) = same_state(
                &load_redis_aof_in_gostore(&redis),
                &live,
                "GoStore loading Redis's rewritten AOF, against the live state",
                "",
            ) {
                panic!("{e}");
            }
        }
    }
}

/// What GoStore holds after loading a copy of redis-server `srv`'s AOF
/// directory.
fn load_redis_aof_in_gostore(srv: &TestServer) -> Vec<String> {
    let dir = TempDir::new("streams-random-redis-aof");
    let to = dir.path().join("appendonlydir");
    std::fs::create_dir_all(&to).expect("mkdir");
    for e in std::fs::read_dir(srv.path.join("appendonlydir"))
        .expect("aof dir")
        .flatten()
    {
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
    let loaded = TestServer::gostore_in(
        dir.path(),
        &[
            "--appendonly",
            "yes",
            "--appendfilename",
            "appendonly.aof",
            "--appenddirname",
            "appendonlydir",
        ],
    );
    let mut l = loaded.raw_conn();
    state(&mut l)
}

/// What redis-server holds after loading a copy of `srv`'s AOF directory
/// (GoStore's file names when `gostore`).
fn load_in_redis(srv: &TestServer, gostore: bool) -> Vec<String> {
    let dir = TempDir::new("streams-random-aof");
    let from = srv.path.join("appendonlydir");
    let to = dir.path().join("appendonlydir");
    std::fs::create_dir_all(&to).expect("mkdir");
    for e in std::fs::read_dir(&from).expect("aof dir").flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
    let mut args = vec!["--appendonly", "yes"];
    if gostore {
        // GoStore's file names (see tests/aof_redis.rs).
        args.extend([
            "--appendfilename",
            "database.aof",
            "--appenddirname",
            "appendonlydir",
        ]);
    }
    let loaded = TestServer::start_in(Kind::Redis, dir.path(), &args);
    let mut l = loaded.raw_conn();
    state(&mut l)
}
