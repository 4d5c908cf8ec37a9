//! DEBUG, differentially against redis-server (both started with
//! `--enable-debug-command yes` unless a test is about the refusal): the
//! dataset digest of the same random data, DIGEST-VALUE, every DEBUG
//! PROTOCOL type byte for byte in RESP2 and RESP3, the refusal, OBJECT's
//! line, SLEEP, RELOAD keeping the dataset, STRINGMATCH-TEST, and errors.

mod common;

use std::io::Read;
use std::net::SocketAddr;

use common::dataset::{dump, fill_every_type, without_encodings};
use common::resp::{encode, show, RawConn};
use common::{Kind, TestServer};

const REFUSAL: &str = "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n";

fn both(args: &[&str]) -> [TestServer; 2] {
    [TestServer::gostore(args), TestServer::redis(args)]
}

fn enabled() -> [TestServer; 2] {
    both(&["--enable-debug-command", "yes"])
}

/// Sends `args` then PING, and returns every byte before the PONG: the
/// whole answer to `args`, however many RESP items it has (an attribute or
/// a push comes with a reply of its own).
fn answer(c: &mut RawConn, args: &[&str]) -> Vec<u8> {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    let mut out = encode(&a);
    out.extend(encode(&[b"PING"]));
    c.send(&out);
    let mut got = Vec::new();
    let mut tmp = [0u8; 65536];
    while !got.ends_with(b"+PONG\r\n") {
        let n = c.stream.read(&mut tmp).expect("read");
        assert!(n > 0, "closed; got {}", show(&got));
        got.extend_from_slice(&tmp[..n]);
    }
    got.truncate(got.len() - b"+PONG\r\n".len());
    got
}

fn text(c: &mut RawConn, args: &[&str]) -> String {
    String::from_utf8_lossy(&answer(c, args)).into_owned()
}

/// A small deterministic PRNG (xorshift), so both servers get the same data.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn value(&mut self) -> Vec<u8> {
        match self.below(5) {
            // Integers: stored `int`-encoded by both servers, digested by text.
            0 => (self.next() as i64 >> self.below(60))
                .to_string()
                .into_bytes(),
            1 => self.below(10_000).to_string().into_bytes(),
            2 => (0..self.below(100))
                .map(|_| self.below(256) as u8)
                .collect(),
            3 => vec![b'x'; self.below(300) as usize],
            _ => format!("v{}", self.below(1000)).into_bytes(),
        }
    }
}

