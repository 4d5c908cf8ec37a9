//! Randomized differential testing: proptest generates sequences of string,
//! hash, list, set, sorted-set and keyspace commands over a small key space
//! (so commands collide on the same keys and types), mixed with transactions
//! (MULTI, EXEC, DISCARD, WATCH, UNWATCH, so commands get queued, watches
//! broken by the sequence's own writes, and errors abort), runs each
//! sequence on a fresh redis-server dataset and on gostore, in RESP2 or
//! RESP3, and compares every reply. A failure shrinks to a minimal sequence.
//!
//! Only values that legitimately differ are normalised: remaining TTLs are
//! compared as "none / missing / positive", since a second can tick between
//! the two servers.

mod common;

use common::resp::{self, RawConn};
use common::TestServer;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("k1"),
        Just("k2"),
        Just("k3"),
        Just("h1"),
        Just("h2"),
        Just("l1"),
        Just("s1"),
        Just("z1")
    ]
    .prop_map(String::from)
}

/// Keys for set commands: mostly sets, sometimes another type's key.
fn skey() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("s1"),
        4 => Just("s2"),
        2 => Just("s3"),
        1 => Just("k1"),
        1 => Just("l1")
    ]
    .prop_map(String::from)
}

/// Members: integers (intsets) more often than not, and the strings of
/// `value()` (hashtables), so both encodings and the conversion happen.
fn member() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (-20i64..40).prop_map(|v| v.to_string()),
        1 => Just("70000".to_string()),
        1 => Just("-9000000000".to_string()),
        2 => value()
    ]
}

/// Set commands, every option and some bad arguments. SPOP only in its
/// forms that are not random (a count covering any set here, or 0): a
/// random pop would make the two datasets differ; SRANDMEMBER's random
/// replies are compared by shape (see `normalise`).
fn set_command() -> impl Strategy<Value = Vec<String>> {
    let many = || prop::collection::vec(member(), 1..5);
    let keys = || prop::collection::vec(skey(), 1..4);
    let cmd = |name: &str, mut rest: Vec<String>| {
        let mut v = vec![name.to_string()];
        v.append(&mut rest);
        v
    };
    prop_oneof![
        4 => (skey(), many()).prop_map(move |(k, m)| cmd("SADD", [vec![k], m].concat())),
        2 => (skey(), many()).prop_map(move |(k, m)| cmd("SREM", [vec![k], m].concat())),
        1 => skey().prop_map(move |k| cmd("SMEMBERS", vec![k])),
        1 => (skey(), member()).prop_map(move |(k, m)| cmd("SISMEMBER", vec![k, m])),
        1 => (skey(), many()).prop_map(move |(k, m)| cmd("SMISMEMBER", [vec![k], m].concat())),
        1 => skey().prop_map(move |k| cmd("SCARD", vec![k])),
        1 => (skey(), prop_oneof![Just("1000"), Just("0"), Just("-1"), Just("x")])
            .prop_map(move |(k, n)| cmd("SPOP", vec![k, n.into()])),
        1 => (skey(), int_arg()).prop_map(move |(k, n)| cmd("SRANDMEMBER", vec![k, n])),
        1 => skey().prop_map(move |k| cmd("SRANDMEMBER", vec![k])),
        2 => (skey(), skey(), member()).prop_map(move |(a, b, m)| cmd("SMOVE", vec![a, b, m])),
        1 => keys().prop_map(move |k| cmd("SINTER", k)),
        1 => (skey(), keys()).prop_map(move |(d, k)| cmd("SINTERSTORE", [vec![d], k].concat())),
        1 => (keys(), int_arg(), prop_oneof![Just("LIMIT"), Just("limit"), Just("NOPE")])
            .prop_map(move |(k, l, o)| {
                let n = k.len().to_string();
                cmd("SINTERCARD", [vec![n], k, vec![o.into(), l]].concat())
            }),
        1 => (int_arg(), keys()).prop_map(move |(n, k)| cmd("SINTERCARD", [vec![n], k].concat())),
        1 => keys().prop_map(move |k| cmd("SUNION", k)),
        1 => (skey(), keys()).prop_map(move |(d, k)| cmd("SUNIONSTORE", [vec![d], k].concat())),
        1 => keys().prop_map(move |k| cmd("SDIFF", k)),
        1 => (skey(), keys()).prop_map(move |(d, k)| cmd("SDIFFSTORE", [vec![d], k].concat())),
        1 => (skey(), prop_oneof![Just("*"), Just("1*"), Just("[a-c]*")])
            .prop_map(move |(k, p)| cmd("SSCAN", vec![k, "0".into(), "MATCH".into(), p.into(), "COUNT".into(), "1000".into()])),
        1 => (skey(), int_arg()).prop_map(move |(k, c)| cmd("SSCAN", vec![k, c])),
        1 => skey().prop_map(move |k| cmd("OBJECT", vec!["ENCODING".into(), k])),
    ]
}

