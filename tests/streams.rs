//! Streams beyond the differential corpus: what the AOF receives (Redis
//! 7.0's propagation of generated IDs, approximate trims and consumer
//! group reads and claims) compared with redis-server's, GoStore's AOF
//! replayed by redis-server, the rewrite's forms, and blocking XREAD /
//! XREADGROUP with several clients served in order.

mod common;

use common::resp::RawConn;
use common::{wait_for, Kind, TempDir, TestServer};

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

/// The AOF text with the delivery times (after TIME) blanked: they are
/// each server's clock.
fn without_times(aof: &str) -> String {
    let mut out = Vec::new();
    let mut blank_next = 0;
    for line in aof.split("\r\n") {
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
    out.join("\r\n")
}

fn send(c: &mut RawConn, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&common::resp::encode(&a));
}

fn blocked_clients(c: &mut RawConn) -> String {
    let info = c.cmd_str(&["INFO", "clients"]);
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .unwrap_or("")
        .trim()
        .to_string()
}

fn read_text(c: &mut RawConn) -> String {
    String::from_utf8_lossy(&c.read_reply()).into_owned()
}

const SCRIPT: &[&[&str]] = &[
    &["XADD", "s", "1-1", "f", "v"],
    &["XADD", "s", "5-*", "a", "1"],
    &["XADD", "s", "5-*", "a", "2"],
    &["XADD", "s", "MAXLEN", "~", "1", "10-1", "a", "3"],
    &[
        "XADD",
        "s",
        "NOMKSTREAM",
        "MINID",
        "~",
        "0",
        "11-*",
        "a",
        "4",
    ],
    &["XGROUP", "CREATE", "s", "g", "0"],
    &["XGROUP", "CREATE", "s", "h", "$", "ENTRIESREAD", "3"],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "COUNT",
        "2",
        "STREAMS",
        "s",
        ">",
    ],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "NOACK",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        ">",
    ],
    &["XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">"],
    &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
    &["XCLAIM", "s", "g", "d", "0", "1-1", "JUSTID"],
    &["XCLAIM", "s", "g", "d", "999999999", "5-0"],
    &[
        "XCLAIM",
        "s",
        "g",
        "d",
        "0",
        "5-0",
        "LASTID",
        "20-0",
        "RETRYCOUNT",
        "4",
    ],
    &["XADD", "s", "12-0", "a", "5"],
    &["XREADGROUP", "GROUP", "h", "e", "STREAMS", "s", ">"],
    &["XDEL", "s", "5-0"],
    &["XAUTOCLAIM", "s", "g", "e", "0", "0", "COUNT", "5"],
    &["XACK", "s", "h", "12-0", "99-0"],
    &["XGROUP", "CREATECONSUMER", "s", "g", "z"],
    &["XGROUP", "DELCONSUMER", "s", "g", "d"],
    &["XGROUP", "SETID", "s", "h", "0", "ENTRIESREAD", "0"],
    &["XGROUP", "CREATE", "s", "gone", "0"],
    &["XGROUP", "DESTROY", "s", "gone"],
    &["XTRIM", "s", "MAXLEN", "~", "0"],
    &["XTRIM", "s", "MAXLEN", "=", "3"],
    &[
        "XSETID",
        "s",
        "50-0",
        "ENTRIESADDED",
        "70",
        "MAXDELETEDID",
        "40-0",
    ],
    &["XADD", "t", "MAXLEN", "0", "1-1", "x", "y"],
    // A read of `>` with nothing new creates no consumer; a NOACK reader's
    // creation is propagated (no XCLAIM names it), wrapped with its SETID.
    &["XGROUP", "CREATE", "e", "g", "0", "MKSTREAM"],
    &["XREADGROUP", "GROUP", "g", "nobody", "STREAMS", "e", ">"],
    &["XINFO", "GROUPS", "e"],
    &["XADD", "e", "1-0", "a", "1"],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "nack",
        "NOACK",
        "STREAMS",
        "e",
        ">",
    ],
    &["XREADGROUP", "GROUP", "g", "hist", "STREAMS", "e", "0"],
    &["XINFO", "GROUPS", "e"],
    // An approximate MINID trim that empties the stream is propagated
    // with the greatest ID; one that stops at a deleted first entry, with
    // that entry's ID.
    &["XTRIM", "e", "MINID", "~", "5"],
    &["CONFIG", "SET", "stream-node-max-entries", "2"],
    &["XADD", "tm", "1-0", "a", "1"],
    &["XADD", "tm", "2-0", "a", "1"],
    &["XADD", "tm", "3-0", "a", "1"],
    &["XADD", "tm", "4-0", "a", "1"],
    &["XADD", "tm", "5-0", "a", "1"],
    &["XDEL", "tm", "3-0"],
    &["XTRIM", "tm", "MINID", "~", "4"],
    &["XADD", "tm", "MINID", "~", "5", "6-0", "a", "1"],
    &["CONFIG", "SET", "stream-node-max-entries", "100"],
    // XCLAIM propagates each ID as its caller wrote it; a NACK FORCE
    // creates counts one delivery before the claim counts its own.
    &["XADD", "f", "7-0", "a", "1"],
    &["XADD", "f", "8-0", "a", "1"],
    &["XGROUP", "CREATE", "f", "g", "$"],
    &["XCLAIM", "f", "g", "c", "0", "7", "FORCE"],
    &["XCLAIM", "f", "g", "c", "0", "8", "FORCE", "JUSTID"],
    &["XCLAIM", "f", "g", "d", "0", "7-0", "8"],
    &["XDEL", "f", "8-0"],
    &["XCLAIM", "f", "g", "d", "0", "8", "JUSTID"],
    &["SET", "end", "1"],
];

