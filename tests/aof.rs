//! The append-only file: Redis 7's multi-part layout, replay at start-up,
//! clean shutdowns, crashes under `appendfsync always`, damaged files, the
//! legacy single-file layout, and round trips with real Redis tools.

mod common;

use std::path::Path;

use common::resp::RawConn;
use common::{Kind, TempDir, TestServer};

fn aof_dir(srv_path: &Path) -> std::path::PathBuf {
    srv_path.join("appendonlydir")
}

fn read(p: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned()
}

#[test]
fn a_fresh_server_creates_redis_7_multi_part_files() {
    let srv = TestServer::gostore(&[]);
    let dir = aof_dir(&srv.path);
    assert_eq!(
        read(&dir.join("database.aof.manifest")),
        "file database.aof.1.base.aof seq 1 type b\nfile database.aof.1.incr.aof seq 1 type i\n"
    );
    assert!(dir.join("database.aof.1.base.aof").is_file());
    let mut c = srv.raw_conn();
    c.cmd_str(&["SELECT", "2"]);
    c.cmd_str(&["SET", "k", "v"]);
    assert_eq!(
        read(&dir.join("database.aof.1.incr.aof")),
        "*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
    );
}

#[test]
fn writes_survive_shutdown_and_restart_in_every_database() {
    let mut srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    c.cmd_str(&["SET", "a", "1"]);
    c.cmd_str(&["HSET", "h", "f1", "v1", "f2", "v2"]);
    c.cmd_str(&["SELECT", "5"]);
    c.cmd_str(&["SET", "b", "in db 5"]);
    c.cmd_str(&["SET", "ttl", "x", "EX", "1000"]);
    c.send(b"SHUTDOWN\r\n");
    assert!(c.is_closed());
    assert_eq!(srv.wait(), Some(0));
    srv.restart();
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["GET", "a"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd_str(&["HGET", "h", "f2"]), "$2\r\nv2\r\n");
    c.cmd_str(&["SELECT", "5"]);
    assert_eq!(c.cmd_str(&["GET", "b"]), "$7\r\nin db 5\r\n");
    let ttl = c.cmd_str(&["TTL", "ttl"]);
    assert!(
        ttl == ":1000\r\n" || ttl == ":999\r\n",
        "TTL kept as an absolute time: {ttl}"
    );
}

#[test]
fn sigterm_writes_the_aof_and_exits_zero() {
    let mut srv = TestServer::gostore(&["--appendfsync", "no"]);
    let mut c = srv.raw_conn();
    for i in 0..100 {
        c.cmd_str(&["SET", &format!("k{i}"), &i.to_string()]);
    }
    assert_eq!(srv.sigterm(), Some(0));
    srv.restart();
    assert_eq!(srv.raw_conn().cmd_str(&["DBSIZE"]), ":100\r\n");
}

#[test]
fn every_acknowledged_write_survives_kill_9_under_appendfsync_always() {
    let mut srv = TestServer::gostore(&["--appendfsync", "always"]);
    let mut acked: Vec<u64> = Vec::new();
    let mut next = 0u64;
    for cycle in 0..3 {
        let port = srv.port;
        let stop_after = 200 + cycle * 150;
        // A writer that records each acknowledged SET; the server is killed
        // while it writes, so its last command may or may not be applied.
        let handle = std::thread::spawn(move || {
            let mut c = RawConn::connect(port);
            let mut got = Vec::new();
            let mut n = next;
            loop {
                let k = format!("key:{n}");
                match c.try_cmd(&[b"SET", k.as_bytes(), n.to_string().as_bytes()]) {
                    Ok(r) if r == b"+OK\r\n" => got.push(n),
                    _ => return (got, n),
                }
                n += 1;
            }
        });
        let target = acked.len() + stop_after as usize;
        common::wait_for(60, "writes to be acknowledged", || {
            let n: usize = srv
                .raw_conn()
                .cmd_str(&["DBSIZE"])
                .trim_start_matches(':')
                .trim()
                .parse()
                .unwrap_or(0);
            n >= target
        });
        srv.kill9();
        let (got, last) = handle.join().unwrap();
        acked.extend(got);
        next = last + 1;
        srv.restart();
        let mut c = srv.raw_conn();
        for &n in &acked {
            assert_eq!(
                c.cmd_str(&["GET", &format!("key:{n}")]),
                format!("${}\r\n{n}\r\n", n.to_string().len()),
                "acknowledged key:{n} lost in cycle {cycle}"
            );
        }
    }
    assert!(
        acked.len() > 100,
        "the writer made progress ({} writes)",
        acked.len()
    );
}

