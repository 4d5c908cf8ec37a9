//! String commands beyond what the differential corpus shows: the forms
//! written to the AOF (compared with the file real Redis writes), replay
//! after a crash, the size limit while loading, big values, LCS's memory
//! guard, and long double arithmetic on random inputs against Redis.

mod common;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use common::resp::RawConn;
use common::TestServer;

/// The text of the one `*.incr.aof` file under `dir/appendonlydir`.
fn incr_aof(dir: &Path) -> String {
    let aof_dir = dir.join("appendonlydir");
    let entries = std::fs::read_dir(&aof_dir).expect("appendonlydir");
    let path = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .expect("an incr AOF file");
    String::from_utf8_lossy(&std::fs::read(path).expect("read AOF")).into_owned()
}

/// A command in the AOF's (RESP) form.
fn resp(args: &[&str]) -> String {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    String::from_utf8_lossy(&common::resp::encode(&a)).into_owned()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Runs `cmds` on `c` and returns the replies.
fn run_all(c: &mut RawConn, cmds: &[&[&str]]) -> Vec<String> {
    cmds.iter().map(|args| c.cmd_str(args)).collect()
}

/// Writes whose AOF form does not depend on the clock: every rewrite rule
/// (GET dropped, EXAT to PXAT, GETSET to SET, GETDEL to DEL, GETEX to
/// PEXPIREAT/PERSIST/DEL, INCRBYFLOAT to SET KEEPTTL), and writes that
/// changed nothing and so are not written at all.
const DETERMINISTIC_WRITES: &[&[&str]] = &[
    &["SET", "a", "1"],
    &["SET", "a", "2", "GET"],
    &["SET", "a", "3", "get", "GET", "XX"],
    &["SET", "a", "4", "NX", "GET"],
    &["SET", "a", "5", "NX"],
    &["SET", "missing", "5", "XX"],
    &["SET", "b", "v", "EXAT", "4102444800"],
    &["SET", "b", "w", "PXAT", "4102444800123", "GET"],
    &["SET", "b", "x", "KEEPTTL"],
    &["SET", "c", "v", "KEEPTTL", "GET"],
    &["SET", "past", "v", "EXAT", "1"],
    &["GET", "past"],
    &["SETNX", "c", "other"],
    &["SETNX", "d", "x"],
    &["GETSET", "d", "y"],
    &["GETDEL", "d"],
    &["GETDEL", "d"],
    &["GETEX", "b"],
    &["GETEX", "b", "PXAT", "4102444800999"],
    &["GETEX", "b", "EXAT", "4102444801"],
    &["GETEX", "b", "PERSIST"],
    &["GETEX", "b", "PERSIST"],
    &["GETEX", "b", "EXAT", "1"],
    &["GETEX", "missing", "EX", "10"],
    &["MSET", "m1", "a", "m2", "b"],
    &["MSETNX", "m3", "c", "m4", "d"],
    &["MSETNX", "m4", "e", "m5", "f"],
    &["APPEND", "ap", "hello"],
    &["APPEND", "ap", " world"],
    &["SETRANGE", "ap", "0", "J"],
    &["SETRANGE", "ap", "0", ""],
    &["SETRANGE", "sr", "3", "x"],
    &["INCR", "n"],
    &["INCRBY", "n", "41"],
    &["DECR", "n"],
    &["DECRBY", "n", "-10"],
    &["INCR", "ap"],
    &["INCRBYFLOAT", "fl", "10.5"],
    &["INCRBYFLOAT", "fl", "0.1"],
    &["INCRBYFLOAT", "fl", "abc"],
    &["SET", "ttlfl", "1", "PXAT", "4102444800000"],
    &["INCRBYFLOAT", "ttlfl", "1.5"],
    &["LCS", "ap", "m1"],
    &["MGET", "a", "b"],
    &["STRLEN", "ap"],
    &["GETRANGE", "ap", "0", "3"],
];

#[test]
fn every_string_write_reaches_the_aof_in_the_form_redis_writes() {
    // Under everysec Redis may postpone its AOF write (up to 2 s) behind a
    // slow background fsync while still replying; under always its file
    // holds every write before the reply, so it can be read right after.
    let redis = TestServer::redis(&[
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--appendfsync",
        "always",
    ]);
    let gostore = TestServer::gostore(&[]);
    let (mut r, mut g) = (redis.raw_conn(), gostore.raw_conn());
    let rr = run_all(&mut r, DETERMINISTIC_WRITES);
    let gr = run_all(&mut g, DETERMINISTIC_WRITES);
    assert_eq!(gr, rr, "replies differ from Redis");
    let (ra, ga) = (incr_aof(&redis.path), incr_aof(&gostore.path));
    assert!(
        ga.contains(&resp(&["SET", "a", "3", "XX"])),
        "GET dropped: {ga}"
    );
    assert_eq!(ga, ra, "AOF differs from Redis's");
    // Reads count hits and misses as Redis's lookupKeyRead does; writes
    // (lookupKeyWrite) count neither.
    for field in ["keyspace_hits", "keyspace_misses", "expired_keys"] {
        assert_eq!(
            info_field(&mut g, field),
            info_field(&mut r, field),
            "{field}"
        );
    }
}

/// One `name:value` line of INFO stats.
fn info_field(c: &mut RawConn, name: &str) -> String {
    let info = c.cmd_str(&["INFO", "stats"]);
    let prefix = format!("{name}:");
    info.split("\r\n")
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {name} in INFO stats"))
        .to_string()
}

/// The absolute time in the last `PXAT`/`PEXPIREAT` written for `key`.
fn written_expiry(aof: &str, cmd: &str, key: &str) -> i64 {
    let parts: Vec<&str> = aof.split("\r\n").collect();
    let mut found = None;
    for (i, w) in parts.iter().enumerate() {
        if w.eq_ignore_ascii_case(cmd) && parts.get(i + 2) == Some(&key) {
            let at = if cmd == "SET" { i + 8 } else { i + 4 };
            found = parts.get(at).and_then(|s| s.parse::<i64>().ok());
        }
    }
    found.unwrap_or_else(|| panic!("no {cmd} {key} with a time in {aof:?}"))
}

#[test]
fn relative_expiries_are_written_as_absolute_times() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    let before = now_ms();
    c.cmd_str(&["SET", "ex", "v", "EX", "100"]);
    c.cmd_str(&["SET", "px", "v", "PX", "5000", "GET"]);
    c.cmd_str(&["SETEX", "setex", "200", "v"]);
    c.cmd_str(&["PSETEX", "psetex", "3000", "v"]);
    c.cmd_str(&["SET", "gx", "v"]);
    c.cmd_str(&["GETEX", "gx", "EX", "50"]);
    c.cmd_str(&["SET", "gpx", "v"]);
    c.cmd_str(&["GETEX", "gpx", "PX", "7000"]);
    let after = now_ms();
    let aof = incr_aof(&srv.path);
    for (cmd, key, ttl) in [
        ("SET", "ex", 100_000),
        ("SET", "px", 5_000),
        ("SET", "setex", 200_000),
        ("SET", "psetex", 3_000),
        ("PEXPIREAT", "gx", 50_000),
        ("PEXPIREAT", "gpx", 7_000),
    ] {
        let at = written_expiry(&aof, cmd, key);
        assert!(
            (before + ttl..=after + ttl).contains(&at),
            "{cmd} {key}: {at} not within {}..={}",
            before + ttl,
            after + ttl
        );
    }
    for key in ["ex", "px", "setex", "psetex"] {
        let line = format!(
            "$3\r\nSET\r\n${}\r\n{key}\r\n$1\r\nv\r\n$4\r\nPXAT\r\n",
            key.len()
        );
        assert!(aof.contains(&line), "SET {key} v PXAT in {aof:?}");
    }
    assert!(!aof.contains("SETEX") && !aof.contains("GETEX") && !aof.contains("\r\nGET\r\n"));
}

