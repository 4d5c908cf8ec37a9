//! redis-sentinel 7.0 runs GoStore: three real sentinels watch a GoStore
//! master and two GoStore replicas, the master is killed with SIGKILL, a
//! replica is promoted, the other follows it, writes resume, and no write
//! that WAIT counted as replicated is lost; the old master comes back as a
//! replica of the new one. Around it, what Sentinel sends, compared with
//! redis-server: CONFIG REWRITE's `replicaof` line and the reconfiguration
//! transaction (MULTI; SLAVEOF; CONFIG REWRITE; CLIENT KILL ...; EXEC).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::resp::RawConn;
use common::{free_port, gostore_bin, ping, Info, TempDir, TestServer};

/// Path of redis-sentinel, or a panic that says how to install it.
fn sentinel_bin() -> PathBuf {
    for p in ["/usr/bin/redis-sentinel", "/usr/local/bin/redis-sentinel"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("redis-sentinel is not installed: run `make test`, which installs it, or `apt-get install -y redis-sentinel`");
}

/// A process started from a config file on a fixed port, so that it can
/// be killed and started again where Sentinel knows it.
struct Proc {
    program: PathBuf,
    conf: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Proc {
    fn start(program: PathBuf, conf: PathBuf, port: u16) -> Proc {
        let mut p = Proc {
            program,
            conf,
            port,
            child: None,
        };
        p.launch();
        p
    }

    fn launch(&mut self) {
        let mut child = Command::new(&self.program)
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ping(self.port) {
            if let Ok(Some(st)) = child.try_wait() {
                panic!(
                    "{:?} {:?} exited at start-up: {st}",
                    self.program, self.conf
                );
            }
            assert!(
                Instant::now() < deadline,
                "{:?} did not answer PING on {} within 30s",
                self.program,
                self.port
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        self.child = Some(child);
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One command to `port`; None when the server cannot be reached or the
/// reply is an error (a server in the middle of a failover, or gone).
fn query(port: u16, args: &[&str]) -> Option<redis::Value> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).ok()?;
    let mut con = client
        .get_connection_with_timeout(Duration::from_secs(2))
        .ok()?;
    con.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query::<redis::Value>(&mut con).ok()
}

fn as_strings(v: &redis::Value) -> Vec<String> {
    match v {
        redis::Value::Array(items) => items
            .iter()
            .map(|i| match i {
                redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                redis::Value::SimpleString(s) => s.clone(),
                redis::Value::Int(n) => n.to_string(),
                other => format!("{other:?}"),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A flat `field value ...` reply (SENTINEL MASTER) as pairs.
fn field(v: &redis::Value, name: &str) -> Option<String> {
    let s = as_strings(v);
    s.chunks(2)
        .find(|kv| kv.len() == 2 && kv[0] == name)
        .map(|kv| kv[1].clone())
}

/// The master's port as sentinel `s` reports it.
fn sentinel_master_port(s: u16) -> Option<u16> {
    let v = query(s, &["SENTINEL", "get-master-addr-by-name", "mymaster"])?;
    as_strings(&v).get(1)?.parse().ok()
}

struct Cluster {
    dir: TempDir,
    nodes: Vec<Proc>,
    sentinels: Vec<Proc>,
}

impl Cluster {
    /// The sentinels' logs, for a failure message.
    fn logs(&self) -> String {
        let mut out = String::new();
        for s in &self.sentinels {
            let path = self.dir.path().join(format!("sentinel-{}.log", s.port));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            out.push_str(&format!("--- sentinel {} ---\n{text}\n", s.port));
        }
        out
    }

    /// Waits up to `secs` for `cond`, polling; on timeout fails with the
    /// sentinels' logs.
    fn wait(&self, secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !cond() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn node_conf(dir: &Path, port: u16, master: Option<u16>) -> PathBuf {
    let data = dir.join(format!("node-{port}"));
    std::fs::create_dir_all(&data).expect("node dir");
    let mut text = format!(
        "port {port}\nbind 127.0.0.1\ndir \"{}\"\nappendonly yes\nsave \"\"\nrepl-diskless-sync-delay 0\n",
        data.display()
    );
    if let Some(m) = master {
        text.push_str(&format!("replicaof 127.0.0.1 {m}\n"));
    }
    let conf = data.join("gostore.conf");
    std::fs::write(&conf, text).expect("write node conf");
    conf
}

fn sentinel_conf(dir: &Path, port: u16, master: u16) -> PathBuf {
    let text = format!(
        "port {port}\nbind 127.0.0.1\ndaemonize no\ndir \"{d}\"\n\
         logfile \"{d}/sentinel-{port}.log\"\n\
         sentinel resolve-hostnames no\n\
         sentinel monitor mymaster 127.0.0.1 {master} 2\n\
         sentinel down-after-milliseconds mymaster 2000\n\
         sentinel failover-timeout mymaster 10000\n\
         sentinel parallel-syncs mymaster 2\n",
        d = dir.display()
    );
    let conf = dir.join(format!("sentinel-{port}.conf"));
    std::fs::write(&conf, text).expect("write sentinel conf");
    conf
}

fn conf_replicaof(conf: &Path) -> Vec<String> {
    std::fs::read_to_string(conf)
        .expect("read conf")
        .lines()
        .filter(|l| l.starts_with("replicaof") || l.starts_with("slaveof"))
        .map(str::to_string)
        .collect()
}

#[test]
fn sentinels_fail_over_a_killed_gostore_master_and_keep_waited_writes() {
    let sentinel = sentinel_bin();
    let dir = TempDir::new("sentinel");
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let (m, r1, r2) = (ports[0], ports[1], ports[2]);
    let nodes = vec![
        Proc::start(gostore_bin(), node_conf(dir.path(), m, None), m),
        Proc::start(gostore_bin(), node_conf(dir.path(), r1, Some(m)), r1),
        Proc::start(gostore_bin(), node_conf(dir.path(), r2, Some(m)), r2),
    ];
    let mut cl = Cluster {
        dir,
        nodes,
        sentinels: Vec::new(),
    };
    cl.wait(30, "both replicas online at the master", || {
        let i = Info::fetch(m);
        i.get("connected_slaves") == Some("2")
            && (0..2).all(|n| {
                i.get(&format!("slave{n}"))
                    .is_some_and(|s| s.contains("state=online"))
            })
    });
    for _ in 0..3 {
        let p = free_port();
        let conf = sentinel_conf(cl.dir.path(), p, m);
        cl.sentinels.push(Proc::start(sentinel.clone(), conf, p));
    }
    let sports: Vec<u16> = cl.sentinels.iter().map(|s| s.port).collect();
    // Each sentinel must know the replicas (from the master's INFO) and the
    // other two sentinels (from `__sentinel__:hello` through the servers)
    // before a failover can be agreed and have a replica to promote.
    cl.wait(
        30,
        "every sentinel to see 2 replicas and 2 other sentinels",
        || {
            sports.iter().all(|&s| {
                query(s, &["SENTINEL", "MASTER", "mymaster"]).is_some_and(|v| {
                    field(&v, "num-slaves").as_deref() == Some("2")
                        && field(&v, "num-other-sentinels").as_deref() == Some("2")
                        && field(&v, "flags").as_deref() == Some("master")
                })
            })
        },
    );

    // Writes that WAIT counts as on both replicas.
    let mut c = RawConn::connect(m);
    let mut batch = Vec::new();
    for i in 0..200 {
        batch.extend(common::resp::encode(&[
            b"SET",
            format!("k{i}").as_bytes(),
            format!("v{i}").as_bytes(),
        ]));
    }
    c.send(&batch);
    for _ in 0..200 {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
    assert_eq!(c.cmd_str(&["WAIT", "2", "10000"]), ":2\r\n", "WAIT 2");
    drop(c);

    cl.nodes[0].kill9();

    // A replica is promoted and every sentinel says so.
    let mut new_master = 0;
    cl.wait(60, "the sentinels to agree on a promoted replica", || {
        let seen: Vec<Option<u16>> = sports.iter().map(|&s| sentinel_master_port(s)).collect();
        match seen[0] {
            Some(p) if p != m && seen.iter().all(|x| *x == Some(p)) => {
                new_master = p;
                true
            }
            _ => false,
        }
    });
    assert!(new_master == r1 || new_master == r2, "{new_master}");
    let other = if new_master == r1 { r2 } else { r1 };
    cl.wait(30, "the promoted replica to report role master", || {
        query(new_master, &["ROLE"])
            .is_some_and(|v| as_strings(&v).first().map(String::as_str) == Some("master"))
    });
    cl.wait(60, "the other replica to follow the new master", || {
        let i = Info::fetch(other);
        i.get("master_port") == Some(new_master.to_string().as_str())
            && i.get("master_link_status") == Some("up")
    });

    // Nothing WAIT acknowledged is lost, and writes resume.
    let mut c = RawConn::connect(new_master);
    for i in 0..200 {
        assert_eq!(
            c.cmd_str(&["GET", &format!("k{i}")]),
            format!("${}\r\nv{i}\r\n", format!("v{i}").len()),
            "k{i} on the new master"
        );
    }
    assert_eq!(c.cmd_str(&["SET", "after", "failover"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["WAIT", "1", "10000"]), ":1\r\n", "WAIT 1");
    let mut o = RawConn::connect(other);
    assert_eq!(o.cmd_str(&["GET", "after"]), "$8\r\nfailover\r\n");
    assert_eq!(o.cmd_str(&["DBSIZE"]), ":201\r\n");

    // Sentinel's CONFIG REWRITE left each file naming its current master.
    let conf = |p: u16| cl.dir.path().join(format!("node-{p}")).join("gostore.conf");
    assert_eq!(conf_replicaof(&conf(new_master)), Vec::<String>::new());
    assert_eq!(
        conf_replicaof(&conf(other)),
        vec![format!("replicaof 127.0.0.1 {new_master}")]
    );

    // The old master comes back (as a master, with its AOF) and is turned
    // into a replica of the new one.
    cl.nodes[0].launch();
    cl.wait(60, "the old master to be reconfigured as a replica", || {
        let i = Info::fetch(m);
        i.get("role") == Some("slave")
            && i.get("master_port") == Some(new_master.to_string().as_str())
            && i.get("master_link_status") == Some("up")
    });
    cl.wait(30, "the old master to hold the new master's data", || {
        query(m, &["GET", "after"]) == Some(redis::Value::BulkString(b"failover".to_vec()))
    });
    assert_eq!(RawConn::connect(m).cmd_str(&["DBSIZE"]), ":201\r\n");
}

/// CONFIG REWRITE after REPLICAOF writes `replicaof <host> <port>` in
/// place of the old `slaveof`/`replicaof` line, and after REPLICAOF NO ONE
/// removes it; CONFIG GET replicaof reports the current master. Sentinel
/// relies on this to make a failover survive restarts.
#[test]
fn config_rewrite_follows_replicaof_like_redis() {
    let mut results = Vec::new();
    for kind in [common::Kind::GoStore, common::Kind::Redis] {
        let dir = TempDir::new("rewrite-replicaof");
        let conf = dir.path().join("server.conf");
        // Port 1 answers nobody: the link just keeps retrying.
        std::fs::write(&conf, "slaveof 127.0.0.1 1\nmaxmemory-policy noeviction\n").expect("conf");
        let s = TestServer::start_in(kind, dir.path(), &[conf.to_str().expect("path")]);
        let mut c = s.raw_conn();
        let mut seen = Vec::new();
        seen.push(c.cmd_str(&["CONFIG", "GET", "replicaof"]));
        assert_eq!(c.cmd_str(&["REPLICAOF", "127.0.0.1", "2"]), "+OK\r\n");
        seen.push(c.cmd_str(&["CONFIG", "GET", "replicaof"]));
        assert_eq!(c.cmd_str(&["CONFIG", "REWRITE"]), "+OK\r\n");
        seen.push(format!("{:?}", conf_replicaof(&conf)));
        assert_eq!(c.cmd_str(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
        seen.push(c.cmd_str(&["CONFIG", "GET", "replicaof"]));
        assert_eq!(c.cmd_str(&["CONFIG", "REWRITE"]), "+OK\r\n");
        seen.push(format!("{:?}", conf_replicaof(&conf)));
        results.push(seen);
    }
    assert_eq!(results[0], results[1], "GoStore, then Redis");
    assert_eq!(results[0][2], "[\"replicaof 127.0.0.1 2\"]");
}

/// `replica-announce-ip` / `replica-announce-port` (and their `slave-`
/// aliases) change what a replica tells its master, so the master's INFO
/// (which Sentinel reads to find replicas) shows the announced address;
/// `replica-announced no` shows in INFO as `replica_announced:0`. The
/// settings read back as redis-server's do.
#[test]
fn replica_announce_settings_reach_the_master_s_info() {
    let get = |port: u16| {
        let mut c = RawConn::connect(port);
        let mut out = Vec::new();
        for pat in ["replica-announce*", "slave-announce*"] {
            let v = common::resp::parse(&c.cmd(&[b"CONFIG", b"GET", pat.as_bytes()])).sorted();
            out.push(common::resp::show(&v.bytes()));
        }
        out
    };
    let args = [
        "--replica-announce-ip",
        "10.0.0.9",
        "--slave-announce-port",
        "4242",
        "--replica-announced",
        "no",
    ];
    let redis = TestServer::redis(&args);
    let replica = TestServer::gostore(&args);
    assert_eq!(
        get(replica.port),
        get(redis.port),
        "CONFIG GET: GoStore, then Redis"
    );

    let master = TestServer::gostore(&[]);
    let mut c = replica.raw_conn();
    let r = c.cmd_str(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    assert_eq!(r, "+OK\r\n");
    common::wait_for(30, "the master to list the replica online", || {
        Info::fetch(master.port)
            .get("slave0")
            .is_some_and(|s| s.contains("state=online"))
    });
    let slave0 = Info::fetch(master.port).get("slave0").map(str::to_string);
    assert!(
        slave0
            .as_deref()
            .is_some_and(|s| s.starts_with("ip=10.0.0.9,port=4242,")),
        "{slave0:?}"
    );
    assert_eq!(
        Info::fetch(replica.port).get("replica_announced"),
        Some("0")
    );
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "replica-announced", "yes"]),
        "+OK\r\n"
    );
    assert_eq!(
        Info::fetch(replica.port).get("replica_announced"),
        Some("1")
    );
}

/// `min-replicas-to-write`: with too few good replicas a write (alone, in
/// MULTI, in a script) is refused with -NOREPLICAS as redis-server refuses
/// it; a replica that comes online lets writes through, and losing it
/// refuses them again.
#[test]
fn min_replicas_to_write_refuses_writes_like_redis() {
    let script_write = "return redis.call('set','k','v')";
    let mut seen = Vec::new();
    for kind in [common::Kind::GoStore, common::Kind::Redis] {
        let s = TestServer::start(kind, &["--min-replicas-to-write", "1"]);
        let mut c = s.raw_conn();
        let mut out = vec![
            c.cmd_str(&["SET", "k", "v"]),
            c.cmd_str(&["GET", "k"]),
            c.cmd_str(&["MULTI"]),
            c.cmd_str(&["SET", "k", "v"]),
            c.cmd_str(&["EXEC"]),
            // Sorted: Redis answers in its dict's order.
            common::resp::show(
                &common::resp::parse(&c.cmd(&[b"CONFIG", b"GET", b"min-slaves-*"]))
                    .sorted()
                    .bytes(),
            ),
            format!("{:?}", Info::fetch(s.port).get("min_slaves_good_slaves")),
        ];
        // The script's name follows the error; its hash is the same.
        out.push(c.cmd_str(&["EVAL", script_write, "0"]));
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "min-replicas-max-lag", "0"]),
            "+OK\r\n"
        );
        out.push(c.cmd_str(&["SET", "k", "v"]));
        out.push(format!(
            "{:?}",
            Info::fetch(s.port).get("min_slaves_good_slaves")
        ));
        seen.push(out);
    }
    assert_eq!(seen[0], seen[1], "GoStore, then Redis");
    assert!(seen[0][0].starts_with("-NOREPLICAS"), "{:?}", seen[0]);

    let master = TestServer::gostore(&["--min-replicas-to-write", "1"]);
    let mut replica = TestServer::gostore(&[]);
    let mut r = replica.raw_conn();
    let reply = r.cmd_str(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    assert_eq!(reply, "+OK\r\n");
    let mut c = master.raw_conn();
    common::wait_for(30, "the master to count one good replica", || {
        Info::fetch(master.port).get("min_slaves_good_slaves") == Some("1")
    });
    assert_eq!(c.cmd_str(&["SET", "k", "v"]), "+OK\r\n");
    replica.kill9();
    common::wait_for(30, "writes to be refused once the replica is gone", || {
        c.cmd_str(&["SET", "k", "v"]).starts_with("-NOREPLICAS")
    });
}

/// Sentinel's `CLIENT KILL TYPE normal` must not cut a master's replicas:
/// replica connections are of type `replica`/`slave`, as in Redis, for
/// CLIENT KILL and CLIENT LIST.
#[test]
fn client_kill_type_normal_spares_replicas_like_redis() {
    let mut seen = Vec::new();
    for kind in [common::Kind::GoStore, common::Kind::Redis] {
        let args: &[&str] = match kind {
            common::Kind::Redis => &["--repl-diskless-sync-delay", "0"],
            common::Kind::GoStore => &[],
        };
        let master = TestServer::start(kind, args);
        let replica = TestServer::start(kind, &[]);
        let mut r = replica.raw_conn();
        let reply = r.cmd_str(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
        assert_eq!(reply, "+OK\r\n");
        // One connection only, so that no other normal client is around.
        let mut c = master.raw_conn();
        common::wait_for(30, "the replica online", || {
            c.cmd_str(&["INFO", "replication"]).contains("state=online")
        });
        let lines = |c: &mut RawConn, ty: &str| {
            let list = c.cmd_str(&["CLIENT", "LIST", "TYPE", ty]);
            list.lines().filter(|l| l.contains("id=")).count()
        };
        let out = vec![
            lines(&mut c, "normal"),
            lines(&mut c, "replica"),
            lines(&mut c, "slave"),
            lines(&mut c, "pubsub"),
        ];
        let killed_normal = c.cmd_str(&["CLIENT", "KILL", "TYPE", "normal"]);
        let still = Info::fetch(master.port)
            .get("connected_slaves")
            .map(str::to_string);
        let killed_replica = c.cmd_str(&["CLIENT", "KILL", "TYPE", "replica"]);
        seen.push((out, killed_normal, still, killed_replica));
    }
    assert_eq!(seen[0], seen[1], "GoStore, then Redis");
    assert_eq!(seen[0].3, ":1\r\n");
}

/// Sentinel's reconfiguration transaction, as it sends it to a replica it
/// repoints and to the replica it promotes: every command queues, EXEC
/// runs them all with Redis's replies, the normal and pub/sub clients are
/// closed and the sentinel's own connection stays.
#[test]
fn sentinel_reconfiguration_transaction_runs_like_redis() {
    let mut seen = Vec::new();
    for kind in [common::Kind::GoStore, common::Kind::Redis] {
        let dir = TempDir::new("sentinel-tx");
        let conf = dir.path().join("server.conf");
        std::fs::write(&conf, "maxmemory-policy noeviction\n").expect("conf");
        let s = TestServer::start_in(kind, dir.path(), &[conf.to_str().expect("path")]);
        let mut out = Vec::new();
        for slaveof in [
            vec!["SLAVEOF", "127.0.0.1", "1"],
            vec!["SLAVEOF", "NO", "ONE"],
        ] {
            let mut normal = s.raw_conn();
            assert_eq!(normal.cmd_str(&["PING"]), "+PONG\r\n");
            let mut sub = s.raw_conn();
            let r = sub.cmd_str(&["SUBSCRIBE", "__sentinel__:hello"]);
            assert!(r.starts_with("*3\r\n"), "{r}");
            let mut c = s.raw_conn();
            out.push(c.cmd_str(&["CLIENT", "SETNAME", "sentinel-0123abcd-cmd"]));
            for args in [
                vec!["MULTI"],
                slaveof.clone(),
                vec!["CONFIG", "REWRITE"],
                vec!["CLIENT", "KILL", "TYPE", "normal"],
                vec!["CLIENT", "KILL", "TYPE", "pubsub"],
                vec!["EXEC"],
            ] {
                out.push(c.cmd_str(&args));
            }
            out.push(c.cmd_str(&["PING"]));
            assert!(normal.is_closed(), "{kind:?}: the normal client is closed");
            assert!(sub.is_closed(), "{kind:?}: the pub/sub client is closed");
            out.push(format!("{:?}", conf_replicaof(&conf)));
        }
        seen.push(out);
    }
    assert_eq!(seen[0], seen[1], "GoStore, then Redis");
}

/// `CLIENT KILL TYPE master` on a replica closes its link to the master,
/// which it then re-establishes with a partial resync, as redis-server does.
#[test]
fn client_kill_type_master_drops_the_link_like_redis() {
    let mut seen = Vec::new();
    for kind in [common::Kind::GoStore, common::Kind::Redis] {
        let master = TestServer::gostore(&[]);
        let replica = TestServer::start(kind, &[]);
        let mut r = replica.raw_conn();
        let reply = r.cmd_str(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
        assert_eq!(reply, "+OK\r\n");
        let link_up = |r: &mut RawConn| {
            r.cmd_str(&["INFO", "replication"])
                .contains("master_link_status:up")
        };
        common::wait_for(30, "the link up", || link_up(&mut r));
        let mut out = vec![
            r.cmd_str(&["CLIENT", "KILL", "TYPE", "normal"]),
            r.cmd_str(&["CLIENT", "KILL", "TYPE", "master"]),
        ];
        common::wait_for(30, "the master to see a partial resync", || {
            Info::fetch(master.port).get("sync_partial_ok") == Some("1")
        });
        common::wait_for(30, "the link up again", || link_up(&mut r));
        out.push(
            master
                .raw_conn()
                .cmd_str(&["CLIENT", "KILL", "TYPE", "master"]),
        );
        seen.push(out);
    }
    assert_eq!(seen[0], seen[1], "GoStore, then Redis");
    assert_eq!(seen[0][1], ":1\r\n");
}

/// Moving off Redis with Sentinel: a GoStore replica of a redis-server
/// master is promoted by `SENTINEL FAILOVER`, with the data WAIT counted
/// on it, takes writes, and the old Redis master ends up following it.
#[test]
fn sentinel_failover_moves_a_redis_master_to_its_gostore_replica() {
    let sentinel = sentinel_bin();
    let dir = TempDir::new("sentinel-redis");
    let rconf = dir.path().join("redis.conf");
    std::fs::write(&rconf, "repl-diskless-sync-delay 0\n").expect("conf");
    let redis = TestServer::start_in(
        common::Kind::Redis,
        dir.path(),
        &[rconf.to_str().expect("path")],
    );
    let gdir = TempDir::new("sentinel-gostore");
    let gconf = gdir.path().join("gostore.conf");
    std::fs::write(
        &gconf,
        format!(
            "replicaof 127.0.0.1 {}\nrepl-diskless-sync-delay 0\n",
            redis.port
        ),
    )
    .expect("conf");
    let gostore = TestServer::start_in(
        common::Kind::GoStore,
        gdir.path(),
        &[gconf.to_str().expect("path")],
    );
    let mut c = redis.raw_conn();
    common::wait_for(30, "the GoStore replica online", || {
        c.cmd_str(&["INFO", "replication"])
            .contains(&format!("port={},state=online", gostore.port))
    });
    for i in 0..100 {
        assert_eq!(c.cmd_str(&["SET", &format!("k{i}"), "v"]), "+OK\r\n");
    }
    assert_eq!(c.cmd_str(&["WAIT", "1", "10000"]), ":1\r\n");

    let sport = free_port();
    let sconf = sentinel_conf(dir.path(), sport, redis.port);
    let cl = Cluster {
        dir,
        nodes: Vec::new(),
        sentinels: vec![Proc::start(sentinel, sconf, sport)],
    };
    cl.wait(30, "the sentinel to see the replica", || {
        query(sport, &["SENTINEL", "MASTER", "mymaster"])
            .is_some_and(|v| field(&v, "num-slaves").as_deref() == Some("1"))
    });
    // Refused (-NOGOODSLAVE) until the sentinel has read the replica's INFO.
    cl.wait(30, "SENTINEL FAILOVER to be accepted", || {
        query(sport, &["SENTINEL", "FAILOVER", "mymaster"]) == Some(redis::Value::Okay)
    });
    cl.wait(60, "the GoStore replica promoted", || {
        sentinel_master_port(sport) == Some(gostore.port)
            && Info::fetch(gostore.port).get("role") == Some("master")
    });
    let mut g = gostore.raw_conn();
    assert_eq!(g.cmd_str(&["DBSIZE"]), ":100\r\n");
    assert_eq!(g.cmd_str(&["SET", "after", "x"]), "+OK\r\n");
    assert_eq!(conf_replicaof(&gconf), Vec::<String>::new());
    cl.wait(60, "the old Redis master to follow GoStore", || {
        let i = Info::fetch(redis.port);
        i.get("master_port") == Some(gostore.port.to_string().as_str())
            && i.get("master_link_status") == Some("up")
    });
    cl.wait(30, "the write to reach Redis", || {
        query(redis.port, &["GET", "after"]) == Some(redis::Value::BulkString(b"x".to_vec()))
    });
}
