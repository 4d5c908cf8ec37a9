//! Expiry on a replica, as Redis 7.0: a key whose TTL passed reads as
//! missing to the replica's clients but stays until the master's DEL
//! (DBSIZE still counts it), the master's stream sees every key, and a
//! promoted replica expires keys itself again. Checked side by side with
//! a redis-server replica of the same master.

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