#[test]
fn string_values_and_ttls_survive_kill_9_and_replay() {
    let mut srv = TestServer::gostore(&["--appendfsync", "always"]);
    let mut c = srv.raw_conn();
    c.cmd_str(&["SET", "s", "plain"]);
    c.cmd_str(&["SET", "t", "v", "EX", "1000"]);
    c.cmd_str(&["SETEX", "se", "2000", "v"]);
    c.cmd_str(&["SET", "f", "1", "EX", "3000"]);
    c.cmd_str(&["INCRBYFLOAT", "f", "0.1"]);
    c.cmd_str(&["INCRBYFLOAT", "f", "1.23456789"]);
    c.cmd_str(&["SET", "p", "v", "EX", "100"]);
    c.cmd_str(&["GETEX", "p", "PERSIST"]);
    c.cmd_str(&["SET", "g", "v"]);
    c.cmd_str(&["GETEX", "g", "PX", "400000"]);
    c.cmd_str(&["SET", "gone", "v"]);
    c.cmd_str(&["GETDEL", "gone"]);
    c.cmd_str(&["SET", "gone2", "v"]);
    c.cmd_str(&["GETEX", "gone2", "PXAT", "1"]);
    c.cmd_str(&["APPEND", "ap", "abc"]);
    c.cmd_str(&["APPEND", "ap", "def"]);
    c.cmd_str(&["SETRANGE", "ap", "8", "z"]);
    c.cmd_str(&["INCRBY", "n", "-7"]);
    c.cmd_str(&["MSET", "m1", "x", "m2", "y"]);
    c.cmd_str(&["GETSET", "m1", "z"]);
    let keys = [
        "s", "t", "se", "f", "p", "g", "gone", "gone2", "ap", "n", "m1", "m2",
    ];
    let state = |c: &mut RawConn| -> Vec<String> {
        keys.iter()
            .flat_map(|k| [c.cmd_str(&["GET", k]), c.cmd_str(&["PEXPIRETIME", k])])
            .collect()
    };
    let expected = state(&mut c);
    assert_eq!(expected[6], "$10\r\n2.33456789\r\n");
    srv.kill9();
    srv.restart();
    let mut c = srv.raw_conn();
    assert_eq!(state(&mut c), expected);
    assert_eq!(c.cmd_str(&["GET", "ap"]), "$9\r\nabcdef\u{0}\u{0}z\r\n");
}

