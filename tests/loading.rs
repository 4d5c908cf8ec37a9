//! Clients served while a dataset loads: `-LOADING` to all but the
//! commands flagged `loading` (INFO ...), INFO's `loading_*` fields, at
//! start-up (RDB and AOF) and during a replica's full sync. Each scenario
//! runs on GoStore and on redis-server, with `key-load-delay` so that the
//! load lasts, and the transcripts must match.

mod common;

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::resp::RawConn;
use common::{free_port, gostore_bin, redis_bin, wait_for, Kind, TestServer};

const KEYS: usize = 3000;

/// A server started by the test itself (TestServer waits for PONG, which
/// only comes once the load is over); killed on drop.
struct Spawned(Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(kind: Kind, dir: &Path, port: u16, args: &[&str]) -> Spawned {
    let mut cmd = Command::new(match kind {
        Kind::GoStore => gostore_bin(),
        Kind::Redis => redis_bin(),
    });
    cmd.arg("--port")
        .arg(port.to_string())
        .arg("--bind")
        .arg("127.0.0.1")
        .arg("--dir")
        .arg(dir)
        .args(["--save", ""])
        .args(args)
        .stdin(Stdio::null());
    if std::env::var_os("GOSTORE_TEST_LOGS").is_some() {
        cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
    } else {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    }
    Spawned(cmd.spawn().expect("spawn server"))
}

/// Writes `KEYS` keys, one SET each (an AOF replays them one by one).
fn fill(port: u16) {
    let mut c = RawConn::connect(port);
    let mut batch = Vec::new();
    for i in 0..KEYS {
        batch.extend_from_slice(&common::resp::encode(&[
            b"SET",
            format!("key:{i}").as_bytes(),
            format!("value:{i}").as_bytes(),
        ]));
    }
    c.send(&batch);
    for _ in 0..KEYS {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
}

/// The `loading` line and the names of the `loading_*` fields of INFO
/// persistence, in order.
fn loading_fields(c: &mut RawConn) -> Vec<String> {
    let info = c.cmd_str(&["INFO", "persistence"]);
    info.lines()
        .filter(|l| l.starts_with("loading"))
        .map(|l| match l.split_once(':') {
            Some(("loading", v)) => format!("loading:{v}"),
            Some((k, _)) => k.to_string(),
            None => l.to_string(),
        })
        .collect()
}

/// What a client sees while the server loads, then after.
fn while_loading(port: u16) -> Vec<String> {
    wait_for(30, "the server to listen", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let mut c = RawConn::connect(port);
    let mut t = vec![
        c.cmd_str(&["PING"]),
        c.cmd_str(&["GET", "key:1"]),
        c.cmd_str(&["SET", "new", "1"]),
        c.cmd_str(&["DBSIZE"]),
        c.cmd_str(&["ECHO", "hi"]),
        c.cmd_str(&["CONFIG", "GET", "key-load-delay"]),
    ];
    t.extend(loading_fields(&mut c));
    // The position moves while the load goes on (or the load ends).
    wait_for(60, "loading_loaded_bytes to move", || {
        let info = c.cmd_str(&["INFO", "persistence"]);
        !info.contains("loading:1") || !info.contains("loading_loaded_bytes:0\r\n")
    });
    wait_for(60, "the load to end", || {
        c.cmd_str(&["PING"]) == "+PONG\r\n"
    });
    t.push(c.cmd_str(&["GET", "key:1"]));
    t.push(c.cmd_str(&["DBSIZE"]));
    t.extend(loading_fields(&mut c));
    t
}

fn startup(kind: Kind, aof: bool) -> Vec<String> {
    let appendonly = if aof { "yes" } else { "no" };
    let mut srv = TestServer::start(
        kind,
        &["--appendonly", appendonly, "--aof-use-rdb-preamble", "yes"],
    );
    fill(srv.port);
    let mut c = RawConn::connect(srv.port);
    if aof {
        // Redis 7.0 sleeps `key-load-delay` per key of an RDB only: the
        // keys go to the AOF's RDB base, a few commands after it.
        // No rewrite of the server's own (Redis may write its first base
        // in the background) may run or be scheduled: ours must start now
        // and hold every key.
        wait_for(60, "no AOF rewrite in progress", || {
            let info = common::Info::fetch(srv.port);
            info.get("aof_rewrite_in_progress") == Some("0")
                && info.get("aof_rewrite_scheduled") == Some("0")
        });
        let done: u64 = common::info_field(srv.port, "aof_rewrites")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert_eq!(
            c.cmd_str(&["BGREWRITEAOF"]),
            "+Background append only file rewriting started\r\n"
        );
        common::wait_for_rewrites(srv.port, done + 1);
        for i in 0..10 {
            assert_eq!(c.cmd_str(&["SET", &format!("after:{i}"), "x"]), "+OK\r\n");
        }
    } else {
        assert_eq!(c.cmd_str(&["SAVE"]), "+OK\r\n");
    }
    srv.kill9();
    let port = free_port();
    let _s = spawn(
        kind,
        &srv.path,
        port,
        &[
            "--appendonly",
            appendonly,
            "--aof-use-rdb-preamble",
            "yes",
            "--key-load-delay",
            "1000",
            "--loading-process-events-interval-bytes",
            "1024",
        ],
    );
    while_loading(port)
}

fn expected_transcript() -> Vec<String> {
    let loading = "-LOADING Redis is loading the dataset in memory\r\n".to_string();
    let mut t = vec![
        loading.clone(),
        loading.clone(),
        loading.clone(),
        loading,
        "$2\r\nhi\r\n".to_string(),
        "*2\r\n$14\r\nkey-load-delay\r\n$4\r\n1000\r\n".to_string(),
    ];
    for f in [
        "loading:1",
        "loading_start_time",
        "loading_total_bytes",
        "loading_rdb_used_mem",
        "loading_loaded_bytes",
        "loading_loaded_perc",
        "loading_eta_seconds",
    ] {
        t.push(f.to_string());
    }
    t.push("$7\r\nvalue:1\r\n".to_string());
    t.push(format!(":{KEYS}\r\n"));
    t.push("loading:0".to_string());
    t
}

fn with_dbsize(mut t: Vec<String>, n: usize) -> Vec<String> {
    let at = t.len() - 2;
    t[at] = format!(":{n}\r\n");
    t
}

/// redis-server's transcript, which must be `want`. Redis's own timing
/// (whether its load has begun when the first client is served) can make
/// one run differ on a loaded machine, so it gets three tries; what is
/// tested is that GoStore's then equals it.
fn redis_transcript(aof: bool, want: &[String]) -> Vec<String> {
    let mut last = Vec::new();
    for _ in 0..3 {
        last = startup(Kind::Redis, aof);
        if last == want {
            return last;
        }
    }
    panic!("redis-server never gave the expected transcript:\n  got  {last:?}\n  want {want:?}");
}

#[test]
fn clients_get_loading_while_the_rdb_loads_at_start_up_as_redis() {
    let redis = redis_transcript(false, &expected_transcript());
    assert_eq!(startup(Kind::GoStore, false), redis);
}

#[test]
fn clients_get_loading_while_the_aof_replays_at_start_up_as_redis() {
    let redis = redis_transcript(true, &with_dbsize(expected_transcript(), KEYS + 10));
    assert_eq!(startup(Kind::GoStore, true), redis);
}

/// A replica of a master of the same kind, slow to load its full sync.
fn replica_sync(kind: Kind) -> Vec<String> {
    let master = TestServer::start(kind, &[]);
    fill(master.port);
    let replica = TestServer::start(
        kind,
        &[
            "--key-load-delay",
            "1000",
            "--loading-process-events-interval-bytes",
            "1024",
        ],
    );
    let mut c = RawConn::connect(replica.port);
    let mut t = vec![c.cmd_str(&["SET", "stale", "yes"])];
    let port = master.port.to_string();
    t.push(c.cmd_str(&["REPLICAOF", "127.0.0.1", &port]));
    // Stale data is served until the load begins; then -LOADING.
    wait_for(60, "GET to be answered -LOADING", || {
        c.cmd_str(&["GET", "stale"]).starts_with("-LOADING")
    });
    t.push(c.cmd_str(&["PING"]));
    t.push(c.cmd_str(&["GET", "key:1"]));
    t.extend(loading_fields(&mut c));
    // Still a replica, in sync with its master, while it loads.
    let repl = c.cmd_str(&["INFO", "replication"]);
    for f in ["role", "master_link_status", "master_sync_in_progress"] {
        let line = repl
            .lines()
            .find(|l| l.starts_with(&format!("{f}:")))
            .unwrap_or("(missing)");
        t.push(line.to_string());
    }
    let role = c.cmd_str(&["ROLE"]);
    t.push(
        role.lines()
            .take(7)
            .collect::<Vec<_>>()
            .join("|")
            .replace(&format!(":{}|", master.port), ":<master-port>|"),
    );
    wait_for(60, "the load to end", || {
        c.cmd_str(&["PING"]) == "+PONG\r\n"
    });
    t.push(c.cmd_str(&["GET", "key:1"]));
    t.push(c.cmd_str(&["GET", "stale"]));
    t.push(c.cmd_str(&["DBSIZE"]));
    t.extend(loading_fields(&mut c));
    t
}

#[test]
fn a_replica_loading_its_full_sync_answers_loading_as_redis() {
    let redis = replica_sync(Kind::Redis);
    assert_eq!(redis[0], "+OK\r\n", "redis-server: {redis:?}");
    assert_eq!(
        redis[2], "-LOADING Redis is loading the dataset in memory\r\n",
        "redis-server: {redis:?}"
    );
    assert!(redis.contains(&"loading:1".to_string()), "{redis:?}");
    assert_eq!(replica_sync(Kind::GoStore), redis);
}

#[test]
fn the_log_says_listening_before_the_load_as_redis() {
    let mut srv = TestServer::gostore(&["--appendonly", "no"]);
    fill(srv.port);
    assert_eq!(RawConn::connect(srv.port).cmd_str(&["SAVE"]), "+OK\r\n");
    srv.kill9();
    let log = srv.path.join("restart.log");
    let port = free_port();
    let log_arg = log.to_str().expect("utf-8 path");
    let _s = spawn(
        Kind::GoStore,
        &srv.path,
        port,
        &["--appendonly", "no", "--logfile", log_arg],
    );
    wait_for(30, "the load to end", || common::ping(port));
    let text = std::fs::read_to_string(&log).expect("log");
    let listening = text.find("Running mode=standalone, listening on");
    let loaded = text.find("DB loaded from disk");
    assert!(
        listening.is_some() && loaded.is_some() && listening < loaded,
        "{text}"
    );
}

/// SHUTDOWN (or SIGTERM) sent while the RDB loads: the exit status, and
/// whether the load finished first.
fn shutdown_while_loading(kind: Kind, sigterm: bool) -> (Option<i32>, bool, String) {
    let mut srv = TestServer::start(kind, &["--appendonly", "no"]);
    fill(srv.port);
    assert_eq!(RawConn::connect(srv.port).cmd_str(&["SAVE"]), "+OK\r\n");
    srv.kill9();
    let log = srv.path.join("restart.log");
    let port = free_port();
    let log_arg = log.to_str().expect("utf-8 path");
    let mut s = spawn(
        kind,
        &srv.path,
        port,
        &[
            "--appendonly",
            "no",
            "--logfile",
            log_arg,
            "--key-load-delay",
            "1000",
            "--loading-process-events-interval-bytes",
            "1024",
        ],
    );
    wait_for(30, "the server to listen", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    // The first command on a fresh connection; a connection reset before
    // its reply gets a new connection (twice at most). A server that died
    // instead fails below: it neither answers nor exits 0.
    let (mut c, first) = (0..3)
        .find_map(|_| {
            let mut c = RawConn::connect(port);
            c.try_cmd(&[b"PING"])
                .ok()
                .map(|r| (c, String::from_utf8_lossy(&r).into_owned()))
        })
        .expect("no reply to PING on three connections");
    if sigterm {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(s.0.id() as i32, libc::SIGTERM) };
    } else {
        c.send(&common::resp::encode(&[b"SHUTDOWN", b"NOSAVE"]));
    }
    let mut status = None;
    wait_for(60, "the server to exit", || match s.0.try_wait() {
        Ok(Some(st)) => {
            status = Some(st.code());
            true
        }
        _ => false,
    });
    let text = std::fs::read_to_string(&log).expect("log");
    (
        status.flatten(),
        text.contains("DB loaded from disk"),
        first,
    )
}

#[test]
fn shutdown_while_loading_exits_at_once_without_finishing_the_load_as_redis() {
    let loading = "-LOADING Redis is loading the dataset in memory\r\n".to_string();
    let redis = shutdown_while_loading(Kind::Redis, false);
    assert_eq!(redis, (Some(0), false, loading), "redis-server");
    assert_eq!(shutdown_while_loading(Kind::GoStore, false), redis);
}

#[test]
fn sigterm_while_loading_exits_at_once_without_finishing_the_load_as_redis() {
    let loading = "-LOADING Redis is loading the dataset in memory\r\n".to_string();
    let redis = shutdown_while_loading(Kind::Redis, true);
    assert_eq!(redis, (Some(0), false, loading), "redis-server");
    assert_eq!(shutdown_while_loading(Kind::GoStore, true), redis);
}

/// A loading replica with `replica-serve-stale-data no`: the stale check
/// comes first (MASTERDOWN), then -LOADING for what it lets through.
fn replica_sync_no_stale(kind: Kind) -> Vec<String> {
    let master = TestServer::start(kind, &[]);
    fill(master.port);
    let replica = TestServer::start(
        kind,
        &[
            "--key-load-delay",
            "1000",
            "--loading-process-events-interval-bytes",
            "1024",
            "--replica-serve-stale-data",
            "no",
        ],
    );
    let mut c = RawConn::connect(replica.port);
    let port = master.port.to_string();
    let mut t = vec![c.cmd_str(&["REPLICAOF", "127.0.0.1", &port])];
    wait_for(60, "the replica to be loading", || {
        c.cmd_str(&["INFO", "persistence"])
            .contains("\r\nloading:1\r\n")
    });
    for cmd in [
        &["GET", "key:1"][..],
        &["PING"],
        &["ECHO", "hi"],
        &["DBSIZE"],
        &["MULTI"],
        &["DISCARD"],
    ] {
        t.push(c.cmd_str(cmd));
    }
    wait_for(60, "the link to come up", || {
        c.cmd_str(&["INFO", "replication"])
            .contains("master_link_status:up")
    });
    t.push(c.cmd_str(&["GET", "key:1"]));
    t
}

#[test]
fn a_loading_replica_that_serves_no_stale_data_answers_as_redis() {
    let redis = replica_sync_no_stale(Kind::Redis);
    assert!(
        redis[1].starts_with("-MASTERDOWN"),
        "redis-server: {redis:?}"
    );
    assert_eq!(replica_sync_no_stale(Kind::GoStore), redis);
}

/// A replica stopped while it loads its master's snapshot has a partial
/// dataset: its shutdown must not save it over the snapshot it had, even
/// with save points set (Redis forces NOSAVE while loading).
#[test]
fn a_shutdown_while_a_replica_loads_keeps_its_old_snapshot() {
    let master = TestServer::gostore(&[]);
    fill(master.port);
    let dir = common::TempDir::new("replica-shutdown-while-loading");
    let args = [
        "--appendonly",
        "no",
        "--save",
        "3600 1",
        "--key-load-delay",
        "1000",
        "--loading-process-events-interval-bytes",
        "1024",
    ];
    let mut replica = TestServer::start_in(Kind::GoStore, dir.path(), &args);
    let mut c = RawConn::connect(replica.port);
    assert_eq!(c.cmd_str(&["SET", "old", "snapshot"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["SAVE"]), "+OK\r\n");
    let port = master.port.to_string();
    assert_eq!(c.cmd_str(&["REPLICAOF", "127.0.0.1", &port]), "+OK\r\n");
    wait_for(60, "the replica's load to begin", || {
        c.cmd_str(&["GET", "old"]).starts_with("-LOADING")
    });
    c.send(b"SHUTDOWN\r\n");
    assert_eq!(replica.wait(), Some(0));
    // Back without its master: what it had saved before, whole.
    let mut replica = TestServer::start_in(Kind::GoStore, dir.path(), &args[..4]);
    let mut c = RawConn::connect(replica.port);
    assert_eq!(c.cmd_str(&["GET", "old"]), "$8\r\nsnapshot\r\n");
    assert_eq!(c.cmd_str(&["DBSIZE"]), ":1\r\n");
    c.send(b"SHUTDOWN NOSAVE\r\n");
    assert_eq!(replica.wait(), Some(0));
}