/// The commands of a random dataset: strings, hashes (packed and table
/// on both servers), lists and sets (intset and hashtable), TTLs, in
/// databases 0 and 3.
fn random_dataset(seed: u64) -> Vec<Vec<Vec<u8>>> {
    let mut r = Lcg(seed);
    let mut cmds: Vec<Vec<Vec<u8>>> = Vec::new();
    for db in ["0", "3"] {
        cmds.push(vec![b"SELECT".to_vec(), db.as_bytes().to_vec()]);
        for i in 0..300 {
            let key = format!("k:{}", r.below(250)).into_bytes();
            match r.below(7) {
                0 | 1 => cmds.push(vec![b"SET".to_vec(), key.clone(), r.value()]),
                3 => {
                    // Lists: order matters to their digest; integers and
                    // strings mixed, pushed at both ends.
                    let lkey = [b"l:".to_vec(), key.clone()].concat();
                    let push: &[u8] = if r.below(2) == 0 { b"LPUSH" } else { b"RPUSH" };
                    let mut c = vec![push.to_vec(), lkey];
                    for _ in 0..1 + r.below(20) {
                        c.push(if r.below(3) == 0 {
                            r.below(100_000).to_string().into_bytes()
                        } else {
                            r.value()
                        });
                    }
                    cmds.push(c);
                }
                4 => {
                    // Sets: all integers (intset) or mixed (hashtable).
                    let skey = [b"s:".to_vec(), key.clone()].concat();
                    let ints = r.below(2) == 0;
                    let mut c = vec![b"SADD".to_vec(), skey];
                    for _ in 0..1 + r.below(20) {
                        c.push(if ints || r.below(3) == 0 {
                            (r.below(200_000) as i64 - 100_000).to_string().into_bytes()
                        } else {
                            r.value()
                        });
                    }
                    cmds.push(c);
                }
                5 => {
                    // Sorted sets: packed, or skip lists by a long member;
                    // integral, fractional and tiny or huge scores.
                    let zkey = [b"z:".to_vec(), key.clone()].concat();
                    let mut c = vec![b"ZADD".to_vec(), zkey];
                    for _ in 0..1 + r.below(20) {
                        let score = match r.below(4) {
                            0 => (r.below(2000) as i64 - 1000).to_string(),
                            1 => format!("{}", (r.below(2000) as f64 - 1000.0) / 8.0),
                            2 => format!("{}e{}", r.below(1000), r.below(600) as i64 - 300),
                            _ => format!("0.{}", r.below(1_000_000)),
                        };
                        c.push(score.into_bytes());
                        c.push(if r.below(30) == 0 {
                            vec![b'w'; 65]
                        } else {
                            r.value()
                        });
                    }
                    cmds.push(c);
                }
                2 => {
                    let hkey = [b"h:".to_vec(), key.clone()].concat();
                    let n = 1 + r.below(20);
                    let mut c = vec![b"HSET".to_vec(), hkey];
                    for _ in 0..n {
                        c.push(format!("f{}", r.below(1000)).into_bytes());
                        c.push(r.value());
                    }
                    cmds.push(c);
                }
                _ => cmds.push(vec![b"DEL".to_vec(), key.clone()]),
            }
            if i % 50 == 0 {
                // Past both servers' listpack limits: a hashtable.
                let mut c = vec![b"HSET".to_vec(), format!("big:{i}").into_bytes()];
                for f in 0..700 {
                    c.push(format!("f{f}").into_bytes());
                    c.push(r.value());
                }
                cmds.push(c);
            }
            if r.below(5) == 0 {
                // Long TTLs: nothing expires during the test.
                let secs = (10_000 + r.below(10_000)).to_string().into_bytes();
                cmds.push(vec![b"EXPIRE".to_vec(), key, secs]);
            }
        }
    }
    cmds.push(vec![b"SELECT".to_vec(), b"0".to_vec()]);
    cmds
}

fn load(port: u16, cmds: &[Vec<Vec<u8>>]) {
    let mut c = RawConn::connect(port);
    for cmd in cmds {
        let a: Vec<&[u8]> = cmd.iter().map(|v| v.as_slice()).collect();
        let r = c.cmd(&a);
        assert!(!r.starts_with(b"-"), "{}: {}", show(&a.concat()), show(&r));
    }
}

#[test]
fn refused_by_default_with_redis_text_before_auth_and_after_arity() {
    for s in both(&[]) {
        let mut c = RawConn::connect(s.port);
        assert_eq!(text(&mut c, &["DEBUG", "DIGEST"]), REFUSAL, "{:?}", s.kind);
        assert_eq!(text(&mut c, &["debug", "help"]), REFUSAL, "{:?}", s.kind);
        assert_eq!(
            text(&mut c, &["DEBUG"]),
            "-ERR wrong number of arguments for 'debug' command\r\n",
            "{:?}: arity comes first",
            s.kind
        );
        assert_eq!(
            text(&mut c, &["CONFIG", "GET", "enable-debug-command"]),
            "*2\r\n$20\r\nenable-debug-command\r\n$2\r\nno\r\n",
            "{:?}",
            s.kind
        );
        assert_eq!(
            text(&mut c, &["CONFIG", "SET", "enable-debug-command", "yes"]),
            "-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config\r\n",
            "{:?}",
            s.kind
        );
    }
    // The refusal comes before authentication, as in Redis.
    for s in both(&["--requirepass", "pw"]) {
        let mut c = RawConn::connect(s.port);
        assert_eq!(c.cmd_str(&["DEBUG", "DIGEST"]), REFUSAL, "{:?}", s.kind);
    }
}