#[test]
fn the_size_limit_does_not_apply_while_loading_the_aof() {
    let mut srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    assert_eq!(
        c.cmd_str(&["SETRANGE", "k", "1100000", "x"]),
        ":1100001\r\n"
    );
    assert_eq!(c.cmd_str(&["APPEND", "k", "yz"]), ":1100003\r\n");
    srv.kill9();
    // The same directory, now with a limit the AOF's strings exceed.
    let again = TestServer::gostore_in(&srv.path, &["--proto-max-bulk-len", "1048576"]);
    let mut c = again.raw_conn();
    assert_eq!(c.cmd_str(&["STRLEN", "k"]), ":1100003\r\n");
    assert_eq!(c.cmd_str(&["GETRANGE", "k", "-3", "-1"]), "$3\r\nxyz\r\n");
    assert_eq!(
        c.cmd_str(&["APPEND", "k", "!"]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
}

#[test]
fn big_values_round_trip_byte_for_byte() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    assert_eq!(c.cmd(&[b"SET", b"big", &big]), b"+OK\r\n");
    let mut want = format!("${}\r\n", big.len()).into_bytes();
    want.extend_from_slice(&big);
    want.extend_from_slice(b"\r\n");
    assert!(
        c.cmd(&[b"GET", b"big"]) == want,
        "GET returns the bytes SET stored"
    );
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "big"]), "$3\r\nraw\r\n");
    let tail = vec![b'!'; 1_000_000];
    assert_eq!(c.cmd(&[b"APPEND", b"big", &tail]), b":4000000\r\n");
    assert_eq!(
        c.cmd_str(&["GETRANGE", "big", "2999998", "3000001"]),
        format!(
            "$4\r\n{}{}!!\r\n",
            big[2_999_998] as char, big[2_999_999] as char
        )
    );
    assert_eq!(
        c.cmd_str(&["SETRANGE", "big", "9999999", "end"]),
        ":10000002\r\n"
    );
    assert_eq!(
        c.cmd_str(&["GETRANGE", "big", "3999999", "4000001"]),
        "$3\r\n!\0\0\r\n"
    );
    assert_eq!(
        c.cmd_str(&["GETRANGE", "big", "-4", "-1"]),
        "$4\r\n\0end\r\n"
    );
    assert_eq!(c.cmd_str(&["STRLEN", "big"]), ":10000002\r\n");
}

