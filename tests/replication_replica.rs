//! Replication, replica side: GoStore follows a real redis-server 7.0
//! master (full sync of every kind of value, the live stream across
//! databases and MULTI, -READONLY, a partial resync after the link drops,
//! promotion with REPLICAOF NO ONE), and a GoStore master.

mod common;

use common::dataset::{assert_same, dump, fill_every_type, without_encodings};
use common::resp::RawConn;
use common::{wait_for, Info, TestServer};

fn redis_master() -> TestServer {
    TestServer::redis(&["--repl-diskless-sync-delay", "0"])
}

fn replicaof(replica: u16, master: u16) {
    let mut c = RawConn::connect(replica);
    let r = c.cmd_str(&["REPLICAOF", "127.0.0.1", &master.to_string()]);
    assert_eq!(r, "+OK\r\n", "REPLICAOF");
    wait_for(30, "the replica's link to come up", || {
        Info::fetch(replica).get("master_link_status") == Some("up")
    });
}

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
        vec!["HSET", "live:h", "f", round],
        vec!["SET", "live:ttl", "v", "EX", "1000"],
        vec!["SET", "live:gone", "v"],
        vec!["PEXPIRE", "live:gone", "1"],
        vec!["SELECT", "7"],
        vec!["SADD", "live:set", round],
        vec!["MULTI"],
        vec!["INCR", "live:n"],
        vec!["RPUSH", "live:l", round],
        vec!["EXEC"],
        vec!["SELECT", "0"],
        vec!["DEL", "s:embstr"],
    ] {
        let r = c.cmd_str(&args);
        assert!(!r.starts_with('-'), "{args:?}: {r}");
    }
    // The master expires live:gone and sends its DEL.
    wait_for(10, "the master to expire live:gone", || {
        c.cmd_str(&["EXISTS", "live:gone"]) == ":0\r\n"
    });
}

fn same_data(master: u16, replica: u16, what: &str) {
    assert_same(
        &without_encodings(&dump(replica, 16)),
        &without_encodings(&dump(master, 16)),
        what,
    );
}

