//! GoStore started on a Redis data directory: Redis's default file names
//! (`appendonlydir/appendonly.aof.*`, `dump.rdb`) are not GoStore's
//! (`database.aof`), so GoStore must not start empty beside them. It stops
//! with a message naming the files and the option to use; with that option
//! (after the conversion docs/durability.md gives, for RDB) it loads them.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{gostore_bin, wait_for_rewrites, Kind, TempDir, TestServer};

/// Redis 7's defaults, with `appendonly yes`.
const REDIS_AOF: &[&str] = &["--appendonly", "yes"];
/// The option that makes GoStore load Redis's default AOF.
const LOAD_REDIS_AOF: &[&str] = &["--appendfilename", "appendonly.aof"];

fn write_keys(port: u16) {
    let mut c = common::resp::RawConn::connect(port);
    assert_eq!(c.cmd_str(&["SET", "k1", "v1"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["HSET", "h", "f", "x"]), ":1\r\n");
    c.cmd_str(&["SELECT", "3"]);
    assert_eq!(c.cmd_str(&["SET", "k3", "v3"]), "+OK\r\n");
}

fn assert_keys(port: u16) {
    let mut c = common::resp::RawConn::connect(port);
    assert_eq!(c.cmd_str(&["GET", "k1"]), "$2\r\nv1\r\n");
    assert_eq!(c.cmd_str(&["HGET", "h", "f"]), "$1\r\nx\r\n");
    c.cmd_str(&["SELECT", "3"]);
    assert_eq!(c.cmd_str(&["GET", "k3"]), "$2\r\nv3\r\n");
}

/// Runs GoStore in `dir` with `args` and expects it to stop at start-up;
/// returns its output. A GoStore that starts instead is killed and the test
/// fails (`TestServer::start_failing` would wait for it forever).
fn refused(dir: &Path, args: &[&str]) -> String {
    let out_path = dir.join("refused.out");
    let out = std::fs::File::create(&out_path).expect("create output file");
    let err = out.try_clone().expect("clone output file");
    let port = common::free_port();
    let mut child = Command::new(gostore_bin())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("spawn gostore");
    let mut code = None;
    common::wait_for(30, "GoStore to exit or to answer", || {
        code = child.try_wait().ok().flatten().map(|s| s.code());
        code.is_some() || common::ping(port)
    });
    if code.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    assert_eq!(code, Some(Some(1)), "GoStore must not start: {text}");
    assert!(
        text.contains("refusing to start empty") && text.contains("move these files out of"),
        "{text}"
    );
    assert!(
        !dir.join("appendonlydir/database.aof.manifest").exists(),
        "GoStore created no AOF of its own beside Redis's"
    );
    text
}

#[test]
fn on_a_redis_aof_directory_gostore_refuses_then_loads_it_with_appendfilename() {
    let dir = TempDir::new("redis-aof");
    let mut args = REDIS_AOF.to_vec();
    args.extend(["--aof-use-rdb-preamble", "no"]);
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), &args);
    write_keys(r.port);
    assert_eq!(r.sigterm(), Some(0));
    assert!(dir
        .path()
        .join("appendonlydir/appendonly.aof.manifest")
        .is_file());

    let out = refused(dir.path(), &[]);
    assert!(
        out.contains("the AOF appendonlydir/appendonly.aof.manifest (start with --appendfilename appendonly.aof to load it)"),
        "{out}"
    );
    let g = TestServer::gostore_in(dir.path(), LOAD_REDIS_AOF);
    assert_keys(g.port);
}

#[test]
fn a_redis_aof_with_an_rdb_base_is_named_and_then_loads_with_appendfilename() {
    // Redis's defaults: the base is an RDB (appendonly.aof.1.base.rdb).
    let dir = TempDir::new("redis-preamble");
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), REDIS_AOF);
    write_keys(r.port);
    assert_eq!(r.sigterm(), Some(0));
    assert!(dir
        .path()
        .join("appendonlydir/appendonly.aof.1.base.rdb")
        .is_file());

    let out = refused(dir.path(), &[]);
    assert!(
        out.contains("the AOF appendonlydir/appendonly.aof.manifest (start with --appendfilename appendonly.aof to load it)"),
        "{out}"
    );
    let g = TestServer::gostore_in(dir.path(), LOAD_REDIS_AOF);
    assert_keys(g.port);
}