#[test]
fn replies_keep_flowing_after_switching_to_appendfsync_always_at_run_time() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "appendfsync", "always"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd_str(&["SET", "b", "2"]), "+OK\r\n");
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "appendfsync", "no"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd_str(&["SET", "c", "3"]), "+OK\r\n");
}

#[test]
fn a_legacy_single_file_aof_is_loaded_and_moved_into_the_directory() {
    let dir = TempDir::new("legacy");
    std::fs::write(
        dir.path().join("database.aof"),
        "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$5\r\nvalue\r\n",
    )
    .unwrap();
    let srv = TestServer::gostore_in(dir.path(), &[]);
    assert_eq!(srv.raw_conn().cmd_str(&["GET", "old"]), "$5\r\nvalue\r\n");
    assert!(
        !dir.path().join("database.aof").exists(),
        "the legacy file moved"
    );
    let manifest = read(&aof_dir(dir.path()).join("database.aof.manifest"));
    assert_eq!(
        manifest,
        "file database.aof seq 1 type b\nfile database.aof.1.incr.aof seq 1 type i\n"
    );
    srv.raw_conn().cmd_str(&["SET", "new", "1"]);
    drop(srv);
    let srv = TestServer::gostore_in(dir.path(), &[]);
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["GET", "old"]), "$5\r\nvalue\r\n");
    assert_eq!(c.cmd_str(&["GET", "new"]), "$1\r\n1\r\n");
}

