//! Two-way AOF compatibility with Redis 7.0, with a dataset of every kind
//! of value GoStore stores: redis-server loads GoStore's files (its incr
//! log, then its rewritten base) to the same dataset, GoStore loads Redis's
//! (written with aof-use-rdb-preamble no, before and after Redis's own
//! rewrite, and with Redis's default RDB base), and each loads the other's
//! RDB base (`aof-use-rdb-preamble yes`).

mod common;

use std::path::Path;

use common::dataset::{assert_same, dump, fill_every_type, without_encodings};
use common::{wait_for, wait_for_rewrites, Kind, TempDir, TestServer};

/// Redis on a GoStore directory: same file names, RESP base.
const REDIS_ON_GOSTORE_FILES: &[&str] = &[
    "--appendonly",
    "yes",
    "--appendfilename",
    "database.aof",
    "--appenddirname",
    "appendonlydir",
    "--aof-use-rdb-preamble",
    "no",
];

fn redis_check_aof(manifest: &Path) -> (bool, String) {
    let tool = ["/usr/bin/redis-check-aof", "/usr/local/bin/redis-check-aof"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("redis-check-aof");
    let out = std::process::Command::new(tool)
        .arg(manifest)
        .output()
        .expect("redis-check-aof (redis-tools) is installed by `make test`");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn redis_server_loads_gostore_s_log_and_its_rewritten_base_to_the_same_dataset() {
    let dir = TempDir::new("to-redis");
    let manifest = dir.path().join("appendonlydir/database.aof.manifest");
    let mut g = TestServer::gostore_in(dir.path(), &[]);
    fill_every_type(g.port);
    let written = dump(g.port, 16);
    assert_eq!(g.sigterm(), Some(0));
    // 1. The incr log, command by command.
    let (ok, out) = redis_check_aof(&manifest);
    assert!(ok, "{out}");
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), REDIS_ON_GOSTORE_FILES);
    assert_same(&dump(r.port, 16), &written, "Redis loading GoStore's log");
    assert_eq!(r.sigterm(), Some(0));
    // 2. GoStore's compact base.
    let mut g = TestServer::gostore_in(dir.path(), &[]);
    g.raw_conn().cmd_str(&["BGREWRITEAOF"]);
    wait_for_rewrites(g.port, 1);
    let rewritten = dump(g.port, 16);
    assert_eq!(g.sigterm(), Some(0));
    // Lists hold binary elements: read the base as bytes.
    let base = std::fs::read(dir.path().join("appendonlydir/database.aof.2.base.aof"))
        .expect("the new base");
    let base = String::from_utf8_lossy(&base);
    assert!(base.contains("MSET") && base.contains("HSET") && base.contains("PEXPIREAT"));
    // A list of 300 elements: RPUSH batches of at most 64, as Redis writes.
    assert!(
        base.contains("*66\r\n$5\r\nRPUSH\r\n$6\r\nl:many\r\n"),
        "{base}"
    );
    assert!(!base.contains("*302\r\n$5\r\nRPUSH"));
    // Sets of 300 integers and 700 strings: SADD batches of at most 64.
    assert!(
        base.contains("*66\r\n$4\r\nSADD\r\n$10\r\ns:manyints\r\n"),
        "{base}"
    );
    assert!(base.contains("*66\r\n$4\r\nSADD\r\n$6\r\ns:many\r\n"));
    assert!(!base.contains("*302\r\n$4\r\nSADD"));
    // A sorted set of 290 members: ZADD batches of at most 64 pairs.
    assert!(
        base.contains("*130\r\n$4\r\nZADD\r\n$6\r\nz:many\r\n"),
        "{base}"
    );
    assert!(!base.contains("*582\r\n$4\r\nZADD"));
    let (ok, out) = redis_check_aof(&manifest);
    assert!(ok, "{out}");
    // Loaded from the base, strings made by APPEND are embstr again, in
    // both servers: compare encodings between the two loads.
    let mut g = TestServer::gostore_in(dir.path(), &[]);
    let gostore_load = dump(g.port, 16);
    assert_same(
        &without_encodings(&gostore_load),
        &without_encodings(&rewritten),
        "GoStore loading its base",
    );
    assert_eq!(g.sigterm(), Some(0));
    let r = TestServer::start_in(Kind::Redis, dir.path(), REDIS_ON_GOSTORE_FILES);
    assert_same(
        &dump(r.port, 16),
        &gostore_load,
        "Redis loading GoStore's base",
    );
}