#[test]
fn a_dump_rdb_stops_start_up_under_appendonly_yes_and_loads_under_no() {
    let dir = TempDir::new("redis-rdb");
    // The harness starts Redis with appendonly no and no save points.
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), &[]);
    write_keys(r.port);
    assert_eq!(r.raw_conn().cmd_str(&["SAVE"]), "+OK\r\n");
    assert_eq!(r.sigterm(), Some(0));
    assert!(dir.path().join("dump.rdb").is_file());

    let out = refused(dir.path(), &[]);
    assert!(
        out.contains("the RDB file dump.rdb (start with --appendonly no --dbfilename dump.rdb"),
        "{out}"
    );
    // Under appendonly no GoStore loads it, as Redis does.
    let mut g = TestServer::gostore_in(dir.path(), &["--appendonly", "no"]);
    assert_keys(g.port);
    assert_eq!(g.sigterm(), Some(0));
    // A dump.rdb beside another dbfilename is not loaded: refused.
    let out = refused(
        dir.path(),
        &["--appendonly", "no", "--dbfilename", "other.rdb"],
    );
    assert!(out.contains("the RDB file dump.rdb"), "{out}");
    // docs/durability.md, "Migrating a Redis data directory": Redis loads
    // dump.rdb (appendonly no), writes a RESP AOF, and shuts down.
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), &[]);
    let mut c = r.raw_conn();
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "aof-use-rdb-preamble", "no"]),
        "+OK\r\n"
    );
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "appendonly", "yes"]),
        "+OK\r\n"
    );
    wait_for_rewrites(r.port, 1);
    assert_eq!(r.sigterm(), Some(0));
    // dump.rdb is still there: GoStore loads its AOF and warns about it.
    let log = dir.path().join("gostore.log");
    let mut args = LOAD_REDIS_AOF.to_vec();
    let log_arg = log.to_string_lossy().into_owned();
    args.extend(["--logfile", &log_arg]);
    let g = TestServer::gostore_in(dir.path(), &args);
    assert_keys(g.port);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("Not loading the RDB file dump.rdb"), "{text}");
}

#[test]
fn a_single_file_aof_under_another_name_is_named_and_loaded_with_appendfilename() {
    let dir = TempDir::new("legacy-aof");
    std::fs::write(
        dir.path().join("appendonly.aof"),
        "*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n",
    )
    .unwrap();
    let out = refused(dir.path(), &[]);
    assert!(
        out.contains("the single-file AOF appendonly.aof (start with --appendfilename appendonly.aof to load it"),
        "{out}"
    );
    let g = TestServer::gostore_in(dir.path(), LOAD_REDIS_AOF);
    assert_eq!(g.raw("GET k1\r\n"), "$2\r\nv1\r\n");
    assert!(dir
        .path()
        .join("appendonlydir/appendonly.aof.manifest")
        .is_file());
}

#[test]
fn with_appendonly_no_other_aofs_are_ignored_as_redis_does_but_named_in_the_log() {
    let dir = TempDir::new("aof-off");
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), REDIS_AOF);
    write_keys(r.port);
    assert_eq!(r.sigterm(), Some(0));
    let log = dir.path().join("gostore.log");
    let log_arg = log.to_string_lossy().into_owned();
    let g = TestServer::gostore_in(dir.path(), &["--appendonly", "no", "--logfile", &log_arg]);
    assert_eq!(g.raw("DBSIZE\r\n"), ":0\r\n");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("Not loading the AOF appendonlydir/appendonly.aof.manifest")
            && text.contains("appendonly is no"),
        "{text}"
    );
}
