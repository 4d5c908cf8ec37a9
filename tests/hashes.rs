//! Hashes beyond what a corpus can show: the AOF forms of hash writes and
//! replay after a crash, big fields and values, the randomness contracts of
//! HRANDFIELD, full HSCAN iterations of a table that changes under the
//! cursor, and the memory and allocation behaviour of packed hashes.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::TestServer;
use gostore::db::hash::{Hash, HashLimits};
use redis::Value;

/// Counts this thread's allocations, so a test can assert that an operation
/// made none (other test threads allocate freely meanwhile).
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(|n| n.get());
    f();
    ALLOCATIONS.with(|n| n.get()) - before
}

fn incr_aof(srv_path: &Path) -> String {
    let p = srv_path
        .join("appendonlydir")
        .join("database.aof.1.incr.aof");
    String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned()
}

fn resp(args: &[&str]) -> String {
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    out
}

fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

fn fill(con: &mut redis::Connection, key: &str, n: usize) {
    let mut c = redis::cmd("HSET");
    c.arg(key);
    for i in 0..n {
        c.arg(format!("field:{i}")).arg(format!("value:{i}"));
    }
    let _: i64 = c.query(con).expect("HSET");
}

#[test]
fn hincrbyfloat_is_written_to_the_aof_as_hset_with_its_result() {
    let mut srv = TestServer::gostore(&["--appendfsync", "always"]);
    let mut c = srv.raw_conn();
    assert_eq!(
        c.cmd_str(&["HINCRBYFLOAT", "h", "f", "10.5"]),
        "$4\r\n10.5\r\n"
    );
    assert_eq!(
        c.cmd_str(&["HINCRBYFLOAT", "h", "f", "0.1"]),
        "$4\r\n10.6\r\n"
    );
    assert_eq!(
        c.cmd_str(&["HINCRBYFLOAT", "h", "g", "5.0e3"]),
        "$4\r\n5000\r\n"
    );
    let expected = [
        resp(&["SELECT", "0"]),
        resp(&["HSET", "h", "f", "10.5"]),
        resp(&["HSET", "h", "f", "10.6"]),
        resp(&["HSET", "h", "g", "5000"]),
    ]
    .concat();
    assert_eq!(incr_aof(&srv.path), expected);
    srv.kill9();
    srv.restart();
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["HGET", "h", "f"]), "$4\r\n10.6\r\n");
    assert_eq!(c.cmd_str(&["HGET", "h", "g"]), "$4\r\n5000\r\n");
}

#[test]
fn failed_and_no_op_hash_writes_leave_the_aof_untouched() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    c.cmd_str(&["HSET", "h", "s", "text", "n", "1"]);
    let after_setup = incr_aof(&srv.path);
    let refused = [
        vec!["HINCRBY", "h", "s", "1"],
        vec!["HINCRBY", "h", "n", "9223372036854775807"],
        vec!["HINCRBY", "h", "n", "x"],
        vec!["HINCRBYFLOAT", "h", "s", "1"],
        vec!["HINCRBYFLOAT", "h", "n", "inf"],
        vec!["HSET", "h", "a", "1", "b"],
        vec!["HMSET", "h", "a"],
        vec!["HSETNX", "h", "s", "other"],
        vec!["HDEL", "h", "nosuchfield"],
        vec!["HDEL", "nosuchkey", "f"],
        vec!["HGET", "h", "s"],
        vec!["HRANDFIELD", "h", "-3", "WITHVALUES"],
        vec!["HSCAN", "h", "0"],
    ];
    for args in &refused {
        c.cmd_str(args);
    }
    assert_eq!(incr_aof(&srv.path), after_setup);
    assert_eq!(c.cmd_str(&["HLEN", "h"]), ":2\r\n");
    assert_eq!(c.cmd_str(&["HGETALL", "nosuchkey"]), "*0\r\n");
}

#[test]
fn hash_writes_are_logged_as_received_and_replay_to_the_same_hashes() {
    let mut srv = TestServer::gostore(&[]);
    let mut con = srv.client();
    let _: i64 = q(&mut con, &["HSET", "small", "z", "1", "a", "2", "m", "3"]);
    let _: () = q(&mut con, &["HMSET", "small", "b", "4", "z", "5"]);
    let _: i64 = q(&mut con, &["HSETNX", "small", "c", "6"]);
    let _: i64 = q(&mut con, &["HINCRBY", "small", "a", "-10"]);
    let _: i64 = q(&mut con, &["HDEL", "small", "m"]);
    fill(&mut con, "big", 500);
    let _: i64 = q(&mut con, &["HDEL", "big", "field:7", "field:8"]);
    let _: i64 = q(&mut con, &["HSET", "gone", "only", "x"]);
    let _: i64 = q(&mut con, &["HDEL", "gone", "only"]);
    let aof = incr_aof(&srv.path);
    assert!(aof.contains(&resp(&["HMSET", "small", "b", "4", "z", "5"])));
    assert!(aof.contains(&resp(&["HINCRBY", "small", "a", "-10"])));
    assert!(aof.contains(&resp(&["HDEL", "gone", "only"])));

    let small_before = srv.raw_conn().cmd_str(&["HGETALL", "small"]);
    let big_before: HashMap<String, String> = q(&mut con, &["HGETALL", "big"]);
    drop(con);
    srv.kill9();
    srv.restart();
    let mut con = srv.client();
    // Packed hashes keep their insertion order through replay.
    assert_eq!(srv.raw_conn().cmd_str(&["HGETALL", "small"]), small_before);
    assert_eq!(
        small_before,
        resp(&["z", "5", "a", "-8", "b", "4", "c", "6"])
    );
    let big_after: HashMap<String, String> = q(&mut con, &["HGETALL", "big"]);
    assert_eq!(big_after, big_before);
    assert_eq!(big_after.len(), 498);
    let gone: i64 = q(&mut con, &["HLEN", "gone"]);
    assert_eq!(gone, 0);
}

