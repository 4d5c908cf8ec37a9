//! Sorted sets beyond the differential corpus: what the AOF receives
//! (Redis's propagation of ZMPOP and of blocking pops, served or not),
//! encodings at the directive limits and DEBUG DIGEST-VALUE against
//! redis-server, and blocking pops with several clients.

mod common;

use common::resp::RawConn;
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

fn both(args: &[&str]) -> [TestServer; 2] {
    [TestServer::gostore(args), TestServer::redis(args)]
}

#[test]
fn the_aof_gets_what_redis_propagates_for_zset_pops() {
    let [g, r] = both(&["--appendonly", "yes"]);
    let script: &[&[&str]] = &[
        &[
            "ZADD", "z", "1", "a", "2.5", "b", "inf", "c", "-inf", "d", "4", "e",
        ],
        &["ZADD", "z", "NX", "9", "a"],
        &["ZINCRBY", "z", "0.1", "a"],
        &["ZPOPMIN", "z"],
        &["ZPOPMAX", "z", "1"],
        &["ZMPOP", "2", "none", "z", "MIN", "COUNT", "1"],
        &["ZMPOP", "1", "none", "MAX"],
        &["BZPOPMIN", "none", "z", "0"],
        &["BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"],
        &["ZADD", "y", "1", "a", "2", "b", "3", "c"],
        &["ZREMRANGEBYSCORE", "y", "5", "6"],
        &["ZRANGESTORE", "w", "y", "0", "1"],
        &["ZRANGESTORE", "w", "none", "0", "1"],
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
    assert!(!ga.contains("ZMPOP") && !ga.contains("BZ"), "{ga}");
    // BZMPOP ... COUNT 5 popping the last member is written with count 1.
    assert!(
        ga.contains("*3\r\n$7\r\nZPOPMAX\r\n$1\r\nz\r\n$1\r\n1\r\n"),
        "{ga}"
    );
}

#[test]
fn encodings_follow_the_directives_as_redis() {
    let servers = both(&[
        "--zset-max-listpack-entries",
        "4",
        "--zset-max-listpack-value",
        "8",
    ]);
    let long = "x".repeat(9);
    let script: Vec<Vec<String>> = vec![
        vec!["ZADD", "a", "1", "m1", "2", "m2", "3", "m3", "4", "m4"],
        vec!["OBJECT", "ENCODING", "a"],
        vec!["ZADD", "a", "5", "m5"],
        vec!["OBJECT", "ENCODING", "a"],
        vec!["ZREM", "a", "m1", "m2", "m3"],
        vec!["OBJECT", "ENCODING", "a"],
        vec!["ZRANGESTORE", "b", "a", "0", "-1"],
        vec!["OBJECT", "ENCODING", "b"],
        vec!["ZADD", "c", "1", "12345678"],
        vec!["OBJECT", "ENCODING", "c"],
        vec!["ZADD", "c", "1", &long],
        vec!["OBJECT", "ENCODING", "c"],
        vec![
            "ZADD", "d", "1", "a", "1", "a", "1", "a", "1", "a", "1", "a",
        ],
        vec!["OBJECT", "ENCODING", "d"],
        vec!["CONFIG", "SET", "zset-max-ziplist-entries", "0"],
        vec!["ZADD", "e", "1", "a"],
        vec!["OBJECT", "ENCODING", "e"],
        vec!["CONFIG", "GET", "zset-max-listpack-entries"],
        vec!["CONFIG", "GET", "zset-max-ziplist-value"],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect();
    let mut conns: Vec<RawConn> = servers.iter().map(|s| s.raw_conn()).collect();
    for cmd in &script {
        let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        let g = conns[0].cmd_str(&args);
        let r = conns[1].cmd_str(&args);
        assert_eq!(g, r, "{cmd:?}");
    }
}

#[test]
fn digests_equal_redis_for_both_encodings() {
    let servers = both(&["--enable-debug-command", "yes"]);
    let mut conns: Vec<RawConn> = servers.iter().map(|s| s.raw_conn()).collect();
    let mut big = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..300 {
        big.push(format!("{}", (i as f64) * 0.37 - 20.0));
        big.push(format!("member:{i}"));
    }
    let big: Vec<&str> = big.iter().map(|s| s.as_str()).collect();
    let script: Vec<Vec<&str>> = vec![
        vec![
            "ZADD", "small", "1", "a", "-0", "z", "0.1", "b", "inf", "c", "1e21", "d",
        ],
        big.clone(),
        vec!["OBJECT", "ENCODING", "big"],
        vec!["DEBUG", "DIGEST-VALUE", "small", "big"],
        vec!["DEBUG", "DIGEST"],
    ];
    for cmd in &script {
        let g = conns[0].cmd_str(cmd);
        let r = conns[1].cmd_str(cmd);
        assert_eq!(g, r, "{:?}", &cmd[..cmd.len().min(4)]);
    }
}

/// Sends a command without waiting for its reply.
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

/// The same scenario on both servers: two clients wait on sorted-set keys,
/// a list waiter waits on one of them too; ZADD serves the sorted-set
/// waiters first come, first served, a list never serves them, and a
/// timed-out BZMPOP answers a null array.
#[test]
fn blocking_pops_serve_waiters_in_order_and_only_for_sorted_sets() {
    let mut transcripts = Vec::new();
    for srv in both(&[]) {
        let mut ctl = srv.raw_conn();
        let mut w1 = srv.raw_conn();
        let mut w2 = srv.raw_conn();
        let mut wl = srv.raw_conn();
        let mut out = Vec::new();
        send(&mut w1, &["BZPOPMIN", "k1", "k2", "0"]);
        wait_for(10, "w1 to block", || blocked_clients(&mut ctl) == "1");
        send(&mut w2, &["BZMPOP", "0", "1", "k2", "MAX", "COUNT", "2"]);
        wait_for(10, "w2 to block", || blocked_clients(&mut ctl) == "2");
        send(&mut wl, &["BLPOP", "k2", "0"]);
        wait_for(10, "wl to block", || blocked_clients(&mut ctl) == "3");
        // One member for two sorted-set waiters: only the first is served.
        out.push(ctl.cmd_str(&["ZADD", "k2", "1", "a"]));
        out.push(w1.read_reply_text());
        out.push(ctl.cmd_str(&["EXISTS", "k2"]));
        // Three members: w2 gets the two highest.
        out.push(ctl.cmd_str(&["ZADD", "k2", "1", "x", "2", "y", "3", "z"]));
        out.push(w2.read_reply_text());
        out.push(ctl.cmd_str(&["ZRANGE", "k2", "0", "-1", "WITHSCORES"]));
        out.push(blocked_clients(&mut ctl));
        out.push(ctl.cmd_str(&["DEL", "k2"]));
        out.push(ctl.cmd_str(&["RPUSH", "k2", "v"]));
        out.push(wl.read_reply_text());
        out.push(ctl.cmd_str(&["BZMPOP", "0.01", "1", "none", "MIN"]));
        out.push(ctl.cmd_str(&["BZPOPMAX", "none", "0.01"]));
        transcripts.push(out);
    }
    assert_eq!(transcripts[0], transcripts[1]);
}

trait ReadText {
    fn read_reply_text(&mut self) -> String;
}

impl ReadText for RawConn {
    fn read_reply_text(&mut self) -> String {
        String::from_utf8_lossy(&self.read_reply()).into_owned()
    }
}

/// With unequal scores, members need not be in lex order; Redis first
/// checks the last member against the minimum and the first against the
/// maximum (`zzlIsInLexRange`, `zslIsInLexRange`) and answers nothing when
/// either fails. Both encodings, against redis-server.
#[test]
fn lex_ranges_over_unequal_scores_answer_as_redis() {
    for args in [&[][..], &["--zset-max-listpack-entries", "0"][..]] {
        let [g, r] = both(args);
        let mut gc = g.raw_conn();
        let mut rc = r.raw_conn();
        for cmd in [
            &["ZADD", "k", "0", "0", "-1", "a"][..],
            &["OBJECT", "ENCODING", "k"],
            &["ZRANGE", "k", "[1", "+", "BYLEX"],
            &["ZRANGE", "k", "+", "[1", "BYLEX", "REV"],
            &["ZRANGEBYLEX", "k", "[1", "+"],
            &["ZREVRANGEBYLEX", "k", "+", "[1"],
            &["ZLEXCOUNT", "k", "[1", "+"],
            &["ZRANGEBYLEX", "k", "-", "(0"],
            &["ZLEXCOUNT", "k", "-", "(0"],
            &["ZRANGESTORE", "d", "k", "[1", "+", "BYLEX"],
            &["EXISTS", "d"],
            // (A skip list's ZREMRANGEBYLEX skips the check in Redis and
            // then depends on its nodes' random levels: packed only.)
            if args.is_empty() {
                &["ZREMRANGEBYLEX", "k", "[1", "+"]
            } else {
                &["ZREMRANGEBYLEX", "k", "-", "(0"]
            },
            &["ZREMRANGEBYLEX", "k", "-", "(0"],
            &["ZRANGE", "k", "0", "-1", "WITHSCORES"],
            &["ZADD", "k", "5", "b"],
            &["ZLEXCOUNT", "k", "-", "+"],
            &["ZLEXCOUNT", "k", "(a", "+"],
        ] {
            assert_eq!(gc.cmd_str(cmd), rc.cmd_str(cmd), "{cmd:?} with {args:?}");
        }
    }
}

/// More blocking scenarios, each run on both servers and compared as a
/// transcript: waiters over several keys served key by key in the order
/// they blocked, a key emptied by an earlier waiter before a later one's
/// turn, CLIENT UNBLOCK with and without ERROR, served and timed-out
/// replies in RESP3.
#[test]
fn blocking_pops_follow_redis_through_service_order_unblock_and_resp3() {
    let mut transcripts = Vec::new();
    for srv in both(&[]) {
        let mut ctl = srv.raw_conn();
        let mut w1 = srv.raw_conn();
        let mut w2 = srv.raw_conn();
        let mut w3 = srv.raw_conn();
        let mut out = Vec::new();
        // 1. Three waiters over the same two keys, in different orders.
        send(&mut w1, &["BZPOPMIN", "a", "b", "0"]);
        wait_for(10, "w1 to block", || blocked_clients(&mut ctl) == "1");
        send(&mut w2, &["BZPOPMAX", "b", "a", "0"]);
        wait_for(10, "w2 to block", || blocked_clients(&mut ctl) == "2");
        send(
            &mut w3,
            &["BZMPOP", "0", "2", "a", "b", "MIN", "COUNT", "5"],
        );
        wait_for(10, "w3 to block", || blocked_clients(&mut ctl) == "3");
        // One member of b: the first waiter takes it and empties b before
        // the others' turn; they stay blocked.
        out.push(ctl.cmd_str(&["ZADD", "b", "1", "x"]));
        out.push(w1.read_reply_text());
        out.push(blocked_clients(&mut ctl));
        out.push(ctl.cmd_str(&["EXISTS", "b"]));
        // Three members of a: w2 (blocked before w3) takes the highest,
        // w3 the rest.
        out.push(ctl.cmd_str(&["ZADD", "a", "1", "p", "2", "q", "3", "r"]));
        out.push(w2.read_reply_text());
        out.push(w3.read_reply_text());
        out.push(ctl.cmd_str(&["EXISTS", "a"]));
        out.push(blocked_clients(&mut ctl));
        // A waiter whose key is filled by a store, then emptied by a pop
        // of a client that did not wait: served only by the next fill.
        send(&mut w1, &["BZPOPMIN", "s", "0"]);
        wait_for(10, "w1 to block", || blocked_clients(&mut ctl) == "1");
        out.push(ctl.cmd_str(&["ZADD", "src", "1", "one", "2", "two"]));
        out.push(ctl.cmd_str(&["ZRANGESTORE", "s", "src", "0", "0"]));
        out.push(w1.read_reply_text());
        out.push(ctl.cmd_str(&["EXISTS", "s"]));
        // 3. CLIENT UNBLOCK: a timeout's reply, then an error.
        let id = w2.cmd_str(&["CLIENT", "ID"]);
        let id = id.trim_start_matches(':').trim_end().to_string();
        send(&mut w2, &["BZPOPMIN", "u", "0"]);
        wait_for(10, "w2 to block", || blocked_clients(&mut ctl) == "1");
        out.push(ctl.cmd_str(&["CLIENT", "UNBLOCK", &id]));
        out.push(w2.read_reply_text());
        send(&mut w2, &["BZMPOP", "0", "2", "u", "v", "MAX"]);
        wait_for(10, "w2 to block", || blocked_clients(&mut ctl) == "1");
        out.push(ctl.cmd_str(&["CLIENT", "UNBLOCK", &id, "ERROR"]));
        out.push(w2.read_reply_text());
        out.push(ctl.cmd_str(&["CLIENT", "UNBLOCK", &id]));
        // 5. RESP3: timeouts are nulls, served pops carry doubles.
        out.push(
            w1.cmd_str(&["HELLO", "3"])
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
        );
        out.push(w1.cmd_str(&["BZPOPMIN", "none", "0.01"]));
        out.push(w1.cmd_str(&["BZPOPMAX", "none", "0.01"]));
        out.push(w1.cmd_str(&["BZMPOP", "0.01", "1", "none", "MIN"]));
        send(&mut w1, &["BZPOPMAX", "r", "0"]);
        wait_for(10, "w1 to block", || blocked_clients(&mut ctl) == "1");
        out.push(ctl.cmd_str(&["ZADD", "r", "1.5", "p", "inf", "q"]));
        out.push(w1.read_reply_text());
        send(&mut w1, &["BZMPOP", "0", "1", "r2", "MIN", "COUNT", "3"]);
        wait_for(10, "w1 to block", || blocked_clients(&mut ctl) == "1");
        out.push(ctl.cmd_str(&["ZADD", "r2", "-2", "s", "0.1", "t"]));
        out.push(w1.read_reply_text());
        let id1 = w1.cmd_str(&["CLIENT", "ID"]);
        let id1 = id1.trim_start_matches(':').trim_end().to_string();
        send(&mut w1, &["BZMPOP", "0", "1", "none", "MIN"]);
        wait_for(10, "w1 to block", || blocked_clients(&mut ctl) == "1");
        out.push(ctl.cmd_str(&["CLIENT", "UNBLOCK", &id1]));
        out.push(w1.read_reply_text());
        transcripts.push(out);
    }
    assert_eq!(transcripts[0], transcripts[1]);
}
