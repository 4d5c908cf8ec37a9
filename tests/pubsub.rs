//! Pub/sub and keyspace notifications with several real clients at once:
//! each scenario runs against redis-server and GoStore, and what every
//! client receives must be the same: subscribe/unsubscribe replies, the
//! RESP2 subscriber context and its `pong`, RESP3 pushes beside replies,
//! fan-out to channel and pattern subscribers, PUBSUB introspection, INFO
//! and CLIENT LIST, RESET and disconnects, MULTI, keyspace notifications
//! for a broad command mix (expiry included), and the slow subscriber cut
//! off by `client-output-buffer-limit pubsub`.

mod common;

use common::resp::{encode, RawConn};
use common::{info_field, wait_for, TestServer};

fn send(c: &mut RawConn, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&encode(&a));
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8_lossy(&b).into_owned()
}

fn read(c: &mut RawConn) -> String {
    text(c.read_reply())
}

/// Runs `scenario` on both servers and compares what it recorded.
fn same_on_both(args: &[&str], scenario: impl Fn(&TestServer) -> Vec<String>) -> Vec<String> {
    let redis = scenario(&TestServer::redis(args));
    let gostore = scenario(&TestServer::gostore(args));
    assert_eq!(gostore, redis);
    gostore
}

/// Subscribes `c` to `channel` (plus the `done` marker) and returns what
/// it received until the marker's message: every message in order.
fn read_until_done(c: &mut RawConn) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        let m = read(c);
        if m.contains("\r\n$4\r\ndone\r\n") {
            return got;
        }
        got.push(m);
    }
}

#[test]
fn a_resp2_subscriber_may_only_run_pubsub_commands_and_gets_pong_messages() {
    let out = same_on_both(&[], |s| {
        let mut c = s.raw_conn();
        let mut log = Vec::new();
        for cmd in [
            &["SSUBSCRIBE", "a"][..],
            &["SUBSCRIBE", "x", "y", "x"],
            &["PSUBSCRIBE", "p*"],
            &["PING"],
            &["PING", "hi"],
            &["GET", "k"],
            &["CLIENT", "LIST"],
            &["SET", "k", "v"],
            &["UNSUBSCRIBE", "x", "nope"],
            &["PUNSUBSCRIBE"],
            &["GET", "k"],
            &["SUNSUBSCRIBE"],
            &["UNSUBSCRIBE"],
            &["GET", "k"],
            &["PING"],
            &["UNSUBSCRIBE"],
            &["SUBSCRIBE"],
        ] {
            send(&mut c, cmd);
            // SUBSCRIBE and UNSUBSCRIBE answer once per channel.
            let n = match cmd[0] {
                "SUBSCRIBE" | "SSUBSCRIBE" | "PSUBSCRIBE" if cmd.len() > 1 => cmd.len() - 1,
                "UNSUBSCRIBE" if cmd.len() > 1 => cmd.len() - 1,
                _ => 1,
            };
            for _ in 0..n {
                log.push(read(&mut c));
            }
        }
        log
    });
    assert!(
        out[8].starts_with("-ERR Can't execute 'client|list'"),
        "{out:?}"
    );
    assert_eq!(out[5], "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

#[test]
fn messages_fan_out_to_channel_and_pattern_subscribers_in_both_protocols() {
    same_on_both(&[], |s| {
        let mut log = Vec::new();
        let mut a = s.raw_conn();
        let mut b = s.raw_conn();
        let mut p = s.raw_conn();
        let mut r3 = s.raw_conn();
        let mut publisher = s.raw_conn();
        log.push(text(a.cmd(&[b"SUBSCRIBE", b"news", b"done"])));
        log.push(read(&mut a));
        log.push(text(b.cmd(&[b"SUBSCRIBE", b"news", b"done"])));
        log.push(read(&mut b));
        log.push(text(p.cmd(&[b"PSUBSCRIBE", b"ne*"])));
        log.push(text(p.cmd(&[b"SUBSCRIBE", b"done"])));
        r3.cmd(&[b"HELLO", b"3"]);
        log.push(text(r3.cmd(&[b"SSUBSCRIBE", b"news"])));
        log.push(text(r3.cmd(&[b"SUBSCRIBE", b"done"])));
        // A RESP3 subscriber still runs commands; replies and pushes interleave.
        log.push(text(r3.cmd(&[b"SET", b"k", b"v"])));
        log.push(text(r3.cmd(&[b"GET", b"k"])));
        for (ch, m) in [
            ("news", "one"),
            ("nets", "two"),
            ("other", "x"),
            ("news", ""),
        ] {
            log.push(publisher.cmd_str(&["PUBLISH", ch, m]));
        }
        log.push(publisher.cmd_str(&["SPUBLISH", "news", "sharded"]));
        log.push(publisher.cmd_str(&["PUBSUB", "NUMSUB", "news", "done", "zzz"]));
        log.push(publisher.cmd_str(&["PUBSUB", "NUMPAT"]));
        log.push(publisher.cmd_str(&["PUBSUB", "CHANNELS", "n*"]));
        log.push(publisher.cmd_str(&["PUBSUB", "SHARDCHANNELS"]));
        log.push(publisher.cmd_str(&["PUBSUB", "SHARDNUMSUB", "news"]));
        for f in ["pubsub_channels", "pubsub_patterns", "pubsubshard_channels"] {
            log.push(info_field(s.port, f).unwrap_or_default());
        }
        let list = publisher.cmd_str(&["CLIENT", "LIST"]);
        let mut subs: Vec<String> = list
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l
                    .split(' ')
                    .filter(|w| {
                        w.starts_with("flags=")
                            || w.starts_with("sub=")
                            || w.starts_with("psub=")
                            || w.starts_with("ssub=")
                    })
                    .collect();
                (f.len() == 4 && f[0].contains('P')).then(|| f.join(" "))
            })
            .collect();
        subs.sort();
        log.extend(subs);
        log.push(publisher.cmd_str(&["PUBLISH", "done", "done"]));
        for c in [&mut a, &mut b, &mut p, &mut r3] {
            log.extend(read_until_done(c));
        }
        // The RESP3 client publishing to itself gets the push first.
        r3.cmd(&[b"SUBSCRIBE", b"self"]);
        send(&mut r3, &["PUBLISH", "self", "me"]);
        log.push(read(&mut r3));
        log.push(read(&mut r3));
        log
    });
}