#[test]
fn gostore_follows_a_redis_master_sync_stream_readonly_continue_promote() {
    let m = redis_master();
    fill_every_type(m.port);
    let g = TestServer::gostore(&[]);
    replicaof(g.port, m.port);
    wait_caught_up(m.port, g.port);
    same_data(m.port, g.port, "after the full sync");

    let mut c = RawConn::connect(g.port);
    assert_eq!(
        c.cmd_str(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]),
        "+OK Already connected to specified master\r\n"
    );
    let info = Info::fetch(g.port);
    assert_eq!(info.get("role"), Some("slave"));
    assert_eq!(info.get("master_port"), Some(m.port.to_string().as_str()));
    assert_eq!(info.get("slave_read_only"), Some("1"));
    assert_eq!(info.get("slave_priority"), Some("100"));
    assert_eq!(info.get("master_sync_in_progress"), Some("0"));

    // Writes from normal clients are refused; reads are served.
    assert_eq!(
        c.cmd_str(&["SET", "x", "1"]),
        "-READONLY You can't write against a read only replica.\r\n"
    );

    live_writes(m.port, "one");
    wait_caught_up(m.port, g.port);
    same_data(m.port, g.port, "after the live stream");
    let role = c.cmd_str(&["ROLE"]);
    assert!(
        role.contains("slave") && role.contains("connected"),
        "{role}"
    );

    // The link drops; the replica continues from the backlog.
    let mut mc = RawConn::connect(m.port);
    let before: u64 = Info::fetch(m.port)
        .get("sync_partial_ok")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let killed = mc.cmd_str(&["CLIENT", "KILL", "TYPE", "replica"]);
    assert_eq!(killed, ":1\r\n");
    live_writes(m.port, "two");
    wait_for(30, "a partial resync", || {
        Info::fetch(m.port)
            .get("sync_partial_ok")
            .and_then(|v| v.parse::<u64>().ok())
            == Some(before + 1)
    });
    wait_caught_up(m.port, g.port);
    same_data(m.port, g.port, "after the partial resync");
    assert_eq!(Info::fetch(m.port).get("sync_full"), Some("1"));

    // Promotion: writes are accepted, the old history is replid2.
    let old_id = Info::fetch(g.port).get("master_replid").map(String::from);
    assert_eq!(c.cmd_str(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    let info = Info::fetch(g.port);
    assert_eq!(info.get("role"), Some("master"));
    assert_eq!(info.get("master_replid2").map(String::from), old_id);
    assert_eq!(c.cmd_str(&["SET", "x", "1"]), "+OK\r\n");
}

#[test]
fn gostore_replica_of_a_gostore_master() {
    let m = TestServer::gostore(&[]);
    fill_every_type(m.port);
    let g = TestServer::gostore(&[]);
    replicaof(g.port, m.port);
    wait_caught_up(m.port, g.port);
    same_data(m.port, g.port, "after the full sync");
    live_writes(m.port, "one");
    wait_caught_up(m.port, g.port);
    same_data(m.port, g.port, "after the live stream");
}

/// The fields of a CLIENT LIST line that do not vary between runs.
fn master_line_shape(line: &str, master_port: u16) -> Vec<String> {
    line.split_whitespace()
        .filter_map(|f| f.split_once('='))
        .filter(|(k, _)| ["addr", "name", "flags", "db", "cmd", "user", "multi"].contains(k))
        .map(|(k, v)| {
            let v = v.replace(&master_port.to_string(), "<master-port>");
            format!("{k}={v}")
        })
        .collect()
}

/// What a replica of a `kind` master shows of its link to it.
fn master_client(kind: common::Kind) -> Vec<String> {
    let master = TestServer::start(kind, &[]);
    let replica = TestServer::start(kind, &[]);
    replicaof(replica.port, master.port);
    assert_eq!(
        RawConn::connect(master.port).cmd_str(&["SET", "k", "v"]),
        "+OK\r\n"
    );
    wait_caught_up(master.port, replica.port);
    let mut c = RawConn::connect(replica.port);
    let mut t = Vec::new();
    let list = c.cmd_str(&["CLIENT", "LIST", "TYPE", "master"]);
    let line = list
        .lines()
        .find(|l| l.starts_with("id="))
        .unwrap_or_else(|| panic!("{kind:?}: no master client in {list:?}"))
        .to_string();
    t.extend(master_line_shape(&line, master.port));
    let id = line
        .strip_prefix("id=")
        .and_then(|r| r.split_whitespace().next())
        .expect("id")
        .to_string();
    let all = c.cmd_str(&["CLIENT", "LIST"]);
    t.push(format!("listed: {}", all.matches("id=").count()));
    t.push(format!(
        "normal: {}",
        c.cmd_str(&["CLIENT", "LIST", "TYPE", "normal"])
            .matches("id=")
            .count()
    ));
    let by_id = c.cmd_str(&["CLIENT", "LIST", "ID", &id]);
    t.push(format!("by id: {}", by_id.contains("flags=M")));
    t.push(format!(
        "connected_clients:{}",
        Info::fetch(replica.port)
            .get("connected_clients")
            .unwrap_or("?")
    ));
    // CLIENT KILL ID closes the link; a partial resync brings the same
    // master client back.
    t.push(c.cmd_str(&["CLIENT", "KILL", "ID", &id]));
    wait_for(30, "the link to go down and up again", || {
        Info::fetch(replica.port).get("master_link_status") == Some("up")
            && c.cmd_str(&["CLIENT", "LIST", "TYPE", "master"])
                .contains("flags=M")
    });
    let again = c.cmd_str(&["CLIENT", "LIST", "TYPE", "master"]);
    t.push(format!(
        "same id after the resync: {}",
        again.starts_with(&format!("id={id} ")) || again.contains(&format!("\nid={id} "))
    ));
    t
}

#[test]
fn the_link_to_the_master_is_listed_by_client_list_as_redis() {
    let redis = master_client(common::Kind::Redis);
    assert!(redis.contains(&"flags=M".to_string()), "{redis:?}");
    assert_eq!(master_client(common::Kind::GoStore), redis);
}

/// Replicas of a replica: a GoStore replica passes its master's stream on
/// to its own replicas, a redis-server and a GoStore one, which end equal
/// to the top master; when its own link drops and continues (+CONTINUE),
/// theirs go on without a new full sync.
#[test]
fn a_gostore_replica_feeds_its_own_replicas() {
    let top = TestServer::gostore(&[]);
    fill_every_type(top.port);
    let mid = TestServer::gostore(&[]);
    replicaof(mid.port, top.port);
    wait_caught_up(top.port, mid.port);
    let ours = TestServer::gostore(&[]);
    replicaof(ours.port, mid.port);
    let mid_port = mid.port.to_string();
    let theirs = TestServer::redis(&["--replicaof", "127.0.0.1", &mid_port]);
    wait_for(30, "redis-server's link to the middle replica", || {
        Info::fetch(theirs.port).get("master_link_status") == Some("up")
    });
    live_writes(top.port, "chained");
    wait_caught_up(top.port, mid.port);
    wait_caught_up(mid.port, ours.port);
    wait_caught_up(mid.port, theirs.port);
    same_data(top.port, ours.port, "a GoStore replica of a replica");
    same_data(top.port, theirs.port, "a redis-server replica of a replica");
    // The middle link drops and continues from the top's backlog.
    let killed = RawConn::connect(top.port).cmd_str(&["CLIENT", "KILL", "TYPE", "replica"]);
    assert_eq!(killed, ":1\r\n");
    wait_for(30, "the middle replica's partial resync", || {
        Info::fetch(top.port).get("sync_partial_ok") == Some("1")
    });
    live_writes(top.port, "after");
    wait_caught_up(top.port, mid.port);
    wait_caught_up(mid.port, ours.port);
    wait_caught_up(mid.port, theirs.port);
    same_data(top.port, ours.port, "after the middle link continued");
    same_data(top.port, theirs.port, "after the middle link continued");
    assert_eq!(
        Info::fetch(mid.port).get("sync_full"),
        Some("2"),
        "the chained replicas synced again"
    );
}
