//! Where commands signal keys and emit keyspace events: each command is run
//! through `process_command` on a real `Core`, and the events delivered
//! (`notify::recorder`) and the keys signalled (`Db::hooks`) are compared
//! with Redis's. The expected events are what redis-server 7.0.15 publishes
//! on `__keyevent@<db>__:<event>` for the same commands with
//! `notify-keyspace-events AKEnm` (captured with `PSUBSCRIBE`); the class
//! of each event name is Redis's (`CLASS_OF`).

use std::sync::Arc;

use super::{process_command, Exec, Redaction};
use crate::aof::Aof;
use crate::client::{ClientState, Clients};
use crate::config::Config;
use crate::core::{Core, Stats};
use crate::db::hooks::Signal;
use crate::db::Db;
use crate::notify::{self, recorder};
use crate::resp::parser::OwnedArgs;
use crate::resp::Reply;

/// Redis's class for each event name GoStore emits.
const CLASS_OF: &[(&str, u32)] = &[
    ("new", notify::NEW),
    ("keymiss", notify::KEY_MISS),
    ("expired", notify::EXPIRED),
    ("evicted", notify::EVICTED),
    ("set", notify::STRING),
    ("append", notify::STRING),
    ("setrange", notify::STRING),
    ("incrby", notify::STRING),
    ("incrbyfloat", notify::STRING),
    ("hset", notify::HASH),
    ("hdel", notify::HASH),
    ("hincrby", notify::HASH),
    ("hincrbyfloat", notify::HASH),
    ("lpush", notify::LIST),
    ("rpush", notify::LIST),
    ("lpop", notify::LIST),
    ("rpop", notify::LIST),
    ("lset", notify::LIST),
    ("linsert", notify::LIST),
    ("lrem", notify::LIST),
    ("ltrim", notify::LIST),
    ("sadd", notify::SET),
    ("srem", notify::SET),
    ("spop", notify::SET),
    ("sinterstore", notify::SET),
    ("sunionstore", notify::SET),
    ("sdiffstore", notify::SET),
    ("sortstore", notify::LIST),
    ("zadd", notify::ZSET),
    ("georadiusstore", notify::ZSET),
    ("geosearchstore", notify::ZSET),
    ("zincr", notify::ZSET),
    ("zrem", notify::ZSET),
    ("zremrangebyrank", notify::ZSET),
    ("zremrangebyscore", notify::ZSET),
    ("zremrangebylex", notify::ZSET),
    ("zpopmin", notify::ZSET),
    ("zpopmax", notify::ZSET),
    ("zrangestore", notify::ZSET),
    ("zunionstore", notify::ZSET),
    ("zinterstore", notify::ZSET),
    ("zdiffstore", notify::ZSET),
    ("del", notify::GENERIC),
    ("expire", notify::GENERIC),
    ("persist", notify::GENERIC),
    ("rename_from", notify::GENERIC),
    ("rename_to", notify::GENERIC),
    ("move_from", notify::GENERIC),
    ("move_to", notify::GENERIC),
    ("copy_to", notify::GENERIC),
];

fn class_of(event: &str) -> u32 {
    CLASS_OF
        .iter()
        .find(|(n, _)| *n == event)
        .map(|(_, c)| *c)
        .unwrap_or_else(|| panic!("no class for event {event}"))
}

/// A server without clients' sockets: the keyspace, the core and one
/// client.
struct Harness {
    dbs: Vec<Db>,
    core: Core,
    client: ClientState,
    clients: Clients,
    redaction: Redaction,
    _poll: mio::Poll,
    /// The lazyfree thread registers the process's bucket freer, which
    /// tests hand around under this lock; dropped last, after `core`.
    _freer_lock: std::sync::MutexGuard<'static, ()>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.core.config.unixsocket);
    }
}

impl Harness {
    fn new() -> Harness {
        let freer_lock = crate::db::dict::FREER_TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        recorder::enable_all();
        // No TCP port; one Unix socket, since a server must listen somewhere.
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let sock =
            std::env::temp_dir().join(format!("gostore-events-{}-{n}.sock", std::process::id()));
        let config = Config {
            port: 0,
            unixsocket: sock.to_string_lossy().into_owned(),
            appendonly: false,
            ..Config::default()
        };
        let poll = mio::Poll::new().expect("poll");
        let registry = poll.registry().try_clone().expect("registry");
        let listeners = crate::listeners::Listeners::bind(&config, registry).expect("no sockets");
        let mut rng = crate::util::rand::Rng::from_entropy();
        let core = Core {
            aof: Aof::new(&config, Arc::new(|| {})),
            config,
            config_file: None,
            stats: Stats::default(),
            commands: super::CommandTable::new(),
            run_id: crate::core::new_run_id(&mut rng),
            rng,
            expire: Default::default(),
            lazyfree: crate::lazyfree::LazyFree::start().expect("lazyfree"),
            listeners,
            started: std::time::Instant::now(),
            started_ms: crate::util::time::unix_ms(),
            next_client_id: 0,
            dirty: 0,
            lastsave: 0,
            rdb: Default::default(),
            shutdown: None,
            loading: false,
            load: None,
            peak_memory: 0,
            clock: Default::default(),
            ops: Default::default(),
            evict: crate::evict::Evictor::new(),
            propagator: Default::default(),
            blocked: Default::default(),
            pubsub: Default::default(),
            tracking: Default::default(),
            scripting: Default::default(),
            replica: None,
            is_replica: false,
        };
        let mut client = ClientState::new(1, "test".into(), "test".into(), -1, false, 0, true);
        client.db = 0;
        let h = Harness {
            dbs: Db::numbered(3),
            core,
            client,
            clients: Clients::default(),
            redaction: Redaction::default(),
            _poll: poll,
            _freer_lock: freer_lock,
        };
        recorder::take();
        h
    }