#[test]
fn gostore_loads_redis_s_log_and_redis_s_rewritten_base_to_the_same_dataset() {
    let dir = TempDir::new("from-redis");
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), REDIS_ON_GOSTORE_FILES);
    fill_every_type(r.port);
    let written = dump(r.port, 16);
    assert_eq!(r.sigterm(), Some(0));
    // 1. Redis's incr log.
    let mut g = TestServer::gostore_in(dir.path(), &[]);
    assert_same(&dump(g.port, 16), &written, "GoStore loading Redis's log");
    assert_eq!(g.sigterm(), Some(0));
    // 2. Redis's own rewrite (HMSET, SET, PEXPIREAT) plus writes after it.
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), REDIS_ON_GOSTORE_FILES);
    let mut c = r.raw_conn();
    c.cmd_str(&["BGREWRITEAOF"]);
    wait_for(30, "Redis's rewrite", || {
        let i = c.cmd_str(&["INFO", "persistence"]);
        i.contains("aof_rewrite_in_progress:0") && i.contains("aof_rewrites:1")
    });
    c.cmd_str(&["SELECT", "2"]);
    c.cmd_str(&["SET", "after-redis-rewrite", "1"]);
    let rewritten = dump(r.port, 16);
    assert_eq!(r.sigterm(), Some(0));
    // Compare encodings between the two loads of the same files.
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), REDIS_ON_GOSTORE_FILES);
    let redis_load = dump(r.port, 16);
    assert_same(
        &without_encodings(&redis_load),
        &without_encodings(&rewritten),
        "Redis loading its base",
    );
    assert_eq!(r.sigterm(), Some(0));
    let g = TestServer::gostore_in(dir.path(), &[]);
    assert_same(
        &dump(g.port, 16),
        &redis_load,
        "GoStore loading Redis's base",
    );
}

const LIB: &str =
    "#!lua name=lib1\nredis.register_function('echo1', function(keys, args) return args[1] end)";
const LIB2: &str = "#!lua name=lib2\nredis.register_function{function_name='echo2', callback=function(keys, args) return args[1] end, flags={'no-writes'}}";

/// FUNCTION LIST WITHCODE of each test library in turn: Redis lists its
/// libraries in its table's order, which varies from run to run.
fn function_list(port: u16) -> String {
    let mut c = common::resp::RawConn::connect(port);
    ["lib1", "lib2"]
        .iter()
        .map(|name| c.cmd_str(&["FUNCTION", "LIST", "LIBRARYNAME", name, "WITHCODE"]))
        .collect()
}

fn gostore_check_aof(manifest: &Path) -> (bool, String) {
    let out = std::process::Command::new(common::check_aof_bin())
        .arg(manifest)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn gostore_loads_an_aof_with_an_rdb_base_from_redis_s_defaults() {
    let dir = TempDir::new("rdb-preamble");
    let mut args = REDIS_ON_GOSTORE_FILES.to_vec();
    args.truncate(args.len() - 2); // Redis's default: aof-use-rdb-preamble yes
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), &args);
    fill_every_type(r.port);
    let mut c = r.raw_conn();
    assert_eq!(c.cmd_str(&["FUNCTION", "LOAD", LIB]), "$4\r\nlib1\r\n");
    c.cmd_str(&["BGREWRITEAOF"]);
    wait_for(30, "Redis's rewrite", || {
        let i = c.cmd_str(&["INFO", "persistence"]);
        i.contains("aof_rewrite_in_progress:0") && i.contains("aof_rewrites:1")
    });
    // Writes after the rewrite go to the incr file, after the RDB base.
    c.cmd_str(&["SELECT", "2"]);
    c.cmd_str(&["SET", "after-redis-rewrite", "1"]);
    c.cmd_str(&["FUNCTION", "LOAD", LIB2]);
    let written = dump(r.port, 16);
    let functions = function_list(r.port);
    assert_eq!(r.sigterm(), Some(0));
    let base = dir.path().join("appendonlydir/database.aof.2.base.rdb");
    assert!(std::fs::read(&base).unwrap().starts_with(b"REDIS0010"));
    let g = TestServer::gostore_in(dir.path(), &[]);
    assert_same(
        &without_encodings(&dump(g.port, 16)),
        &without_encodings(&written),
        "GoStore loading Redis's RDB base and incr file",
    );
    assert_eq!(function_list(g.port), functions);
}

