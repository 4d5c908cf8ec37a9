//! Keyspace commands where a corpus cannot show the behaviour: SCAN over
//! many calls while the table changes, UNLINK freeing on the helper thread,
//! the access clock behind OBJECT IDLETIME, KEYS and SCAN hiding expired
//! keys, RANDOMKEY's reach, and RENAME/MOVE/COPY surviving a restart.

mod common;

use std::collections::HashSet;

use common::resp::{encode, parse, RawConn, Reply};
use common::{wait_for, TestServer};

fn int(c: &mut RawConn, args: &[&str]) -> i64 {
    let r = c.cmd_str(args);
    r.strip_prefix(':')
        .and_then(|s| s.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("{args:?} replied {r:?}"))
}

/// Sets `n` string keys `prefix{i}` in one pipeline.
fn fill(c: &mut RawConn, prefix: &str, n: usize, extra: &[&str]) {
    let mut out = Vec::new();
    for i in 0..n {
        let k = format!("{prefix}{i}");
        let mut argv: Vec<&[u8]> = vec![b"SET", k.as_bytes(), b"v"];
        argv.extend(extra.iter().map(|s| s.as_bytes()));
        out.extend(encode(&argv));
    }
    c.send(&out);
    for _ in 0..n {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
}

/// The bulk strings of a flat array reply.
fn strings(r: &Reply) -> Vec<Vec<u8>> {
    match r {
        Reply::Agg(_, kids) => kids.iter().map(bulk).collect(),
        Reply::Leaf(_) => panic!("not an array"),
    }
}

fn bulk(r: &Reply) -> Vec<u8> {
    match r {
        Reply::Leaf(b) => {
            let start = b.iter().position(|&c| c == b'\n').expect("header") + 1;
            b[start..b.len() - 2].to_vec()
        }
        Reply::Agg(..) => panic!("not a bulk"),
    }
}

/// One SCAN call: the next cursor and the keys.
fn scan(c: &mut RawConn, cursor: u64, opts: &[&str]) -> (u64, Vec<Vec<u8>>) {
    let cur = cursor.to_string();
    let mut argv: Vec<&[u8]> = vec![b"SCAN", cur.as_bytes()];
    argv.extend(opts.iter().map(|s| s.as_bytes()));
    let r = parse(&c.cmd(&argv));
    let Reply::Agg(_, kids) = r else {
        panic!("SCAN replied {r:?}")
    };
    let next = String::from_utf8(bulk(&kids[0])).expect("cursor");
    (next.parse().expect("cursor"), strings(&kids[1]))
}

#[test]
fn scan_in_small_steps_returns_every_key_while_the_table_grows() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    fill(&mut c, "k:", 2000, &[]);
    let mut seen = HashSet::new();
    let (mut cursor, mut calls, mut added) = (0, 0, 0);
    loop {
        let (next, keys) = scan(&mut c, cursor, &["COUNT", "10"]);
        calls += 1;
        // COUNT is a hint: a step returns about that many keys.
        assert!(keys.len() <= 60, "{} keys in one step", keys.len());
        seen.extend(keys);
        // Grow the table to several times its size during the scan.
        if added < 6000 {
            fill(&mut c, &format!("new{calls}:"), 30, &[]);
            added += 30;
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert!(calls > 100, "{calls} calls");
    for i in 0..2000 {
        assert!(seen.contains(format!("k:{i}").as_bytes()), "missed k:{i}");
    }
}

#[test]
fn scan_filters_by_match_and_type_across_calls() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    fill(&mut c, "str:", 300, &[]);
    for i in 0..50 {
        c.cmd_str(&["HSET", &format!("hash:{i}"), "f", "v"]);
    }
    for (opts, want) in [
        (&["TYPE", "hash", "COUNT", "7"][..], 50),
        (&["MATCH", "str:1*", "COUNT", "7"][..], 111),
        (&["MATCH", "hash:1?", "TYPE", "HASH"][..], 10),
        (&["TYPE", "string", "MATCH", "hash:*"][..], 0),
    ] {
        let (mut cursor, mut seen) = (0, HashSet::new());
        loop {
            let (next, keys) = scan(&mut c, cursor, opts);
            seen.extend(keys);
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), want, "SCAN {opts:?}");
    }
}

