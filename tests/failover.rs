//! FAILOVER, Redis 7.0's coordinated failover: the master holds writes
//! until a replica has the whole stream, then follows it, and its
//! `PSYNC ... FAILOVER` makes that replica the master. Errors and INFO's
//! `master_failover_state` are compared with redis-server.

mod common;

use common::resp::RawConn;
use common::{wait_for, Info, Kind, TestServer};

fn replicaof(replica: u16, master: u16) {
    let mut c = RawConn::connect(replica);
    let r = c.cmd_str(&["REPLICAOF", "127.0.0.1", &master.to_string()]);
    assert_eq!(r, "+OK\r\n", "REPLICAOF");
    wait_for(30, "the master to list the replica online", || {
        Info::fetch(master)
            .get("slave0")
            .is_some_and(|s| s.contains(&format!("port={replica},state=online")))
    });
}

fn signal(s: &TestServer, sig: i32) {
    let pid = s.pid().expect("running") as i32;
    // SAFETY: kill(2) with the pid of a child this test spawned.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
}

/// The argument checks and state errors, in Redis's order and words.
#[test]
fn failover_errors_match_redis() {
    let mut seen = Vec::new();
    for kind in [Kind::GoStore, Kind::Redis] {
        let args: &[&str] = match kind {
            Kind::Redis => &["--repl-diskless-sync-delay", "0"],
            Kind::GoStore => &[],
        };
        let master = TestServer::start(kind, args);
        let replica = TestServer::start(kind, &[]);
        let mut c = master.raw_conn();
        let mut out = Vec::new();
        for args in [
            vec!["FAILOVER"],
            vec!["FAILOVER", "ABORT"],
            vec!["FAILOVER", "TIMEOUT", "0"],
            vec!["FAILOVER", "TIMEOUT", "-5"],
            vec!["FAILOVER", "TIMEOUT", "soon"],
            vec!["FAILOVER", "TO", "127.0.0.1", "port"],
            vec!["FAILOVER", "TO", "127.0.0.1"],
            vec!["FAILOVER", "FORCE", "FORCE"],
            vec!["FAILOVER", "ABORT", "TIMEOUT", "5"],
            vec!["FAILOVER", "BOGUS"],
            vec!["FAILOVER", "TIMEOUT", "5", "TIMEOUT", "6"],
        ] {
            out.push(c.cmd_str(&args));
        }
        replicaof(replica.port, master.port);
        for args in [
            vec!["FAILOVER", "FORCE"],
            vec!["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"],
            vec!["FAILOVER", "TIMEOUT", "100", "FORCE"],
            vec!["FAILOVER", "TO", "127.0.0.1", "1"],
            vec!["FAILOVER", "TO", "10.9.9.9", &replica.port.to_string()],
        ] {
            out.push(c.cmd_str(&args));
        }
        let mut r = replica.raw_conn();
        out.push(r.cmd_str(&["FAILOVER"]));
        // Only the master that runs FAILOVER may ask for a hand-over, and
        // only with this replica's history.
        out.push(r.cmd_str(&[
            "PSYNC",
            "0123456789012345678901234567890123456789",
            "1",
            "FAILOVER",
        ]));
        out.push(format!(
            "{:?}",
            Info::fetch(master.port).get("master_failover_state")
        ));
        seen.push(out);
    }
    assert_eq!(seen[0], seen[1], "GoStore, then Redis");
}

/// FAILOVER TO a replica: the master becomes its replica, the replica the
/// master, with every write kept and replication going the other way.
#[test]
fn failover_to_a_replica_swaps_the_roles() {
    let master = TestServer::gostore(&[]);
    let replica = TestServer::gostore(&[]);
    let (m, r) = (master.port, replica.port);
    replicaof(r, m);
    let mut c = master.raw_conn();
    for i in 0..100 {
        assert_eq!(c.cmd_str(&["SET", &format!("k{i}"), "v"]), "+OK\r\n");
    }
    let reply = c.cmd_str(&[
        "FAILOVER",
        "TO",
        "127.0.0.1",
        &r.to_string(),
        "TIMEOUT",
        "30000",
    ]);
    assert_eq!(reply, "+OK\r\n");
    wait_for(30, "the roles to swap and the link to come up", || {
        let (mi, ri) = (Info::fetch(m), Info::fetch(r));
        mi.get("role") == Some("slave")
            && mi.get("master_port") == Some(r.to_string().as_str())
            && mi.get("master_link_status") == Some("up")
            && ri.get("role") == Some("master")
    });
    for p in [m, r] {
        assert_eq!(
            Info::fetch(p).get("master_failover_state"),
            Some("no-failover"),
            "{p}"
        );
    }
    // The old master's writes are on the new one; the new one's reach it.
    let mut n = replica.raw_conn();
    assert_eq!(n.cmd_str(&["DBSIZE"]), ":100\r\n");
    assert_eq!(n.cmd_str(&["SET", "after", "x"]), "+OK\r\n");
    assert_eq!(n.cmd_str(&["WAIT", "1", "10000"]), ":1\r\n");
    assert_eq!(c.cmd_str(&["GET", "after"]), "$1\r\nx\r\n");
    assert!(c.cmd_str(&["SET", "k", "v"]).starts_with("-READONLY"));
    // A partial resync, not a copy: the new master kept the history.
    assert_eq!(Info::fetch(r).get("sync_partial_ok"), Some("1"));
}