/// Keys for sorted-set commands: mostly sorted sets, sometimes another
/// type's key.
fn zkey() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("z1"),
        4 => Just("z2"),
        2 => Just("z3"),
        1 => Just("k1"),
        1 => Just("s1")
    ]
    .prop_map(String::from)
}

/// Keys for lex-range commands: never z3, the only one that holds skip
/// lists. With unequal scores members need not be in lex order, and a
/// skip list's answer then depends on its nodes' random levels, in Redis
/// as here; a packed set's is deterministic.
fn zlexkey() -> impl Strategy<Value = String> {
    prop_oneof![4 => Just("z1"), 4 => Just("z2"), 1 => Just("k1")].prop_map(String::from)
}

/// ZRANGESTORE's destinations: z3 (which may copy a skip list) or a key
/// of another type.
fn zdest() -> impl Strategy<Value = String> {
    prop_oneof![3 => Just("z3"), 1 => Just("s1")].prop_map(String::from)
}

/// Members: short names and numbers.
fn zmember() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop_oneof![Just("a"), Just("b"), Just("c"), Just("d"), Just("e"), Just("")].prop_map(String::from),
        2 => (-5i64..10).prop_map(|v| v.to_string()),
    ]
}

fn score() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (-3i64..6).prop_map(|v| v.to_string()),
        1 => prop_oneof![
            Just("2.5"), Just("0.1"), Just("-0"), Just("inf"), Just("-inf"), Just("+inf"),
            Just("1e300"), Just("5e-324"), Just("nan"), Just("x"), Just("")
        ].prop_map(String::from),
    ]
}

fn score_bound() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (-3i64..6).prop_map(|v| v.to_string()),
        2 => (-3i64..6).prop_map(|v| format!("({v}")),
        1 => prop_oneof![Just("-inf"), Just("+inf"), Just("(2.5"), Just("x"), Just("(")].prop_map(String::from),
    ]
}

fn lex_bound() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-"),
        Just("+"),
        Just("[a"),
        Just("(b"),
        Just("[c"),
        Just("(e"),
        Just("[1"),
        Just("a")
    ]
    .prop_map(String::from)
}