#[test]
fn reset_disconnect_and_multi_clean_and_keep_subscriptions_as_redis() {
    same_on_both(&[], |s| {
        let mut log = Vec::new();
        let mut watcher = s.raw_conn();
        let mut c = s.raw_conn();
        c.cmd(&[b"SUBSCRIBE", b"a"]);
        c.cmd(&[b"PSUBSCRIBE", b"b*"]);
        log.push(watcher.cmd_str(&["PUBSUB", "NUMSUB", "a"]));
        log.push(text(c.cmd(&[b"RESET"])));
        log.push(watcher.cmd_str(&["PUBSUB", "NUMSUB", "a"]));
        log.push(watcher.cmd_str(&["PUBSUB", "NUMPAT"]));
        log.push(text(c.cmd(&[b"GET", b"a"])));
        // SUBSCRIBE inside MULTI: the client is a subscriber after EXEC.
        log.push(text(c.cmd(&[b"MULTI"])));
        log.push(text(c.cmd(&[b"SUBSCRIBE", b"a"])));
        log.push(text(c.cmd(&[b"PUBLISH", b"a", b"from-multi"])));
        log.push(text(c.cmd(&[b"EXEC"])));
        log.push(text(c.cmd(&[b"GET", b"a"])));
        log.push(watcher.cmd_str(&["PUBLISH", "a", "hello"]));
        log.push(read(&mut c));
        drop(c);
        wait_for(10, "the closed subscriber to leave", || {
            watcher
                .cmd_str(&["PUBSUB", "NUMSUB", "a"])
                .ends_with(":0\r\n")
        });
        log.push(watcher.cmd_str(&["PUBLISH", "a", "nobody"]));
        log
    });
}