#[test]
fn local_allows_only_127_0_0_1_and_unix_clients() {
    for s in both(&["--enable-debug-command", "local", "--protected-mode", "no"]) {
        let mut c = RawConn::connect(s.port);
        assert_eq!(
            text(&mut c, &["DEBUG", "DIGEST"]),
            "+0000000000000000000000000000000000000000\r\n",
            "{:?}",
            s.kind
        );
        // From 127.0.0.2: loopback, but not "local" to Redis.
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        let from: SocketAddr = "127.0.0.2:0".parse().expect("addr");
        sock.bind(&from.into()).expect("bind 127.0.0.2");
        let to: SocketAddr = format!("127.0.0.1:{}", s.port).parse().expect("addr");
        sock.connect(&to.into()).expect("connect");
        let mut other = RawConn::connect(s.port);
        other.stream = sock.into();
        assert_eq!(
            text(&mut other, &["DEBUG", "DIGEST"]),
            REFUSAL,
            "{:?}",
            s.kind
        );
    }
    for bad in ["maybe", ""] {
        let dir = common::TempDir::new("debugcfg");
        let (_, err) =
            TestServer::start_failing(Kind::GoStore, dir.path(), &["--enable-debug-command", bad]);
        assert!(
            err.contains("argument(s) must be one of the following: no, yes, local"),
            "{err}"
        );
    }
}

#[test]
fn digest_equals_redis_for_the_same_random_dataset() {
    let [g, r] = enabled();
    let cmds = random_dataset(0x9e37_79b9_7f4a_7c15);
    load(g.port, &cmds);
    load(r.port, &cmds);
    let mut gc = RawConn::connect(g.port);
    let mut rc = RawConn::connect(r.port);
    let digest = text(&mut gc, &["DEBUG", "DIGEST"]);
    assert_eq!(digest, text(&mut rc, &["DEBUG", "DIGEST"]));
    assert_ne!(digest, "+0000000000000000000000000000000000000000\r\n");
    // Both hash encodings are in the data, on both servers.
    for c in [&mut gc, &mut rc] {
        assert_eq!(
            text(c, &["OBJECT", "ENCODING", "big:0"]),
            "$9\r\nhashtable\r\n"
        );
        assert!(text(c, &["KEYS", "h:*"]).len() > 100);
    }
    // Both sorted-set encodings too.
    let zkeys = String::from_utf8_lossy(&gc.cmd(&[b"KEYS", b"z:*"])).into_owned();
    let mut encodings = std::collections::BTreeSet::new();
    for k in zkeys.split("\r\n").filter(|l| l.starts_with("z:")) {
        encodings.insert(text(&mut gc, &["OBJECT", "ENCODING", k]));
    }
    assert_eq!(encodings.len(), 2, "{encodings:?}");

    // DIGEST-VALUE of every key of db 0, and of a missing one.
    let all: Vec<String> = {
        let raw = gc.cmd(&[b"KEYS", b"*"]);
        String::from_utf8_lossy(&raw)
            .split("\r\n")
            .filter(|l| !l.is_empty() && !l.starts_with('*') && !l.starts_with('$'))
            .map(str::to_string)
            .collect()
    };
    assert!(all.len() > 100);
    let mut args = vec!["DEBUG", "DIGEST-VALUE"];
    args.extend(all.iter().map(String::as_str));
    args.push("no-such-key");
    assert_eq!(text(&mut gc, &args), text(&mut rc, &args));
    assert_eq!(
        text(&mut gc, &["DEBUG", "DIGEST-VALUE"]),
        text(&mut rc, &["DEBUG", "DIGEST-VALUE"])
    );

    // One changed field, one TTL removed, one db moved: all change the
    // digest, the same way on both.
    for change in [
        vec!["HSET", "big:50", "f1", "changed"],
        vec!["PERSIST", all[0].as_str()],
        vec!["MOVE", all[1].as_str(), "5"],
        vec!["SET", all[2].as_str(), "12345"],
    ] {
        text(&mut gc, &change);
        text(&mut rc, &change);
        let d = text(&mut gc, &["DEBUG", "DIGEST"]);
        assert_ne!(d, digest, "{change:?}");
        assert_eq!(d, text(&mut rc, &["DEBUG", "DIGEST"]), "{change:?}");
    }
}

