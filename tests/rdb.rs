//! RDB files in both directions with Redis 7.0: redis-check-rdb accepts
//! every file GoStore writes (SAVE and BGSAVE, compressed or not) and
//! redis-server loads it to the same dataset; GoStore starts on a dump.rdb
//! written by redis-server to the same dataset; damaged files are refused
//! with a clear message.

mod common;

use std::path::Path;

use common::dataset::{assert_same, dump, fill_every_type, without_encodings};
use common::{wait_for, Kind, TempDir, TestServer};

/// A function library, kept in RDB files as RDB_OPCODE_FUNCTION2.
const LIB: &str = "#!lua name=rdblib\nredis.register_function('rdbecho', function(keys, args) return args[1] end)";

fn function_list(port: u16) -> String {
    common::resp::RawConn::connect(port).cmd_str(&["FUNCTION", "LIST", "WITHCODE"])
}

fn redis_check_rdb(file: &Path) -> (bool, String) {
    let tool = ["/usr/bin/redis-check-rdb", "/usr/local/bin/redis-check-rdb"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("redis-check-rdb");
    let out = std::process::Command::new(tool)
        .arg(file)
        .output()
        .expect("redis-check-rdb (redis-tools) is installed by `make test`");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn info_field(port: u16, name: &str) -> String {
    let mut c = common::resp::RawConn::connect(port);
    let text = c.cmd_str(&["INFO", "persistence"]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// GoStore writes `dump.rdb` with SAVE under `args`; redis-check-rdb
/// accepts it and redis-server loads the same dataset.
fn gostore_save_loads_in_redis(args: &[&str], bgsave: bool) {
    let dir = TempDir::new("rdb-to-redis");
    let mut all = vec!["--appendonly", "no"];
    all.extend_from_slice(args);
    let mut g = TestServer::gostore_in(dir.path(), &all);
    fill_every_type(g.port);
    let written = dump(g.port, 16);
    let mut c = g.raw_conn();
    assert_eq!(c.cmd_str(&["FUNCTION", "LOAD", LIB]), "$6\r\nrdblib\r\n");
    let functions = function_list(g.port);
    if bgsave {
        assert_eq!(c.cmd_str(&["BGSAVE"]), "+Background saving started\r\n");
        wait_for(30, "the BGSAVE", || info_field(g.port, "rdb_saves") == "1");
        assert_eq!(info_field(g.port, "rdb_last_bgsave_status"), "ok");
        assert_eq!(info_field(g.port, "rdb_changes_since_last_save"), "0");
    } else {
        assert_eq!(c.cmd_str(&["SAVE"]), "+OK\r\n");
    }
    assert_eq!(g.sigterm(), Some(0));
    let (ok, out) = redis_check_rdb(&dir.path().join("dump.rdb"));
    assert!(ok, "redis-check-rdb refused GoStore's file:\n{out}");
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), &["--dbfilename", "dump.rdb"]);
    let by_redis = dump(r.port, 16);
    // A load re-encodes as the data calls for (an APPENDed raw string
    // comes back embstr, a set that once held words an intset), in Redis
    // as in GoStore: values here, encodings against Redis's load below.
    assert_same(
        &without_encodings(&by_redis),
        &without_encodings(&written),
        "Redis loading GoStore's RDB",
    );
    assert_eq!(function_list(r.port), functions);
    assert_eq!(r.sigterm(), Some(0));
    // And GoStore loads its own file back, to what Redis loaded.
    let mut g = TestServer::gostore_in(dir.path(), &all);
    assert_same(&dump(g.port, 16), &by_redis, "GoStore loading its own RDB");
    assert_eq!(function_list(g.port), functions);
    assert_eq!(g.sigterm(), Some(0));
}

#[test]
fn redis_loads_gostore_s_save_to_the_same_dataset() {
    gostore_save_loads_in_redis(&[], false);
}

#[test]
fn redis_loads_gostore_s_uncompressed_unchecksummed_save() {
    gostore_save_loads_in_redis(&["--rdbcompression", "no", "--rdbchecksum", "no"], false);
}

#[test]
fn redis_loads_gostore_s_bgsave_to_the_same_dataset() {
    gostore_save_loads_in_redis(&[], true);
}

#[test]
fn gostore_starts_on_redis_s_dump_rdb_with_the_same_dataset() {
    for compression in ["yes", "no"] {
        let dir = TempDir::new("rdb-from-redis");
        let mut r =
            TestServer::start_in(Kind::Redis, dir.path(), &["--rdbcompression", compression]);
        fill_every_type(r.port);
        let written = dump(r.port, 16);
        r.raw_conn().cmd_str(&["FUNCTION", "LOAD", LIB]);
        let functions = function_list(r.port);
        assert_eq!(r.raw_conn().cmd_str(&["SAVE"]), "+OK\r\n");
        assert_eq!(r.sigterm(), Some(0));
        let mut g = TestServer::gostore_in(dir.path(), &["--appendonly", "no"]);
        let by_gostore = dump(g.port, 16);
        assert_same(
            &without_encodings(&by_gostore),
            &without_encodings(&written),
            "GoStore loading Redis's dump.rdb",
        );
        assert_eq!(function_list(g.port), functions);
        assert_eq!(
            g.raw_conn().cmd_str(&["FCALL", "rdbecho", "0", "hi"]),
            "$2\r\nhi\r\n"
        );
        assert_eq!(
            info_field(g.port, "rdb_last_load_keys_loaded"),
            written.len().to_string()
        );
        assert_eq!(g.sigterm(), Some(0));
        // The same encodings as Redis reloading its own file.
        let mut r = TestServer::start_in(Kind::Redis, dir.path(), &["--dbfilename", "dump.rdb"]);
        assert_same(&by_gostore, &dump(r.port, 16), "encodings after a load");
        assert_eq!(r.sigterm(), Some(0));
    }
}

#[test]
fn with_appendonly_yes_the_aof_wins_over_dump_rdb() {
    let dir = TempDir::new("rdb-aof-wins");
    let mut g = TestServer::gostore_in(dir.path(), &[]);
    g.raw_conn().cmd_str(&["SET", "k", "from-rdb"]);
    assert_eq!(g.raw_conn().cmd_str(&["SAVE"]), "+OK\r\n");
    g.raw_conn().cmd_str(&["SET", "k", "from-aof"]);
    assert_eq!(g.sigterm(), Some(0));
    let mut g = TestServer::gostore_in(dir.path(), &[]);
    assert_eq!(g.raw_conn().cmd_str(&["GET", "k"]), "$8\r\nfrom-aof\r\n");
    assert_eq!(g.sigterm(), Some(0));
    let mut g = TestServer::gostore_in(dir.path(), &["--appendonly", "no"]);
    assert_eq!(g.raw_conn().cmd_str(&["GET", "k"]), "$8\r\nfrom-rdb\r\n");
    assert_eq!(g.sigterm(), Some(0));
}

#[test]
fn a_damaged_rdb_is_refused_with_a_clear_message() {
    let dir = TempDir::new("rdb-damaged");
    let mut g = TestServer::gostore_in(dir.path(), &["--appendonly", "no"]);
    fill_every_type(g.port);
    assert_eq!(g.raw_conn().cmd_str(&["SAVE"]), "+OK\r\n");
    assert_eq!(g.sigterm(), Some(0));
    let path = dir.path().join("dump.rdb");
    let good = std::fs::read(&path).unwrap();
    // Truncated.
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    let (code, out) = TestServer::start_failing(Kind::GoStore, dir.path(), &["--appendonly", "no"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("Can't load the RDB file dump.rdb"), "{out}");
    assert!(out.contains("truncated"), "{out}");
    // A flipped byte in a value: the checksum catches it.
    let mut bad = good.clone();
    let at = good
        .windows(5)
        .position(|w| w == b"hello")
        .expect("the dataset's 'hello' value");
    bad[at] ^= 0x20;
    std::fs::write(&path, &bad).unwrap();
    let (code, out) = TestServer::start_failing(Kind::GoStore, dir.path(), &["--appendonly", "no"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("Wrong RDB checksum"), "{out}");
    // Not an RDB at all.
    std::fs::write(&path, b"hello world, not an rdb").unwrap();
    let (code, out) = TestServer::start_failing(Kind::GoStore, dir.path(), &["--appendonly", "no"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("Wrong signature"), "{out}");
}

#[test]
fn save_points_start_a_bgsave_after_enough_changes() {
    let dir = TempDir::new("rdb-savepoint");
    let mut g = TestServer::gostore_in(dir.path(), &["--appendonly", "no", "--save", "1 3"]);
    let mut c = g.raw_conn();
    for i in 0..3 {
        c.cmd_str(&["SET", &format!("k{i}"), "v"]);
    }
    wait_for(30, "a save-point BGSAVE", || {
        info_field(g.port, "rdb_saves") == "1"
    });
    assert!(dir.path().join("dump.rdb").is_file());
    assert_eq!(info_field(g.port, "rdb_changes_since_last_save"), "0");
    assert_eq!(g.sigterm(), Some(0));
    let mut g = TestServer::gostore_in(dir.path(), &["--appendonly", "no"]);
    assert_eq!(g.raw_conn().cmd_str(&["DBSIZE"]), ":3\r\n");
    assert_eq!(g.sigterm(), Some(0));
}

#[test]
fn bgsave_under_writes_saves_the_dataset_as_at_the_fork() {
    let dir = TempDir::new("rdb-bgsave-writes");
    let mut g = TestServer::gostore_in(
        dir.path(),
        &["--appendonly", "no", "--rdb-key-save-delay", "100"],
    );
    let mut c = g.raw_conn();
    for i in 0..2000 {
        c.cmd_str(&["SET", &format!("k{i}"), "before"]);
    }
    assert_eq!(c.cmd_str(&["BGSAVE"]), "+Background saving started\r\n");
    wait_for(10, "the child", || {
        info_field(g.port, "rdb_bgsave_in_progress") == "1"
    });
    assert_eq!(
        c.cmd_str(&["BGSAVE"]),
        "-ERR Background save already in progress\r\n"
    );
    // Writes go on while the child runs; they are not in the file.
    for i in 0..2000 {
        c.cmd_str(&["SET", &format!("k{i}"), "after"]);
    }
    c.cmd_str(&["SET", "new", "x"]);
    wait_for(60, "the BGSAVE", || info_field(g.port, "rdb_saves") == "1");
    assert_eq!(info_field(g.port, "rdb_changes_since_last_save"), "2001");
    g.kill9();
    let mut g = TestServer::gostore_in(dir.path(), &["--appendonly", "no"]);
    let mut c = g.raw_conn();
    assert_eq!(c.cmd_str(&["DBSIZE"]), ":2000\r\n");
    assert_eq!(c.cmd_str(&["GET", "k1999"]), "$6\r\nbefore\r\n");
    assert_eq!(g.sigterm(), Some(0));
}

/// Shutting down saves the final RDB snapshot when save points are set
/// (SHUTDOWN and SIGTERM), not with SHUTDOWN NOSAVE, always with SHUTDOWN
/// SAVE; a final save that fails calls the shutdown off with Redis's error
/// unless FORCE, and the server goes on. The same exchange on redis-server.
#[test]
fn shutdown_saves_the_final_snapshot_as_redis_does() {
    for kind in [Kind::GoStore, Kind::Redis] {
        let dir = TempDir::new("shutdown-save");
        let args = ["--appendonly", "no", "--save", "3600 1"];
        let mut s = TestServer::start_in(kind, dir.path(), &args);
        let get = |s: &TestServer, k: &str| s.raw_conn().cmd_str(&["GET", k]);
        let set = |s: &TestServer, k: &str| {
            assert_eq!(s.raw_conn().cmd_str(&["SET", k, "v"]), "+OK\r\n");
        };
        // SHUTDOWN: saved.
        set(&s, "by-shutdown");
        s.raw_conn().send(b"SHUTDOWN\r\n");
        assert_eq!(s.wait(), Some(0), "{kind:?}");
        s.restart();
        assert_eq!(get(&s, "by-shutdown"), "$1\r\nv\r\n", "{kind:?}");
        // SIGTERM: saved.
        set(&s, "by-sigterm");
        assert_eq!(s.sigterm(), Some(0), "{kind:?}");
        s.restart();
        assert_eq!(get(&s, "by-sigterm"), "$1\r\nv\r\n", "{kind:?}");
        // SHUTDOWN NOSAVE: not saved.
        set(&s, "lost");
        s.raw_conn().send(b"SHUTDOWN NOSAVE\r\n");
        assert_eq!(s.wait(), Some(0), "{kind:?}");
        s.restart();
        assert_eq!(get(&s, "lost"), "$-1\r\n", "{kind:?}");
        // A save that cannot be written (its directory is gone): the
        // shutdown is called off.
        let mut c = s.raw_conn();
        std::fs::remove_dir_all(dir.path()).expect("remove the server's dir");
        assert_eq!(
            c.cmd_str(&["SHUTDOWN"]),
            "-ERR Errors trying to SHUTDOWN. Check logs.\r\n",
            "{kind:?}"
        );
        assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n", "{kind:?} went on");
        c.send(b"SHUTDOWN FORCE\r\n");
        assert_eq!(s.wait(), Some(0), "{kind:?}: SHUTDOWN FORCE exits");
    }
}
