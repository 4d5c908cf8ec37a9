//! Full resyncs run in a forked child that writes the snapshot to the
//! replicas' sockets, as Redis's diskless sync: the master keeps serving
//! while it runs, the writes made meanwhile reach the replica after the
//! snapshot, replicas arriving within `repl-diskless-sync-delay` (or up to
//! `repl-diskless-sync-max-replicas`) share one child, and the old SYNC
//! without `capa eof` still gets a `$<len>` payload.

mod common;

use common::dataset::{assert_same, dump, without_encodings};
use common::resp::RawConn;
use common::{wait_for, Info, TestServer};

fn fill(port: u16, from: usize, to: usize) {
    let mut c = RawConn::connect(port);
    for i in from..to {
        let k = format!("k:{i}");
        let v = format!("v{i}");
        let r = c.cmd_str(&["SET", &k, &v]);
        assert_eq!(r, "+OK\r\n", "SET {k}");
    }
}

/// The `state=` of the master's `slave0` line, if any.
fn slave0_state(master: u16) -> Option<String> {
    let info = Info::fetch(master);
    let line = info.get("slave0")?.to_string();
    line.split(',')
        .find_map(|f| f.strip_prefix("state="))
        .map(str::to_string)
}

/// Waits until the replica's link is up at the master's offset; on a
/// timeout the panic shows both sides' replication state.
fn wait_caught_up(master: u16, replica: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let m = Info::fetch(master);
        let r = Info::fetch(replica);
        if r.get("master_link_status") == Some("up")
            && m.get("master_repl_offset").is_some()
            && m.get("master_repl_offset") == r.get("slave_repl_offset")
        {
            return;
        }
        if std::time::Instant::now() > deadline {
            let show = |i: &Info| {
                [
                    "role",
                    "connected_slaves",
                    "slave0",
                    "slave1",
                    "master_repl_offset",
                    "sync_full",
                    "sync_partial_ok",
                    "master_host",
                    "master_port",
                    "master_link_status",
                    "master_sync_in_progress",
                    "slave_repl_offset",
                    "rdb_bgsave_in_progress",
                ]
                .iter()
                .map(|f| format!("{f}={:?}", i.get(f)))
                .collect::<Vec<_>>()
                .join(" ")
            };
            panic!(
                "replica {replica} never reached master {master}'s offset:\n  master: {}\n  replica: {}",
                show(&m),
                show(&r)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// While the child sends a slow snapshot (rdb-key-save-delay), the master
/// answers writes; they reach the replica after it, for a redis-server
/// replica and a GoStore one.
#[test]
fn the_master_serves_writes_while_a_child_sends_the_snapshot() {
    for replica_kind in ["redis", "gostore"] {
        // 400 keys at 5 ms each: the child needs about 2 s.
        let g = TestServer::gostore(&["--rdb-key-save-delay", "5000"]);
        fill(g.port, 0, 400);
        let port = g.port.to_string();
        let r = match replica_kind {
            "redis" => TestServer::redis(&["--replicaof", "127.0.0.1", &port]),
            _ => TestServer::gostore(&["--replicaof", "127.0.0.1", &port]),
        };
        wait_for(30, "the snapshot child to start", || {
            slave0_state(g.port).as_deref() == Some("wait_bgsave")
        });
        // The loop is free: these are answered while the child still runs.
        fill(g.port, 400, 450);
        let mut c = RawConn::connect(g.port);
        assert_eq!(c.cmd_str(&["DEL", "k:0"]), ":1\r\n");
        assert_eq!(
            slave0_state(g.port).as_deref(),
            Some("wait_bgsave"),
            "{replica_kind}: the sync ended before the writes were answered; the test proves nothing"
        );
        wait_caught_up(g.port, r.port);
        assert_eq!(slave0_state(g.port).as_deref(), Some("online"));
        assert_same(
            &without_encodings(&dump(r.port, 1)),
            &without_encodings(&dump(g.port, 1)),
            &format!("a {replica_kind} replica after a sync with writes during it"),
        );
        let info = Info::fetch(g.port);
        assert_eq!(info.get("sync_full"), Some("1"), "{replica_kind}");
    }
}

/// `repl-diskless-sync-max-replicas 2` with a long delay: the first
/// replica waits for the second, and both get one snapshot.
#[test]
fn replicas_arriving_together_share_one_snapshot() {
    let g = TestServer::gostore(&[
        "--repl-diskless-sync-delay",
        "3600",
        "--repl-diskless-sync-max-replicas",
        "2",
    ]);
    fill(g.port, 0, 100);
    let port = g.port.to_string();
    let r1 = TestServer::gostore(&["--replicaof", "127.0.0.1", &port]);
    wait_for(30, "the first replica to ask for a sync", || {
        slave0_state(g.port).as_deref() == Some("wait_bgsave")
    });
    // No child for one replica: the delay holds it back.
    fill(g.port, 100, 110);
    assert_eq!(
        Info::fetch(r1.port).get("master_link_status"),
        Some("down"),
        "the first replica synced alone"
    );
    let r2 = TestServer::redis(&["--replicaof", "127.0.0.1", &port]);
    wait_caught_up(g.port, r1.port);
    wait_caught_up(g.port, r2.port);
    for r in [&r1, &r2] {
        assert_same(
            &without_encodings(&dump(r.port, 1)),
            &without_encodings(&dump(g.port, 1)),
            "a replica of the shared snapshot",
        );
    }
    let info = Info::fetch(g.port);
    assert_eq!(info.get("sync_full"), Some("2"));
    assert_eq!(info.get("connected_slaves"), Some("2"));
}

/// SYNC from a client that never said `capa eof`: a `$<len>` payload that
/// is a whole RDB file, then the stream.
#[test]
fn sync_without_capa_eof_gets_a_sized_payload() {
    use std::io::{BufRead, BufReader, Read, Write};
    let g = TestServer::gostore(&[]);
    fill(g.port, 0, 10);
    let s = std::net::TcpStream::connect(("127.0.0.1", g.port)).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    (&s).write_all(b"SYNC\r\n").expect("send");
    let mut r = BufReader::new(&s);
    let mut line = String::new();
    r.read_line(&mut line).expect("read");
    let len: usize = line
        .trim_end()
        .strip_prefix('$')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("SYNC answered {line:?}"));
    let mut rdb = vec![0u8; len];
    r.read_exact(&mut rdb).expect("the RDB payload");
    assert!(rdb.starts_with(b"REDIS0010"), "not an RDB file");
    // The stream follows: a write on the master arrives as a command.
    let mut w = RawConn::connect(g.port);
    assert_eq!(w.cmd_str(&["SET", "after", "sync"]), "+OK\r\n");
    let mut stream = String::new();
    while !stream.contains("after") {
        let mut l = String::new();
        assert!(r.read_line(&mut l).expect("the stream") > 0, "closed");
        stream.push_str(&l);
    }
}

/// A replica that stops acknowledging is closed after `repl-timeout`
/// seconds, by GoStore as by redis-server.
#[test]
fn a_replica_silent_past_repl_timeout_is_closed() {
    use std::io::{Read, Write};
    for server in [
        TestServer::gostore(&["--repl-timeout", "1"]),
        TestServer::redis(&["--repl-timeout", "1"]),
    ] {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        s.write_all(b"REPLCONF capa eof capa psync2\r\n")
            .expect("send");
        let mut ok = [0u8; 5];
        s.read_exact(&mut ok).expect("REPLCONF's reply");
        assert_eq!(&ok, b"+OK\r\n");
        s.write_all(b"PSYNC ? -1\r\n").expect("send");
        // Everything it sends (the snapshot, PINGs) is read, nothing is
        // acknowledged: the read ends when the server closes the link.
        let mut got = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => panic!(
                    "port {}: the silent replica was not closed ({e}); got {:?}",
                    server.port,
                    String::from_utf8_lossy(&got[..got.len().min(200)])
                ),
            }
        }
        assert!(
            got.starts_with(b"+FULLRESYNC"),
            "{:?}",
            String::from_utf8_lossy(&got[..got.len().min(80)])
        );
    }
}