/// Sorted-set commands, every option and some bad arguments. Pops are
/// deterministic (lowest or highest first); ZRANDMEMBER's replies are
/// compared by shape.
fn zset_command() -> impl Strategy<Value = Vec<String>> {
    let pairs = || {
        prop::collection::vec((score(), zmember()), 1..4)
            .prop_map(|v| v.into_iter().flat_map(|(s, m)| [s, m]).collect::<Vec<_>>())
    };
    let flags = || {
        prop::collection::vec(
            prop_oneof![
                Just("NX"),
                Just("XX"),
                Just("GT"),
                Just("LT"),
                Just("CH"),
                Just("INCR"),
                Just("ch")
            ]
            .prop_map(String::from),
            0..3,
        )
    };
    let members = || prop::collection::vec(zmember(), 1..4);
    let keys = || prop::collection::vec(zkey(), 1..3);
    let limit = || {
        prop_oneof![
            2 => Just(vec![]),
            1 => (int_arg(), int_arg()).prop_map(|(o, c)| vec!["LIMIT".to_string(), o, c]),
        ]
    };
    let ws = || prop_oneof![Just(vec![]), Just(vec!["WITHSCORES".to_string()])];
    let side =
        || prop_oneof![Just("MIN"), Just("MAX"), Just("max"), Just("UP")].prop_map(String::from);
    let cmd = |name: &str, parts: Vec<Vec<String>>| {
        let mut v = vec![name.to_string()];
        for mut p in parts {
            v.append(&mut p);
        }
        v
    };
    prop_oneof![
        6 => (zkey(), flags(), pairs()).prop_map(move |(k, f, p)| cmd("ZADD", vec![vec![k], f, p])),
        // A 70-byte member (past zset-max-listpack-value) makes z3 a skip
        // list.
        1 => score().prop_map(move |s| cmd("ZADD", vec![vec!["z3".into(), s, "m".repeat(70)]])),
        2 => (zkey(), score(), zmember()).prop_map(move |(k, s, m)| cmd("ZINCRBY", vec![vec![k, s, m]])),
        2 => (zkey(), members()).prop_map(move |(k, m)| cmd("ZREM", vec![vec![k], m])),
        1 => zkey().prop_map(move |k| cmd("ZCARD", vec![vec![k]])),
        1 => (zkey(), zmember()).prop_map(move |(k, m)| cmd("ZSCORE", vec![vec![k, m]])),
        1 => (zkey(), members()).prop_map(move |(k, m)| cmd("ZMSCORE", vec![vec![k], m])),
        1 => (zkey(), zmember(), prop_oneof![Just("ZRANK"), Just("ZREVRANK")])
            .prop_map(move |(k, m, c)| cmd(c, vec![vec![k, m]])),
        1 => (zkey(), score_bound(), score_bound()).prop_map(move |(k, a, b)| cmd("ZCOUNT", vec![vec![k, a, b]])),
        1 => (zlexkey(), lex_bound(), lex_bound()).prop_map(move |(k, a, b)| cmd("ZLEXCOUNT", vec![vec![k, a, b]])),
        2 => (zkey(), int_arg(), int_arg(), ws(), prop_oneof![Just("ZRANGE"), Just("ZREVRANGE")])
            .prop_map(move |(k, a, b, w, c)| cmd(c, vec![vec![k, a, b], w])),
        2 => (zkey(), score_bound(), score_bound(), prop_oneof![Just(vec![]), Just(vec!["REV".to_string()])], limit(), ws())
            .prop_map(move |(k, a, b, r, l, w)| cmd("ZRANGE", vec![vec![k, a, b, "BYSCORE".into()], r, l, w])),
        1 => (zlexkey(), lex_bound(), lex_bound(), prop_oneof![Just(vec![]), Just(vec!["REV".to_string()])], limit())
            .prop_map(move |(k, a, b, r, l)| cmd("ZRANGE", vec![vec![k, a, b, "BYLEX".into()], r, l])),
        1 => (zkey(), score_bound(), score_bound(), ws(), limit(), prop_oneof![Just("ZRANGEBYSCORE"), Just("ZREVRANGEBYSCORE")])
            .prop_map(move |(k, a, b, w, l, c)| cmd(c, vec![vec![k, a, b], w, l])),
        1 => (zlexkey(), lex_bound(), lex_bound(), limit(), prop_oneof![Just("ZRANGEBYLEX"), Just("ZREVRANGEBYLEX")])
            .prop_map(move |(k, a, b, l, c)| cmd(c, vec![vec![k, a, b], l])),
        2 => (zdest(), zkey(), int_arg(), int_arg()).prop_map(move |(d, k, a, b)| cmd("ZRANGESTORE", vec![vec![d, k, a, b]])),
        1 => (zdest(), zkey(), score_bound(), score_bound(), limit())
            .prop_map(move |(d, k, a, b, l)| cmd("ZRANGESTORE", vec![vec![d, k, a, b, "BYSCORE".into()], l])),
        1 => (zkey(), int_arg(), int_arg()).prop_map(move |(k, a, b)| cmd("ZREMRANGEBYRANK", vec![vec![k, a, b]])),
        1 => (zkey(), score_bound(), score_bound()).prop_map(move |(k, a, b)| cmd("ZREMRANGEBYSCORE", vec![vec![k, a, b]])),
        1 => (zlexkey(), lex_bound(), lex_bound()).prop_map(move |(k, a, b)| cmd("ZREMRANGEBYLEX", vec![vec![k, a, b]])),
        2 => (zkey(), prop_oneof![Just(vec![]), int_arg().prop_map(|n| vec![n])], prop_oneof![Just("ZPOPMIN"), Just("ZPOPMAX")])
            .prop_map(move |(k, n, c)| cmd(c, vec![vec![k], n])),
        1 => (keys(), side(), prop_oneof![Just(vec![]), int_arg().prop_map(|n| vec!["COUNT".to_string(), n])])
            .prop_map(move |(k, w, n)| cmd("ZMPOP", vec![vec![k.len().to_string()], k, vec![w], n])),
        1 => (zkey(), prop_oneof![Just("BZPOPMIN"), Just("BZPOPMAX")])
            .prop_map(move |(k, c)| cmd(c, vec![vec![k, "0.01".into()]])),
        1 => (zkey(), prop_oneof![Just(vec![]), int_arg().prop_map(|n| vec![n]), int_arg().prop_map(|n| vec![n, "WITHSCORES".into()])])
            .prop_map(move |(k, n)| cmd("ZRANDMEMBER", vec![vec![k], n])),
        1 => zkey().prop_map(move |k| cmd("ZSCAN", vec![vec![k, "0".into(), "COUNT".into(), "1000".into()]])),
        1 => zkey().prop_map(move |k| cmd("OBJECT", vec![vec!["ENCODING".into(), k]])),
    ]
}