/// Every command's AOF form matches redis-server's (delivery times
/// aside): XADD with the ID it generated and an approximate trim as the
/// exact one, group reads and claims as XCLAIM ... FORCE JUSTID LASTID and
/// XGROUP SETID ... ENTRIESREAD, never as received; and redis-server
/// replays GoStore's AOF into the same streams and groups.
#[test]
fn the_aof_gets_what_redis_propagates_and_redis_replays_it() {
    let g = TestServer::gostore(&["--appendonly", "yes"]);
    let r = TestServer::redis(&["--appendonly", "yes"]);
    let mut gc = g.raw_conn();
    let mut rc = r.raw_conn();
    for cmd in SCRIPT {
        assert_eq!(gc.cmd_str(cmd), rc.cmd_str(cmd), "{cmd:?}");
    }
    wait_for(10, "both AOFs to have the last command", || {
        incr_aof(&g).contains("$3\r\nend\r\n") && incr_aof(&r).contains("$3\r\nend\r\n")
    });
    let (ga, ra) = (without_times(&incr_aof(&g)), without_times(&incr_aof(&r)));
    assert_eq!(ga, ra);
    assert!(
        !ga.contains("XREADGROUP") && !ga.contains("XAUTOCLAIM"),
        "{ga}"
    );

    // redis-server replays GoStore's AOF.
    let copy = TempDir::new("streams-replay");
    let src = g.path.join("appendonlydir");
    let dst = copy.path().join("appendonlydir");
    std::fs::create_dir_all(&dst).expect("mkdir");
    for e in std::fs::read_dir(&src).expect("read aof dir").flatten() {
        std::fs::copy(e.path(), dst.join(e.file_name())).expect("copy");
    }
    // GoStore's file names (see tests/aof_redis.rs).
    let replay = TestServer::start_in(
        Kind::Redis,
        copy.path(),
        &[
            "--appendonly",
            "yes",
            "--appendfilename",
            "database.aof",
            "--appenddirname",
            "appendonlydir",
        ],
    );
    let mut pc = replay.raw_conn();
    // Against redis-server replaying its own AOF (Redis 7.0.15 does not
    // carry a non-NOACK read's entries-read to the log, so a replay differs
    // from the live group there, for both servers alike).
    drop(rc);
    let mut r = r;
    r.sigterm();
    r.restart();
    let mut gc = r.raw_conn();
    for q in [
        &["DBSIZE"][..],
        &["XRANGE", "s", "-", "+"],
        &["XINFO", "GROUPS", "s"],
        &["XPENDING", "s", "g"],
        &["XPENDING", "s", "h"],
        &["XINFO", "STREAM", "t"],
        &["XLEN", "s"],
    ] {
        assert_eq!(pc.cmd_str(q), gc.cmd_str(q), "{q:?}");
    }
}