fn master_of_kind(kind: &str, extra: &[&str]) -> TestServer {
    match kind {
        "redis" => TestServer::redis(extra),
        _ => TestServer::gostore(extra),
    }
}

/// The master's stream selects a database only when it changes: after a
/// partial resync a GoStore replica goes on in the database the stream had
/// selected before the link dropped.
#[test]
fn a_partial_resync_continues_in_the_database_the_stream_had_selected() {
    for kind in ["redis", "gostore"] {
        let m = master_of_kind(kind, &[]);
        let port = m.port.to_string();
        let r = TestServer::gostore(&["--replicaof", "127.0.0.1", &port]);
        let mut c = RawConn::connect(m.port);
        assert_eq!(c.cmd_str(&["SELECT", "5"]), "+OK\r\n");
        assert_eq!(c.cmd_str(&["SET", "before", "1"]), "+OK\r\n");
        wait_caught_up(m.port, r.port);
        let killed = RawConn::connect(m.port).cmd_str(&["CLIENT", "KILL", "TYPE", "replica"]);
        assert_eq!(killed, ":1\r\n", "{kind}");
        wait_for(30, "a partial resync", || {
            Info::fetch(m.port).get("sync_partial_ok") == Some("1")
        });
        // Still database 5 on the master's side: no SELECT in the stream.
        assert_eq!(c.cmd_str(&["SET", "after", "2"]), "+OK\r\n");
        wait_caught_up(m.port, r.port);
        let mut rc = RawConn::connect(r.port);
        assert_eq!(rc.cmd_str(&["SELECT", "5"]), "+OK\r\n");
        assert_eq!(
            rc.cmd_str(&["GET", "after"]),
            "$1\r\n2\r\n",
            "{kind} master"
        );
        assert_eq!(rc.cmd_str(&["SELECT", "0"]), "+OK\r\n");
        assert_eq!(
            rc.cmd_str(&["DBSIZE"]),
            ":0\r\n",
            "{kind} master: written to db 0"
        );
    }
}

