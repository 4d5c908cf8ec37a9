//! Replication with real Redis 7.0: a redis-server replica follows a
//! GoStore master (full sync of every kind of value, the live stream,
//! partial resync from the backlog after the link drops), WAIT counts the
//! replica's acknowledgements, and INFO replication / ROLE describe it.

mod common;

use common::dataset::{assert_same, dump, fill_every_type, without_encodings};
use common::resp::RawConn;
use common::{wait_for, Info, TestServer};

/// A redis-server replica of `master`, waited for until its link is up.
fn redis_replica_of(master: u16) -> TestServer {
    let port = master.to_string();
    let r = TestServer::redis(&["--replicaof", "127.0.0.1", &port]);
    wait_for(30, "the replica's link to come up", || {
        Info::fetch(r.port).get("master_link_status") == Some("up")
    });
    r
}

/// Waits until the replica has processed everything the master sent.
fn wait_caught_up(master: u16, replica: u16) {
    wait_for(30, "the replica to reach the master's offset", || {
        let m = Info::fetch(master);
        let r = Info::fetch(replica);
        m.get("master_repl_offset").is_some()
            && m.get("master_repl_offset") == r.get("slave_repl_offset")
    });
}

fn live_writes(port: u16, round: &str) {
    let mut c = RawConn::connect(port);
    for args in [
        vec!["SET", "live:s", round],
        vec!["INCRBYFLOAT", "live:f", "1.5"],
        vec!["HSET", "live:h", "f", round],
        vec!["SET", "live:ttl", "v", "EX", "1000"],
        vec!["RPUSH", "live:l", round],
        vec!["SELECT", "7"],
        vec!["SADD", "live:set", round],
        vec!["ZADD", "live:z", "3", round],
        vec!["MULTI"],
        vec!["INCR", "live:n"],
        vec!["DEL", "live:set"],
        vec!["EXEC"],
        vec!["SELECT", "0"],
        vec!["DEL", "s:embstr"],
    ] {
        let r = c.cmd_str(&args);
        assert!(!r.starts_with('-'), "{args:?}: {r}");
    }
}

#[test]
fn redis_replica_follows_a_gostore_master_full_sync_then_stream() {
    let g = TestServer::gostore(&[]);
    fill_every_type(g.port);
    let r = redis_replica_of(g.port);
    wait_caught_up(g.port, r.port);
    assert_same(
        &without_encodings(&dump(r.port, 16)),
        &without_encodings(&dump(g.port, 16)),
        "the replica after the full sync",
    );
    live_writes(g.port, "one");
    wait_caught_up(g.port, r.port);
    assert_same(
        &without_encodings(&dump(r.port, 16)),
        &without_encodings(&dump(g.port, 16)),
        "the replica after the live writes",
    );
    let m = Info::fetch(g.port);
    assert_eq!(m.get("role"), Some("master"));
    assert_eq!(m.get("connected_slaves"), Some("1"));
    assert_eq!(m.get("repl_backlog_active"), Some("1"));
    assert_eq!(m.get("sync_full"), Some("1"));
    let slave0 = m.get("slave0").expect("slave0 line");
    assert!(
        slave0.starts_with(&format!(
            "ip=127.0.0.1,port={},state=online,offset=",
            r.port
        )),
        "{slave0}"
    );
    // The replica knows the master by the id and offset GoStore reports.
    let ri = Info::fetch(r.port);
    assert_eq!(ri.get("master_replid"), m.get("master_replid"));
}

#[test]
fn a_replica_that_loses_its_link_continues_from_the_backlog() {
    let g = TestServer::gostore(&[]);
    fill_every_type(g.port);
    let r = redis_replica_of(g.port);
    wait_caught_up(g.port, r.port);
    // The replica drops its link; it reconnects with PSYNC <replid> <offset>.
    let killed = RawConn::connect(r.port).cmd_str(&["CLIENT", "KILL", "TYPE", "master"]);
    assert_eq!(killed, ":1\r\n");
    live_writes(g.port, "two");
    wait_for(30, "a partial resync", || {
        Info::fetch(g.port).get("sync_partial_ok") == Some("1")
    });
    wait_caught_up(g.port, r.port);
    let m = Info::fetch(g.port);
    assert_eq!(m.get("sync_full"), Some("1"), "no second full sync");
    assert_same(
        &without_encodings(&dump(r.port, 16)),
        &without_encodings(&dump(g.port, 16)),
        "the replica after the partial resync",
    );
}

#[test]
fn wait_counts_the_replicas_that_acknowledged_the_writes() {
    let g = TestServer::gostore(&[]);
    let mut c = g.raw_conn();
    // No replica: nothing to wait for with 0, and a timeout with 1.
    assert_eq!(c.cmd_str(&["WAIT", "0", "0"]), ":0\r\n");
    assert_eq!(c.cmd_str(&["WAIT", "1", "10"]), ":0\r\n");
    let r = redis_replica_of(g.port);
    assert_eq!(c.cmd_str(&["SET", "k", "v"]), "+OK\r\n");
    // Waits (no timeout) until the replica acknowledges, after GETACK.
    assert_eq!(c.cmd_str(&["WAIT", "1", "0"]), ":1\r\n");
    // Two replicas never come: the timeout ends the wait with the count.
    assert_eq!(c.cmd_str(&["WAIT", "2", "50"]), ":1\r\n");
    assert_eq!(
        c.cmd_str(&["WAIT", "1", "-1"]),
        "-ERR timeout is negative\r\n"
    );
    assert_eq!(
        c.cmd_str(&["WAIT", "x", "0"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    // ROLE: master, its offset, and the replica with its acknowledged offset.
    let role = c.cmd_str(&["ROLE"]);
    assert!(role.starts_with("*3\r\n$6\r\nmaster\r\n:"), "{role}");
    let port = r.port.to_string();
    assert!(
        role.contains(&format!("$9\r\n127.0.0.1\r\n${}\r\n{port}\r\n", port.len())),
        "{role}"
    );
}

#[test]
fn replconf_answers_as_redis() {
    let g = TestServer::gostore(&[]);
    let r = TestServer::redis(&[]);
    for port in [g.port, r.port] {
        let mut c = RawConn::connect(port);
        assert_eq!(
            c.cmd_str(&["REPLCONF", "listening-port", "6380"]),
            "+OK\r\n"
        );
        assert_eq!(
            c.cmd_str(&["REPLCONF", "capa", "eof", "capa", "psync2"]),
            "+OK\r\n"
        );
        assert_eq!(
            c.cmd_str(&["REPLCONF", "bogus", "1"]),
            "-ERR Unrecognized REPLCONF option: bogus\r\n"
        );
        assert_eq!(
            c.cmd_str(&["REPLCONF", "listening-port"]),
            "-ERR syntax error\r\n"
        );
        // ACK from a client that is not a replica: no reply at all.
        c.send(&common::resp::encode(&[b"REPLCONF", b"ACK", b"5"]));
        assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n");
    }
}