/// A directory holding a manifest and one incr file with `content`.
fn dir_with_incr(content: &[u8]) -> TempDir {
    let dir = TempDir::new("damaged");
    let a = aof_dir(dir.path());
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(
        a.join("database.aof.manifest"),
        "file database.aof.1.base.aof seq 1 type b\nfile database.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    std::fs::write(a.join("database.aof.1.base.aof"), "").unwrap();
    std::fs::write(a.join("database.aof.1.incr.aof"), content).unwrap();
    dir
}

const GOOD: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";

#[test]
fn a_truncated_last_command_is_cut_off_and_the_server_starts() {
    let dir = dir_with_incr(&[GOOD, &b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\nhel"[..]].concat());
    let srv = TestServer::gostore_in(dir.path(), &[]);
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["GET", "a"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd_str(&["EXISTS", "b"]), ":0\r\n");
    assert_eq!(
        std::fs::metadata(aof_dir(dir.path()).join("database.aof.1.incr.aof"))
            .unwrap()
            .len(),
        GOOD.len() as u64,
        "the partial command was removed from the file"
    );
}

#[test]
fn a_truncated_aof_is_refused_when_aof_load_truncated_is_no() {
    let dir = dir_with_incr(&[GOOD, &b"*3\r\n$3\r\nSET"[..]].concat());
    let (code, out) =
        TestServer::start_failing(Kind::GoStore, dir.path(), &["--aof-load-truncated", "no"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("database.aof.1.incr.aof") && out.contains(&format!("offset {}", GOOD.len())),
        "{out}"
    );
    assert!(
        out.contains("gostore-check-aof --fix appendonlydir/database.aof.manifest")
            && out.contains("set the 'aof-load-truncated' configuration option to yes"),
        "{out}"
    );
}

#[test]
fn corruption_stops_start_up_naming_the_file_and_offset() {
    let dir = dir_with_incr(&[GOOD, &b"garbage\r\n"[..], GOOD].concat());
    let before = std::fs::read(aof_dir(dir.path()).join("database.aof.1.incr.aof")).unwrap();
    let (code, out) = TestServer::start_failing(Kind::GoStore, dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!("database.aof.1.incr.aof at offset {}", GOOD.len())),
        "{out}"
    );
    assert!(
        out.contains("gostore-check-aof --fix appendonlydir/database.aof.manifest"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(aof_dir(dir.path()).join("database.aof.1.incr.aof")).unwrap(),
        before,
        "nothing was changed"
    );
}

#[test]
fn an_unknown_command_in_the_aof_stops_start_up() {
    let dir = dir_with_incr(b"*1\r\n$6\r\nNOSUCH\r\n");
    let (code, out) = TestServer::start_failing(Kind::GoStore, dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(out.contains("Unknown command 'NOSUCH'"), "{out}");
}

#[test]
fn a_malformed_manifest_or_a_missing_file_stops_start_up_without_changes() {
    let dir = dir_with_incr(GOOD);
    let m = aof_dir(dir.path()).join("database.aof.manifest");
    std::fs::write(&m, "file database.aof.1.base.aof seq 1\n").unwrap();
    let (code, out) = TestServer::start_failing(Kind::GoStore, dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(out.contains("manifest"), "{out}");
    assert_eq!(read(&m), "file database.aof.1.base.aof seq 1\n");
    std::fs::write(
        &m,
        "file database.aof.1.base.aof seq 1 type b\nfile database.aof.7.incr.aof seq 7 type i\n",
    )
    .unwrap();
    let (code, out) = TestServer::start_failing(Kind::GoStore, dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("database.aof.7.incr.aof") && out.contains("doesn't exist"),
        "{out}"
    );
}

#[test]
fn a_damaged_rdb_base_is_refused_with_a_clear_message() {
    let dir = dir_with_incr(GOOD);
    std::fs::write(
        aof_dir(dir.path()).join("database.aof.1.base.aof"),
        b"REDIS0010\xfa\x09redis-ver",
    )
    .unwrap();
    let (code, out) = TestServer::start_failing(Kind::GoStore, dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("Bad file format reading the RDB preamble")
            && out.contains("database.aof.1.base.aof")
            && out.contains("truncated"),
        "{out}"
    );
}

#[test]
fn annotations_and_multi_exec_blocks_written_by_redis_load() {
    let content = [
        &b"#TS:1700000000\r\n"[..],
        b"*1\r\n$5\r\nMULTI\r\n",
        GOOD,
        b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n",
        b"*1\r\n$4\r\nEXEC\r\n",
        b"*1\r\n$5\r\nMULTI\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n",
    ]
    .concat();
    let dir = dir_with_incr(&content);
    let srv = TestServer::gostore_in(dir.path(), &[]);
    let mut c = srv.raw_conn();
    assert_eq!(
        c.cmd_str(&["MGET", "a", "b", "c"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n",
        "an unterminated MULTI is a truncated tail"
    );
}

fn redis_check_aof() -> Option<&'static str> {
    ["/usr/bin/redis-check-aof", "/usr/local/bin/redis-check-aof"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

#[test]
fn redis_check_aof_accepts_gostore_files() {
    let mut srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    c.cmd_str(&["SET", "k", "v", "EX", "100"]);
    c.cmd_str(&["HSET", "h", "a", "1"]);
    c.cmd_str(&["SELECT", "3"]);
    c.cmd_str(&["INCRBYFLOAT", "f", "1.5"]);
    srv.sigterm();
    let tool = redis_check_aof().unwrap_or("redis-check-aof");
    let out = std::process::Command::new(tool)
        .arg(aof_dir(&srv.path).join("database.aof.manifest"))
        .output()
        .expect("redis-check-aof (redis-tools) is installed by `make test`");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("is valid"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn redis_server_loads_a_gostore_aof_and_gostore_loads_redis_s() {
    // GoStore writes, Redis reads.
    let dir = TempDir::new("roundtrip");
    {
        let mut g = TestServer::gostore_in(dir.path(), &[]);
        let mut c = g.raw_conn();
        c.cmd_str(&["SET", "s", "string value"]);
        c.cmd_str(&["SET", "n", "42"]);
        c.cmd_str(&["INCR", "n"]);
        c.cmd_str(&["HSET", "h", "f1", "v1", "f2", "v2"]);
        c.cmd_str(&["SET", "t", "ttl", "EX", "1000"]);
        c.cmd_str(&["SELECT", "1"]);
        c.cmd_str(&["SET", "db1", "yes"]);
        g.sigterm();
    }
    let redis_args = [
        "--appendonly",
        "yes",
        "--appendfilename",
        "database.aof",
        "--appenddirname",
        "appendonlydir",
        "--aof-use-rdb-preamble",
        "no",
    ];
    {
        let mut r = TestServer::start_in(Kind::Redis, dir.path(), &redis_args);
        let mut c = r.raw_conn();
        assert_eq!(c.cmd_str(&["GET", "s"]), "$12\r\nstring value\r\n");
        assert_eq!(c.cmd_str(&["GET", "n"]), "$2\r\n43\r\n");
        assert_eq!(c.cmd_str(&["HGET", "h", "f2"]), "$2\r\nv2\r\n");
        let ttl: i64 = c
            .cmd_str(&["TTL", "t"])
            .trim_start_matches(':')
            .trim()
            .parse()
            .unwrap_or(-9);
        assert!((990..=1000).contains(&ttl), "TTL kept: {ttl}");
        // Redis writes more, then rewrites: GoStore must read both forms.
        c.cmd_str(&["SELECT", "1"]);
        assert_eq!(c.cmd_str(&["GET", "db1"]), "$3\r\nyes\r\n");
        c.cmd_str(&["SET", "from-redis", "1"]);
        c.cmd_str(&["HSET", "h2", "x", "y"]);
        c.cmd_str(&["BGREWRITEAOF"]);
        common::wait_for(30, "the Redis rewrite", || {
            let info = c.cmd_str(&["INFO", "persistence"]);
            info.contains("aof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0")
                && info.contains("aof_rewrites:1")
        });
        c.cmd_str(&["SET", "after-rewrite", "2"]);
        r.sigterm();
    }
    let g = TestServer::gostore_in(dir.path(), &[]);
    let mut c = g.raw_conn();
    assert_eq!(c.cmd_str(&["GET", "s"]), "$12\r\nstring value\r\n");
    assert_eq!(c.cmd_str(&["HGET", "h", "f1"]), "$2\r\nv1\r\n");
    c.cmd_str(&["SELECT", "1"]);
    assert_eq!(
        c.cmd_str(&["MGET", "db1", "from-redis", "after-rewrite"]),
        "*3\r\n$3\r\nyes\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(c.cmd_str(&["HGET", "h2", "x"]), "$1\r\ny\r\n");
}

#[test]
fn a_full_disk_refuses_writes_holds_their_replies_and_recovers_by_itself() {
    // RLIMIT_FSIZE makes AOF writes past 64 KB fail with EFBIG, as a full disk would.
    let logs = TempDir::new("full-disk-log");
    let log = logs
        .path()
        .join("gostore.log")
        .to_string_lossy()
        .into_owned();
    let mut srv = TestServer::gostore_with_fsize_limit(64 * 1024, &["--logfile", &log]);
    let value = "x".repeat(1000);
    let mut writer = srv.raw_conn();
    let mut acked = Vec::new();
    // Pipeline SETs until one is not answered: its AOF write failed.
    writer
        .stream
        .set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let mut held = None;
    for i in 0..200 {
        let k = format!("k{i}");
        match writer.try_cmd(&[b"SET", k.as_bytes(), value.as_bytes()]) {
            Ok(r) => {
                assert_eq!(r, b"+OK\r\n");
                acked.push(k);
            }
            Err(_) => {
                held = Some(k);
                break;
            }
        }
    }
    let held = held.expect("a write past the limit must not be acknowledged");
    // Other clients: writes are refused with MISCONF, reads still work.
    let mut other = srv.raw_conn();
    assert_eq!(
        other.cmd_str(&["SET", "another", "1"]),
        "-MISCONF Errors writing to the AOF file: File too large\r\n"
    );
    assert_eq!(
        other.cmd_str(&["GET", &acked[0]]),
        format!("$1000\r\n{value}\r\n")
    );
    assert!(other
        .cmd_str(&["INFO", "persistence"])
        .contains("aof_last_write_status:err"));
    // Room again: the retry succeeds, the held reply arrives, writes resume.
    srv.set_fsize_limit(libc::RLIM_INFINITY);
    writer
        .stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    assert_eq!(
        writer.read_reply(),
        b"+OK\r\n",
        "the held write is acknowledged once it is in the file"
    );
    common::wait_for(10, "writes to be accepted again", || {
        other.cmd_str(&["SET", "another", "1"]) == "+OK\r\n"
    });
    assert!(other
        .cmd_str(&["INFO", "persistence"])
        .contains("aof_last_write_status:ok"));
    // Logged once for the whole outage, and its end too.
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        text.matches("Error writing to the AOF file: File too large")
            .count(),
        1,
        "{text}"
    );
    assert!(text.contains("AOF write error looks solved"), "{text}");
    // The short write that hit the limit was cut off: the file holds whole
    // commands only.
    let out = std::process::Command::new(common::check_aof_bin())
        .arg(aof_dir(&srv.path).join("database.aof.manifest"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Everything acknowledged is in the file.
    srv.kill9();
    srv.restart();
    let mut c = srv.raw_conn();
    for k in acked.iter().chain([&held]) {
        assert_eq!(c.cmd_str(&["STRLEN", k]), ":1000\r\n", "{k} lost");
    }
}

#[test]
fn a_crash_in_the_middle_of_a_big_value_is_cut_at_the_start_of_that_command() {
    // A complete 3 MB SET, then a 2 MB SET cut short after 1.5 MB.
    let pad = vec![b'p'; 3 * 1024 * 1024];
    let mut good = format!("*3\r\n$3\r\nSET\r\n$3\r\npad\r\n${}\r\n", pad.len()).into_bytes();
    good.extend_from_slice(&pad);
    good.extend_from_slice(b"\r\n");
    let mut content = good.clone();
    content.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$2000000\r\n");
    content.extend(std::iter::repeat_n(b'b', 1_500_000));
    let dir = dir_with_incr(&content);
    let incr = aof_dir(dir.path()).join("database.aof.1.incr.aof");
    let srv = TestServer::gostore_in(dir.path(), &[]);
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["STRLEN", "pad"]), format!(":{}\r\n", pad.len()));
    assert_eq!(c.cmd_str(&["EXISTS", "b"]), ":0\r\n");
    assert_eq!(
        std::fs::metadata(&incr).unwrap().len(),
        good.len() as u64,
        "cut exactly after the last whole command"
    );
    assert_eq!(c.cmd_str(&["SET", "after", "1"]), "+OK\r\n");
    drop(srv);
    let srv = TestServer::gostore_in(dir.path(), &[]);
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["STRLEN", "pad"]), format!(":{}\r\n", pad.len()));
    assert_eq!(c.cmd_str(&["GET", "after"]), "$1\r\n1\r\n");
}

#[test]
fn a_cut_short_bulk_longer_than_the_whole_file_is_a_truncation() {
    let mut content = GOOD.to_vec();
    content.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5000000\r\n");
    content.extend_from_slice(&[b'x'; 100]);
    let dir = dir_with_incr(&content);
    let srv = TestServer::gostore_in(dir.path(), &[]);
    assert_eq!(
        srv.raw_conn().cmd_str(&["MGET", "a", "b"]),
        "*2\r\n$1\r\n1\r\n$-1\r\n"
    );
    assert_eq!(
        std::fs::metadata(aof_dir(dir.path()).join("database.aof.1.incr.aof"))
            .unwrap()
            .len(),
        GOOD.len() as u64
    );
}

#[test]
fn an_upgrade_interrupted_before_the_legacy_file_moved_is_finished() {
    // The state after a crash between writing the manifest and the move.
    let dir = TempDir::new("upgrade-crash");
    std::fs::write(dir.path().join("database.aof"), GOOD).unwrap();
    let a = aof_dir(dir.path());
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(
        a.join("database.aof.manifest"),
        "file database.aof seq 1 type b\n",
    )
    .unwrap();
    let srv = TestServer::gostore_in(dir.path(), &[]);
    assert_eq!(srv.raw_conn().cmd_str(&["GET", "a"]), "$1\r\n1\r\n");
    assert!(a.join("database.aof").is_file() && !dir.path().join("database.aof").exists());
}

#[test]
fn blocking_commands_in_an_aof_answer_as_timed_out_and_the_load_goes_on() {
    // Redis never writes a blocking command to its AOF, but a hand-made or
    // foreign one may hold some: its loader's client may not block, so each
    // acts as if its timeout had passed (timeout 0 included) and the load
    // goes on. Both servers load this file to the same dataset.
    let cmds: &[&[&str]] = &[
        &["BLPOP", "nolist", "0"],
        &["BRPOP", "a", "b", "0"],
        &["BLMOVE", "nolist", "dst", "LEFT", "RIGHT", "0"],
        &["BRPOPLPUSH", "nolist", "dst", "0"],
        &["BLMPOP", "0", "1", "nolist", "LEFT"],
        &["RPUSH", "l", "x", "y"],
        &["BLPOP", "l", "0"],
        &["SET", "after", "1"],
    ];
    let content: Vec<u8> = cmds
        .iter()
        .flat_map(|c| {
            let args: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
            common::resp::encode(&args)
        })
        .collect();
    for kind in [Kind::GoStore, Kind::Redis] {
        let dir = dir_with_incr(&content);
        let args: &[&str] = match kind {
            Kind::GoStore => &[],
            Kind::Redis => &[
                "--appendonly",
                "yes",
                "--appendfilename",
                "database.aof",
                "--save",
                "",
            ],
        };
        let srv = TestServer::start_in(kind, dir.path(), args);
        let mut c = srv.raw_conn();
        assert_eq!(c.cmd_str(&["GET", "after"]), "$1\r\n1\r\n", "{kind:?}");
        assert_eq!(
            c.cmd_str(&["LRANGE", "l", "0", "-1"]),
            "*1\r\n$1\r\ny\r\n",
            "{kind:?}"
        );
        assert_eq!(c.cmd_str(&["DBSIZE"]), ":2\r\n", "{kind:?}");
    }
}