/// Keys for list commands: mostly lists, sometimes another type's key.
fn lkey() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("l1"),
        4 => Just("l2"),
        1 => Just("k1"),
        1 => Just("h1")
    ]
    .prop_map(String::from)
}

fn end() -> impl Strategy<Value = String> {
    prop_oneof![Just("LEFT"), Just("RIGHT"), Just("right"), Just("UP")].prop_map(String::from)
}

/// List commands, every option and some bad arguments.
fn list_command() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        (lkey(), value(), value()).prop_map(|(k, a, b)| vec!["LPUSH".into(), k, a, b]),
        (lkey(), value()).prop_map(|(k, a)| vec!["RPUSH".into(), k, a]),
        (lkey(), value(), value(), value()).prop_map(|(k, a, b, c)| vec![
            "RPUSH".into(),
            k,
            a,
            b,
            c
        ]),
        (lkey(), value()).prop_map(|(k, a)| vec!["LPUSHX".into(), k, a]),
        (lkey(), value()).prop_map(|(k, a)| vec!["RPUSHX".into(), k, a]),
        lkey().prop_map(|k| vec!["LPOP".into(), k]),
        lkey().prop_map(|k| vec!["RPOP".into(), k]),
        (lkey(), int_arg()).prop_map(|(k, n)| vec!["LPOP".into(), k, n]),
        (lkey(), int_arg()).prop_map(|(k, n)| vec!["RPOP".into(), k, n]),
        lkey().prop_map(|k| vec!["LLEN".into(), k]),
        (lkey(), int_arg(), int_arg()).prop_map(|(k, a, b)| vec!["LRANGE".into(), k, a, b]),
        (lkey(), int_arg()).prop_map(|(k, i)| vec!["LINDEX".into(), k, i]),
        (lkey(), int_arg(), value()).prop_map(|(k, i, v)| vec!["LSET".into(), k, i, v]),
        (
            lkey(),
            prop_oneof![Just("BEFORE"), Just("after"), Just("x")],
            value(),
            value()
        )
            .prop_map(|(k, w, p, v)| vec!["LINSERT".into(), k, w.into(), p, v]),
        (lkey(), int_arg(), value()).prop_map(|(k, n, v)| vec!["LREM".into(), k, n, v]),
        (lkey(), int_arg(), int_arg()).prop_map(|(k, a, b)| vec!["LTRIM".into(), k, a, b]),
        (lkey(), value()).prop_map(|(k, v)| vec!["LPOS".into(), k, v]),
        (
            lkey(),
            value(),
            prop_oneof![Just("RANK"), Just("COUNT"), Just("MAXLEN"), Just("NOPE")],
            int_arg(),
            prop_oneof![Just("RANK"), Just("COUNT"), Just("MAXLEN")],
            int_arg()
        )
            .prop_map(|(k, v, o1, a1, o2, a2)| vec![
                "LPOS".into(),
                k,
                v,
                o1.into(),
                a1,
                o2.into(),
                a2
            ]),
        (lkey(), lkey()).prop_map(|(a, b)| vec!["RPOPLPUSH".into(), a, b]),
        (lkey(), lkey(), end(), end()).prop_map(|(a, b, x, y)| vec!["LMOVE".into(), a, b, x, y]),
        (lkey(), lkey(), end()).prop_map(|(a, b, w)| vec!["LMPOP".into(), "2".into(), a, b, w]),
        (lkey(), end(), int_arg()).prop_map(|(k, w, n)| vec![
            "LMPOP".into(),
            "1".into(),
            k,
            w,
            "COUNT".into(),
            n
        ]),
        (int_arg(), lkey(), end()).prop_map(|(n, k, w)| vec!["LMPOP".into(), n, k, w]),
    ]
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![Just("f1"), Just("f2"), Just("f3"), Just("")].prop_map(String::from)
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("1".to_string()),
        Just("-7".to_string()),
        Just("10.5".to_string()),
        Just("9223372036854775807".to_string()),
        Just("abc".to_string()),
        Just("".to_string()),
        Just("1e3".to_string()),
        Just(" 5".to_string()),
        Just("x".repeat(30)),
        "[a-z0-9]{0,8}",
    ]
}