/// A replica saved to its RDB and restarted from it asks for a partial
/// resync with the replication id and offset the file recorded: GoStore as
/// the replica of redis-server and of GoStore, and redis-server as the
/// replica of GoStore.
#[test]
fn a_replica_restarted_from_its_rdb_continues_with_a_partial_resync() {
    for (master_kind, replica_kind) in [
        ("redis", "gostore"),
        ("gostore", "gostore"),
        ("gostore", "redis"),
    ] {
        let what = format!("a {replica_kind} replica of a {master_kind} master");
        let m = master_of_kind(master_kind, &[]);
        let port = m.port.to_string();
        let args = ["--replicaof", "127.0.0.1", &port, "--appendonly", "no"];
        let mut r = master_of_kind(replica_kind, &args);
        let mut c = RawConn::connect(m.port);
        assert_eq!(c.cmd_str(&["SELECT", "3"]), "+OK\r\n");
        fill(m.port, 0, 50);
        assert_eq!(c.cmd_str(&["SET", "in3", "x"]), "+OK\r\n");
        wait_caught_up(m.port, r.port);
        assert_eq!(
            RawConn::connect(r.port).cmd_str(&["SAVE"]),
            "+OK\r\n",
            "{what}"
        );
        r.kill9();
        // Written while it is down, in the database the stream selected.
        assert_eq!(c.cmd_str(&["SET", "while-down", "y"]), "+OK\r\n");
        r.restart();
        wait_caught_up(m.port, r.port);
        let info = Info::fetch(m.port);
        assert_eq!(
            info.get("sync_full"),
            Some("1"),
            "{what}: a second full sync"
        );
        assert_eq!(info.get("sync_partial_ok"), Some("1"), "{what}");
        assert_same(
            &without_encodings(&dump(r.port, 4)),
            &without_encodings(&dump(m.port, 4)),
            &what,
        );
    }
}

/// A replica away while more than the backlog was written must load a full
/// copy again: its PSYNC is refused (`sync_partial_err`) and answered with
/// a full resync, by GoStore as by redis-server, and it ends equal.
#[test]
fn a_backlog_overflow_forces_a_full_resync() {
    let big = "x".repeat(40_000);
    for kind in ["gostore", "redis"] {
        let m = master_of_kind(kind, &["--repl-backlog-size", "16kb"]);
        fill(m.port, 0, 20);
        let port = m.port.to_string();
        let r = TestServer::redis(&["--replicaof", "127.0.0.1", &port]);
        wait_caught_up(m.port, r.port);
        // The link drops and 40 KB follow it in the same transaction: the
        // replica's offset is out of the 16 KB backlog when it comes back.
        let mut c = RawConn::connect(m.port);
        assert_eq!(c.cmd_str(&["MULTI"]), "+OK\r\n");
        assert_eq!(
            c.cmd_str(&["CLIENT", "KILL", "TYPE", "replica"]),
            "+QUEUED\r\n"
        );
        assert_eq!(c.cmd_str(&["SET", "big", &big]), "+QUEUED\r\n");
        let exec = c.cmd_str(&["EXEC"]);
        assert!(exec.starts_with("*2\r\n:1\r\n+OK"), "{kind}: {exec:?}");
        wait_for(30, "a second full sync", || {
            Info::fetch(m.port).get("sync_full") == Some("2")
        });
        wait_caught_up(m.port, r.port);
        let info = Info::fetch(m.port);
        assert_eq!(info.get("sync_partial_err"), Some("1"), "{kind}");
        assert_eq!(info.get("sync_partial_ok"), Some("0"), "{kind}");
        assert_same(
            &without_encodings(&dump(r.port, 1)),
            &without_encodings(&dump(m.port, 1)),
            &format!("a replica of {kind} after the overflow"),
        );
    }
}