    /// Runs one command; returns its reply.
    fn run(&mut self, argv: &[&str]) -> String {
        self.core.clock.refresh();
        let mut reply = Reply::new();
        let args = OwnedArgs::new(argv.iter().map(|a| a.as_bytes().to_vec()));
        let mut x = Exec {
            dbs: &mut self.dbs,
            client: &mut self.client,
            reply: &mut reply,
            clients: &mut self.clients,
            core: &mut self.core,
            redaction: &mut self.redaction,
        };
        process_command(&mut x, &args.args());
        String::from_utf8_lossy(reply.pending()).into_owned()
    }

    /// Runs a command line split on spaces.
    fn cmd(&mut self, line: &str) -> String {
        let argv: Vec<&str> = line.split(' ').collect();
        self.run(&argv)
    }

    /// Events delivered since the last call: (event, key, db), each checked
    /// to carry Redis's class for its name.
    fn events(&mut self) -> Vec<(&'static str, String, usize)> {
        recorder::take()
            .into_iter()
            .map(|(class, name, key, db)| {
                assert_eq!(class, class_of(name), "class of {name}");
                (name, String::from_utf8_lossy(&key).into_owned(), db)
            })
            .collect()
    }

    /// Keys signalled since the last call, per database (flushes and swaps
    /// as `*flushed*` and `*swapped*`).
    fn signals(&mut self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for db in &mut self.dbs {
            for s in std::mem::take(&mut db.hooks.log) {
                let what = match s {
                    Signal::Key(k) => String::from_utf8_lossy(&k).into_owned(),
                    Signal::Flushed => "*flushed*".into(),
                    Signal::Swapped => "*swapped*".into(),
                };
                out.push((db.id(), what));
            }
        }
        out
    }

    /// Clears what was recorded so far.
    fn reset(&mut self) {
        self.events();
        self.signals();
    }
}

/// Runs `(command, expected events in db 0)` steps in order.
fn check(steps: &[(&str, &[(&str, &str)])]) {
    let mut h = Harness::new();
    for (line, want) in steps {
        h.cmd(line);
        let got = h.events();
        let want: Vec<(&str, String, usize)> =
            want.iter().map(|(e, k)| (*e, k.to_string(), 0)).collect();
        assert_eq!(got, want, "events of `{line}`");
    }
}

#[test]
fn string_commands_emit_redis_s_events() {
    check(&[
        ("SET k v", &[("new", "k"), ("set", "k")]),
        ("SET k v2 KEEPTTL", &[("set", "k")]),
        ("SET k v NX", &[]),
        ("SET k v XX", &[("set", "k")]),
        ("SET k2 v XX", &[]),
        ("SET k v PX 100000", &[("set", "k"), ("expire", "k")]),
        (
            "SET b 1 GET",
            &[("keymiss", "b"), ("new", "b"), ("set", "b")],
        ),
        ("GET nokey", &[("keymiss", "nokey")]),
        (
            "GETSET nk new",
            &[("keymiss", "nk"), ("new", "nk"), ("set", "nk")],
        ),
        ("GETSET nk newer", &[("set", "nk")]),
        ("SETNX k x", &[]),
        ("SETNX k4 x", &[("new", "k4"), ("set", "k4")]),
        ("SETEX k 100 v", &[("set", "k"), ("expire", "k")]),
        ("PSETEX k 100000 v", &[("set", "k"), ("expire", "k")]),
        ("MSET a 1 b 2", &[("new", "a"), ("set", "a"), ("set", "b")]),
        ("MSETNX a 1 c 3", &[]),
        (
            "MSETNX x 1 y 2",
            &[("new", "x"), ("set", "x"), ("new", "y"), ("set", "y")],
        ),
        ("APPEND ap hello", &[("new", "ap"), ("append", "ap")]),
        ("APPEND ap world", &[("append", "ap")]),
        ("SETRANGE ap 0 X", &[("setrange", "ap")]),
        ("SETRANGE r 2 ab", &[("new", "r"), ("setrange", "r")]),
        ("STRLEN nokey", &[("keymiss", "nokey")]),
        ("GETRANGE nokey 0 1", &[("keymiss", "nokey")]),
        ("INCR n", &[("new", "n"), ("incrby", "n")]),
        ("INCR n", &[("incrby", "n")]),
        ("INCRBY n 5", &[("incrby", "n")]),
        ("DECR n", &[("incrby", "n")]),
        ("DECRBY n 2", &[("incrby", "n")]),
        ("INCRBYFLOAT f 1.5", &[("new", "f"), ("incrbyfloat", "f")]),
        ("INCRBYFLOAT f 1.5", &[("incrbyfloat", "f")]),
        ("INCR ap", &[]),
        ("INCRBYFLOAT ap 1", &[]),
        ("GETDEL k", &[("del", "k")]),
        ("GETDEL k", &[("keymiss", "k")]),
        ("SET k v", &[("new", "k"), ("set", "k")]),
        ("GETEX k", &[]),
        ("GETEX k EX 100", &[("expire", "k")]),
        ("GETEX k PERSIST", &[("persist", "k")]),
        ("GETEX k PERSIST", &[]),
        ("GETEX k PXAT 1", &[("del", "k")]),
        ("GETEX nokey EX 10", &[("keymiss", "nokey")]),
        ("MGET a zz", &[("keymiss", "zz")]),
        ("LCS a zz", &[("keymiss", "zz")]),
    ]);
}

#[test]
fn setrange_with_nothing_to_write_and_wrong_types_emit_nothing() {
    check(&[
        ("SET k abc", &[("new", "k"), ("set", "k")]),
        ("HSET h f v", &[("new", "h"), ("hset", "h")]),
        ("APPEND h x", &[]),
        ("SET h x GET", &[]),
    ]);
    // An empty value really is empty (the line splitter above cannot say so).
    let mut h = Harness::new();
    h.run(&["SET", "k", "abc"]);
    h.reset();
    assert_eq!(h.run(&["SETRANGE", "k", "0", ""]), ":3\r\n");
    assert_eq!(h.run(&["SETRANGE", "nokey", "5", ""]), ":0\r\n");
    assert_eq!(h.events(), []);
    assert_eq!(h.signals(), []);
}