fn int_arg() -> impl Strategy<Value = String> {
    prop_oneof![
        (-5i64..20).prop_map(|v| v.to_string()),
        Just("abc".to_string()),
        Just("9223372036854775807".to_string()),
        Just("-9223372036854775808".to_string()),
        Just("1.5".to_string())
    ]
}

fn float_arg() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0.1".to_string()),
        Just("-2.5".to_string()),
        Just("3".to_string()),
        Just("1e2".to_string()),
        Just("inf".to_string()),
        Just("x".to_string())
    ]
}

fn ttl_secs() -> impl Strategy<Value = String> {
    // Long TTLs (no expiry during a test), zero and negative (immediate), bad.
    prop_oneof![
        Just("1000".to_string()),
        Just("5000".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("abc".to_string())
    ]
}

fn command() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        (key(), value()).prop_map(|(k, v)| vec!["SET".into(), k, v]),
        (
            key(),
            value(),
            prop_oneof![Just("NX"), Just("XX"), Just("GET"), Just("KEEPTTL")]
        )
            .prop_map(|(k, v, o)| vec!["SET".into(), k, v, o.into()]),
        (key(), value(), ttl_secs()).prop_map(|(k, v, t)| vec!["SET".into(), k, v, "EX".into(), t]),
        key().prop_map(|k| vec!["GET".into(), k]),
        (key(), value()).prop_map(|(k, v)| vec!["GETSET".into(), k, v]),
        key().prop_map(|k| vec!["GETDEL".into(), k]),
        (key(), value()).prop_map(|(k, v)| vec!["SETNX".into(), k, v]),
        (key(), key()).prop_map(|(a, b)| vec!["MGET".into(), a, b]),
        (key(), value(), key(), value()).prop_map(|(a, x, b, y)| vec!["MSET".into(), a, x, b, y]),
        (key(), value(), key(), value()).prop_map(|(a, x, b, y)| vec!["MSETNX".into(), a, x, b, y]),
        (key(), value()).prop_map(|(k, v)| vec!["APPEND".into(), k, v]),
        key().prop_map(|k| vec!["STRLEN".into(), k]),
        (key(), int_arg(), int_arg()).prop_map(|(k, a, b)| vec!["GETRANGE".into(), k, a, b]),
        (key(), int_arg(), value()).prop_map(|(k, o, v)| vec!["SETRANGE".into(), k, o, v]),
        key().prop_map(|k| vec!["INCR".into(), k]),
        key().prop_map(|k| vec!["DECR".into(), k]),
        (key(), int_arg()).prop_map(|(k, n)| vec!["INCRBY".into(), k, n]),
        (key(), int_arg()).prop_map(|(k, n)| vec!["DECRBY".into(), k, n]),
        (key(), float_arg()).prop_map(|(k, n)| vec!["INCRBYFLOAT".into(), k, n]),
        (key(), key()).prop_map(|(a, b)| vec!["LCS".into(), a, b]),
        (key(), field(), value()).prop_map(|(k, f, v)| vec!["HSET".into(), k, f, v]),
        (key(), field(), value(), field(), value()).prop_map(|(k, f, v, g, w)| vec![
            "HSET".into(),
            k,
            f,
            v,
            g,
            w
        ]),
        (key(), field(), value()).prop_map(|(k, f, v)| vec!["HSETNX".into(), k, f, v]),
        (key(), field()).prop_map(|(k, f)| vec!["HGET".into(), k, f]),
        (key(), field(), field()).prop_map(|(k, f, g)| vec!["HMGET".into(), k, f, g]),
        (key(), field()).prop_map(|(k, f)| vec!["HDEL".into(), k, f]),
        key().prop_map(|k| vec!["HLEN".into(), k]),
        (key(), field()).prop_map(|(k, f)| vec!["HEXISTS".into(), k, f]),
        key().prop_map(|k| vec!["HGETALL".into(), k]),
        key().prop_map(|k| vec!["HKEYS".into(), k]),
        key().prop_map(|k| vec!["HVALS".into(), k]),
        (key(), field(), int_arg()).prop_map(|(k, f, n)| vec!["HINCRBY".into(), k, f, n]),
        (key(), field(), float_arg()).prop_map(|(k, f, n)| vec!["HINCRBYFLOAT".into(), k, f, n]),
        (key(), field()).prop_map(|(k, f)| vec!["HSTRLEN".into(), k, f]),
        (key(), key()).prop_map(|(a, b)| vec!["DEL".into(), a, b]),
        (key(), key()).prop_map(|(a, b)| vec!["EXISTS".into(), a, b]),
        key().prop_map(|k| vec!["TYPE".into(), k]),
        (key(), key()).prop_map(|(a, b)| vec!["RENAME".into(), a, b]),
        (key(), key()).prop_map(|(a, b)| vec!["RENAMENX".into(), a, b]),
        (key(), key()).prop_map(|(a, b)| vec!["COPY".into(), a, b]),
        (key(), key()).prop_map(|(a, b)| vec!["COPY".into(), a, b, "REPLACE".into()]),
        (key(), ttl_secs()).prop_map(|(k, t)| vec!["EXPIRE".into(), k, t]),
        (
            key(),
            ttl_secs(),
            prop_oneof![Just("NX"), Just("XX"), Just("GT"), Just("LT")]
        )
            .prop_map(|(k, t, o)| vec!["EXPIRE".into(), k, t, o.into()]),
        key().prop_map(|k| vec!["PERSIST".into(), k]),
        key().prop_map(|k| vec!["TTL".into(), k]),
        key().prop_map(|k| vec!["OBJECT".into(), "ENCODING".into(), k]),
        Just(vec!["DBSIZE".to_string()]),
        prop_oneof![Just("0"), Just("1")].prop_map(|d| vec!["SELECT".into(), d.into()]),
        (key(), prop_oneof![Just("0"), Just("1")]).prop_map(|(k, d)| vec![
            "MOVE".into(),
            k,
            d.into()
        ]),
    ]
}