#[test]
fn redis_loads_gostore_s_rdb_base_and_both_check_tools_accept_it() {
    let dir = TempDir::new("gostore-preamble");
    let manifest = dir.path().join("appendonlydir/database.aof.manifest");
    let mut g = TestServer::gostore_in(dir.path(), &["--aof-use-rdb-preamble", "yes"]);
    fill_every_type(g.port);
    let mut c = g.raw_conn();
    assert_eq!(c.cmd_str(&["FUNCTION", "LOAD", LIB]), "$4\r\nlib1\r\n");
    c.cmd_str(&["BGREWRITEAOF"]);
    wait_for_rewrites(g.port, 1);
    c.cmd_str(&["SELECT", "3"]);
    c.cmd_str(&["SET", "after-gostore-rewrite", "1"]);
    let written = dump(g.port, 16);
    let functions = function_list(g.port);
    assert_eq!(g.sigterm(), Some(0));
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        text.starts_with("file database.aof.2.base.rdb seq 2 type b\n"),
        "{text}"
    );
    let base = std::fs::read(dir.path().join("appendonlydir/database.aof.2.base.rdb")).unwrap();
    assert!(base.starts_with(b"REDIS0010"));
    let (ok, out) = redis_check_aof(&manifest);
    assert!(ok, "{out}");
    let (ok, out) = gostore_check_aof(&manifest);
    assert!(
        ok && out.contains("Start to check BASE AOF (RDB format)."),
        "{out}"
    );
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), REDIS_ON_GOSTORE_FILES);
    assert_same(
        &without_encodings(&dump(r.port, 16)),
        &without_encodings(&written),
        "Redis loading GoStore's RDB base",
    );
    assert_eq!(function_list(r.port), functions);
    assert_eq!(r.sigterm(), Some(0));
    let g = TestServer::gostore_in(dir.path(), &[]);
    assert_same(
        &without_encodings(&dump(g.port, 16)),
        &without_encodings(&written),
        "GoStore loading its RDB base",
    );
    assert_eq!(function_list(g.port), functions);
}

#[test]
fn a_resp_base_keeps_the_function_libraries() {
    let dir = TempDir::new("resp-functions");
    let mut g = TestServer::gostore_in(dir.path(), &[]);
    let mut c = g.raw_conn();
    c.cmd_str(&["FUNCTION", "LOAD", LIB]);
    c.cmd_str(&["SET", "k", "v"]);
    c.cmd_str(&["BGREWRITEAOF"]);
    wait_for_rewrites(g.port, 1);
    let functions = function_list(g.port);
    assert_eq!(g.sigterm(), Some(0));
    let base = std::fs::read(dir.path().join("appendonlydir/database.aof.2.base.aof")).unwrap();
    assert!(base.starts_with(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n"));
    let g = TestServer::gostore_in(dir.path(), &[]);
    assert_eq!(function_list(g.port), functions);
    let r = TestServer::start_in(Kind::Redis, dir.path(), REDIS_ON_GOSTORE_FILES);
    assert_eq!(function_list(r.port), functions);
}