#[test]
fn big_fields_and_values_are_stored_and_returned_whole() {
    let srv = TestServer::gostore(&[]);
    let mut con = srv.client();
    let value: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let field: Vec<u8> = (0..100_000).map(|i| (i % 241) as u8).collect();
    let added: i64 = redis::cmd("HSET")
        .arg("h")
        .arg(&field)
        .arg(&value)
        .arg("small")
        .arg("1")
        .query(&mut con)
        .unwrap();
    assert_eq!(added, 2);
    let got: Vec<u8> = redis::cmd("HGET")
        .arg("h")
        .arg(&field)
        .query(&mut con)
        .unwrap();
    assert!(got == value, "HGET returned {} bytes", got.len());
    let len: i64 = redis::cmd("HSTRLEN")
        .arg("h")
        .arg(&field)
        .query(&mut con)
        .unwrap();
    assert_eq!(len, value.len() as i64);
    let all: HashMap<Vec<u8>, Vec<u8>> = redis::cmd("HGETALL").arg("h").query(&mut con).unwrap();
    assert!(all.get(&field) == Some(&value));
    let err = redis::cmd("HINCRBYFLOAT")
        .arg("h")
        .arg(&field)
        .arg("1")
        .query::<String>(&mut con)
        .unwrap_err();
    assert!(
        err.to_string().contains("hash value is not a float"),
        "{err}"
    );
}

#[test]
fn hrandfield_repeats_for_negative_counts_and_never_for_positive_ones() {
    let srv = TestServer::gostore(&[]);
    let mut con = srv.client();
    for (key, n) in [("packed", 10), ("table", 300)] {
        fill(&mut con, key, n);
        let fields: HashSet<String> = q::<Vec<String>>(&mut con, &["HKEYS", key])
            .into_iter()
            .collect();

        let picks: Vec<String> = q(&mut con, &["HRANDFIELD", key, "-2000"]);
        assert_eq!(picks.len(), 2000);
        assert!(picks.iter().all(|f| fields.contains(f)));
        let distinct: HashSet<&String> = picks.iter().collect();
        assert!(distinct.len() < 2000, "{key}: a negative count repeats");
        assert!(distinct.len() >= n / 2, "{key}: picks spread over the hash");

        // Every strategy for positive counts: 1, a few (sampling), more
        // than a third (all less some), the size and beyond (everything).
        for count in [1, 3, n / 3, n / 2, n - 1, n, n + 5] {
            for _ in 0..5 {
                let picks: Vec<String> = q(&mut con, &["HRANDFIELD", key, &count.to_string()]);
                assert_eq!(picks.len(), count.min(n), "{key} count {count}");
                let distinct: HashSet<&String> = picks.iter().collect();
                assert_eq!(distinct.len(), picks.len(), "{key} count {count}: repeats");
                assert!(picks.iter().all(|f| fields.contains(f)));
            }
        }
    }
}

#[test]
fn hrandfield_withvalues_pairs_each_field_with_its_value_in_resp2_and_resp3() {
    let srv = TestServer::gostore(&[]);
    let mut con = srv.client();
    fill(&mut con, "packed", 10);
    fill(&mut con, "table", 200);
    let mut con3 = srv.client3();
    for key in ["packed", "table"] {
        for count in ["-7", "1", "3", "150", "1000"] {
            let flat: Vec<String> = q(&mut con, &["HRANDFIELD", key, count, "WITHVALUES"]);
            assert_eq!(flat.len() % 2, 0);
            for pair in flat.chunks(2) {
                assert_eq!(pair[1], pair[0].replace("field", "value"));
            }
            let nested: Value = q(&mut con3, &["HRANDFIELD", key, count, "WITHVALUES"]);
            let Value::Array(items) = nested else {
                panic!("RESP3 HRANDFIELD WITHVALUES is an array: {nested:?}");
            };
            assert_eq!(items.len(), flat.len() / 2, "{key} {count}");
            for item in items {
                match item {
                    Value::Array(pair) => match &pair[..] {
                        [Value::BulkString(f), Value::BulkString(v)] => {
                            let (f, v) = (String::from_utf8_lossy(f), String::from_utf8_lossy(v));
                            assert_eq!(v, f.replace("field", "value"));
                        }
                        other => panic!("a pair of bulks, got {other:?}"),
                    },
                    other => panic!("each pick is a nested pair in RESP3, got {other:?}"),
                }
            }
        }
    }
}

