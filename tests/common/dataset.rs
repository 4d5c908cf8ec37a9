//! A dataset of every kind of value GoStore stores, and a dump of a whole
//! server (every key of every database: type, value, absolute expiry,
//! encoding) to compare datasets across restarts, rewrites, and between
//! GoStore and Redis.

use std::collections::BTreeMap;

use super::resp::RawConn;

/// A key's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string.
    Str(Vec<u8>),
    /// A hash, field to value.
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    /// A list, head to tail.
    List(Vec<Vec<u8>>),
    /// A set, sorted.
    Set(std::collections::BTreeSet<Vec<u8>>),
    /// A sorted set in order: (member, score as the server writes it).
    Zset(Vec<(Vec<u8>, Vec<u8>)>),
}

/// One key's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its value.
    pub value: Value,
    /// PEXPIRETIME: absolute Unix ms, -1 without a TTL.
    pub expire_at: i64,
    /// OBJECT ENCODING.
    pub encoding: String,
}

/// Every key: (database, key) to its state.
pub type Dump = BTreeMap<(u32, Vec<u8>), Entry>;

/// The dump without encodings (a rewrite turns `raw` strings made by APPEND
/// into `embstr`, in Redis as in GoStore).
pub fn without_encodings(d: &Dump) -> Dump {
    d.iter()
        .map(|(k, e)| {
            (
                k.clone(),
                Entry {
                    encoding: String::new(),
                    ..e.clone()
                },
            )
        })
        .collect()
}

fn bulk(r: &[u8]) -> Vec<u8> {
    // $n\r\n<bytes>\r\n
    let nl = r.iter().position(|&c| c == b'\n').expect("bulk header");
    r[nl + 1..r.len() - 2].to_vec()
}

fn int(r: &[u8]) -> i64 {
    std::str::from_utf8(&r[1..r.len() - 2])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {:?}", String::from_utf8_lossy(r)))
}

/// Splits a flat array reply of bulks into their bytes.
fn bulks(r: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let nl = r.iter().position(|&c| c == b'\n').expect("array header");
    let n: usize = std::str::from_utf8(&r[1..nl - 1]).unwrap().parse().unwrap();
    let mut at = nl + 1;
    for _ in 0..n {
        let hl = at + r[at..].iter().position(|&c| c == b'\n').unwrap();
        let len: usize = std::str::from_utf8(&r[at + 1..hl - 1])
            .unwrap()
            .parse()
            .unwrap();
        out.push(r[hl + 1..hl + 1 + len].to_vec());
        at = hl + 1 + len + 2;
    }
    out
}

