//! What a replica's own clients read, as Redis 7.0, side by side with a
//! redis-server replica of the same master:
//! - expiry: a key whose TTL passed reads as missing but stays until the
//!   master's DEL (DBSIZE still counts it), and a promoted replica expires
//!   keys itself again;
//! - `replica-serve-stale-data no`: with the link down, only the `stale`
//!   commands run, others get `-MASTERDOWN`.

mod common;

use common::resp::RawConn;
use common::{wait_for, Info, TestServer};

fn cmd(port: u16, args: &[&str]) -> String {
    RawConn::connect(port).cmd_str(args)
}

fn wait_caught_up(master: u16, replica: u16) {
    wait_for(30, "the replica to reach the master's offset", || {
        let m = Info::fetch(master);
        let r = Info::fetch(replica);
        r.get("master_link_status") == Some("up")
            && m.get("master_repl_offset").is_some()
            && m.get("master_repl_offset") == r.get("slave_repl_offset")
    });
}

#[test]
fn a_replica_keeps_expired_keys_for_the_master_s_del_but_reads_them_as_missing() {
    for master_kind in ["redis", "gostore"] {
        let m = match master_kind {
            "redis" => TestServer::redis(&["--enable-debug-command", "yes"]),
            _ => TestServer::gostore(&["--enable-debug-command", "yes"]),
        };
        // The master expires nothing by itself: only a lookup deletes.
        assert_eq!(cmd(m.port, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
        let port = m.port.to_string();
        let ours = TestServer::gostore(&["--replicaof", "127.0.0.1", &port]);
        let theirs = TestServer::redis(&["--replicaof", "127.0.0.1", &port]);
        assert_eq!(cmd(m.port, &["SET", "short", "v", "PX", "300"]), "+OK\r\n");
        assert_eq!(cmd(m.port, &["SET", "kept", "v"]), "+OK\r\n");
        wait_caught_up(m.port, ours.port);
        wait_caught_up(m.port, theirs.port);
        // The TTL passes (the replicas' clocks are the master's).
        wait_for(30, "the key to read as expired on redis's replica", || {
            cmd(theirs.port, &["GET", "short"]) == "$-1\r\n"
        });
        for (who, r) in [("gostore", &ours), ("redis", &theirs)] {
            let what = format!("{who} replica of a {master_kind} master");
            assert_eq!(cmd(r.port, &["GET", "short"]), "$-1\r\n", "{what}: GET");
            assert_eq!(
                cmd(r.port, &["EXISTS", "short"]),
                ":0\r\n",
                "{what}: EXISTS"
            );
            assert_eq!(cmd(r.port, &["TTL", "short"]), ":-2\r\n", "{what}: TTL");
            assert_eq!(cmd(r.port, &["TYPE", "short"]), "+none\r\n", "{what}: TYPE");
            // Still there, waiting for the master's DEL.
            assert_eq!(cmd(r.port, &["DBSIZE"]), ":2\r\n", "{what}: DBSIZE");
            assert_eq!(cmd(r.port, &["GET", "kept"]), "$1\r\nv\r\n", "{what}");
        }
        // A lookup on the master expires it; the DEL reaches both.
        assert_eq!(cmd(m.port, &["GET", "short"]), "$-1\r\n");
        wait_caught_up(m.port, ours.port);
        wait_caught_up(m.port, theirs.port);
        for r in [&ours, &theirs] {
            assert_eq!(cmd(r.port, &["DBSIZE"]), ":1\r\n", "{master_kind}");
        }
        // Promoted, GoStore expires keys itself again.
        assert_eq!(cmd(m.port, &["SET", "later", "v", "PX", "300"]), "+OK\r\n");
        wait_caught_up(m.port, ours.port);
        assert_eq!(cmd(ours.port, &["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
        wait_for(30, "the promoted server to expire the key", || {
            cmd(ours.port, &["GET", "later"]) == "$-1\r\n"
                && cmd(ours.port, &["DBSIZE"]) == ":1\r\n"
        });
    }
}

#[test]
fn with_the_link_down_and_serve_stale_data_no_only_stale_commands_run() {
    let m = TestServer::gostore(&[]);
    assert_eq!(cmd(m.port, &["SET", "k", "v"]), "+OK\r\n");
    let port = m.port.to_string();
    let args = [
        "--replicaof",
        "127.0.0.1",
        &port,
        "--replica-serve-stale-data",
        "no",
    ];
    let ours = TestServer::gostore(&args);
    let theirs = TestServer::redis(&args);
    wait_caught_up(m.port, ours.port);
    wait_caught_up(m.port, theirs.port);
    // With the link up, the data is served.
    for r in [&ours, &theirs] {
        assert_eq!(cmd(r.port, &["GET", "k"]), "$1\r\nv\r\n");
    }
    drop(m);
    for r in [&ours, &theirs] {
        wait_for(30, "the replica to see its link down", || {
            Info::fetch(r.port).get("master_link_status") == Some("down")
        });
    }
    let script: &[&[&str]] = &[
        &["GET", "k"],
        &["PING"],
        &["DBSIZE"],
        &["ECHO", "x"],
        &["MULTI"],
        &["PING"],
        &["EXEC"],
        &["MULTI"],
        &["GET", "k"],
        &["EXEC"],
        &["CONFIG", "GET", "replica-serve-stale-data"],
        &["CONFIG", "SET", "replica-serve-stale-data", "yes"],
        &["GET", "k"],
        &["CONFIG", "SET", "slave-serve-stale-data", "no"],
        &["EXISTS", "k"],
    ];
    let mut replies = Vec::new();
    for r in [&ours, &theirs] {
        let mut c = RawConn::connect(r.port);
        let got: Vec<String> = script.iter().map(|a| c.cmd_str(a)).collect();
        replies.push(got);
    }
    for (i, a) in script.iter().enumerate() {
        assert_eq!(
            replies[0][i], replies[1][i],
            "{a:?}: GoStore vs redis-server"
        );
    }
    assert!(
        replies[0][0].starts_with("-MASTERDOWN"),
        "{}",
        replies[0][0]
    );
}

/// A server that becomes a replica answers its clients waiting in blocking
/// commands `-UNBLOCKED ...` and closes them (their keys now change only by
/// the master's stream), as redis-server does; a client held by CLIENT
/// PAUSE is not among them.
#[test]
fn becoming_a_replica_unblocks_blocked_clients_with_an_error() {
    use std::io::{Read, Write};
    let target = TestServer::redis(&[]);
    let mut replies = Vec::new();
    for server in [TestServer::gostore(&[]), TestServer::redis(&[])] {
        let mut waiters = Vec::new();
        for cmdline in [
            &b"*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$1\r\n0\r\n"[..],
            b"*3\r\n$8\r\nBZPOPMIN\r\n$1\r\nz\r\n$1\r\n0\r\n",
            b"*6\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$1\r\n0\r\n$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\n$\r\n",
        ] {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
            s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
                .expect("timeout");
            s.write_all(cmdline).expect("send");
            waiters.push(s);
        }
        wait_for(30, "three blocked clients", || {
            Info::fetch(server.port).get("blocked_clients") == Some("3")
        });
        let t = target.port.to_string();
        assert_eq!(cmd(server.port, &["REPLICAOF", "127.0.0.1", &t]), "+OK\r\n");
        let mut got = Vec::new();
        for mut s in waiters {
            // The error, then the connection closes.
            let mut all = Vec::new();
            s.read_to_end(&mut all)
                .expect("the server closes the client");
            got.push(String::from_utf8_lossy(&all).into_owned());
        }
        replies.push(got);
    }
    assert_eq!(replies[0], replies[1], "GoStore vs redis-server");
    assert!(
        replies[0][0].starts_with("-UNBLOCKED force unblock"),
        "{:?}",
        replies[0]
    );
}