/// A replica still loading its snapshot sends newlines instead of ACKs:
/// they keep it from `repl-timeout`, by GoStore as by redis-server; once
/// they stop, it is closed.
#[test]
fn newlines_from_a_loading_replica_keep_it_from_repl_timeout() {
    use std::io::{Read, Write};
    for server in [
        TestServer::gostore(&["--repl-timeout", "1"]),
        TestServer::redis(&["--repl-timeout", "1"]),
    ] {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        s.write_all(b"REPLCONF capa eof capa psync2\r\n")
            .expect("send");
        let mut ok = [0u8; 5];
        s.read_exact(&mut ok).expect("REPLCONF's reply");
        s.write_all(b"PSYNC ? -1\r\n").expect("send");
        s.set_read_timeout(Some(std::time::Duration::from_millis(100)))
            .expect("timeout");
        let mut buf = [0u8; 65536];
        // Three seconds of newlines, three times the timeout: still open.
        for _ in 0..12 {
            s.write_all(b"\n").expect("the replica link stays open");
            // Pacing a simulated replica's keepalives, not waiting for a
            // condition.
            std::thread::sleep(std::time::Duration::from_millis(250));
            match s.read(&mut buf) {
                Ok(0) => panic!("port {}: closed while sending newlines", server.port),
                Ok(_) => {}
                Err(e) => assert!(
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ),
                    "port {}: {e}",
                    server.port
                ),
            }
        }
        // Silent: closed.
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => panic!("port {}: not closed once silent ({e})", server.port),
            }
        }
    }
}

/// After an `$EOF:<mark>` transfer nothing follows the mark until the
/// replica's first REPLCONF ACK (a replica finds the end by the mark being
/// the last bytes it read); then the writes made during the transfer
/// arrive. The same exchange with redis-server.
#[test]
fn after_a_diskless_transfer_the_stream_waits_for_the_first_ack() {
    use std::io::{Read, Write};
    for server in [
        TestServer::gostore(&["--rdb-key-save-delay", "20000"]),
        TestServer::redis(&["--rdb-key-save-delay", "20000"]),
    ] {
        fill(server.port, 0, 50);
        let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        s.write_all(b"REPLCONF capa eof capa psync2\r\n")
            .expect("send");
        let mut ok = [0u8; 5];
        s.read_exact(&mut ok).expect("REPLCONF's reply");
        s.write_all(b"PSYNC ? -1\r\n").expect("send");
        let mut got = Vec::new();
        let mut buf = [0u8; 65536];
        // +FULLRESYNC ... and $EOF:<mark>.
        let mark = loop {
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some(at) = text.find("$EOF:") {
                if text.len() >= at + 5 + 40 {
                    break got[at + 5..at + 45].to_vec();
                }
            }
            let n = s.read(&mut buf).expect("the snapshot's header");
            assert!(n > 0, "closed");
            got.extend_from_slice(&buf[..n]);
        };
        // A write while the snapshot is on its way (50 keys at 20 ms).
        let mut w = RawConn::connect(server.port);
        assert_eq!(w.cmd_str(&["SET", "during", "transfer"]), "+OK\r\n");
        // The snapshot, up to its closing mark.
        while !got.ends_with(&mark) || got.len() < 200 {
            let n = s.read(&mut buf).expect("the snapshot");
            assert!(n > 0, "closed during the snapshot");
            got.extend_from_slice(&buf[..n]);
        }
        // Nothing behind the mark before the ACK.
        s.set_read_timeout(Some(std::time::Duration::from_millis(500)))
            .expect("timeout");
        match s.read(&mut buf) {
            Ok(n) => panic!(
                "port {}: {n} bytes followed the mark before any ACK: {:?}",
                server.port,
                String::from_utf8_lossy(&buf[..n])
            ),
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "{e}"
            ),
        }
        // The first ACK starts the stream, the write made during the
        // transfer first.
        s.write_all(b"REPLCONF ACK 0\r\n").expect("ack");
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        let mut stream = Vec::new();
        while !String::from_utf8_lossy(&stream).contains("during") {
            let n = s.read(&mut buf).expect("the stream after the ACK");
            assert!(n > 0, "closed");
            stream.extend_from_slice(&buf[..n]);
        }
    }
}