/// Asserts two dumps are equal, naming the keys that differ.
pub fn assert_same(got: &Dump, want: &Dump, what: &str) {
    let mut diffs = Vec::new();
    for (k, w) in want {
        match got.get(k) {
            None => diffs.push(format!(
                "missing db {} {:?}",
                k.0,
                String::from_utf8_lossy(&k.1)
            )),
            Some(g) if g != w => diffs.push(format!(
                "db {} {:?}: got {g:?}, want {w:?}",
                k.0,
                String::from_utf8_lossy(&k.1)
            )),
            _ => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        diffs.push(format!(
            "extra db {} {:?}",
            k.0,
            String::from_utf8_lossy(&k.1)
        ));
    }
    diffs.truncate(10);
    assert!(diffs.is_empty(), "{what}:\n{}", diffs.join("\n"));
}

/// Dumps databases `0..dbs` of the server on `port`.
pub fn dump(port: u16, dbs: u32) -> Dump {
    let mut c = RawConn::connect(port);
    let mut out = Dump::new();
    for db in 0..dbs {
        c.cmd_str(&["SELECT", &db.to_string()]);
        let mut cursor = b"0".to_vec();
        let mut keys = Vec::new();
        loop {
            let r = c.cmd(&[b"SCAN", &cursor, b"COUNT", b"1000"]);
            // *2\r\n$n\r\ncursor\r\n*m\r\n...
            let first = r.iter().position(|&c| c == b'\n').unwrap() + 1;
            let cl = first + r[first..].iter().position(|&c| c == b'\n').unwrap();
            let clen: usize = std::str::from_utf8(&r[first + 1..cl - 1])
                .unwrap()
                .parse()
                .unwrap();
            cursor = r[cl + 1..cl + 1 + clen].to_vec();
            keys.extend(bulks(&r[cl + 1 + clen + 2..]));
            if cursor == b"0" {
                break;
            }
        }
        for key in keys {
            let kind = c.cmd(&[b"TYPE", &key]);
            let value = match &kind[..] {
                b"+string\r\n" => Value::Str(bulk(&c.cmd(&[b"GET", &key]))),
                b"+hash\r\n" => {
                    let flat = bulks(&c.cmd(&[b"HGETALL", &key]));
                    Value::Hash(
                        flat.chunks(2)
                            .map(|p| (p[0].clone(), p[1].clone()))
                            .collect(),
                    )
                }
                b"+list\r\n" => Value::List(bulks(&c.cmd(&[b"LRANGE", &key, b"0", b"-1"]))),
                b"+set\r\n" => {
                    Value::Set(bulks(&c.cmd(&[b"SMEMBERS", &key])).into_iter().collect())
                }
                b"+zset\r\n" => {
                    let flat = bulks(&c.cmd(&[b"ZRANGE", &key, b"0", b"-1", b"WITHSCORES"]));
                    Value::Zset(
                        flat.chunks(2)
                            .map(|p| (p[0].clone(), p[1].clone()))
                            .collect(),
                    )
                }
                b"+none\r\n" => continue, // expired between SCAN and TYPE
                other => panic!("unexpected type {:?}", String::from_utf8_lossy(other)),
            };
            let expire_at = int(&c.cmd(&[b"PEXPIRETIME", &key]));
            let encoding = String::from_utf8_lossy(&bulk(&c.cmd(&[b"OBJECT", b"ENCODING", &key])))
                .into_owned();
            out.insert(
                (db, key),
                Entry {
                    value,
                    expire_at,
                    encoding,
                },
            );
        }
    }
    out
}

/// Writes a dataset with every kind of value: strings of each encoding
/// (int, embstr, raw, empty, binary, 200 KB), counters and floats, strings
/// with relative and absolute TTLs, hashes packed and as tables (by field
/// count and by value length), lists, sets and sorted sets of both
/// encodings, with TTLs, in several databases, with
/// overwritten and deleted keys, and more keys than one MSET batch.
pub fn fill_every_type(port: u16) {
    let mut c = RawConn::connect(port);
    let ok = |r: String| assert!(!r.starts_with('-'), "{r}");
    let big: String = (0..200 * 1024)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for args in [
        vec!["SET", "s:embstr", "hello"],
        vec!["SET", "s:int", "12345"],
        vec!["SET", "s:neg", "-7"],
        vec!["SET", "s:raw", &"x".repeat(100)],
        vec!["SET", "s:big", &big],
        vec!["SET", "s:empty", ""],
        vec!["SET", "s:ttl", "v", "EX", "1000"],
        vec![
            "SET",
            "s:pxat",
            "w",
            "PXAT",
            &(now_ms + 500_000).to_string(),
        ],
        vec!["SET", "s:appended", "abc"],
        vec!["APPEND", "s:appended", "def"],
        vec!["SET", "s:overwritten", "old"],
        vec!["SET", "s:overwritten", "new"],
        vec!["SET", "s:deleted", "gone"],
        vec!["DEL", "s:deleted"],
        vec!["INCR", "counter"],
        vec!["INCRBY", "counter", "41"],
        vec!["INCRBYFLOAT", "float", "3.25"],
        vec!["HSET", "h:small", "a", "1", "b", "2", "c", "3"],
        vec!["HSET", "h:longval", "f", &"y".repeat(100)],
        vec!["HSET", "h:ttl", "x", "1", "y", "2"],
        vec!["EXPIRE", "h:ttl", "2000"],
        vec!["HINCRBY", "h:small", "n", "5"],
        vec!["HINCRBYFLOAT", "h:small", "fl", "1.5"],
        vec!["HDEL", "h:small", "b"],
        vec!["RPUSH", "l:small", "a", "1", "-2", "hello world", ""],
        vec!["LPUSH", "l:small", "head"],
        vec!["RPUSH", "l:ttl", "x", "y"],
        vec!["EXPIRE", "l:ttl", "2000"],
        vec!["RPUSH", "l:edited", "a", "b", "c", "d", "e", "f", "b"],
        vec!["LPOP", "l:edited"],
        vec!["RPOP", "l:edited", "1"],
        vec!["LSET", "l:edited", "0", "B"],
        vec!["LINSERT", "l:edited", "AFTER", "c", "c2"],
        vec!["LREM", "l:edited", "1", "d"],
        vec!["LTRIM", "l:edited", "0", "3"],
        vec!["LMOVE", "l:edited", "l:moved", "LEFT", "RIGHT"],
        vec!["RPOPLPUSH", "l:edited", "l:moved"],
        vec!["RPUSH", "l:long", &"z".repeat(100), &"q".repeat(10_000)],
        vec!["RPUSH", "l:emptied", "gone"],
        vec!["LPOP", "l:emptied"],
    ] {
        ok(c.cmd_str(&args));
    }
    c.cmd(&[b"SET", b"s:bin", b"a\r\nb\x00c"]);
    c.cmd(&[b"HSET", b"h:bin", b"f\r\n\x00", b"v\x00\r\n"]);
    let mut many = vec!["HSET".to_string(), "h:many".to_string()];
    for i in 0..200 {
        many.push(format!("field:{i}"));
        many.push(format!("value:{i}"));
    }
    ok(c.cmd_str(&many.iter().map(String::as_str).collect::<Vec<_>>()));
    c.cmd(&[b"RPUSH", b"l:bin", b"a\r\nb\x00c", b"\xff\x00"]);
    // More than one RPUSH batch of 64 in a rewrite.
    assert_eq!(
        c.cmd(&[b"SADD", b"set:bin", b"a\r\nb\x00c", b"\xff\x00", b"7"]),
        b":3\r\n"
    );
    // Sets: intsets of each width and hashtables, each written by the set
    // commands; past 64 members for several SADD batches in a rewrite.
    for args in [
        vec!["SADD", "s:ints", "1", "-2", "300"],
        vec!["SADD", "s:wide", "5", "70000", "-9000000000"],
        vec!["SADD", "s:words", "a", "b", "c", "1"],
        vec!["SADD", "set:ttl", "x", "1"],
        vec!["EXPIRE", "set:ttl", "2000"],
        vec!["SADD", "s:edited", "1", "2", "3", "4", "5", "a", "b"],
        vec!["SREM", "s:edited", "a", "2"],
        vec!["SMOVE", "s:edited", "s:moved", "b"],
        vec!["SMOVE", "s:edited", "s:moved", "3"],
        vec!["SINTERSTORE", "s:inter", "s:ints", "s:words", "set:bin"],
        vec!["SUNIONSTORE", "s:union", "s:ints", "s:wide"],
        vec!["SDIFFSTORE", "s:diff", "s:words", "s:ints"],
        vec!["SADD", "s:emptied", "gone"],
        vec!["SPOP", "s:emptied", "5"],
    ] {
        ok(c.cmd_str(&args));
    }
    let mut ints = vec!["SADD".to_string(), "s:manyints".to_string()];
    ints.extend((0..300).map(|i| format!("{}", i * 7 - 1000)));
    ok(c.cmd_str(&ints.iter().map(String::as_str).collect::<Vec<_>>()));
    let mut words = vec!["SADD".to_string(), "s:many".to_string()];
    words.extend((0..700).map(|i| format!("member:{i}")));
    ok(c.cmd_str(&words.iter().map(String::as_str).collect::<Vec<_>>()));
    // Sorted sets: packed ones and skip lists (by member count and by
    // member length), tricky scores, TTLs, edits and stores; past 64
    // members for several ZADD batches in a rewrite.
    for args in [
        vec![
            "ZADD", "z:small", "1", "a", "2.5", "b", "-inf", "c", "1e21", "d", "0.1", "e", "-0",
            "f",
        ],
        vec!["ZADD", "z:ttl", "1", "x", "2", "y"],
        vec!["EXPIRE", "z:ttl", "2000"],
        vec![
            "ZADD",
            "z:long",
            "1",
            &"m".repeat(100),
            "2",
            "short",
            "inf",
            "top",
        ],
        vec!["PEXPIRE", "z:long", "3000000"],
        vec![
            "ZADD", "z:edited", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
        vec!["ZINCRBY", "z:edited", "10", "a"],
        vec!["ZADD", "z:edited", "GT", "CH", "1", "e", "9", "d"],
        vec!["ZREM", "z:edited", "b"],
        vec!["ZPOPMIN", "z:edited"],
        vec!["ZRANGESTORE", "z:stored", "z:small", "0", "2"],
        vec!["ZADD", "z:emptied", "1", "gone"],
        vec!["ZPOPMAX", "z:emptied"],
    ] {
        ok(c.cmd_str(&args));
    }
    c.cmd(&[
        b"ZADD",
        b"z:bin",
        b"1.5",
        b"a\r\nb\x00c",
        b"-3",
        b"\xff\x00",
    ]);
    let mut zmany = vec!["ZADD".to_string(), "z:many".to_string()];
    for i in 0..300 {
        zmany.push(format!("{}", (i * 37 % 101) as f64 / 8.0 - 3.0));
        zmany.push(format!("member:{i}"));
    }
    ok(c.cmd_str(&zmany.iter().map(String::as_str).collect::<Vec<_>>()));
    ok(c.cmd_str(&["ZREMRANGEBYRANK", "z:many", "0", "9"]));
    let mut long = vec!["RPUSH".to_string(), "l:many".to_string()];
    long.extend((0..300).map(|i| format!("item:{i}")));
    ok(c.cmd_str(&long.iter().map(String::as_str).collect::<Vec<_>>()));
    ok(c.cmd_str(&["SELECT", "1"]));
    for i in 0..300 {
        ok(c.cmd_str(&["SET", &format!("bulk:{i}"), &format!("{i}")]));
    }
    for i in 0..10 {
        ok(c.cmd_str(&["SET", &format!("bulk:{i}"), &format!("again:{i}")]));
    }
    ok(c.cmd_str(&["SELECT", "3"]));
    for i in 0..70 {
        ok(c.cmd_str(&["HSET", &format!("hash:{i}"), "f", &i.to_string()]));
        if i % 7 == 0 {
            ok(c.cmd_str(&["PEXPIRE", &format!("hash:{i}"), "3000000"]));
        }
    }
    ok(c.cmd_str(&["SELECT", "15"]));
    ok(c.cmd_str(&["SET", "last-db", "15", "EX", "3000"]));
    ok(c.cmd_str(&["HSET", "last-hash", "k", "v"]));
    ok(c.cmd_str(&["RPUSH", "last-list", "1", "2", "3"]));
    ok(c.cmd_str(&["SADD", "last-set", "1", "x"]));
    ok(c.cmd_str(&["ZADD", "last-zset", "1", "x", "0.5", "y"]));
    ok(c.cmd_str(&["PEXPIRE", "last-zset", "4000000"]));
}
