//! Client-side caching (CLIENT TRACKING) with several real clients, each
//! scenario run against redis-server and GoStore, every client's bytes
//! compared: option errors, CACHING/GETREDIR/TRACKINGINFO, invalidations
//! in RESP3 (pushes, after the changing client's own reply) and through a
//! RESP2 REDIRECT to `__redis__:invalidate`, default, OPTIN, OPTOUT,
//! BCAST with prefixes, NOLOOP, expiry, FLUSHDB/FLUSHALL nulls, a broken
//! redirect, INFO's tracking fields, and `tracking-table-max-keys`.

mod common;

use common::resp::{encode, RawConn};
use common::{wait_for, TestServer};

fn send(c: &mut RawConn, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&encode(&a));
}

fn read(c: &mut RawConn) -> String {
    String::from_utf8_lossy(&c.read_reply()).into_owned()
}

fn cmd(c: &mut RawConn, args: &[&str]) -> String {
    send(c, args);
    read(c)
}

fn resp3(s: &TestServer) -> RawConn {
    let mut c = s.raw_conn();
    c.cmd(&[b"HELLO", b"3"]);
    c
}

fn id_of(c: &mut RawConn) -> String {
    cmd(c, &["CLIENT", "ID"])
        .trim_start_matches(':')
        .trim()
        .to_string()
}

/// Everything `c` has been sent until a PING's reply (RESP2 subscribers
/// answer `pong` arrays, others `+PONG`).
fn pending(c: &mut RawConn) -> Vec<String> {
    send(c, &["PING"]);
    let mut got = Vec::new();
    loop {
        let r = read(c);
        if r == "+PONG\r\n" || r.starts_with("*2\r\n$4\r\npong") {
            return got;
        }
        got.push(r);
    }
}

fn same_on_both(args: &[&str], scenario: impl Fn(&TestServer) -> Vec<String>) -> Vec<String> {
    let redis = scenario(&TestServer::redis(args));
    let gostore = scenario(&TestServer::gostore(args));
    assert_eq!(gostore, redis);
    gostore
}