#[test]
fn hash_commands_emit_redis_s_events() {
    check(&[
        ("HSET h f v", &[("new", "h"), ("hset", "h")]),
        ("HSET h f v", &[("hset", "h")]),
        ("HSET h f v2 g w", &[("hset", "h")]),
        ("HMSET h f v", &[("hset", "h")]),
        ("HSETNX h f v", &[]),
        ("HSETNX h n v", &[("hset", "h")]),
        ("HSETNX h2 n v", &[("new", "h2"), ("hset", "h2")]),
        ("HGET nokey f", &[("keymiss", "nokey")]),
        ("HGET h nofield", &[]),
        ("HMGET nokey f", &[("keymiss", "nokey")]),
        ("HGETALL nokey", &[("keymiss", "nokey")]),
        ("HKEYS nokey", &[("keymiss", "nokey")]),
        ("HVALS nokey", &[("keymiss", "nokey")]),
        ("HLEN nokey", &[("keymiss", "nokey")]),
        ("HEXISTS nokey f", &[("keymiss", "nokey")]),
        ("HSTRLEN nokey f", &[("keymiss", "nokey")]),
        ("HRANDFIELD nokey", &[("keymiss", "nokey")]),
        ("HRANDFIELD nokey 2", &[("keymiss", "nokey")]),
        ("HSCAN nokey 0", &[("keymiss", "nokey")]),
        ("HDEL h nofield", &[]),
        ("HDEL nokey f", &[]),
        ("HDEL h f g", &[("hdel", "h")]),
        ("HDEL h n", &[("hdel", "h"), ("del", "h")]),
        ("HINCRBY h2 x 1", &[("hincrby", "h2")]),
        ("HINCRBY h3 x 1", &[("new", "h3"), ("hincrby", "h3")]),
        ("HINCRBYFLOAT h2 y 1.5", &[("hincrbyfloat", "h2")]),
        (
            "HINCRBYFLOAT h4 y 1.5",
            &[("new", "h4"), ("hincrbyfloat", "h4")],
        ),
        ("HSET h2 s abc", &[("hset", "h2")]),
        ("HINCRBY h2 s 1", &[]),
        ("HINCRBYFLOAT h2 s 1", &[]),
        ("SET str x", &[("new", "str"), ("set", "str")]),
        ("HSET str f v", &[]),
        ("HGET str f", &[]),
    ]);
}

#[test]
fn list_commands_emit_redis_s_events() {
    check(&[
        ("RPUSH l a b c", &[("new", "l"), ("rpush", "l")]),
        ("LPUSH l x", &[("lpush", "l")]),
        ("RPUSHX l y", &[("rpush", "l")]),
        ("LPUSHX nolist y", &[]),
        ("RPUSHX nolist y", &[]),
        ("LPUSH l2 z", &[("new", "l2"), ("lpush", "l2")]),
        ("LPOP l", &[("lpop", "l")]),
        ("RPOP l 2", &[("rpop", "l")]),
        ("LPOP l 0", &[]),
        ("LPOP nolist", &[]),
        ("LPOP l2", &[("lpop", "l2"), ("del", "l2")]),
        ("LINDEX nokey 0", &[("keymiss", "nokey")]),
        ("LRANGE nokey 0 1", &[("keymiss", "nokey")]),
        ("LLEN nokey", &[("keymiss", "nokey")]),
        ("LPOS nokey a", &[("keymiss", "nokey")]),
        ("LSET l 0 q", &[("lset", "l")]),
        ("LINSERT l BEFORE q p", &[("linsert", "l")]),
        ("LINSERT l BEFORE missing p", &[]),
        ("LREM l 1 missing", &[]),
        ("LREM l 1 p", &[("lrem", "l")]),
        ("LTRIM l 0 -1", &[("ltrim", "l")]),
        ("RPUSH l m n o", &[("rpush", "l")]),
        ("LTRIM l 1 -1", &[("ltrim", "l")]),
        (
            "RPOPLPUSH l d",
            &[("new", "d"), ("lpush", "d"), ("rpop", "l")],
        ),
        ("LMOVE l d LEFT RIGHT", &[("rpush", "d"), ("lpop", "l")]),
        ("LMOVE d d LEFT RIGHT", &[("rpush", "d"), ("lpop", "d")]),
        ("LMPOP 2 nolist d RIGHT COUNT 1", &[("rpop", "d")]),
        ("LMPOP 1 nolist LEFT", &[]),
        ("LMOVE nolist d LEFT LEFT", &[]),
        ("RPUSH one x", &[("new", "one"), ("rpush", "one")]),
        (
            "LMOVE one one LEFT RIGHT",
            &[("rpush", "one"), ("lpop", "one")],
        ),
        (
            "LMOVE one two LEFT RIGHT",
            &[
                ("new", "two"),
                ("rpush", "two"),
                ("lpop", "one"),
                ("del", "one"),
            ],
        ),
        ("LTRIM two 5 10", &[("ltrim", "two"), ("del", "two")]),
        ("SET str v", &[("new", "str"), ("set", "str")]),
        ("LPUSH str a", &[]),
        ("LMOVE d str LEFT LEFT", &[]),
        ("LMPOP 1 d LEFT COUNT 100", &[("lpop", "d"), ("del", "d")]),
    ]);
}

#[test]
fn sort_emits_redis_s_events() {
    check(&[
        ("RPUSH l 3 1 2", &[("new", "l"), ("rpush", "l")]),
        ("SORT l", &[]),
        ("SORT l STORE d", &[("new", "d"), ("sortstore", "d")]),
        ("SORT l STORE d", &[("sortstore", "d")]),
        (
            "SORT l BY w_* GET x_* STORE d",
            &[
                ("keymiss", "w_3"),
                ("keymiss", "w_1"),
                ("keymiss", "w_2"),
                ("keymiss", "x_1"),
                ("keymiss", "x_2"),
                ("keymiss", "x_3"),
                ("sortstore", "d"),
            ],
        ),
        (
            "SORT nosuch STORE d",
            &[("keymiss", "nosuch"), ("del", "d")],
        ),
        ("SORT nosuch STORE d", &[("keymiss", "nosuch")]),
        ("SET s x", &[("new", "s"), ("set", "s")]),
        ("SORT l LIMIT 0 0 STORE s", &[("del", "s")]),
        (
            "SORT l BY h_*->f",
            &[("keymiss", "h_3"), ("keymiss", "h_1"), ("keymiss", "h_2")],
        ),
    ]);
}