#[test]
fn hscan_with_a_small_count_visits_every_field_of_a_growing_table() {
    let srv = TestServer::gostore(&[]);
    let mut con = srv.client();
    fill(&mut con, "h", 1000);
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    let mut extra = 1000;
    loop {
        let (next, items): (String, Vec<String>) =
            q(&mut con, &["HSCAN", "h", &cursor, "COUNT", "7"]);
        assert_eq!(items.len() % 2, 0);
        for pair in items.chunks(2) {
            seen.insert(pair[0].clone(), pair[1].clone());
        }
        // The table grows (and rehashes) between calls.
        for _ in 0..10 {
            let f = format!("field:{extra}");
            let _: i64 = q(&mut con, &["HSET", "h", &f, "later"]);
            extra += 1;
        }
        calls += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
        assert!(calls < 5000, "HSCAN did not finish");
    }
    assert!(calls > 10, "COUNT 7 took {calls} calls for 1000 fields");
    for i in 0..1000 {
        assert_eq!(
            seen.get(&format!("field:{i}")).map(String::as_str),
            Some(format!("value:{i}").as_str())
        );
    }
    let (next, items): (String, Vec<String>) = q(
        &mut con,
        &["HSCAN", "h", "0", "COUNT", "100000", "MATCH", "field:99?"],
    );
    assert_eq!(next, "0");
    let fields: HashSet<&String> = items.iter().step_by(2).collect();
    assert_eq!(fields.len(), 10);
    assert!(fields.iter().all(|f| f.starts_with("field:99")));
}

#[test]
fn the_last_hdel_removes_the_key_so_other_types_can_take_it() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    c.cmd_str(&["HSET", "k", "a", "1", "b", "2"]);
    assert_eq!(c.cmd_str(&["HDEL", "k", "a", "b", "a"]), ":2\r\n");
    assert_eq!(c.cmd_str(&["DBSIZE"]), ":0\r\n");
    assert_eq!(
        c.cmd_str(&["HINCRBY", "k", "n", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        c.cmd_str(&["HINCRBYFLOAT", "k", "n", "inf"]),
        "-ERR value is NaN or Infinity\r\n"
    );
    assert_eq!(
        c.cmd_str(&["HSET", "k", "odd"]),
        "-ERR wrong number of arguments for 'hset' command\r\n"
    );
    assert_eq!(
        c.cmd_str(&["DBSIZE"]),
        ":0\r\n",
        "failed writes create no key"
    );
}

#[test]
fn packed_hash_reads_and_same_size_updates_do_not_allocate() {
    let limits = HashLimits::default();
    let mut h = Hash::new();
    for i in 0..100 {
        h.set(
            format!("field:{i}").as_bytes(),
            format!("value:{i}").as_bytes(),
            &limits,
        );
    }
    assert!(h.is_packed());
    let mut found = 0;
    let n = allocations_during(|| {
        for i in [0, 50, 99] {
            let mut name = *b"field:00";
            name[6] = b'0' + (i / 10) as u8;
            name[7] = b'0' + (i % 10) as u8;
            found += h.get(&name).is_some() as usize;
            found += h.contains(b"field:missing") as usize;
        }
        found += h.iter().count();
        h.set(b"field:5", b"VALUE:5", &limits);
    });
    assert_eq!(n, 0, "{n} allocations");
    assert_eq!(found, 2 + 100);
    assert_eq!(h.get(b"field:5"), Some(&b"VALUE:5"[..]));
}

#[test]
fn a_small_hash_costs_its_bytes_plus_one_length_byte_per_string() {
    let limits = HashLimits::default();
    let mut h = Hash::new();
    let pairs = [
        ("name", "alice"),
        ("email", "alice@example.com"),
        ("age", "42"),
        ("city", "paris"),
    ];
    for (f, v) in pairs {
        h.set(f.as_bytes(), v.as_bytes(), &limits);
    }
    let payload: usize = pairs.iter().map(|(f, v)| f.len() + v.len()).sum();
    assert_eq!(h.heap_bytes(), payload + 2 * pairs.len());
    assert!(
        std::mem::size_of::<Hash>() <= 24,
        "fits a 32-byte malloc chunk"
    );
    for (f, _) in &pairs[..3] {
        h.remove(f.as_bytes());
    }
    assert_eq!(h.heap_bytes(), "city".len() + "paris".len() + 2);
}