#[test]
fn digest_of_every_kind_of_value_equals_redis() {
    let [g, r] = enabled();
    fill_every_type(g.port);
    fill_every_type(r.port);
    let mut gc = RawConn::connect(g.port);
    let mut rc = RawConn::connect(r.port);
    // PXAT times come from each call's clock: only "has a TTL" is digested.
    assert_eq!(
        text(&mut gc, &["DEBUG", "DIGEST"]),
        text(&mut rc, &["DEBUG", "DIGEST"])
    );
}

#[test]
fn protocol_replies_are_byte_identical_in_resp2_and_resp3() {
    let [g, r] = enabled();
    let types = [
        "string",
        "integer",
        "double",
        "bignum",
        "null",
        "array",
        "set",
        "map",
        "attrib",
        "push",
        "verbatim",
        "true",
        "false",
        "nosuchtype",
        "STRING",
    ];
    for resp3 in [false, true] {
        let mut gc = RawConn::connect(g.port);
        let mut rc = RawConn::connect(r.port);
        if resp3 {
            gc.cmd(&[b"HELLO", b"3"]);
            rc.cmd(&[b"HELLO", b"3"]);
        }
        for t in types {
            let want = answer(&mut rc, &["DEBUG", "PROTOCOL", t]);
            assert_eq!(
                show(&answer(&mut gc, &["DEBUG", "PROTOCOL", t])),
                show(&want),
                "{t} resp3={resp3}"
            );
        }
    }
}

#[test]
fn object_line_has_redis_shape_and_fields() {
    let [g, r] = enabled();
    let parse = |line: &str| -> Vec<(String, String)> {
        let line = line
            .trim_end()
            .strip_prefix("+Value at:")
            .unwrap_or_else(|| panic!("{line}"));
        format!("Value-at:{line}")
            .split(' ')
            .map(|kv| {
                let (k, v) = kv.split_once(':').expect(kv);
                (k.to_string(), v.to_string())
            })
            .collect()
    };
    let mut gc = RawConn::connect(g.port);
    let mut rc = RawConn::connect(r.port);
    for setup in [
        vec!["SET", "int", "7"],
        vec!["SET", "bigint", "123456789012"],
        vec!["SET", "emb", "hello"],
        vec!["SET", "long", "abcdefghijklmnopqrst"],
        vec!["HSET", "hash", "a", "1", "b", "two", "c", "-5000"],
        vec!["RPUSH", "list", "a", "b", "1", "2", "-300", "hello world"],
        vec!["SADD", "intset", "1", "-300", "70000"],
        vec!["SADD", "setht", "a", "1", "hello world"],
    ] {
        text(&mut gc, &setup);
        text(&mut rc, &setup);
    }
    for key in [
        "int", "bigint", "emb", "long", "hash", "list", "intset", "setht",
    ] {
        let gl = parse(&text(&mut gc, &["DEBUG", "OBJECT", key]));
        let rl = parse(&text(&mut rc, &["DEBUG", "OBJECT", key]));
        let names = |l: &[(String, String)]| l.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(names(&gl), names(&rl), "{key}");
        if key == "list" {
            // A quicklist's shape follows, as Redis's: one small node.
            assert_eq!(gl[1..4], rl[1..4], "{key}");
            assert_eq!(gl[6..], rl[6..], "{key}");
            continue;
        }
        assert_eq!(
            names(&gl),
            [
                "Value-at",
                "refcount",
                "encoding",
                "serializedlength",
                "lru",
                "lru_seconds_idle"
            ]
        );
        assert!(gl[0].1.starts_with("0x"), "{gl:?}");
        // refcount, encoding and serializedlength as Redis (values this
        // short are never LZF-compressed by Redis).
        assert_eq!(gl[1..4], rl[1..4], "{key}");
        assert!(gl[4].1.parse::<u32>().is_ok() && gl[5].1.parse::<u64>().is_ok());
    }
    for c in [&mut gc, &mut rc] {
        assert_eq!(
            text(c, &["DEBUG", "OBJECT", "nokey"]),
            "-ERR no such key\r\n"
        );
    }
}

