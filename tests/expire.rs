//! Expiry over time and across restarts: the active cycle removes keys nobody
//! reads, lazy expiry hides expired keys from readers, every removal reaches
//! the AOF as a DEL, EXPIRE-family commands are written with absolute times,
//! and a restart keeps those times.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::resp::RawConn;
use common::{wait_for, TestServer};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The commands in the server's incr AOF file, as text.
fn aof_commands(srv: &TestServer) -> Vec<Vec<String>> {
    let path = srv
        .path
        .join("appendonlydir")
        .join("database.aof.1.incr.aof");
    let data = std::fs::read(path).unwrap_or_default();
    let mut out = Vec::new();
    let mut p = 0;
    let line = |p: &mut usize| -> String {
        let start = *p;
        while !data[*p..].starts_with(b"\r\n") {
            *p += 1;
        }
        *p += 2;
        String::from_utf8_lossy(&data[start..*p - 2]).into_owned()
    };
    while p < data.len() {
        let head = line(&mut p);
        let n: usize = head[1..].parse().expect("array header");
        let mut argv = Vec::with_capacity(n);
        for _ in 0..n {
            let len: usize = line(&mut p)[1..].parse().expect("bulk header");
            argv.push(String::from_utf8_lossy(&data[p..p + len]).into_owned());
            p += len + 2;
        }
        out.push(argv);
    }
    out
}

fn int(c: &mut RawConn, args: &[&str]) -> i64 {
    let r = c.cmd_str(args);
    r.strip_prefix(':')
        .and_then(|s| s.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("{args:?} replied {r:?}"))
}

fn info_field(c: &mut RawConn, field: &str) -> Option<u64> {
    let info = c.cmd_str(&["INFO", "stats"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn keys_with_a_ttl_disappear_without_being_read() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    let mut pipeline = Vec::new();
    for i in 0..300 {
        let k = format!("volatile:{i}");
        pipeline.extend(common::resp::encode(&[
            b"SET",
            k.as_bytes(),
            b"v",
            b"PX",
            b"100",
        ]));
    }
    for i in 0..10 {
        let k = format!("stays:{i}");
        pipeline.extend(common::resp::encode(&[b"SET", k.as_bytes(), b"v"]));
    }
    c.send(&pipeline);
    for _ in 0..310 {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
    // DBSIZE reads no key: only the active cycle can bring it down.
    wait_for(10, "the active cycle to remove 300 keys", || {
        int(&mut c, &["DBSIZE"]) == 10
    });
    assert_eq!(info_field(&mut c, "expired_keys"), Some(300));
    let dels = aof_commands(&srv)
        .into_iter()
        .filter(|a| a[0] == "DEL" && a[1].starts_with("volatile:"))
        .count();
    assert_eq!(dels, 300, "one DEL per expired key in the AOF");
}

#[test]
fn reading_an_expired_key_returns_nil_and_writes_a_del_to_the_aof() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["SET", "k", "v", "PX", "30"]), "+OK\r\n");
    c.cmd_str(&["HSET", "h", "f", "v"]);
    c.cmd_str(&["PEXPIRE", "h", "30"]);
    wait_for(10, "k to expire", || c.cmd_str(&["GET", "k"]) == "$-1\r\n");
    wait_for(10, "h to expire", || {
        c.cmd_str(&["HGET", "h", "f"]) == "$-1\r\n"
    });
    assert_eq!(c.cmd_str(&["EXISTS", "k", "h"]), ":0\r\n");
    assert_eq!(c.cmd_str(&["TTL", "k"]), ":-2\r\n");
    let aof = aof_commands(&srv);
    let pos = |cmd: &[&str]| aof.iter().position(|a| a == cmd);
    let set = aof
        .iter()
        .position(|a| a[0] == "SET" && a[1] == "k")
        .expect("SET in the AOF");
    let del = pos(&["DEL", "k"]).expect("DEL k in the AOF");
    assert!(set < del, "the DEL follows the SET: {aof:?}");
    assert!(pos(&["DEL", "h"]).is_some(), "DEL h in the AOF: {aof:?}");
    assert_eq!(aof.iter().filter(|a| a[0] == "DEL").count(), 2);
}

#[test]
fn expire_commands_are_written_with_absolute_times() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    for k in ["a", "b", "c", "d", "e", "f"] {
        c.cmd_str(&["SET", k, "v"]);
    }
    let before = now_ms();
    assert_eq!(int(&mut c, &["EXPIRE", "a", "100"]), 1);
    assert_eq!(int(&mut c, &["PEXPIRE", "b", "5000", "NX"]), 1);
    let after = now_ms();
    assert_eq!(int(&mut c, &["EXPIREAT", "c", "4102444800", "gt", "XX"]), 0);
    assert_eq!(int(&mut c, &["EXPIREAT", "c", "4102444800"]), 1);
    assert_eq!(int(&mut c, &["PEXPIREAT", "d", "4102444800123", "LT"]), 1);
    assert_eq!(int(&mut c, &["EXPIRE", "e", "-1"]), 1);
    assert_eq!(int(&mut c, &["PEXPIREAT", "f", "1"]), 1);
    assert_eq!(int(&mut c, &["EXPIRE", "missing", "100"]), 0);
    assert_eq!(int(&mut c, &["PERSIST", "a"]), 1);
    assert_eq!(int(&mut c, &["PERSIST", "a"]), 0);

    let aof: Vec<Vec<String>> = aof_commands(&srv)
        .into_iter()
        .filter(|a| a[0] != "SELECT" && a[0] != "SET")
        .collect();
    assert_eq!(aof.len(), 7, "{aof:?}");
    let at = |i: usize| -> i64 { aof[i][2].parse().expect("absolute ms") };
    assert_eq!(aof[0][..2], ["PEXPIREAT", "a"]);
    assert!((before + 100_000..=after + 100_000).contains(&at(0)));
    assert_eq!(aof[1][..2], ["PEXPIREAT", "b"]);
    assert_eq!(aof[1][3..], ["NX"]);
    assert!((before + 5000..=after + 5000).contains(&at(1)));
    assert_eq!(aof[2], ["PEXPIREAT", "c", "4102444800000"]);
    assert_eq!(aof[3], ["PEXPIREAT", "d", "4102444800123", "LT"]);
    assert_eq!(aof[4], ["DEL", "e"]);
    assert_eq!(aof[5], ["DEL", "f"]);
    assert_eq!(aof[6], ["PERSIST", "a"]);
}