/// Captured from redis-server 7.0.15 (`PSUBSCRIBE __keyevent@0__:*`):
/// GEOADD is ZADD's `zadd`, the stores `geosearchstore` and
/// `georadiusstore` (also for GEORADIUSBYMEMBER), an empty result `del`.
#[test]
fn geo_commands_emit_redis_s_events() {
    check(&[
        (
            "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
            &[("new", "g"), ("zadd", "g")],
        ),
        ("GEOADD g 13.361389 38.115556 Palermo", &[]),
        ("GEOADD g XX 1 1 nope", &[]),
        ("GEOADD g XX CH 13.4 38.1 Palermo", &[("zadd", "g")]),
        ("GEOADD g NX 200 1 bad", &[]),
        ("GEOADD fresh XX 1 1 a", &[]),
        ("GEODIST g Palermo Catania", &[]),
        ("GEODIST nokey a b", &[("keymiss", "nokey")]),
        ("GEOPOS nokey a", &[("keymiss", "nokey")]),
        ("GEOHASH g Palermo", &[]),
        ("GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km", &[]),
        (
            "GEOSEARCH nokey FROMMEMBER a BYRADIUS 200 km",
            &[("keymiss", "nokey")],
        ),
        (
            "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km",
            &[("new", "d"), ("geosearchstore", "d")],
        ),
        (
            "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
            &[("geosearchstore", "d")],
        ),
        (
            "GEORADIUS g 15 37 200 km STORE d2",
            &[("new", "d2"), ("georadiusstore", "d2")],
        ),
        (
            "GEORADIUSBYMEMBER g Palermo 200 km STOREDIST d2",
            &[("georadiusstore", "d2")],
        ),
        ("GEORADIUS g 0 0 1 km STORE d2", &[("del", "d2")]),
        ("GEORADIUS g 0 0 1 km STORE d2", &[]),
        (
            "GEOSEARCHSTORE d nokey FROMLONLAT 0 0 BYRADIUS 1 km",
            &[("keymiss", "nokey"), ("del", "d")],
        ),
        ("GEORADIUS_RO g 15 37 200 km", &[]),
    ]);
}

#[test]
fn list_commands_signal_what_they_change() {
    let mut h = Harness::new();
    h.cmd("RPUSH l a b c d e");
    h.cmd("SET str v");
    h.reset();
    for (line, keys) in [
        ("LPUSH l x", &["l"][..]),
        ("RPUSHX nolist x", &[]),
        ("LPOP l 0", &[]),
        ("LPOP nolist", &[]),
        ("LINDEX l 0", &[]),
        ("LRANGE l 0 -1", &[]),
        ("LSET l 0 y", &["l"]),
        ("LSET l 99 y", &[]),
        ("LINSERT l BEFORE missing z", &[]),
        ("LINSERT l BEFORE y z", &["l"]),
        ("LREM l 0 missing", &[]),
        ("LREM l 0 z", &["l"]),
        ("LTRIM l 0 -1", &["l"]),
        ("LPOS l a", &[]),
        ("RPOPLPUSH l d", &["d", "l"]),
        ("LMOVE l str LEFT LEFT", &[]),
        ("LMOVE nolist d LEFT LEFT", &[]),
        ("LMPOP 2 nolist d LEFT", &["d"]),
        ("LPUSH str a", &[]),
    ] {
        h.cmd(line);
        let got: Vec<String> = h.signals().into_iter().map(|(_, k)| k).collect();
        assert_eq!(got, keys, "`{line}`");
    }
}

#[test]
fn set_commands_emit_redis_s_events() {
    check(&[
        ("SADD s 1 2 3", &[("new", "s"), ("sadd", "s")]),
        ("SADD s 1", &[]),
        ("SADD s a", &[("sadd", "s")]),
        ("SADD s2 x", &[("new", "s2"), ("sadd", "s2")]),
        ("SREM s nothere", &[]),
        ("SREM s 1 2", &[("srem", "s")]),
        ("SREM nokey a", &[]),
        ("SMEMBERS nokey", &[("keymiss", "nokey")]),
        ("SISMEMBER nokey a", &[("keymiss", "nokey")]),
        ("SMISMEMBER nokey a", &[("keymiss", "nokey")]),
        ("SCARD nokey", &[("keymiss", "nokey")]),
        ("SRANDMEMBER nokey", &[("keymiss", "nokey")]),
        ("SSCAN nokey 0", &[("keymiss", "nokey")]),
        ("SPOP nokey", &[]),
        ("SPOP nokey 2", &[]),
        ("SPOP s 0", &[]),
        ("SADD p 1 2 3 4 5 6", &[("new", "p"), ("sadd", "p")]),
        ("SPOP p 2", &[("spop", "p")]),
        ("SPOP p 10", &[("spop", "p"), ("del", "p")]),
        ("SADD p1 a", &[("new", "p1"), ("sadd", "p1")]),
        ("SPOP p1", &[("spop", "p1"), ("del", "p1")]),
        ("SADD p2 a b", &[("new", "p2"), ("sadd", "p2")]),
        ("SPOP p2", &[("spop", "p2")]),
        ("SMOVE nokey s x", &[]),
        (
            "SMOVE s2 s x",
            &[("srem", "s2"), ("del", "s2"), ("sadd", "s")],
        ),
        ("SMOVE s s 3", &[]),
        ("SADD m 1 2", &[("new", "m"), ("sadd", "m")]),
        (
            "SMOVE m m2 1",
            &[("srem", "m"), ("new", "m2"), ("sadd", "m2")],
        ),
        ("SMOVE m s 2", &[("srem", "m"), ("del", "m"), ("sadd", "s")]),
        ("SADD t 3", &[("new", "t"), ("sadd", "t")]),
        ("SMOVE t s 3", &[("srem", "t"), ("del", "t")]),
        ("SINTER s nokey", &[("keymiss", "nokey")]),
        ("SINTERSTORE d s s", &[("new", "d"), ("sinterstore", "d")]),
        (
            "SINTERSTORE d s nokey",
            &[("keymiss", "nokey"), ("del", "d")],
        ),
        ("SINTERSTORE d s nokey", &[("keymiss", "nokey")]),
        ("SUNIONSTORE d s", &[("new", "d"), ("sunionstore", "d")]),
        ("SDIFFSTORE d s s", &[("del", "d")]),
        ("SADD o 99", &[("new", "o"), ("sadd", "o")]),
        ("SUNIONSTORE d s o", &[("new", "d"), ("sunionstore", "d")]),
        ("SDIFFSTORE d2 o s", &[("new", "d2"), ("sdiffstore", "d2")]),
        ("SINTERSTORE d2 o s", &[("del", "d2")]),
        ("SINTERCARD 2 s nokey", &[("keymiss", "nokey")]),
        ("SET str v", &[("new", "str"), ("set", "str")]),
        ("SADD str a", &[]),
        ("SINTERSTORE str s", &[("sinterstore", "str")]),
        ("SREM s a 3", &[("srem", "s")]),
    ]);
}

