//! GoStore sharded behind twemproxy (`nutcracker`, ketama over fnv1a_64,
//! hash tags `{}`): a realistic workload through the proxy lands each key
//! on exactly one shard, reads back, replicates to each shard's replica,
//! and answers exactly as the same workload over redis-server shards,
//! with the same keys on the same shard and the same data (DEBUG DIGEST)
//! shard by shard. A failover that keeps the shard's name keeps every key
//! reachable; adding a shard and MIGRATEing the keys ketama gives it (the
//! procedure docs/scaling.md describes) keeps every key and its TTL.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::dataset::{dump, without_encodings};
use common::resp::{parse, RawConn};
use common::{free_port, wait_for, Kind, TempDir, TestServer};

/// The shard names: ketama hashes the names, not the addresses, so two
/// pools with the same names place every key alike.
const NAMES: [&str; 4] = ["shard-a", "shard-b", "shard-c", "shard-d"];

fn nutcracker_bin() -> &'static str {
    for p in [
        "/usr/sbin/nutcracker",
        "/usr/bin/nutcracker",
        "/usr/local/bin/nutcracker",
    ] {
        if Path::new(p).exists() {
            return p;
        }
    }
    panic!("nutcracker (twemproxy) is not installed: run `make oracle`, or `apt-get install -y nutcracker`");
}

/// A running nutcracker with its own config, log and pid file.
struct Proxy {
    child: Child,
    port: u16,
    /// Its config, log and pid file (None once stopped).
    dir: Option<TempDir>,
}

impl Proxy {
    /// Starts nutcracker in front of `shards` (ports, in `NAMES` order).
    fn start(shards: &[u16]) -> Proxy {
        let dir = TempDir::new("nutcracker");
        Proxy::start_in(dir, shards)
    }