#[test]
fn tracking_options_and_introspection_answer_as_redis() {
    same_on_both(&[], |s| {
        let mut c = s.raw_conn();
        let mut log = Vec::new();
        for opts in [
            &["ON", "BOGUS"][..],
            &["ON", "REDIRECT", "9999"],
            &["ON", "REDIRECT", "x"],
            &["ON", "PREFIX", "a"],
            &["ON", "BCAST", "OPTIN"],
            &["ON", "OPTIN", "OPTOUT"],
            &["MAYBE"],
            &["ON", "BCAST", "PREFIX", "a", "PREFIX", "ab"],
        ] {
            let mut a = vec!["CLIENT", "TRACKING"];
            a.extend_from_slice(opts);
            log.push(cmd(&mut c, &a));
        }
        for a in [
            &["CLIENT", "CACHING", "YES"][..],
            &["CLIENT", "GETREDIR"],
            &["CLIENT", "TRACKINGINFO"],
            &["CLIENT", "TRACKING", "ON", "OPTIN"],
            &["CLIENT", "CACHING", "NO"],
            &["CLIENT", "CACHING", "MAYBE"],
            &["CLIENT", "TRACKING", "ON", "OPTOUT"],
            &["CLIENT", "TRACKING", "ON", "BCAST"],
            &["CLIENT", "TRACKING", "ON", "OPTIN", "NOLOOP"],
            &["CLIENT", "GETREDIR"],
            &["CLIENT", "CACHING", "YES"],
            &["CLIENT", "TRACKINGINFO"],
            &["CLIENT", "TRACKING", "OFF"],
            &["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p"],
            &["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "pq"],
            &["CLIENT", "TRACKINGINFO"],
        ] {
            log.push(cmd(&mut c, a));
        }
        let mut r3 = resp3(s);
        r3.cmd(&[
            b"CLIENT",
            b"TRACKING",
            b"ON",
            b"BCAST",
            b"PREFIX",
            b"x",
            b"PREFIX",
            b"y",
        ]);
        log.push(cmd(&mut r3, &["CLIENT", "TRACKINGINFO"]));
        log
    });
}

#[test]
fn invalidations_reach_resp3_clients_and_resp2_redirect_targets() {
    same_on_both(&[], |s| {
        let mut log = Vec::new();
        let mut w = s.raw_conn();
        // RESP2 through a redirect to a subscriber of __redis__:invalidate.
        let mut sub = s.raw_conn();
        let sid = id_of(&mut sub);
        cmd(&mut sub, &["SUBSCRIBE", "__redis__:invalidate"]);
        let mut t = s.raw_conn();
        log.push(cmd(&mut t, &["CLIENT", "TRACKING", "ON", "REDIRECT", &sid]));
        log.push(cmd(&mut t, &["GET", "k"]));
        log.push(cmd(&mut t, &["MGET", "k", "k2"]));
        log.push(cmd(&mut t, &["CLIENT", "GETREDIR"]).replace(&sid, "SID"));
        cmd(&mut w, &["SET", "k", "1"]);
        cmd(&mut w, &["SET", "k", "2"]);
        cmd(&mut w, &["MSET", "k2", "1", "zz", "2"]);
        log.extend(pending(&mut sub));
        cmd(&mut t, &["GET", "k"]);
        cmd(&mut w, &["FLUSHDB"]);
        log.extend(pending(&mut sub));
        // RESP3: the client's own change is invalidated after its reply.
        let mut u = resp3(s);
        cmd(&mut u, &["CLIENT", "TRACKING", "ON"]);
        cmd(&mut u, &["GET", "x"]);
        log.push(cmd(&mut u, &["SET", "x", "1"]));
        log.push(read(&mut u));
        cmd(&mut u, &["GET", "x"]);
        log.push(cmd(&mut u, &["DEL", "x"]));
        log.push(read(&mut u));
        // Expiry invalidates; FLUSHALL sends a null and empties the table.
        cmd(&mut u, &["SET", "e", "1", "PX", "30"]);
        cmd(&mut u, &["GET", "e"]);
        log.extend(pending(&mut u));
        let mut seen = Vec::new();
        wait_for(10, "the expired key's invalidation", || {
            seen.extend(pending(&mut u));
            !seen.is_empty()
        });
        log.extend(seen);
        cmd(&mut u, &["GET", "y"]);
        cmd(&mut w, &["FLUSHALL"]);
        log.extend(pending(&mut u));
        cmd(&mut w, &["SET", "y", "1"]);
        log.extend(pending(&mut u));
        log
    });
}

#[test]
fn bcast_noloop_optin_optout_and_a_broken_redirect_behave_as_redis() {
    same_on_both(&[], |s| {
        let mut log = Vec::new();
        let mut w = s.raw_conn();
        let mut v = resp3(s);
        cmd(
            &mut v,
            &[
                "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:", "PREFIX", "q",
            ],
        );
        for k in ["p:1", "q2", "zz"] {
            cmd(&mut w, &["SET", k, "x"]);
        }
        log.extend(pending(&mut v));
        // BCAST with NOLOOP: its own change is left out.
        let mut b = resp3(s);
        cmd(&mut b, &["CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP"]);
        cmd(&mut b, &["SET", "mine", "1"]);
        cmd(&mut w, &["SET", "theirs", "1"]);
        log.extend(pending(&mut b));
        let mut n = resp3(s);
        cmd(&mut n, &["CLIENT", "TRACKING", "ON", "NOLOOP"]);
        cmd(&mut n, &["GET", "n"]);
        cmd(&mut n, &["SET", "n", "1"]);
        cmd(&mut n, &["GET", "n"]);
        cmd(&mut w, &["SET", "n", "2"]);
        log.extend(pending(&mut n));
        let mut o = resp3(s);
        cmd(&mut o, &["CLIENT", "TRACKING", "ON", "OPTIN"]);
        cmd(&mut o, &["GET", "o1"]);
        cmd(&mut o, &["CLIENT", "CACHING", "YES"]);
        cmd(&mut o, &["GET", "o2"]);
        cmd(&mut o, &["GET", "o3"]);
        cmd(&mut w, &["MSET", "o1", "1", "o2", "1", "o3", "1"]);
        log.extend(pending(&mut o));
        let mut p = resp3(s);
        cmd(&mut p, &["CLIENT", "TRACKING", "ON", "OPTOUT"]);
        cmd(&mut p, &["GET", "p1"]);
        cmd(&mut p, &["CLIENT", "CACHING", "NO"]);
        cmd(&mut p, &["GET", "p2"]);
        cmd(&mut w, &["MSET", "p1", "1", "p2", "1"]);
        log.extend(pending(&mut p));
        // A redirect target that goes away.
        let mut x = resp3(s);
        let xid = id_of(&mut x);
        let mut y = resp3(s);
        cmd(&mut y, &["CLIENT", "TRACKING", "ON", "REDIRECT", &xid]);
        cmd(&mut y, &["GET", "m"]);
        drop(x);
        wait_for(10, "the redirect target to be gone", || {
            !cmd(&mut w, &["CLIENT", "LIST"]).contains(&format!("id={xid} "))
        });
        cmd(&mut w, &["SET", "m", "1"]);
        log.extend(pending(&mut y).iter().map(|m| m.replace(&xid, "XID")));
        log.push(cmd(&mut y, &["CLIENT", "TRACKINGINFO"]).replace(&xid, "XID"));
        let info = cmd(&mut w, &["INFO"]);
        log.extend(
            info.lines()
                .filter(|l| l.starts_with("tracking_"))
                .map(str::to_string),
        );
        log
    });
}

#[test]
fn the_tracking_table_keeps_within_tracking_table_max_keys() {
    same_on_both(&[], |s| {
        let mut log = Vec::new();
        let mut w = s.raw_conn();
        log.push(cmd(
            &mut w,
            &["CONFIG", "SET", "tracking-table-max-keys", "2"],
        ));
        log.push(cmd(&mut w, &["CONFIG", "GET", "tracking-table-max-keys"]));
        let mut u = resp3(s);
        cmd(&mut u, &["CLIENT", "TRACKING", "ON"]);
        for k in ["a", "b", "c", "d"] {
            cmd(&mut u, &["GET", k]);
        }
        // The next command brings the table back to 2 keys; each key
        // dropped is invalidated (which ones is the table's pick).
        cmd(&mut w, &["PING"]);
        let dropped = pending(&mut u);
        log.push(format!("{} invalidations", dropped.len()));
        let info = cmd(&mut w, &["INFO", "stats"]);
        log.extend(
            info.lines()
                .filter(|l| l.starts_with("tracking_total_keys"))
                .map(str::to_string),
        );
        log
    });
}