#[test]
fn set_commands_signal_what_they_change() {
    let mut h = Harness::new();
    h.cmd("SADD s 1 2 3 4 5 6 7 8");
    h.cmd("SADD w a b");
    h.cmd("SET str v");
    h.reset();
    for (line, keys) in [
        ("SADD s 1", &[][..]),
        ("SADD s 9", &["s"]),
        ("SREM s nothere", &[]),
        ("SREM s 9", &["s"]),
        ("SMEMBERS s", &[]),
        ("SPOP s 0", &[]),
        ("SPOP s 2", &["s"]),
        ("SPOP nokey", &[]),
        ("SMOVE s s 3", &[]),
        ("SMOVE nokey s 3", &[]),
        ("SMOVE w str a", &[]),
        ("SMOVE w s a", &["w", "s"]),
        ("SMOVE w s b", &["w", "s"]),
        ("SINTERSTORE d s s", &["d"]),
        ("SINTERSTORE d s nokey", &["d"]),
        ("SINTERSTORE d s nokey", &[]),
        ("SUNIONSTORE d s", &["d"]),
        ("SDIFFSTORE d s s", &["d"]),
        ("SINTERSTORE str s", &["str"]),
        ("SET k v", &["k"]),
        ("SADD k x", &[]),
        ("SINTER s k", &[]),
    ] {
        h.cmd(line);
        let got: Vec<String> = h.signals().into_iter().map(|(_, k)| k).collect();
        assert_eq!(got, keys, "`{line}`");
    }
}

/// The steps of `tests/zsetops.rs`'s `KEYSPACE_EVENTS`, whose events that
/// test checks against redis-server's: keep the two lists equal.
#[test]
fn zset_algebra_emits_redis_s_events() {
    check(&[
        ("ZADD z1 1 a 2 b 3 c", &[("new", "z1"), ("zadd", "z1")]),
        ("ZADD z2 10 b 20 c 30 d", &[("new", "z2"), ("zadd", "z2")]),
        ("SADD s1 1 2 a", &[("new", "s1"), ("sadd", "s1")]),
        (
            "ZUNIONSTORE u 3 z1 z2 s1 WEIGHTS 1 inf -inf",
            &[("new", "u"), ("zunionstore", "u")],
        ),
        (
            "ZINTERSTORE i 2 z1 z2 AGGREGATE MAX",
            &[("new", "i"), ("zinterstore", "i")],
        ),
        (
            "ZDIFFSTORE df 2 z1 z2",
            &[("new", "df"), ("zdiffstore", "df")],
        ),
        ("ZDIFFSTORE df 2 z1 z1", &[("del", "df")]),
        ("ZDIFFSTORE df 2 z1 z1", &[]),
        (
            "ZINTERSTORE i 2 z1 none",
            &[("keymiss", "none"), ("del", "i")],
        ),
        ("SET str x", &[("new", "str"), ("set", "str")]),
        ("ZUNIONSTORE str 1 s1", &[("zunionstore", "str")]),
        (
            "ZUNIONSTORE z1 2 z1 z2 WEIGHTS 2 0.5",
            &[("zunionstore", "z1")],
        ),
        ("ZUNION 2 z1 none WITHSCORES", &[("keymiss", "none")]),
        ("ZINTERCARD 2 z1 z2 LIMIT 1", &[]),
        ("ZDIFF 2 none z1", &[("keymiss", "none")]),
        ("ZUNIONSTORE e 0 z1", &[]),
        ("ZUNIONSTORE e 1 z1 WEIGHTS x", &[]),
        ("ZINTERSTORE e 1 str", &[("new", "e"), ("zinterstore", "e")]),
        (
            "ZINTERSTORE e 2 none z1",
            &[("keymiss", "none"), ("del", "e")],
        ),
    ]);
}

#[test]
fn zset_algebra_signals_what_it_changes() {
    let mut h = Harness::new();
    h.cmd("ZADD z1 1 a 2 b");
    h.cmd("SADD s1 1 a");
    h.cmd("SET str v");
    h.reset();
    for (line, keys) in [
        ("ZUNION 2 z1 s1", &[][..]),
        ("ZINTERCARD 2 z1 s1", &[]),
        ("ZUNIONSTORE d 2 z1 s1", &["d"]),
        ("ZINTERSTORE d 2 z1 s1", &["d"]),
        ("ZDIFFSTORE d 2 z1 z1", &["d"]),
        ("ZDIFFSTORE d 2 z1 z1", &[]),
        ("ZDIFFSTORE str 1 s1", &["str"]),
        ("ZUNIONSTORE d 1 str2 WEIGHTS x", &[]),
        ("ZUNIONSTORE d 2 z1 nokey WEIGHTS 1 x", &[]),
    ] {
        h.cmd(line);
        let got: Vec<String> = h.signals().into_iter().map(|(_, k)| k).collect();
        assert_eq!(got, keys, "`{line}`");
    }
}