/// Transaction commands: with a key space this small, WATCHed keys are
/// often written by the sequence itself.
fn tx_command() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        3 => Just(vec!["MULTI".to_string()]),
        3 => Just(vec!["EXEC".to_string()]),
        1 => Just(vec!["DISCARD".to_string()]),
        2 => key().prop_map(|k| vec!["WATCH".into(), k]),
        1 => (key(), lkey()).prop_map(|(a, b)| vec!["WATCH".into(), a, b]),
        1 => Just(vec!["UNWATCH".to_string()]),
    ]
}

/// Normalises a reply; an EXEC's elements each as the command it ran
/// (`queued`, the commands answered `+QUEUED` since MULTI).
fn normalise_exec(queued: &[Vec<String>], reply: Vec<u8>) -> String {
    if reply.first() != Some(&b'*') || reply.starts_with(b"*-1") {
        return resp::show(&reply);
    }
    let header = reply.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut out = resp::show(&reply[..header]);
    let mut at = header;
    for cmd in queued {
        let Some(len) = resp::reply_len(&reply[at..]) else {
            break;
        };
        out.push_str(&normalise(cmd, reply[at..at + len].to_vec()));
        at += len;
    }
    out.push_str(&resp::show(&reply[at..]));
    out
}

/// TTL replies are compared as missing (-2), no TTL (-1) or positive.
fn normalise(cmd: &[String], reply: Vec<u8>) -> String {
    if cmd[0] == "TTL" && reply.first() == Some(&b':') {
        let n: i64 = String::from_utf8_lossy(&reply[1..reply.len() - 2])
            .parse()
            .unwrap_or(0);
        return if n >= 0 {
            ":positive".into()
        } else {
            resp::show(&reply)
        };
    }
    match cmd[0].as_str() {
        // A hashtable's order is its table's: compare the members sorted.
        "SMEMBERS" | "SINTER" | "SUNION" | "SDIFF" | "SPOP" => {
            resp::show(&resp::parse(&reply).sorted().bytes())
        }
        // One call scans a whole set with COUNT 1000; other cursors visit
        // different buckets (errors are still compared).
        "SSCAN" if cmd.len() > 3 => resp::show(&resp::parse(&reply).sorted().bytes()),
        "SSCAN" if reply.first() == Some(&b'*') => "a scan step".into(),
        // One call scans a whole sorted set with COUNT 1000; a skip
        // list's index order is its hash's.
        "ZSCAN" => resp::show(&resp::parse(&reply).sorted().bytes()),
        // Random: the kind and size of the reply.
        "SRANDMEMBER" | "ZRANDMEMBER" => resp::parse(&reply).shape(),
        _ => resp::show(&reply),
    }
}