/// Every keyspace notification a command mix delivers, as a subscriber to
/// `__key*__:*` receives them.
fn notifications(s: &TestServer, flags: &str) -> Vec<String> {
    let mut c = s.raw_conn();
    c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", flags]);
    let mut sub = s.raw_conn();
    sub.cmd(&[b"PSUBSCRIBE", b"__key*__:*"]);
    sub.cmd(&[b"SUBSCRIBE", b"done"]);
    for cmd in [
        &["SET", "s", "1"][..],
        &["APPEND", "s", "2"],
        &["INCRBY", "s", "5"],
        &["GET", "missing"],
        &["SET", "s", "x", "EX", "100"],
        &["PERSIST", "s"],
        &["RENAME", "s", "t"],
        &["LPUSH", "l", "a", "b"],
        &["LPOP", "l"],
        &["RPOP", "l"],
        &["HSET", "h", "f", "v", "g", "w"],
        &["HDEL", "h", "f"],
        &["HINCRBY", "h", "n", "1"],
        &["SADD", "st", "1", "2"],
        &["SREM", "st", "1"],
        &["SPOP", "st"],
        &["ZADD", "z", "1", "a"],
        &["ZINCRBY", "z", "2", "a"],
        &["ZREM", "z", "a"],
        &["EXPIRE", "t", "100"],
        &["DEL", "t", "h"],
        &["SELECT", "3"],
        &["SET", "in3", "v"],
        &["MOVE", "in3", "0"],
        &["SELECT", "0"],
        &["SETRANGE", "r", "3", "abc"],
        &["INCRBYFLOAT", "f", "1.5"],
        &["HINCRBYFLOAT", "hf", "x", "2.5"],
        &["RPUSH", "l2", "a", "b", "c", "a"],
        &["LSET", "l2", "0", "z"],
        &["LINSERT", "l2", "BEFORE", "b", "y"],
        &["LREM", "l2", "0", "a"],
        &["LTRIM", "l2", "0", "1"],
        &["SORT", "l2", "ALPHA", "STORE", "sorted"],
        &["SADD", "s1", "a", "b"],
        &["SADD", "s2", "b", "c"],
        &["SINTERSTORE", "si", "s1", "s2"],
        &["SUNIONSTORE", "su", "s1", "s2"],
        &["SDIFFSTORE", "sd", "s1", "s2"],
        &["COPY", "s1", "s1copy"],
        &["RENAME", "s1copy", "s1moved"],
        &["SET", "gone", "v", "PX", "1"],
    ] {
        c.cmd_str(cmd);
    }
    // Expired by active expiry, or by the lookup below.
    wait_for(10, "the key to expire", || {
        c.cmd_str(&["EXISTS", "gone"]) == ":0\r\n"
    });
    c.cmd_str(&["FLUSHALL"]);
    c.cmd_str(&["PUBLISH", "done", "done"]);
    read_until_done(&mut sub)
}

#[test]
fn keyspace_notifications_reach_subscribers_as_redis_publishes_them() {
    let all = same_on_both(&[], |s| notifications(s, "AKEm"));
    assert!(
        all.iter().any(|m| m.contains("__keyevent@0__:expired")),
        "{all:?}"
    );
    assert!(
        all.iter().any(|m| m.contains("__keyspace@3__:in3")),
        "{all:?}"
    );
    same_on_both(&[], |s| notifications(s, "Kgn"));
    same_on_both(&[], |s| notifications(s, "E$lshz"));
}

/// Publishes `size`-byte messages until the subscriber is gone.
fn flood_until_cut_off(s: &TestServer, limit: &str) -> Vec<String> {
    let mut c = s.raw_conn();
    let mut log = vec![c.cmd_str(&["CONFIG", "SET", "client-output-buffer-limit", limit])];
    log.push(c.cmd_str(&["CONFIG", "GET", "client-output-buffer-limit"]));
    let mut sub = s.raw_conn();
    sub.cmd(&[b"SUBSCRIBE", b"flood"]);
    // The subscriber reads nothing from here on.
    let payload = "x".repeat(64 * 1024);
    let mut sent = 0u64;
    wait_for(60, "the slow subscriber to be closed", || {
        for _ in 0..16 {
            c.cmd_str(&["PUBLISH", "flood", &payload]);
            sent += 1;
        }
        c.cmd_str(&["PUBSUB", "NUMSUB", "flood"])
            .ends_with(":0\r\n")
    });
    assert!(sent < 100_000);
    // Redis 7.0 has no such counter; GoStore's counts the cut-off.
    if let Some(n) = info_field(s.port, "client_output_buffer_limit_disconnections") {
        assert_eq!(n, "1");
    }
    log.push(c.cmd_str(&["PUBSUB", "NUMSUB", "flood"]));
    log.push(c.cmd_str(&["PUBLISH", "flood", "after"]));
    log
}