#[test]
fn zset_commands_emit_redis_s_events() {
    // Captured from redis-server 7.0.15, one command at a time in this order.
    check(&[
        ("ZADD z 1 a 2 b 3 c", &[("new", "z"), ("zadd", "z")]),
        ("ZADD z 1 a", &[]),
        ("ZADD z 5 a", &[("zadd", "z")]),
        ("ZADD z NX 9 a", &[]),
        ("ZADD z XX 9 nope", &[]),
        ("ZADD z XX CH 7 a", &[("zadd", "z")]),
        ("ZADD z GT 1 a", &[]),
        ("ZADD z INCR 1 a", &[("zincr", "z")]),
        ("ZADD z INCR NX 1 a", &[]),
        ("ZADD nokey XX 1 a", &[]),
        ("ZINCRBY z 2 b", &[("zincr", "z")]),
        ("ZINCRBY z2 2 b", &[("new", "z2"), ("zincr", "z2")]),
        ("ZINCRBY z 0 b", &[]),
        ("ZADD z 0 b", &[("zadd", "z")]),
        ("ZREM z nothere", &[]),
        ("ZREM z a", &[("zrem", "z")]),
        ("ZREM z2 b", &[("zrem", "z2"), ("del", "z2")]),
        ("ZREM nokey a", &[]),
        ("ZCARD nokey", &[("keymiss", "nokey")]),
        ("ZSCORE nokey a", &[("keymiss", "nokey")]),
        ("ZMSCORE nokey a", &[("keymiss", "nokey")]),
        ("ZRANK nokey a", &[("keymiss", "nokey")]),
        ("ZREVRANK nokey a", &[("keymiss", "nokey")]),
        ("ZCOUNT nokey 0 1", &[("keymiss", "nokey")]),
        ("ZLEXCOUNT nokey - +", &[("keymiss", "nokey")]),
        ("ZRANGE nokey 0 -1", &[("keymiss", "nokey")]),
        ("ZRANGEBYSCORE nokey 0 1", &[("keymiss", "nokey")]),
        ("ZREVRANGEBYSCORE nokey 1 0", &[("keymiss", "nokey")]),
        ("ZRANGEBYLEX nokey - +", &[("keymiss", "nokey")]),
        ("ZREVRANGEBYLEX nokey + -", &[("keymiss", "nokey")]),
        ("ZREVRANGE nokey 0 -1", &[("keymiss", "nokey")]),
        ("ZRANDMEMBER nokey", &[("keymiss", "nokey")]),
        ("ZSCAN nokey 0", &[("keymiss", "nokey")]),
        ("ZRANGE z 0 -1", &[]),
        ("ZSCORE z b", &[]),
        ("ZADD r 1 a 2 b 3 c 4 d 5 e", &[("new", "r"), ("zadd", "r")]),
        ("ZREMRANGEBYRANK r 10 20", &[]),
        ("ZREMRANGEBYRANK r 0 0", &[("zremrangebyrank", "r")]),
        ("ZREMRANGEBYSCORE r 100 200", &[]),
        ("ZREMRANGEBYSCORE r 2 2", &[("zremrangebyscore", "r")]),
        ("ZREMRANGEBYLEX r [x [z", &[]),
        ("ZREMRANGEBYLEX r - (d", &[("zremrangebylex", "r")]),
        (
            "ZREMRANGEBYRANK r 0 -1",
            &[("zremrangebyrank", "r"), ("del", "r")],
        ),
        ("ZREMRANGEBYRANK nokey 0 -1", &[]),
        ("ZADD p 1 a 2 b 3 c", &[("new", "p"), ("zadd", "p")]),
        ("ZPOPMIN p", &[("zpopmin", "p")]),
        ("ZPOPMAX p", &[("zpopmax", "p")]),
        ("ZPOPMIN p 0", &[]),
        ("ZPOPMIN p 5", &[("zpopmin", "p"), ("del", "p")]),
        ("ZPOPMIN nokey", &[]),
        ("ZPOPMAX nokey 2", &[]),
        ("ZADD p 1 a 2 b", &[("new", "p"), ("zadd", "p")]),
        ("ZMPOP 1 p MIN", &[("zpopmin", "p")]),
        (
            "ZMPOP 2 nokey p MAX COUNT 10",
            &[("zpopmax", "p"), ("del", "p")],
        ),
        ("ZMPOP 1 nokey MIN", &[]),
        ("ZADD p 1 a", &[("new", "p"), ("zadd", "p")]),
        ("BZPOPMIN p 0", &[("zpopmin", "p"), ("del", "p")]),
        ("ZADD p 1 a 2 b", &[("new", "p"), ("zadd", "p")]),
        ("BZPOPMAX p 0", &[("zpopmax", "p")]),
        (
            "BZMPOP 0 1 p MIN COUNT 5",
            &[("zpopmin", "p"), ("del", "p")],
        ),
        ("ZADD s 1 a 2 b 3 c", &[("new", "s"), ("zadd", "s")]),
        ("ZRANGESTORE d s 0 1", &[("new", "d"), ("zrangestore", "d")]),
        ("ZRANGESTORE d s 5 6", &[("del", "d")]),
        ("ZRANGESTORE d s 5 6", &[]),
        ("ZRANGESTORE d nokey 0 -1", &[("keymiss", "nokey")]),
        ("ZRANGESTORE d s 0 -1 BYSCORE REV", &[]),
        (
            "ZRANGESTORE d s (3 (1 BYSCORE REV",
            &[("new", "d"), ("zrangestore", "d")],
        ),
        ("ZRANGESTORE d s [a [b BYLEX", &[("zrangestore", "d")]),
        ("SET str v", &[("new", "str"), ("set", "str")]),
        ("ZADD str 1 a", &[]),
        ("ZRANGESTORE str s 0 0", &[("zrangestore", "str")]),
        ("ZINCRBY s nan a", &[]),
        ("ZADD s INCR -inf c", &[("zincr", "s")]),
        ("ZADD s INCR +inf c", &[]),
        ("ZADD s 1 a 1 nope 2 x", &[("zadd", "s")]),
        ("ZREM s a b c x nope", &[("zrem", "s"), ("del", "s")]),
    ]);
}