#[test]
fn keys_and_scan_never_return_expired_keys() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    fill(&mut c, "live:", 20, &[]);
    // Many keys expire together, more than the active cycle removes at once;
    // some are still stored when KEYS and SCAN run.
    fill(&mut c, "gone:", 20_000, &["PX", "50"]);
    c.cmd_str(&["SET", "marker", "v", "PX", "50"]);
    wait_for(10, "the marker to expire", || {
        c.cmd_str(&["PTTL", "marker"]) == ":-2\r\n"
    });
    let mut pipe = encode(&[b"DBSIZE"]);
    pipe.extend(encode(&[b"KEYS", b"*"]));
    pipe.extend(encode(&[b"SCAN", b"0", b"COUNT", b"1000000"]));
    pipe.extend(encode(&[b"DBSIZE"]));
    c.send(&pipe);
    let stored_before = c.read_reply();
    let keys = strings(&parse(&c.read_reply()));
    let scan = parse(&c.read_reply());
    let stored_after = c.read_reply();
    assert_eq!(keys.len(), 20, "KEYS returned expired keys");
    assert!(keys.iter().all(|k| k.starts_with(b"live:")));
    let Reply::Agg(_, kids) = scan else {
        panic!("SCAN reply")
    };
    assert_eq!(bulk(&kids[0]), b"0");
    let scanned = strings(&kids[1]);
    assert_eq!(scanned.len(), 20, "SCAN returned expired keys");
    // SCAN deletes what it filtered (KEYS only skips).
    assert_eq!(stored_after, b":20\r\n");
    assert_ne!(
        stored_before, b":20\r\n",
        "the active cycle removed every key first: nothing was tested"
    );
}

#[test]
fn unlink_frees_a_big_hash_on_the_helper_thread() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    let lazyfreed = |c: &mut RawConn| -> u64 {
        let info = c.cmd_str(&["INFO", "memory"]);
        info.lines()
            .find_map(|l| l.strip_prefix("lazyfreed_objects:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("lazyfreed_objects in INFO")
    };
    let mut argv: Vec<Vec<u8>> = vec![b"HSET".to_vec(), b"big".to_vec()];
    for i in 0..5000 {
        argv.push(format!("field{i}").into_bytes());
        argv.push(b"value".to_vec());
    }
    let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    assert_eq!(c.cmd(&refs), b":5000\r\n");
    c.cmd_str(&["HSET", "small", "f", "v"]);
    c.cmd_str(&["SET", "str", "v"]);
    assert_eq!(c.cmd_str(&["UNLINK", "small", "str", "missing"]), ":2\r\n");
    assert_eq!(lazyfreed(&mut c), 0, "small values are freed in place");
    assert_eq!(c.cmd_str(&["UNLINK", "big"]), ":1\r\n");
    assert_eq!(c.cmd_str(&["EXISTS", "big"]), ":0\r\n");
    wait_for(10, "the helper thread to free the hash", || {
        lazyfreed(&mut c) == 1
    });
    // DEL frees in place.
    let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    c.cmd(&refs);
    assert_eq!(c.cmd_str(&["DEL", "big"]), ":1\r\n");
    assert_eq!(lazyfreed(&mut c), 1);
}

#[test]
fn object_idletime_counts_seconds_since_the_last_read_or_write() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    for k in ["read", "written", "touched", "watched", "hash"] {
        c.cmd_str(&["SET", k, "1"]);
    }
    c.cmd_str(&["DEL", "hash"]);
    c.cmd_str(&["HSET", "hash", "f", "v"]);
    let idle = |c: &mut RawConn, k: &str| int(c, &["OBJECT", "IDLETIME", k]);
    // OBJECT itself does not touch the key, so polling it shows the clock.
    wait_for(10, "a second of idleness", || idle(&mut c, "watched") >= 1);
    // Neither do EXISTS, TYPE, TTL, OBJECT ENCODING, SCAN TYPE and KEYS.
    c.cmd_str(&["EXISTS", "watched"]);
    c.cmd_str(&["TYPE", "watched"]);
    c.cmd_str(&["TTL", "watched"]);
    c.cmd_str(&["OBJECT", "ENCODING", "watched"]);
    c.cmd_str(&["SCAN", "0", "TYPE", "string", "COUNT", "100"]);
    c.cmd_str(&["KEYS", "*"]);
    assert!(idle(&mut c, "watched") >= 1);
    // Reads, writes and TOUCH do: those keys are now younger than one
    // untouched since (the clock has one-second steps, so compare them).
    c.cmd_str(&["GET", "read"]);
    c.cmd_str(&["INCR", "written"]);
    assert_eq!(int(&mut c, &["TOUCH", "touched", "missing"]), 1);
    c.cmd_str(&["HGET", "hash", "f"]);
    for k in ["read", "written", "touched", "hash"] {
        let (young, old) = (idle(&mut c, k), idle(&mut c, "watched"));
        assert!(young < old, "{k}: idle {young}s, untouched key {old}s");
    }
    // RENAME moves the value with its clock, just touched by the lookup;
    // COPY makes a new value.
    wait_for(10, "another second of idleness", || {
        idle(&mut c, "written") >= 1
    });
    c.cmd_str(&["RENAME", "read", "renamed"]);
    c.cmd_str(&["COPY", "watched", "copy"]);
    for k in ["renamed", "copy"] {
        let (young, old) = (idle(&mut c, k), idle(&mut c, "written"));
        assert!(young < old, "{k}: idle {young}s, untouched key {old}s");
    }
}