#[test]
fn a_slow_subscriber_is_cut_off_at_the_hard_pubsub_limit() {
    same_on_both(&[], |s| flood_until_cut_off(s, "pubsub 1mb 0 0"));
}

#[test]
fn a_slow_subscriber_is_cut_off_after_the_soft_pubsub_limit_lasts() {
    same_on_both(&[], |s| flood_until_cut_off(s, "pubsub 0 256kb 1"));
}

/// An evicted key is announced on both channels, as Redis does (which key
/// goes is the policy's random pick, so only the event is compared).
fn eviction_notice(s: &TestServer) -> Vec<String> {
    let mut c = s.raw_conn();
    c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
    let mut sub = s.raw_conn();
    sub.cmd(&[b"SUBSCRIBE", b"__keyevent@0__:evicted"]);
    c.cmd_str(&["SET", "a", &"v".repeat(1000)]);
    c.cmd_str(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
    c.cmd_str(&["CONFIG", "SET", "maxmemory", "1"]);
    let reply = c.cmd_str(&["SET", "b", "v"]);
    c.cmd_str(&["CONFIG", "SET", "maxmemory", "0"]);
    let msg = read(&mut sub);
    let shape: Vec<&str> = msg.split("\r\n").take(6).collect();
    vec![reply, shape.join(" ")]
}

#[test]
fn evicted_keys_are_announced_as_redis_announces_them() {
    same_on_both(&[], eviction_notice);
}

#[test]
fn subscribers_are_the_pubsub_client_type_for_client_list_and_kill() {
    same_on_both(&[], |s| {
        let mut log = Vec::new();
        let mut c = s.raw_conn();
        let mut sub = s.raw_conn();
        sub.cmd(&[b"SUBSCRIBE", b"a"]);
        let count = |r: String| format!("{} lines", r.matches("id=").count());
        log.push(count(c.cmd_str(&["CLIENT", "LIST", "TYPE", "pubsub"])));
        log.push(count(c.cmd_str(&["CLIENT", "LIST", "TYPE", "normal"])));
        log.push(c.cmd_str(&["CLIENT", "KILL", "TYPE", "pubsub"]));
        wait_for(10, "the killed subscriber to leave", || {
            c.cmd_str(&["PUBSUB", "NUMSUB", "a"]).ends_with(":0\r\n")
        });
        log.push(count(c.cmd_str(&["CLIENT", "LIST", "TYPE", "pubsub"])));
        log
    });
}

/// Every keyspace notification the stream, bitmap and HyperLogLog
/// commands deliver with `flags`, as a subscriber to `__key*__:*`
/// receives them: each command that changes something, and some that
/// change nothing (no event).
fn stream_bit_hll_notifications(s: &TestServer, flags: &str) -> Vec<String> {
    let mut c = s.raw_conn();
    c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", flags]);
    c.cmd_str(&["CONFIG", "SET", "stream-node-max-entries", "2"]);
    let mut sub = s.raw_conn();
    sub.cmd(&[b"PSUBSCRIBE", b"__key*__:*"]);
    sub.cmd(&[b"SUBSCRIBE", b"done"]);
    let mut replies = Vec::new();
    for cmd in [
        // Streams.
        &["XADD", "s", "1-0", "a", "1"][..],
        &["XADD", "s", "2-0", "a", "2"],
        &["XADD", "s", "3-0", "a", "3"],
        &["XADD", "s", "MAXLEN", "2", "4-0", "a", "4"],
        &["XADD", "s", "MAXLEN", "~", "100", "5-0", "a", "5"],
        &["XADD", "none", "NOMKSTREAM", "1-0", "a", "1"],
        &["XTRIM", "s", "MAXLEN", "3"],
        &["XTRIM", "s", "MAXLEN", "3"],
        &["XTRIM", "s", "MINID", "~", "0"],
        &["XDEL", "s", "4-0", "99-0"],
        &["XDEL", "s", "99-0"],
        &["XSETID", "s", "10-0"],
        &["XGROUP", "CREATE", "s", "g", "0"],
        &["XGROUP", "CREATE", "s", "g", "0"],
        &["XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "c1"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "c1"],
        &["XGROUP", "SETID", "s", "g", "0"],
        &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"],
        &["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", ">"],
        &["XREADGROUP", "GROUP", "g", "c4", "STREAMS", "s", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c5",
            "NOACK",
            "STREAMS",
            "m",
            ">",
        ],
        &["XADD", "s", "11-0", "a", "6"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c6",
            "NOACK",
            "STREAMS",
            "s",
            ">",
        ],
        &["XACK", "s", "g", "3-0"],
        &["XCLAIM", "s", "g", "c7", "0", "5-0"],
        &["XCLAIM", "s", "g", "c1", "0", "5-0", "JUSTID"],
        &["XDEL", "s", "5-0"],
        &["XCLAIM", "s", "g", "c8", "0", "5-0"],
        &["XADD", "s", "12-0", "a", "7"],
        &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"],
        &["XDEL", "s", "12-0"],
        &["XAUTOCLAIM", "s", "g", "c9", "0", "0"],
        &["XAUTOCLAIM", "s", "g", "c1", "0", "0"],
        &["XGROUP", "DELCONSUMER", "s", "g", "c2"],
        &["XGROUP", "DELCONSUMER", "s", "g", "nobody"],
        &["XGROUP", "DESTROY", "s", "g"],
        &["XGROUP", "DESTROY", "s", "g"],
        &["XTRIM", "s", "MAXLEN", "0"],
        &["DEL", "s", "m"],
        // Bitmaps.
        &["SETBIT", "b", "7", "1"],
        &["SETBIT", "b", "7", "1"],
        &["SETBIT", "b", "100", "0"],
        &["SETBIT", "b", "7", "0"],
        &["BITOP", "OR", "b2", "b", "none"],
        &["BITOP", "NOT", "b3", "b"],
        &["BITOP", "AND", "b3", "none", "none2"],
        &["BITFIELD", "bf", "SET", "u8", "0", "200"],
        &[
            "BITFIELD", "bf", "INCRBY", "u8", "0", "10", "GET", "u8", "0",
        ],
        &[
            "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "250",
        ],
        &["BITFIELD", "bf", "GET", "u8", "0"],
        &["BITFIELD_RO", "bf", "GET", "u8", "0"],
        &[
            "BITFIELD", "bf2", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9",
        ],
        // HyperLogLog.
        &["PFADD", "h", "a", "b"],
        &["PFADD", "h", "a"],
        &["PFADD", "h2"],
        &["PFADD", "h2"],
        &["PFCOUNT", "h"],
        &["PFCOUNT", "h", "h2"],
        &["PFADD", "h3", "c"],
        &["PFMERGE", "h4", "h", "h3"],
        &["PFMERGE", "h4"],
        &["PFMERGE", "h5", "none"],
        &["PFDEBUG", "TODENSE", "h"],
        &["DEL", "h", "h2"],
    ] {
        replies.push(c.cmd_str(cmd));
    }
    c.cmd_str(&["PUBLISH", "done", "done"]);
    let mut got = read_until_done(&mut sub);
    // The replies too, delivery times aside (XCLAIM/XAUTOCLAIM's are
    // entries and IDs only).
    got.extend(replies);
    got
}

#[test]
fn stream_bitmap_and_hyperloglog_notifications_are_redis_s() {
    let all = same_on_both(&[], |s| stream_bit_hll_notifications(s, "KEA"));
    for event in [
        "xgroup-createconsumer",
        "xtrim",
        "xsetid",
        "setbit",
        "pfadd",
    ] {
        assert!(
            all.iter()
                .any(|m| m.contains(&format!("__keyevent@0__:{event}"))),
            "{event}: {all:?}"
        );
    }
    same_on_both(&[], |s| stream_bit_hll_notifications(s, "Kt"));
    same_on_both(&[], |s| stream_bit_hll_notifications(s, "E$n"));
}