#[test]
fn a_restart_keeps_absolute_expiry_times() {
    let mut srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    c.cmd_str(&["SET", "rel", "v"]);
    c.cmd_str(&["EXPIRE", "rel", "1000"]);
    c.cmd_str(&["SET", "abs", "v", "EX", "2000"]);
    c.cmd_str(&["HSET", "h", "f", "v"]);
    c.cmd_str(&["PEXPIREAT", "h", "4102444800123"]);
    c.cmd_str(&["SET", "soon", "v", "PX", "200"]);
    c.cmd_str(&["SET", "moved", "v", "EX", "3000"]);
    c.cmd_str(&["RENAME", "moved", "renamed"]);
    c.cmd_str(&["COPY", "renamed", "copied", "DB", "3"]);
    let rel = int(&mut c, &["PEXPIRETIME", "rel"]);
    let abs = int(&mut c, &["PEXPIRETIME", "abs"]);
    let renamed = int(&mut c, &["PEXPIRETIME", "renamed"]);
    srv.kill9();
    srv.restart();
    let mut c = srv.raw_conn();
    assert_eq!(int(&mut c, &["PEXPIRETIME", "rel"]), rel);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "abs"]), abs);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "h"]), 4102444800123);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "renamed"]), renamed);
    assert_eq!(int(&mut c, &["EXISTS", "moved"]), 0);
    c.cmd_str(&["SELECT", "3"]);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "copied"]), renamed);
    c.cmd_str(&["SELECT", "0"]);
    // Time kept running while the server was down.
    wait_for(10, "soon to expire after the restart", || {
        c.cmd_str(&["GET", "soon"]) == "$-1\r\n"
    });
    let ttl = int(&mut c, &["TTL", "rel"]);
    assert!((990..=1000).contains(&ttl), "TTL {ttl}");
}

#[test]
fn set_without_keepttl_clears_the_ttl_and_the_restart_agrees() {
    let mut srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    c.cmd_str(&["SET", "cleared", "v", "EX", "100"]);
    c.cmd_str(&["SET", "cleared", "w"]);
    c.cmd_str(&["SET", "kept", "v", "EX", "100"]);
    c.cmd_str(&["SET", "kept", "w", "KEEPTTL"]);
    c.cmd_str(&["SET", "persisted", "v", "EX", "100"]);
    c.cmd_str(&["PERSIST", "persisted"]);
    for _ in 0..2 {
        assert_eq!(int(&mut c, &["TTL", "cleared"]), -1);
        assert!((99..=100).contains(&int(&mut c, &["TTL", "kept"])));
        assert_eq!(c.cmd_str(&["GET", "kept"]), "$1\r\nw\r\n");
        assert_eq!(int(&mut c, &["TTL", "persisted"]), -1);
        c.send(b"SHUTDOWN\r\n");
        assert!(c.is_closed());
        assert_eq!(srv.wait(), Some(0));
        srv.restart();
        c = srv.raw_conn();
    }
}

#[test]
fn an_expire_in_the_past_replayed_from_the_aof_deletes_nothing_else() {
    // Replay must not treat anything as expired while loading: a key set to
    // expire in the past by a hand-written PEXPIREAT is loaded, then removed
    // by the running server (with its DEL written).
    let dir = common::TempDir::new("expire-replay");
    let a = dir.path().join("appendonlydir");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(
        a.join("database.aof.manifest"),
        "file database.aof.1.base.aof seq 1 type b\nfile database.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    std::fs::write(a.join("database.aof.1.base.aof"), b"").unwrap();
    let mut incr = Vec::new();
    for cmd in [
        &[&b"SET"[..], b"old", b"v"][..],
        &[b"PEXPIREAT", b"old", b"1"],
        &[b"SET", b"live", b"v"],
        &[b"EXPIRE", b"live", b"-5"],
        &[b"PERSIST", b"live"],
    ] {
        incr.extend(common::resp::encode(cmd));
    }
    std::fs::write(a.join("database.aof.1.incr.aof"), incr).unwrap();
    let srv = TestServer::gostore_in(dir.path(), &[]);
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["GET", "live"]), "$1\r\nv\r\n");
    assert_eq!(int(&mut c, &["TTL", "live"]), -1);
    assert_eq!(c.cmd_str(&["GET", "old"]), "$-1\r\n");
    wait_for(10, "the DEL of old in the AOF", || {
        aof_commands(&srv).iter().any(|a| a == &["DEL", "old"])
    });
}