#[test]
fn sleep_stringmatch_log_and_errors_answer_as_redis() {
    let [g, r] = enabled();
    let mut gc = RawConn::connect(g.port);
    let mut rc = RawConn::connect(r.port);
    for args in [
        vec!["DEBUG", "SLEEP", "0"],
        vec!["DEBUG", "SLEEP", "not-a-number"],
        vec!["DEBUG", "SLEEP", "0.001"],
        vec!["DEBUG", "STRINGMATCH-TEST"],
        // Redis 7.0 has no STRINGMATCH-LEN: its unknown-subcommand error.
        vec!["DEBUG", "STRINGMATCH-LEN"],
        vec!["DEBUG", "LOG", "hello from the test"],
        vec!["DEBUG", "SET-ACTIVE-EXPIRE", "0"],
        vec!["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
        vec!["DEBUG", "CHANGE-REPL-ID"],
        vec!["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "NEVER"],
        vec!["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "RESET"],
        vec!["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100"],
        vec!["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "soon"],
        vec!["DEBUG", "REPLYBUFFER", "RESIZING", "0"],
        vec!["DEBUG", "REPLYBUFFER", "BOGUS", "0"],
        vec!["DEBUG", "ERROR", "MYERR something\r\nbroke"],
        vec!["DEBUG", "NO-SUCH-THING"],
        vec!["DEBUG", "DIGEST", "extra"],
        vec!["DEBUG", "RELOAD", "BOGUS"],
        vec!["DEBUG", "HTSTATS", "99"],
        vec!["DEBUG", "HTSTATS", "x"],
        vec!["DEBUG", "HTSTATS-KEY", "nokey"],
        vec!["DEBUG", "LISTPACK", "nokey"],
    ] {
        assert_eq!(text(&mut gc, &args), text(&mut rc, &args), "{args:?}");
    }
    let help = text(&mut gc, &["DEBUG", "HELP"]);
    assert!(
        help.contains("+DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"),
        "{help}"
    );
}

#[test]
fn type_specific_subcommands_answer_as_redis() {
    let [g, r] = enabled();
    let mut gc = RawConn::connect(g.port);
    let mut rc = RawConn::connect(r.port);
    let mut big = vec!["HSET", "big"];
    let fields: Vec<String> = (0..600).map(|i| format!("f{i}")).collect();
    for f in &fields {
        big.push(f);
        big.push("v");
    }
    let mut zbig = vec!["ZADD", "zbig"];
    for f in &fields {
        zbig.push("1.5");
        zbig.push(f);
    }
    let mut sbig = vec!["SADD", "sbig"];
    sbig.extend(fields.iter().map(String::as_str));
    for setup in [
        vec!["HSET", "small", "a", "1"],
        vec!["SET", "s", "v"],
        vec!["SADD", "sints", "1", "2"],
        sbig,
        vec!["RPUSH", "l", "a", "1"],
        vec!["ZADD", "zsmall", "1", "a", "-2.5", "b"],
        big,
        zbig,
    ] {
        text(&mut gc, &setup);
        text(&mut rc, &setup);
    }
    for args in [
        vec!["DEBUG", "LISTPACK", "small"],
        vec!["DEBUG", "LISTPACK", "s"],
        vec!["DEBUG", "LISTPACK", "big"],
        vec!["DEBUG", "HTSTATS-KEY", "small"],
        vec!["DEBUG", "HTSTATS-KEY", "s"],
        vec!["DEBUG", "HTSTATS-KEY", "l"],
        vec!["DEBUG", "LISTPACK", "l"],
        vec!["DEBUG", "LISTPACK", "zsmall"],
        vec!["DEBUG", "LISTPACK", "zbig"],
        vec!["DEBUG", "HTSTATS-KEY", "zsmall"],
        vec!["DEBUG", "HTSTATS-KEY", "sints"],
        vec!["DEBUG", "LISTPACK", "sints"],
        vec!["DEBUG", "LISTPACK", "sbig"],
        vec!["DEBUG", "QUICKLIST", "zsmall"],
        vec!["DEBUG", "QUICKLIST", "l"],
        vec!["DEBUG", "QUICKLIST", "l", "1"],
        vec!["DEBUG", "QUICKLIST", "s"],
        vec!["DEBUG", "QUICKLIST", "small"],
        vec!["DEBUG", "QUICKLIST", "nokey"],
        vec!["DEBUG", "QUICKLIST", "l", "1", "2"],
        vec!["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"],
        vec!["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1k"],
        vec!["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1gb"],
        vec!["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "4294967296"],
        vec!["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5g"],
        vec!["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "abc"],
        vec!["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "-1"],
        vec!["DEBUG", "QUICKLIST-PACKED-THRESHOLD"],
    ] {
        assert_eq!(text(&mut gc, &args), text(&mut rc, &args), "{args:?}");
    }
    // Table statistics: Redis's layout (the numbers depend on each
    // server's hash function).
    for args in [
        vec!["DEBUG", "HTSTATS-KEY", "big"],
        vec!["DEBUG", "HTSTATS-KEY", "zbig"],
        vec!["DEBUG", "HTSTATS-KEY", "sbig"],
        vec!["DEBUG", "HTSTATS", "0"],
    ] {
        let gt = text(&mut gc, &args);
        let rt = text(&mut rc, &args);
        assert!(gt.starts_with('$'), "{gt}");
        let first = |t: &str| t.lines().nth(1).unwrap_or("").to_string();
        assert_eq!(first(&gt), first(&rt), "{args:?}");
        assert!(gt.contains(" number of elements: "), "{gt}");
        if args[2] == "zbig" {
            // Both tables together (either side may be mid-resize) hold
            // every member: the member index is what is reported.
            let members = |t: &str| -> usize {
                t.lines()
                    .filter_map(|l| l.strip_prefix(" number of elements: "))
                    .filter_map(|n| n.trim().parse::<usize>().ok())
                    .sum()
            };
            assert_eq!(members(&gt), 600, "{gt}");
            assert_eq!(members(&rt), 600, "{rt}");
        }
    }
}

#[test]
fn reload_keeps_the_dataset_and_the_aof() {
    let [mut g, r] = enabled();
    fill_every_type(g.port);
    load(g.port, &random_dataset(42));
    let mut c = RawConn::connect(g.port);
    let before = text(&mut c, &["DEBUG", "DIGEST"]);
    let dump_before = without_encodings(&dump(g.port, 16));
    assert_eq!(text(&mut c, &["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(text(&mut c, &["DEBUG", "DIGEST"]), before);
    assert_eq!(without_encodings(&dump(g.port, 16)), dump_before);
    // As Redis, it went through dbfilename (an RDB), and the AOF still
    // loads the same data.
    let rdb = std::fs::read(g.path.join("dump.rdb")).expect("DEBUG RELOAD saves dbfilename");
    assert!(rdb.starts_with(b"REDIS0010"));
    text(&mut c, &["SET", "after-reload", "1"]);
    let before_restart = text(&mut c, &["DEBUG", "DIGEST"]);
    drop(c);
    g.sigterm();
    g.restart();
    let mut c = RawConn::connect(g.port);
    assert_eq!(text(&mut c, &["DEBUG", "DIGEST"]), before_restart);
    // Redis's own RELOAD keeps its digest too (the oracle agrees).
    let mut rc = RawConn::connect(r.port);
    load(r.port, &random_dataset(42));
    let rd = text(&mut rc, &["DEBUG", "DIGEST"]);
    assert_eq!(text(&mut rc, &["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(text(&mut rc, &["DEBUG", "DIGEST"]), rd);
}