#[test]
fn lcs_refuses_a_table_beyond_proto_max_bulk_len_without_allocating_it() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    // (11586 + 1)^2 * 4 bytes is just over the default 512 MB.
    let s = vec![b'a'; 11586];
    c.cmd(&[b"SET", b"x", &s]);
    c.cmd(&[b"SET", b"y", &s]);
    assert_eq!(
        c.cmd_str(&["LCS", "x", "y", "LEN"]),
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
    );
    c.cmd(&[b"SET", b"y", &s[..300]]);
    assert_eq!(c.cmd_str(&["LCS", "x", "y", "LEN"]), ":300\r\n");
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn lcs_of_random_strings_matches_redis_in_every_form() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let (mut r, mut g) = (redis.raw_conn(), gostore.raw_conn());
    let mut rng = Gen(0x05ee_d1c5);
    for round in 0..40 {
        let alphabet = 2 + rng.below(6) as u8;
        let (la, lb) = (rng.below(300) as usize, rng.below(300) as usize);
        let a: Vec<u8> = (0..la)
            .map(|_| b'a' + rng.below(alphabet as u64) as u8)
            .collect();
        let b: Vec<u8> = (0..lb)
            .map(|_| b'a' + rng.below(alphabet as u64) as u8)
            .collect();
        let min = rng.below(4).to_string();
        for conn in [&mut r, &mut g] {
            conn.cmd(&[b"SET", b"a", &a]);
            conn.cmd(&[b"SET", b"b", &b]);
        }
        for cmd in [
            &["LCS", "a", "b"][..],
            &["LCS", "a", "b", "LEN"],
            &["LCS", "a", "b", "IDX", "WITHMATCHLEN"],
            &["LCS", "b", "a", "IDX", "MINMATCHLEN", &min],
        ] {
            assert_eq!(g.cmd_str(cmd), r.cmd_str(cmd), "round {round}: {cmd:?}");
        }
    }
}

#[test]
fn incrbyfloat_on_random_numbers_prints_what_redis_prints() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let (mut r, mut g) = (redis.raw_conn(), gostore.raw_conn());
    let mut rng = Gen(0xf10a7);
    for i in 0..400 {
        let incr = match rng.below(5) {
            0 => format!("{}", rng.below(1000) as i64 - 500),
            1 => format!("{}.{}", rng.below(100) as i64 - 50, rng.below(1_000_000)),
            2 => format!("{}e{}", rng.below(10), rng.below(40) as i64 - 20),
            3 => format!("-0.{:017}", rng.below(100_000_000_000_000_000)),
            _ => format!("{}.{:03}", rng.below(10_000_000_000), rng.below(1000)),
        };
        let key = format!("k{}", i % 7);
        let cmd = ["INCRBYFLOAT", key.as_str(), incr.as_str()];
        assert_eq!(g.cmd_str(&cmd), r.cmd_str(&cmd), "{cmd:?}");
        let get = ["GET", key.as_str()];
        assert_eq!(g.cmd_str(&get), r.cmd_str(&get));
    }
    // A Redis-compatible AOF needs no float at all: gostore writes SET.
    assert!(!incr_aof(&gostore.path).contains("INCRBYFLOAT"));
}