/// Without an acknowledgement from the target, writes wait while the
/// failover waits (`waiting-for-sync`), REPLICAOF and another FAILOVER are
/// refused, and at the TIMEOUT the failover is abandoned: the server stays
/// the master and the held write runs.
#[test]
fn failover_timeout_without_sync_aborts_and_releases_writes() {
    let master = TestServer::gostore(&[]);
    let replica = TestServer::gostore(&[]);
    let (m, r) = (master.port, replica.port);
    replicaof(r, m);
    let mut c = master.raw_conn();
    // A stopped replica acknowledges nothing of what follows.
    signal(&replica, libc::SIGSTOP);
    assert_eq!(c.cmd_str(&["SET", "k", "v"]), "+OK\r\n");
    let reply = c.cmd_str(&[
        "FAILOVER",
        "TO",
        "127.0.0.1",
        &r.to_string(),
        "TIMEOUT",
        "1500",
    ]);
    assert_eq!(reply, "+OK\r\n");
    assert_eq!(
        Info::fetch(m).get("master_failover_state"),
        Some("waiting-for-sync")
    );
    assert_eq!(
        c.cmd_str(&["FAILOVER"]),
        "-ERR FAILOVER already in progress.\r\n"
    );
    assert_eq!(
        c.cmd_str(&["REPLICAOF", "NO", "ONE"]),
        "-ERR REPLICAOF not allowed while failing over.\r\n"
    );
    // A write is held, a read is not.
    let mut w = master.raw_conn();
    w.send(&common::resp::encode(&[b"SET", b"held", b"1"]));
    assert_eq!(c.cmd_str(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(w.read_reply(), b"+OK\r\n", "the held write after the abort");
    assert_eq!(
        Info::fetch(m).get("master_failover_state"),
        Some("no-failover")
    );
    assert_eq!(Info::fetch(m).get("role"), Some("master"));
    signal(&replica, libc::SIGCONT);
    // FAILOVER ABORT on a failover waiting for a stopped replica.
    signal(&replica, libc::SIGSTOP);
    assert_eq!(c.cmd_str(&["SET", "k", "w"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["FAILOVER"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["FAILOVER", "ABORT"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["SET", "k", "x"]), "+OK\r\n");
    signal(&replica, libc::SIGCONT);
}

/// FAILOVER between GoStore and redis-server, both ways: each side's
/// `PSYNC ... FAILOVER` is understood by the other.
#[test]
fn failover_interoperates_with_redis_both_ways() {
    for (mk, rk) in [(Kind::GoStore, Kind::Redis), (Kind::Redis, Kind::GoStore)] {
        let args = |k: Kind| match k {
            Kind::Redis => vec!["--repl-diskless-sync-delay", "0"],
            Kind::GoStore => vec![],
        };
        let master = TestServer::start(mk, &args(mk));
        let replica = TestServer::start(rk, &args(rk));
        let (m, r) = (master.port, replica.port);
        replicaof(r, m);
        let mut c = master.raw_conn();
        assert_eq!(c.cmd_str(&["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(c.cmd_str(&["FAILOVER"]), "+OK\r\n");
        wait_for(30, "the roles to swap", || {
            let (mi, ri) = (Info::fetch(m), Info::fetch(r));
            mi.get("role") == Some("slave")
                && mi.get("master_link_status") == Some("up")
                && mi.get("master_failover_state") == Some("no-failover")
                && ri.get("role") == Some("master")
        });
        let mut n = replica.raw_conn();
        assert_eq!(n.cmd_str(&["GET", "k"]), "$1\r\nv\r\n", "{mk:?} -> {rk:?}");
        assert_eq!(n.cmd_str(&["SET", "after", "x"]), "+OK\r\n");
        assert_eq!(
            n.cmd_str(&["WAIT", "1", "10000"]),
            ":1\r\n",
            "{mk:?} -> {rk:?}"
        );
    }
}

/// FORCE: at the TIMEOUT the master hands over although the target never
/// acknowledged everything (writes the target lacks are given up: the old
/// master resyncs from the new one), as in Redis.
#[test]
fn failover_force_hands_over_at_the_timeout() {
    let master = TestServer::gostore(&[]);
    let replica = TestServer::gostore(&[]);
    let (m, r) = (master.port, replica.port);
    replicaof(r, m);
    let mut c = master.raw_conn();
    assert_eq!(c.cmd_str(&["SET", "kept", "1"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["WAIT", "1", "10000"]), ":1\r\n");
    signal(&replica, libc::SIGSTOP);
    assert_eq!(c.cmd_str(&["SET", "unacked", "1"]), "+OK\r\n");
    let reply = c.cmd_str(&[
        "FAILOVER",
        "TO",
        "127.0.0.1",
        &r.to_string(),
        "TIMEOUT",
        "500",
        "FORCE",
    ]);
    assert_eq!(reply, "+OK\r\n");
    wait_for(30, "the hand-over to start at the timeout", || {
        Info::fetch(m).get("master_failover_state") == Some("failover-in-progress")
    });
    signal(&replica, libc::SIGCONT);
    wait_for(30, "the roles to swap", || {
        let (mi, ri) = (Info::fetch(m), Info::fetch(r));
        mi.get("role") == Some("slave")
            && mi.get("master_link_status") == Some("up")
            && mi.get("master_failover_state") == Some("no-failover")
            && ri.get("role") == Some("master")
    });
    let mut n = replica.raw_conn();
    assert_eq!(n.cmd_str(&["GET", "kept"]), "$1\r\n1\r\n");
    // Whether the unacknowledged write survived depends on what reached
    // the stopped replica's socket; either way both now hold the same.
    let on_new = n.cmd_str(&["GET", "unacked"]);
    wait_for(30, "the old master to hold the new master's data", || {
        c.cmd_str(&["GET", "unacked"]) == on_new
    });
}