#[test]
fn zset_commands_signal_what_they_change() {
    // Redis signals a sorted set when a command adds, updates or removes a
    // member (zaddGenericCommand, zremGenericCommand, zremrangeGeneric),
    // after every pop that found a set, and on ZRANGESTORE's store or
    // delete of the destination.
    let mut h = Harness::new();
    h.cmd("ZADD z 1 a 2 b 3 c 4 d 5 e 6 f");
    h.cmd("SET str v");
    h.reset();
    for (line, keys) in [
        ("ZADD z 1 a", &[][..]),
        ("ZADD z 9 a", &["z"]),
        ("ZADD z NX 1 a", &[]),
        ("ZADD z XX 1 new", &[]),
        ("ZINCRBY z 0 a", &[]),
        ("ZINCRBY z 1 a", &["z"]),
        ("ZADD str 1 a", &[]),
        ("ZREM z nothere", &[]),
        ("ZREM z a", &["z"]),
        ("ZRANGE z 0 -1", &[]),
        ("ZREMRANGEBYRANK z 10 20", &[]),
        ("ZREMRANGEBYRANK z 0 0", &["z"]),
        ("ZREMRANGEBYSCORE z 100 200", &[]),
        ("ZREMRANGEBYSCORE z 3 3", &["z"]),
        ("ZREMRANGEBYLEX z [x [y", &[]),
        ("ZPOPMIN nokey", &[]),
        ("ZPOPMIN z", &["z"]),
        ("ZPOPMAX z", &["z"]),
        ("ZMPOP 1 nokey MIN", &[]),
        ("ZRANGESTORE d z 0 -1", &["d"]),
        ("ZRANGESTORE d z 5 6", &["d"]),
        ("ZRANGESTORE d z 5 6", &[]),
        ("ZRANGESTORE str z 0 0", &["str"]),
        ("ZMPOP 1 z MAX COUNT 9", &["z"]),
    ] {
        h.cmd(line);
        let got: Vec<String> = h.signals().into_iter().map(|(_, k)| k).collect();
        assert_eq!(got, keys, "`{line}`");
    }
}

#[test]
fn keyspace_commands_emit_redis_s_events() {
    check(&[
        ("SET a 1", &[("new", "a"), ("set", "a")]),
        ("UNLINK a nokey", &[("del", "a")]),
        ("EXISTS a nokey", &[("keymiss", "a"), ("keymiss", "nokey")]),
        ("TYPE nokey", &[("keymiss", "nokey")]),
        ("TTL nokey", &[("keymiss", "nokey")]),
        ("PTTL nokey", &[("keymiss", "nokey")]),
        ("EXPIRETIME nokey", &[("keymiss", "nokey")]),
        ("OBJECT ENCODING nokey", &[]),
        ("OBJECT FREQ nokey", &[]),
        ("TOUCH nokey", &[("keymiss", "nokey")]),
        ("SET a 1", &[("new", "a"), ("set", "a")]),
        ("EXPIRE a 100", &[("expire", "a")]),
        ("EXPIRE a 100 NX", &[]),
        ("PEXPIRE a 100000", &[("expire", "a")]),
        ("EXPIREAT a 99999999999", &[("expire", "a")]),
        ("PEXPIREAT a 99999999999999", &[("expire", "a")]),
        ("EXPIRE nokey 10", &[]),
        ("PERSIST a", &[("persist", "a")]),
        ("PERSIST a", &[]),
        ("PERSIST nokey", &[]),
        ("EXPIRE a -1", &[("del", "a")]),
        ("SET a 1", &[("new", "a"), ("set", "a")]),
        ("PEXPIREAT a 1", &[("del", "a")]),
        ("DEL a b nokey", &[]),
        ("SET a 1", &[("new", "a"), ("set", "a")]),
        (
            "RENAME a b",
            &[("new", "b"), ("rename_from", "a"), ("rename_to", "b")],
        ),
        ("SET c 1", &[("new", "c"), ("set", "c")]),
        (
            "RENAME b c",
            &[("new", "c"), ("rename_from", "b"), ("rename_to", "c")],
        ),
        (
            "RENAMENX c d",
            &[("new", "d"), ("rename_from", "c"), ("rename_to", "d")],
        ),
        ("SET e 1", &[("new", "e"), ("set", "e")]),
        ("RENAMENX d e", &[]),
        ("RENAME d d", &[]),
        ("RENAME nokey x", &[]),
        ("COPY e f", &[("new", "f"), ("copy_to", "f")]),
        ("COPY e f", &[]),
        ("COPY e f REPLACE", &[("new", "f"), ("copy_to", "f")]),
        ("COPY nokey f", &[("keymiss", "nokey")]),
        ("DEL e f d", &[("del", "e"), ("del", "f"), ("del", "d")]),
        ("KEYS *", &[]),
        ("SCAN 0", &[]),
        ("RANDOMKEY", &[]),
        ("DBSIZE", &[]),
    ]);
}

#[test]
fn move_and_copy_name_the_destination_database() {
    let mut h = Harness::new();
    h.cmd("SET a 1");
    h.reset();
    assert_eq!(h.cmd("MOVE a 1"), ":1\r\n");
    assert_eq!(
        h.events(),
        [
            ("new", "a".to_string(), 1),
            ("move_from", "a".to_string(), 0),
            ("move_to", "a".to_string(), 1),
        ]
    );
    assert_eq!(h.signals(), [(0, "a".into()), (1, "a".into())]);
    assert_eq!(h.cmd("MOVE a 1"), ":0\r\n");
    h.cmd("SET a 1");
    h.reset();
    assert_eq!(h.cmd("MOVE a 1"), ":0\r\n");
    assert_eq!(h.cmd("COPY a b DB 2"), ":1\r\n");
    assert_eq!(
        h.events(),
        [("new", "b".to_string(), 2), ("copy_to", "b".to_string(), 2)]
    );
    assert_eq!(h.signals(), [(2, "b".into())]);
}