#[test]
fn randomkey_reaches_every_live_key() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    fill(&mut c, "k", 5, &[]);
    let mut seen = HashSet::new();
    wait_for(10, "RANDOMKEY to return all 5 keys", || {
        let r = c.cmd(&[b"RANDOMKEY"]);
        seen.insert(bulk(&parse(&r)));
        seen.len() == 5
    });
    c.cmd_str(&["FLUSHDB"]);
    fill(&mut c, "gone", 5000, &["PX", "20"]);
    c.cmd_str(&["SET", "marker", "v", "PX", "20"]);
    wait_for(10, "the keys to expire", || {
        c.cmd_str(&["PTTL", "marker"]) == ":-2\r\n"
    });
    // Expired picks are deleted and another is drawn: nil once none live,
    // however many expired keys are still stored.
    assert_eq!(c.cmd_str(&["RANDOMKEY"]), "$-1\r\n");
    assert_eq!(c.cmd_str(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn rename_move_and_copy_are_replayed_after_a_crash() {
    let mut srv = TestServer::gostore(&["--appendfsync", "always"]);
    let mut c = srv.raw_conn();
    c.cmd_str(&["SET", "a", "1", "EX", "1000"]);
    c.cmd_str(&["HSET", "h", "f", "v", "g", "w"]);
    assert_eq!(c.cmd_str(&["RENAME", "a", "b"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["RENAMENX", "h", "b"]), ":0\r\n");
    assert_eq!(c.cmd_str(&["COPY", "h", "h2", "DB", "2"]), ":1\r\n");
    assert_eq!(c.cmd_str(&["MOVE", "h", "1"]), ":1\r\n");
    assert_eq!(c.cmd_str(&["COPY", "b", "b2"]), ":1\r\n");
    assert_eq!(c.cmd_str(&["UNLINK", "b2"]), ":1\r\n");
    let pexp = int(&mut c, &["PEXPIRETIME", "b"]);
    srv.kill9();
    srv.restart();
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["KEYS", "*"]), "*1\r\n$1\r\nb\r\n");
    assert_eq!(int(&mut c, &["PEXPIRETIME", "b"]), pexp);
    c.cmd_str(&["SELECT", "1"]);
    assert_eq!(c.cmd_str(&["HGET", "h", "g"]), "$1\r\nw\r\n");
    c.cmd_str(&["SELECT", "2"]);
    assert_eq!(int(&mut c, &["HLEN", "h2"]), 2);
}