/// BGREWRITEAOF writes what Redis's rewriteStreamObject writes (XADD per
/// entry or `XADD key MAXLEN 0 0-1 x y` for an empty stream, XSETID with
/// ENTRIESADDED and MAXDELETEDID, XGROUP CREATE ... ENTRIESREAD, XCLAIM
/// ... JUSTID FORCE per pending entry, XGROUP CREATECONSUMER for a consumer
/// without any): the base files are equal but for delivery times, and
/// both servers reload them into the same state.
#[test]

fn the_rewrite_emits_redis_forms_and_reloads_as_redis() {
    let mut servers = [
        TestServer::gostore(&["--appendonly", "yes"]),
        TestServer::redis(&["--appendonly", "yes", "--aof-use-rdb-preamble", "no"]),
    ];
    let mut bases = Vec::new();
    let mut states = Vec::new();
    for srv in servers.iter_mut() {
        let mut c = srv.raw_conn();
        // Stop before the last trims, so entries and pending entries remain.
        for cmd in &SCRIPT[..SCRIPT.len() - 5] {
            c.cmd_str(cmd);
        }
        c.cmd_str(&["XADD", "empty", "MAXLEN", "0", "1-1", "x", "y"]);
        c.cmd_str(&["BGREWRITEAOF"]);
        common::wait_for_rewrites(srv.port, 1);
        let dir = srv.path.join("appendonlydir");
        let base: String = std::fs::read_dir(&dir)
            .expect("aof dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".base."))
            .map(|e| {
                String::from_utf8_lossy(&std::fs::read(e.path()).unwrap_or_default()).into_owned()
            })
            .collect();
        bases.push(without_times(&base));
        drop(c);
        // `restart` only launches: the running server must stop first, or
        // a second process shares its AOF directory.
        assert_eq!(srv.sigterm(), Some(0));
        srv.restart();
        let mut c = srv.raw_conn();
        let mut state: Vec<String> = [
            &["XRANGE", "s", "-", "+"][..],
            &["XINFO", "GROUPS", "s"],
            &["XPENDING", "s", "g", "-", "+", "10"],
            &["XINFO", "STREAM", "empty"],
            &["XINFO", "CONSUMERS", "s", "g"],
        ]
        .iter()
        .map(|q| c.cmd_str(q))
        .collect();
        // Idle times are each server's clock.
        for s in state.iter_mut().skip(2) {
            s.retain(|ch| !ch.is_ascii_digit());
        }
        states.push(state);
    }
    // Redis's base holds the keys in its table's order; compare as sets
    // of commands.
    let split = |b: &str| {
        // The last command has no following "\r\n*": trim the file's
        // final CRLF so every piece ends alike, whichever comes last.
        let mut v: Vec<String> = b
            .trim_end_matches("\r\n")
            .split("\r\n*")
            .map(|s| s.to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(split(&bases[0]), split(&bases[1]));
    assert!(bases[0].contains("MAXDELETEDID"), "{}", bases[0]);
    assert_eq!(states[0], states[1]);
}

/// The same scenario on both servers: XREAD on `$` and XREADGROUP on `>`
/// wait; one XADD serves both in the order they blocked; an XREAD waiting
/// for an ID past the new entry keeps waiting; a timeout answers a null
/// array; a served XREADGROUP leaves its entry pending.
#[test]
fn blocking_reads_are_served_in_order() {
    let mut transcripts = Vec::new();
    for srv in [TestServer::gostore(&[]), TestServer::redis(&[])] {
        let mut ctl = srv.raw_conn();
        let mut w1 = srv.raw_conn();
        let mut w2 = srv.raw_conn();
        let mut w3 = srv.raw_conn();
        let mut out = Vec::new();
        out.push(ctl.cmd_str(&["XADD", "s", "1-0", "a", "1"]));
        out.push(ctl.cmd_str(&["XGROUP", "CREATE", "s", "g", "$"]));
        send(&mut w1, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        wait_for(10, "w1 to block", || blocked_clients(&mut ctl) == "1");
        send(
            &mut w2,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "other",
                "s",
                ">",
                ">",
            ],
        );
        // other does not exist: NOGROUP at once.
        out.push(read_text(&mut w2));
        send(
            &mut w2,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">",
            ],
        );
        wait_for(10, "w2 to block", || blocked_clients(&mut ctl) == "2");
        send(&mut w3, &["XREAD", "BLOCK", "0", "STREAMS", "s", "5-0"]);
        wait_for(10, "w3 to block", || blocked_clients(&mut ctl) == "3");
        out.push(ctl.cmd_str(&["XADD", "s", "2-0", "b", "2"]));
        out.push(read_text(&mut w1));
        out.push(read_text(&mut w2));
        out.push(blocked_clients(&mut ctl));
        out.push(ctl.cmd_str(&["XPENDING", "s", "g"]));
        out.push(ctl.cmd_str(&["XADD", "s", "6-0", "c", "3"]));
        out.push(read_text(&mut w3));
        out.push(ctl.cmd_str(&["XREAD", "BLOCK", "10", "STREAMS", "s", "$"]));
        out.push(ctl.cmd_str(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "10",
            "STREAMS",
            "s",
            ">",
        ]));
        out.push(ctl.cmd_str(&["XINFO", "GROUPS", "s"]));
        transcripts.push(out);
    }
    assert_eq!(transcripts[0], transcripts[1]);
}

/// Nodes close where Redis's close: GoStore counts a node's bytes as the
/// listpack Redis would hold (integers packed as integers, string headers,
/// back lengths, the master entry), so the node count and what an
/// approximate trim removes match Redis's for values of every encoding.
#[test]
fn nodes_close_where_redis_s_close() {
    let values = [
        "1",
        "0",
        "-0",
        "007",
        "+5",
        "127",
        "128",
        "-4096",
        "4096",
        "40000",
        "-9000000",
        "3000000000",
        "9223372036854775807",
        "9223372036854775808",
        "",
        "two",
        &"x".repeat(24),
        &"y".repeat(63),
        &"z".repeat(64),
        &"w".repeat(200),
    ];
    let mut transcripts = Vec::new();
    for srv in [TestServer::gostore(&[]), TestServer::redis(&[])] {
        let mut c = srv.raw_conn();
        let mut out = Vec::new();
        for (entries, bytes) in [
            ("2", "80"),
            ("0", "80"),
            ("0", "200"),
            ("100", "4096"),
            ("5", "0"),
        ] {
            c.cmd_str(&["DEL", "s"]);
            c.cmd_str(&["CONFIG", "SET", "stream-node-max-entries", entries]);
            c.cmd_str(&["CONFIG", "SET", "stream-node-max-bytes", bytes]);
            for (i, v) in values.iter().enumerate() {
                let id = format!("{}-{}", 1 + i / 3, i % 3);
                if i % 4 == 3 {
                    c.cmd_str(&["XADD", "s", &id, "a", v, "b", v]);
                } else {
                    c.cmd_str(&["XADD", "s", &id, "a", v]);
                }
                let info = c.cmd_str(&["XINFO", "STREAM", "s"]);
                let keys = info
                    .split("radix-tree-keys\r\n:")
                    .nth(1)
                    .and_then(|r| r.split('\r').next())
                    .unwrap_or("?")
                    .to_string();
                out.push(format!("{entries}/{bytes} {id}: {keys} nodes"));
            }
            out.push(c.cmd_str(&["XTRIM", "s", "MAXLEN", "~", "5"]));
            out.push(c.cmd_str(&["XLEN", "s"]));
        }
        // An exact trim that flags every entry of a node deleted leaves the
        // node in place (only XDEL removes a node it empties): it still
        // counts, and ends approximate trims and edge lookups where Redis's
        // do.
        c.cmd_str(&["DEL", "s"]);
        c.cmd_str(&["CONFIG", "SET", "stream-node-max-entries", "2"]);
        c.cmd_str(&["CONFIG", "SET", "stream-node-max-bytes", "4096"]);
        for args in [
            &["XADD", "s", "1-0", "a", "1"][..],
            &["XADD", "s", "2-0", "a", "1"],
            &["XADD", "s", "3-0", "a", "1"],
            &["XDEL", "s", "2-0"],
            &["XADD", "s", "MINID", "2-0", "4-0", "a", "1"],
            &["XRANGE", "s", "-", "+"],
            &["XREVRANGE", "s", "+", "-", "COUNT", "1"],
            &["XINFO", "STREAM", "s"],
            &["XTRIM", "s", "MAXLEN", "~", "1"],
            &["XSETID", "s", "3-5"],
            &["XADD", "s", "5-0", "a", "1"],
            &["XTRIM", "s", "MINID", "=", "5-0"],
            &["XLEN", "s"],
        ] {
            let reply = c.cmd_str(args);
            // radix-tree-nodes is GoStore's estimate: compare the rest.
            let keep: Vec<&str> = reply
                .split("radix-tree-nodes")
                .map(|part| part.split_once("\r\n$17").map_or(part, |(_, rest)| rest))
                .collect();
            out.push(format!("{args:?} {}", keep.join("|")));
        }
        transcripts.push(out);
    }
    assert_eq!(transcripts[0], transcripts[1]);
}

/// A blocked XREADGROUP served later creates its consumer then, with the
/// same event, and a NOACK reader's creation is propagated with its SETID,
/// as Redis 7.0.15 does; one that times out creates none.
#[test]
fn a_served_blocked_group_read_creates_and_propagates_its_consumer_as_redis() {
    let mut transcripts = Vec::new();
    for srv in [
        TestServer::gostore(&["--appendonly", "yes"]),
        TestServer::redis(&["--appendonly", "yes"]),
    ] {
        let mut ctl = srv.raw_conn();
        let mut sub = srv.raw_conn();
        let mut w = srv.raw_conn();
        let mut out = Vec::new();
        ctl.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        sub.cmd_str(&["PSUBSCRIBE", "__keyevent@0__:*"]);
        out.push(ctl.cmd_str(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]));
        out.push(w.cmd_str(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "late",
            "BLOCK",
            "10",
            "STREAMS",
            "s",
            ">",
        ]));
        out.push(ctl.cmd_str(&["XINFO", "GROUPS", "s"]));
        send(
            &mut w,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "nack",
                "NOACK",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">",
            ],
        );
        wait_for(10, "the reader to block", || {
            blocked_clients(&mut ctl) == "1"
        });
        out.push(ctl.cmd_str(&["XADD", "s", "1-0", "a", "1"]));
        out.push(read_text(&mut w));
        out.push(ctl.cmd_str(&["XINFO", "GROUPS", "s"]));
        out.push(ctl.cmd_str(&["SET", "end", "1"]));
        loop {
            let m = read_text(&mut sub);
            let end = m.contains("\r\nend\r\n");
            out.push(m);
            if end {
                break;
            }
        }
        wait_for(10, "the AOF to have the last command", || {
            incr_aof(&srv).contains("$3\r\nend\r\n")
        });
        out.push(without_times(&incr_aof(&srv)));
        transcripts.push(out);
    }
    assert_eq!(transcripts[0], transcripts[1]);
}