#[test]
fn expiry_emits_expired_lazily_and_from_the_active_cycle() {
    let mut h = Harness::new();
    h.cmd("SET a 1");
    h.cmd("SET b 1");
    h.cmd("SET c 1");
    for k in [&b"a"[..], b"b", b"c"] {
        h.dbs[0].set_expire(k, 1); // long past
    }
    h.reset();
    // A read finds it expired, then misses (as GETSET did in Redis).
    assert_eq!(h.cmd("GET a"), "$-1\r\n");
    assert_eq!(
        h.events(),
        [
            ("expired", "a".to_string(), 0),
            ("keymiss", "a".to_string(), 0)
        ]
    );
    assert_eq!(h.signals(), [(0, "a".into())]);
    // A write lookup: expired, then the command's own events.
    h.cmd("SET b 2");
    assert_eq!(
        h.events(),
        [
            ("expired", "b".to_string(), 0),
            ("new", "b".to_string(), 0),
            ("set", "b".to_string(), 0),
        ]
    );
    h.reset();
    let now = crate::util::time::unix_ms();
    crate::db::expire::active_expire_cycle(
        &mut h.dbs,
        &mut h.core.expire,
        crate::db::expire::CycleKind::Slow,
        now,
        1,
        10,
    );
    assert_eq!(h.events(), [("expired", "c".to_string(), 0)]);
    assert_eq!(h.signals(), [(0, "c".into())]);
}

#[test]
fn flush_and_swap_signal_whole_databases_and_emit_no_event() {
    let mut h = Harness::new();
    h.cmd("SET a 1");
    h.reset();
    h.cmd("SWAPDB 0 2");
    assert_eq!(
        h.signals(),
        [(0, "*swapped*".into()), (2, "*swapped*".into())]
    );
    assert_eq!(h.dbs[2].id(), 2);
    assert!(h.dbs[2].dict.contains_key(b"a"));
    h.cmd("FLUSHDB");
    assert_eq!(h.signals(), [(0, "*flushed*".into())]);
    h.cmd("FLUSHALL");
    assert_eq!(
        h.signals(),
        [
            (0, "*flushed*".into()),
            (1, "*flushed*".into()),
            (2, "*flushed*".into())
        ]
    );
    assert_eq!(h.events(), []);
}

#[test]
fn commands_that_change_nothing_signal_nothing() {
    let mut h = Harness::new();
    for line in [
        "SET s abc",
        "SET t abc PX 100000",
        "HSET h f v",
        "SET e abc",
    ] {
        h.cmd(line);
    }
    h.reset();
    // Each of these leaves the dataset as it was: WATCH must not see them.
    for line in [
        "GET s",
        "GET nokey",
        "MGET s t nokey",
        "SET s x NX",
        "SET nokey x XX",
        "SETNX s x",
        "MSETNX s 1 other 2",
        "GETEX s",
        "GETEX s PERSIST",
        "GETDEL nokey",
        "INCR s",
        "INCRBYFLOAT s 1",
        "HSET s f v",
        "HSETNX h f other",
        "HDEL h nofield",
        "HDEL nokey f",
        "HINCRBY h f 1",
        "DEL nokey",
        "UNLINK nokey",
        "EXISTS s nokey",
        "TYPE s",
        "TTL t",
        "TOUCH s",
        "EXPIRE nokey 10",
        "EXPIRE t 10 NX",
        "EXPIRE s 10 XX",
        "EXPIRE t 1 GT",
        "PERSIST s",
        "PERSIST nokey",
        "RENAME s s",
        "RENAMENX s e",
        "RENAME nokey x",
        "MOVE nokey 1",
        "COPY s e",
        "COPY nokey x",
        "OBJECT ENCODING s",
        "HGETALL h",
        "SCAN 0",
        "KEYS *",
        "RANDOMKEY",
    ] {
        h.cmd(line);
        assert_eq!(h.signals(), [], "`{line}` signalled");
    }
}

#[test]
fn commands_that_change_a_key_signal_it() {
    let mut h = Harness::new();
    h.cmd("SET s 1");
    h.cmd("HSET h f v g w");
    h.reset();
    for (line, keys) in [
        ("APPEND s 2", &["s"][..]),
        ("SETRANGE s 0 3", &["s"]),
        ("INCR s", &["s"]),
        ("INCRBYFLOAT s 1.5", &["s"]),
        ("HSET h f x", &["h"]),
        ("HSETNX h n v", &["h"]),
        ("HINCRBY h i 1", &["h"]),
        ("HINCRBYFLOAT h i 1", &["h"]),
        ("HDEL h f", &["h"]),
        ("PERSIST s", &[]),
        ("EXPIRE s 100", &["s"]),
        ("PERSIST s", &["s"]),
        ("GETEX s EX 100", &["s"]),
        ("GETEX s PERSIST", &["s"]),
        ("DEL s nokey", &["s"]),
    ] {
        h.cmd(line);
        let got: Vec<String> = h.signals().into_iter().map(|(_, k)| k).collect();
        assert_eq!(got, keys, "`{line}`");
    }
}

#[test]
fn nothing_is_delivered_while_the_classes_are_off() {
    // Which classes pass is `notify::wanted` (its own tests); here: the
    // events of a command carry classes that `A` selects and `$`/`g` split.
    let a = notify::parse_flags(b"A").expect("flags");
    for (name, class) in CLASS_OF {
        let in_a = !matches!(*name, "new" | "keymiss");
        assert_eq!(notify::wanted(a, *class), in_a, "{name}");
    }
    let strings_only = notify::parse_flags(b"$K").expect("flags");
    assert!(notify::wanted(strings_only, class_of("set")));
    assert!(!notify::wanted(strings_only, class_of("del")));
    assert!(!notify::wanted(strings_only, class_of("hset")));
}