fn run(conn: &mut RawConn, cmds: &[Vec<String>]) -> Vec<String> {
    // The commands queued in the open transaction, if any.
    let mut queued: Option<Vec<Vec<String>>> = None;
    cmds.iter()
        .map(|c| {
            let args: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
            let reply = conn.cmd(&args);
            match c[0].as_str() {
                "MULTI" if reply == b"+OK\r\n" => queued = Some(Vec::new()),
                "EXEC" => {
                    let q = queued.take().unwrap_or_default();
                    return normalise_exec(&q, reply);
                }
                "DISCARD" => queued = None,
                _ if reply == b"+QUEUED\r\n" => {
                    if let Some(q) = &mut queued {
                        q.push(c.clone());
                    }
                }
                _ => {}
            }
            normalise(c, reply)
        })
        .collect()
}

#[test]
fn random_command_sequences_reply_like_redis() {
    // The servers live for this test only, and are stopped when it ends.
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let mut runner = TestRunner::new(Config {
        cases: 96,
        max_shrink_iters: 2000,
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec(
            prop_oneof![
                3 => command(),
                2 => list_command(),
                2 => set_command(),
                3 => zset_command(),
                1 => tx_command()
            ],
            1..40,
        ),
        any::<bool>(),
    );
    let result = runner.run(&strategy, |(cmds, resp3)| {
        let mut r = redis.raw_conn();
        let mut g = gostore.raw_conn();
        for c in [&mut r, &mut g] {
            c.cmd(&[b"FLUSHALL"]);
            if resp3 {
                c.cmd(&[b"HELLO", b"3"]);
            }
        }
        let rr = run(&mut r, &cmds);
        let gr = run(&mut g, &cmds);
        for (i, (a, b)) in rr.iter().zip(&gr).enumerate() {
            prop_assert_eq!(
                a,
                b,
                "command {} {:?} (RESP{}) in {:?}",
                i,
                cmds[i],
                if resp3 { 3 } else { 2 },
                cmds
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