    fn start_in(dir: TempDir, shards: &[u16]) -> Proxy {
        let port = free_port();
        let stats = free_port();
        let servers: String = shards
            .iter()
            .zip(NAMES)
            .map(|(p, n)| format!("   - 127.0.0.1:{p}:1 {n}\n"))
            .collect();
        let conf = format!(
            "gostore:\n  listen: 127.0.0.1:{port}\n  hash: fnv1a_64\n  hash_tag: \"{{}}\"\n  distribution: ketama\n  redis: true\n  preconnect: true\n  timeout: 5000\n  auto_eject_hosts: false\n  server_retry_timeout: 2000\n  server_failure_limit: 3\n  servers:\n{servers}"
        );
        let conf_path = dir.path().join("nutcracker.yml");
        std::fs::write(&conf_path, conf).expect("write nutcracker.yml");
        let child = Command::new(nutcracker_bin())
            .arg("-c")
            .arg(&conf_path)
            .arg("-s")
            .arg(stats.to_string())
            .arg("-a")
            .arg("127.0.0.1")
            .arg("-p")
            .arg(dir.path().join("nutcracker.pid"))
            .arg("-o")
            .arg(dir.path().join("nutcracker.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nutcracker");
        let p = Proxy {
            child,
            port,
            dir: Some(dir),
        };
        wait_for(10, "nutcracker to accept", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        p
    }

    /// Stops it, keeping its directory for a restart.
    fn stop(mut self) -> TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.dir.take().expect("a running proxy has its directory")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A reply as text, with the elements of an unordered reply (SMEMBERS)
/// sorted: set iteration order differs between the servers.
fn unordered(c: &mut RawConn, args: &[&str]) -> String {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    let r = parse(&c.cmd(&a)).sorted();
    format!("{args:?} -> {}", String::from_utf8_lossy(&r.bytes()))
}

/// The workload, through the proxy. Returns every reply (as text) and the
/// keys it leaves behind.
fn workload(proxy: u16) -> (Vec<String>, Vec<String>) {
    let mut c = RawConn::connect(proxy);
    let mut out = Vec::new();
    let mut keys = Vec::new();
    let r = |c: &mut RawConn, out: &mut Vec<String>, args: &[&str]| {
        let rep = c.cmd_str(args);
        out.push(format!("{args:?} -> {rep}"));
    };
    for i in 0..40 {
        let (s, h, l, st, z) = (
            format!("s:{i}"),
            format!("h:{i}"),
            format!("l:{i}"),
            format!("set:{i}"),
            format!("z:{i}"),
        );
        let v = format!("v{i}");
        r(&mut c, &mut out, &["SET", &s, &v]);
        r(&mut c, &mut out, &["APPEND", &s, "-x"]);
        r(&mut c, &mut out, &["GET", &s]);
        r(&mut c, &mut out, &["HSET", &h, "name", &v, "n", "1"]);
        r(&mut c, &mut out, &["HINCRBY", &h, "n", "41"]);
        r(&mut c, &mut out, &["HGETALL", &h]);
        r(&mut c, &mut out, &["RPUSH", &l, "a", "b", "c"]);
        r(&mut c, &mut out, &["LPUSH", &l, &v]);
        r(&mut c, &mut out, &["LPOP", &l]);
        r(&mut c, &mut out, &["LRANGE", &l, "0", "-1"]);
        r(&mut c, &mut out, &["SADD", &st, "x", "y", &v]);
        r(&mut c, &mut out, &["SISMEMBER", &st, &v]);
        r(&mut c, &mut out, &["SCARD", &st]);
        r(
            &mut c,
            &mut out,
            &["ZADD", &z, "1", "a", "2.5", "b", "3", &v],
        );
        r(&mut c, &mut out, &["ZINCRBY", &z, "10", "a"]);
        r(&mut c, &mut out, &["ZRANGE", &z, "0", "-1", "WITHSCORES"]);
        r(&mut c, &mut out, &["ZRANK", &z, "a"]);
        r(&mut c, &mut out, &["INCR", &format!("ctr:{}", i % 7)]);
        r(&mut c, &mut out, &["TYPE", &z]);
        keys.extend([s, h, l, st.clone(), z]);
        out.push(unordered(&mut c, &["SMEMBERS", &st]));
    }
    keys.extend((0..7).map(|i| format!("ctr:{i}")));
    // Errors pass through as the shard said them.
    r(&mut c, &mut out, &["INCR", "s:0"]);
    r(&mut c, &mut out, &["LPUSH", "h:0", "x"]);
    // A pipeline of 200 commands in one write.
    let mut batch = Vec::new();
    for i in 0..100 {
        let k = format!("p:{i}");
        batch.extend(common::resp::encode(&[
            b"SET",
            k.as_bytes(),
            i.to_string().as_bytes(),
        ]));
        batch.extend(common::resp::encode(&[b"INCRBY", k.as_bytes(), b"1000"]));
        keys.push(k);
    }
    c.send(&batch);
    for _ in 0..200 {
        out.push(String::from_utf8_lossy(&c.read_reply()).into_owned());
    }
    // MSET, MGET, EXISTS and DEL over every shard (the proxy splits them).
    let mut mset = vec!["MSET".to_string()];
    for i in 0..30 {
        mset.push(format!("m:{i}"));
        mset.push(format!("mv{i}"));
    }
    let a: Vec<&str> = mset.iter().map(|s| s.as_str()).collect();
    r(&mut c, &mut out, &a);
    let mut mget: Vec<String> = vec!["MGET".into()];
    mget.extend((0..30).map(|i| format!("m:{i}")));
    mget.push("missing".into());
    mget.extend((0..10).map(|i| format!("p:{i}")));
    let a: Vec<&str> = mget.iter().map(|s| s.as_str()).collect();
    r(&mut c, &mut out, &a);
    let mut del: Vec<String> = vec!["DEL".into(), "missing".into()];
    del.extend((0..10).map(|i| format!("m:{i}")));
    let a: Vec<&str> = del.iter().map(|s| s.as_str()).collect();
    r(&mut c, &mut out, &a);
    // nutcracker 0.5.0 does not split EXISTS: it goes whole to the first
    // key's shard, which counts only the keys it holds (docs/scaling.md).
    r(
        &mut c,
        &mut out,
        &["EXISTS", "m:0", "m:10", "m:11", "s:1", "nope"],
    );
    keys.extend((10..30).map(|i| format!("m:{i}")));
    // Multi-key commands on one shard, by hash tag.
    r(&mut c, &mut out, &["SADD", "{team}a", "1", "2", "3"]);
    r(&mut c, &mut out, &["SADD", "{team}b", "3", "4"]);
    r(
        &mut c,
        &mut out,
        &["SUNIONSTORE", "{team}all", "{team}a", "{team}b"],
    );
    r(
        &mut c,
        &mut out,
        &["SINTERSTORE", "{team}both", "{team}a", "{team}b"],
    );
    out.push(unordered(&mut c, &["SMEMBERS", "{team}all"]));
    r(&mut c, &mut out, &["ZADD", "{rank}x", "1", "a", "2", "b"]);
    r(&mut c, &mut out, &["ZADD", "{rank}y", "5", "b", "7", "c"]);
    r(
        &mut c,
        &mut out,
        &["ZUNIONSTORE", "{rank}sum", "2", "{rank}x", "{rank}y"],
    );
    r(
        &mut c,
        &mut out,
        &["ZRANGE", "{rank}sum", "0", "-1", "WITHSCORES"],
    );
    r(&mut c, &mut out, &["RPUSH", "{q}in", "j1", "j2", "j3"]);
    r(&mut c, &mut out, &["RPOPLPUSH", "{q}in", "{q}busy"]);
    r(
        &mut c,
        &mut out,
        &["LMOVE", "{q}in", "{q}busy", "LEFT", "RIGHT"],
    );
    r(&mut c, &mut out, &["LRANGE", "{q}busy", "0", "-1"]);
    keys.extend(
        [
            "{team}a",
            "{team}b",
            "{team}all",
            "{team}both",
            "{rank}x",
            "{rank}y",
            "{rank}sum",
            "{q}in",
            "{q}busy",
        ]
        .map(String::from),
    );
    // Scripts whose keys share a shard (the proxy routes by the first key).
    let script = "redis.call('set', KEYS[1], ARGV[1]); return {redis.call('incrby', KEYS[2], ARGV[2]), redis.call('get', KEYS[1])}";
    r(
        &mut c,
        &mut out,
        &[
            "EVAL",
            script,
            "2",
            "{acct}name",
            "{acct}balance",
            "alice",
            "70",
        ],
    );
    r(
        &mut c,
        &mut out,
        &[
            "EVAL",
            script,
            "2",
            "{acct}name",
            "{acct}balance",
            "bob",
            "-20",
        ],
    );
    r(
        &mut c,
        &mut out,
        &["EVAL", "return redis.call('hgetall', KEYS[1])", "1", "h:3"],
    );
    keys.extend(["{acct}name", "{acct}balance"].map(String::from));
    // Everything reads back through the proxy.
    for k in &keys {
        r(&mut c, &mut out, &["TYPE", k]);
    }
    (out, keys)
}

/// For each key, the index of the one shard that holds it (a key on no
/// shard or on two fails).
fn placement(shards: &[u16], keys: &[String]) -> Vec<usize> {
    let mut conns: Vec<RawConn> = shards.iter().map(|p| RawConn::connect(*p)).collect();
    let mut total = 0;
    for c in &mut conns {
        let n = c.cmd_str(&["DBSIZE"]);
        total += n
            .trim_start_matches(':')
            .trim()
            .parse::<usize>()
            .unwrap_or(0);
    }
    assert_eq!(
        total,
        keys.len(),
        "the shards hold exactly the workload's keys"
    );
    keys.iter()
        .map(|k| {
            let on: Vec<usize> = conns
                .iter_mut()
                .enumerate()
                .filter_map(|(i, c)| (c.cmd_str(&["EXISTS", k]) == ":1\r\n").then_some(i))
                .collect();
            assert_eq!(on.len(), 1, "{k} is on shards {on:?}");
            on[0]
        })
        .collect()
}

/// The shard's whole dataset (database 0), as text: two shards are equal
/// when their keys, types, values and TTLs are. (DEBUG DIGEST would need
/// `enable-debug-command`; without it every server answered the same
/// error and the comparisons could not fail.)
fn digest(port: u16) -> String {
    format!("{:?}", without_encodings(&dump(port, 1)))
}

fn replicaof(replica: u16, master: u16) {
    let mut c = RawConn::connect(replica);
    assert_eq!(
        c.cmd_str(&["REPLICAOF", "127.0.0.1", &master.to_string()]),
        "+OK\r\n"
    );
}

/// Keys with a hash tag in braces go where their tag goes.
fn tagged_together(keys: &[String], at: &[usize]) {
    for tag in ["{team}", "{rank}", "{q}", "{acct}"] {
        let shards: std::collections::BTreeSet<usize> = keys
            .iter()
            .zip(at)
            .filter(|(k, _)| k.starts_with(tag))
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(shards.len(), 1, "{tag} keys spread over {shards:?}");
    }
}

#[test]
fn gostore_shards_behind_twemproxy_answer_as_redis_shards() {
    let go: Vec<TestServer> = (0..3).map(|_| TestServer::gostore(&[])).collect();
    let replicas: Vec<TestServer> = (0..3).map(|_| TestServer::gostore(&[])).collect();
    for (r, m) in replicas.iter().zip(&go) {
        replicaof(r.port, m.port);
    }
    let red: Vec<TestServer> = (0..3)
        .map(|_| TestServer::start(Kind::Redis, &[]))
        .collect();
    let go_ports: Vec<u16> = go.iter().map(|s| s.port).collect();
    let red_ports: Vec<u16> = red.iter().map(|s| s.port).collect();

    let pg = Proxy::start(&go_ports);
    let pr = Proxy::start(&red_ports);
    let (got, keys) = workload(pg.port);
    let (want, keys_r) = workload(pr.port);
    assert_eq!(keys, keys_r);
    assert!(got.len() > 1000);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(
            g, w,
            "through nutcracker: GoStore shards against Redis shards"
        );
    }
    assert_eq!(got.len(), want.len());

    let at = placement(&go_ports, &keys);
    assert_eq!(at, placement(&red_ports, &keys), "same shard for every key");
    for s in 0..3 {
        let n = at.iter().filter(|&&x| x == s).count();
        assert!(
            n > keys.len() / 10,
            "shard {s} holds only {n} of {} keys",
            keys.len()
        );
    }
    tagged_together(&keys, &at);
    for (g, r) in go_ports.iter().zip(&red_ports) {
        assert_eq!(digest(*g), digest(*r), "same data on the same shard");
    }
    for (m, r) in go.iter().zip(&replicas) {
        let want = digest(m.port);
        wait_for(20, "each shard's replica to catch up", || {
            digest(r.port) == want
        });
    }
}

/// Failing a shard over to its replica and restarting the proxy with the
/// replica's address under the same name (what a Sentinel
/// client-reconfig-script does) keeps every key where the proxy looks.
#[test]
fn a_failover_under_the_same_name_keeps_every_key_reachable() {
    let mut go: Vec<TestServer> = (0..3).map(|_| TestServer::gostore(&[])).collect();
    let replica = TestServer::gostore(&[]);
    replicaof(replica.port, go[1].port);
    let mut ports: Vec<u16> = go.iter().map(|s| s.port).collect();
    let proxy = Proxy::start(&ports);
    let mut c = RawConn::connect(proxy.port);
    let keys: Vec<String> = (0..300).map(|i| format!("user:{i}")).collect();
    for k in &keys {
        assert_eq!(c.cmd_str(&["SET", k, k]), "+OK\r\n");
    }
    let at = placement(&ports, &keys);
    let on_b = at.iter().filter(|&&s| s == 1).count();
    assert!(on_b > 0);
    let want = digest(go[1].port);
    wait_for(20, "the replica to catch up", || {
        digest(replica.port) == want
    });

    // The master of shard-b dies; its replica is promoted.
    go[1].kill9();
    let mut r = RawConn::connect(replica.port);
    assert_eq!(r.cmd_str(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    drop(c);
    ports[1] = replica.port;
    let dir = proxy.stop();
    let proxy = Proxy::start_in(dir, &ports);
    let mut c = RawConn::connect(proxy.port);
    for k in &keys {
        assert_eq!(c.cmd_str(&["GET", k]), format!("${}\r\n{k}\r\n", k.len()));
    }
    let again = placement(&ports, &keys);
    assert_eq!(again, at, "no key moved");
    assert_eq!(c.cmd_str(&["SET", "user:new", "1"]), "+OK\r\n");
}

/// Adding a fourth shard: the keys the four-shard ring gives it (a miss
/// through a proxy on the new configuration) are MIGRATEd to it from their
/// old shards in KEYS batches; then the new proxy finds every key, with
/// its value and TTL, and the old shards keep none of the moved ones.
#[test]
fn adding_a_shard_and_migrating_its_keys_keeps_every_key() {
    let shards: Vec<TestServer> = (0..4).map(|_| TestServer::gostore(&[])).collect();
    let ports: Vec<u16> = shards.iter().map(|s| s.port).collect();
    let old = Proxy::start(&ports[..3]);
    let mut c = RawConn::connect(old.port);
    let keys: Vec<String> = (0..400).map(|i| format!("item:{i}")).collect();
    let mut want = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        match i % 3 {
            0 => c.cmd_str(&["SET", k, &format!("v{i}")]),
            1 => c.cmd_str(&["HSET", k, "f", &format!("v{i}")]),
            _ => c.cmd_str(&["ZADD", k, &i.to_string(), "m"]),
        };
        if i % 5 == 0 {
            c.cmd_str(&["EXPIRE", k, "1000"]);
        }
        want.push((c.cmd_str(&["DUMP", k]), c.cmd_str(&["TTL", k])));
    }
    let before = placement(&ports[..3], &keys);

    let new = Proxy::start(&ports);
    let mut n = RawConn::connect(new.port);
    let mut moving: Vec<Vec<&str>> = vec![Vec::new(); 3];
    for (k, s) in keys.iter().zip(&before) {
        if n.cmd_str(&["EXISTS", k]) == ":0\r\n" {
            moving[*s].push(k);
        }
    }
    let moved: usize = moving.iter().map(|m| m.len()).sum();
    assert!(moved > 0);
    let target = ports[3].to_string();
    for (s, batch) in moving.iter().enumerate() {
        for chunk in batch.chunks(50) {
            let mut argv = vec!["MIGRATE", "127.0.0.1", &target, "", "0", "5000", "KEYS"];
            argv.extend(chunk);
            let mut src = RawConn::connect(ports[s]);
            assert_eq!(src.cmd_str(&argv), "+OK\r\n");
        }
    }
    for (k, (dump, ttl)) in keys.iter().zip(&want) {
        assert_eq!(&n.cmd_str(&["DUMP", k]), dump, "{k}");
        let t = n.cmd_str(&["TTL", k]);
        if ttl == ":-1\r\n" {
            assert_eq!(&t, ttl, "{k}");
        } else {
            assert!(t.starts_with(":9") || t.starts_with(":100"), "{k}: {t}");
        }
    }
    let after = placement(&ports, &keys);
    for ((b, a), k) in before.iter().zip(&after).zip(&keys) {
        assert!(a == b || *a == 3, "{k} went from shard {b} to shard {a}");
    }
    assert_eq!(after.iter().filter(|&&a| a == 3).count(), moved);
}
