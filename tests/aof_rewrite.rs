//! AOF rewrite: BGREWRITEAOF and its replies, the files it leaves, writes
//! made while it runs, failed children, automatic rewrites, turning the AOF
//! on and off at run time, INFO fields, and a rewrite under load.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::dataset::{assert_same, dump, fill_every_type, without_encodings};
use common::resp::RawConn;
use common::{info_field, wait_for, wait_for_rewrites, Info, TempDir, TestServer};

fn aof_dir(p: &Path) -> PathBuf {
    p.join("appendonlydir")
}

fn read(p: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn check_aof(manifest: &Path) -> (bool, String) {
    let out = std::process::Command::new(common::check_aof_bin())
        .arg(manifest)
        .output()
        .expect("run gostore-check-aof");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn bgrewriteaof_replaces_the_files_with_a_compact_base_and_the_dataset_survives_a_restart() {
    let mut srv = TestServer::gostore(&[]);
    fill_every_type(srv.port);
    let mut c = srv.raw_conn();
    for i in 0..200 {
        c.cmd_str(&["INCR", "churn"]);
        c.cmd_str(&["SET", "overwritten-often", &i.to_string()]);
    }
    let before = dump(srv.port, 16);
    let dir = aof_dir(&srv.path);
    let size_before = std::fs::metadata(dir.join("database.aof.1.incr.aof"))
        .unwrap()
        .len();
    assert_eq!(
        c.cmd_str(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
    wait_for_rewrites(srv.port, 1);
    // The history files go first, then the manifest that still listed
    // them is rewritten (Redis's order): wait for both.
    wait_for(10, "the old files to be removed and unlisted", || {
        files_in(&dir)
            == [
                "database.aof.2.base.aof",
                "database.aof.2.incr.aof",
                "database.aof.manifest",
            ]
            && read(&dir.join("database.aof.manifest"))
                == "file database.aof.2.base.aof seq 2 type b\nfile database.aof.2.incr.aof seq 2 type i\n"
    });
    let base = read(&dir.join("database.aof.2.base.aof"));
    assert!(
        (base.len() as u64) < size_before,
        "the base is more compact than the log it replaces"
    );
    assert!(base.contains("$4\r\nMSET\r\n") && base.contains("$4\r\nHSET\r\n"));
    assert!(base.contains("$9\r\nPEXPIREAT\r\n"), "absolute expiries");
    assert!(!base.contains("INCRBYFLOAT") && !base.contains("APPEND"));
    assert_eq!(
        info_field(srv.port, "aof_last_bgrewrite_status").as_deref(),
        Some("ok")
    );
    assert_eq!(info_field(srv.port, "aof_rewrites").as_deref(), Some("1"));
    assert_eq!(info_field(srv.port, "total_forks").as_deref(), Some("1"));
    assert!(
        info_field(srv.port, "latest_fork_usec")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|v| v > 0),
        "the fork was timed"
    );
    let (ok, out) = check_aof(&dir.join("database.aof.manifest"));
    assert!(ok, "{out}");
    srv.kill9();
    srv.restart();
    assert_same(
        &without_encodings(&dump(srv.port, 16)),
        &without_encodings(&before),
        "same dataset after the rewrite and a restart",
    );
}

#[test]
fn a_second_bgrewriteaof_while_one_runs_is_refused_and_writes_made_meanwhile_survive() {
    let mut srv = TestServer::gostore(&["--rdb-key-save-delay", "2000"]);
    let mut c = srv.raw_conn();
    for i in 0..300 {
        c.cmd_str(&["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    assert_eq!(
        c.cmd_str(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
    assert_eq!(
        c.cmd_str(&["BGREWRITEAOF"]),
        "-ERR Background append only file rewriting already in progress\r\n"
    );
    assert_eq!(
        info_field(srv.port, "aof_rewrite_in_progress").as_deref(),
        Some("1")
    );
    assert!(info_field(srv.port, "aof_current_rewrite_time_sec")
        .and_then(|v| v.parse::<i64>().ok())
        .is_some_and(|v| v >= 0));
    // Writes while the child runs (300 keys x 2 ms) go to the new incr file.
    wait_for(10, "the child to be forked", || {
        info_field(srv.port, "total_forks").as_deref() == Some("1")
    });
    for i in 0..100 {
        c.cmd_str(&["SET", &format!("k{i}"), "changed during the rewrite"]);
        c.cmd_str(&["SET", &format!("new{i}"), "added during the rewrite"]);
    }
    c.cmd_str(&["DEL", "k299"]);
    assert_eq!(
        info_field(srv.port, "aof_rewrite_in_progress").as_deref(),
        Some("1"),
        "the writes above happened during the rewrite"
    );
    wait_for_rewrites(srv.port, 1);
    assert_eq!(
        info_field(srv.port, "aof_current_rewrite_time_sec").as_deref(),
        Some("-1")
    );
    assert!(info_field(srv.port, "aof_last_rewrite_time_sec")
        .and_then(|v| v.parse::<i64>().ok())
        .is_some_and(|v| v >= 0));
    let before = dump(srv.port, 16);
    srv.kill9();
    srv.restart();
    assert_eq!(dump(srv.port, 16), before);
    let mut c = srv.raw_conn();
    assert_eq!(
        c.cmd_str(&["GET", "k5"]),
        "$26\r\nchanged during the rewrite\r\n"
    );
    assert_eq!(c.cmd_str(&["EXISTS", "k299"]), ":0\r\n");
}

#[test]
fn a_failed_rewrite_reports_err_keeps_the_files_and_is_retried_automatically() {
    // SIGXFSZ ignored, no size limit yet.
    let mut srv = TestServer::gostore_with_fsize_limit(libc::RLIM_INFINITY, &[]);
    let mut c = srv.raw_conn();
    let value = "v".repeat(1000);
    for i in 0..100 {
        c.cmd_str(&["SET", &format!("k{i}"), &value]);
    }
    // From now on no file may grow past 64 KB: the child's 100 KB base
    // cannot be written, while the new incr file stays small.
    srv.set_fsize_limit(64 * 1024);
    assert_eq!(
        c.cmd_str(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
    wait_for(30, "the rewrite to fail", || {
        info_field(srv.port, "aof_last_bgrewrite_status").as_deref() == Some("err")
    });
    assert_eq!(
        info_field(srv.port, "aof_rewrites_consecutive_failures").as_deref(),
        Some("1")
    );
    assert_eq!(
        info_field(srv.port, "aof_rewrite_in_progress").as_deref(),
        Some("0")
    );
    let dir = aof_dir(&srv.path);
    // The helper thread removes the child's file: the loop runs no file
    // system calls for a rewrite but fork and waitpid.
    wait_for(10, "the child's file to be removed", || {
        !files_in(&dir).iter().any(|f| f.starts_with("temp-"))
    });
    // The parent is unharmed: writes are acknowledged and logged, and the
    // files on disk are a complete set.
    assert_eq!(c.cmd_str(&["SET", "after", "1"]), "+OK\r\n");
    let (ok, out) = check_aof(&dir.join("database.aof.manifest"));
    assert!(ok, "{out}");
    // Room again; an automatic rewrite is due (the AOF is past min-size and
    // has grown): it starts by itself and succeeds.
    srv.set_fsize_limit(libc::RLIM_INFINITY);
    c.cmd_str(&["CONFIG", "SET", "auto-aof-rewrite-min-size", "1kb"]);
    wait_for_rewrites(srv.port, 2);
    assert_eq!(
        info_field(srv.port, "aof_last_bgrewrite_status").as_deref(),
        Some("ok")
    );
    assert_eq!(
        info_field(srv.port, "aof_rewrites_consecutive_failures").as_deref(),
        Some("0")
    );
    let before = dump(srv.port, 16);
    srv.kill9();
    srv.restart();
    assert_same(
        &without_encodings(&dump(srv.port, 16)),
        &without_encodings(&before),
        "after restart",
    );
}

#[test]
fn automatic_rewrites_stop_retrying_for_a_while_after_three_failures() {
    let mut srv = TestServer::gostore_with_fsize_limit(libc::RLIM_INFINITY, &[]);
    let mut c = srv.raw_conn();
    let value = "v".repeat(1000);
    for i in 0..100 {
        c.cmd_str(&["SET", &format!("k{i}"), &value]);
    }
    srv.set_fsize_limit(64 * 1024);
    c.cmd_str(&["CONFIG", "SET", "auto-aof-rewrite-min-size", "1kb"]);
    wait_for(30, "three failures", || {
        info_field(srv.port, "aof_rewrites_consecutive_failures").as_deref() == Some("3")
    });
    // Redis's aofRewriteLimited: the next automatic attempt waits a minute.
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(info_field(srv.port, "aof_rewrites").as_deref(), Some("3"));
    // BGREWRITEAOF is never limited.
    srv.set_fsize_limit(libc::RLIM_INFINITY);
    assert_eq!(
        c.cmd_str(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
    wait_for_rewrites(srv.port, 4);
    assert_eq!(
        info_field(srv.port, "aof_rewrites_consecutive_failures").as_deref(),
        Some("0")
    );
}

#[test]
fn an_automatic_rewrite_starts_when_the_aof_grows_past_the_percentage_and_min_size() {
    let srv = TestServer::gostore(&[
        "--auto-aof-rewrite-min-size",
        "64kb",
        "--auto-aof-rewrite-percentage",
        "100",
    ]);
    let mut c = srv.raw_conn();
    let value = "x".repeat(1000);
    let mut i = 0;
    // 64 KB of writes: past min-size, and infinitely more than the empty base.
    while info_field(srv.port, "aof_rewrites").as_deref() == Some("0") {
        c.cmd_str(&["SET", &format!("k{}", i % 10), &value]);
        i += 1;
        assert!(i < 10_000, "no automatic rewrite");
    }
    assert!(i >= 60, "not before 64 KB ({i} writes)");
    wait_for_rewrites(srv.port, 1);
    let base: u64 = info_field(srv.port, "aof_base_size")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        base > 10_000 && base < 64 * 1024,
        "the base holds the 10 keys: {base}"
    );
    // It does not start again until the AOF doubles.
    for _ in 0..20 {
        c.cmd_str(&["SET", "k0", &value]);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(info_field(srv.port, "aof_rewrites").as_deref(), Some("1"));
}

#[test]
fn config_set_appendonly_yes_writes_a_base_first_and_no_stops_logging() {
    let dir = TempDir::new("appendonly-runtime");
    let mut srv = TestServer::gostore_in(dir.path(), &["--appendonly", "no"]);
    fill_every_type(srv.port);
    let mut c = srv.raw_conn();
    assert_eq!(info_field(srv.port, "aof_enabled").as_deref(), Some("0"));
    assert!(!aof_dir(dir.path()).exists(), "nothing logged while off");
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "appendonly", "yes"]),
        "+OK\r\n"
    );
    assert_eq!(info_field(srv.port, "aof_enabled").as_deref(), Some("1"));
    c.cmd_str(&["SET", "during", "the first rewrite"]);
    wait_for_rewrites(srv.port, 1);
    let m = aof_dir(dir.path()).join("database.aof.manifest");
    assert_eq!(
        read(&m),
        "file database.aof.1.base.aof seq 1 type b\nfile database.aof.1.incr.aof seq 1 type i\n"
    );
    c.cmd_str(&["SET", "after", "the first rewrite"]);
    let on = dump(srv.port, 16);
    // Off again: nothing more is logged.
    assert_eq!(c.cmd_str(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
    assert_eq!(info_field(srv.port, "aof_enabled").as_deref(), Some("0"));
    let incr = aof_dir(dir.path()).join("database.aof.1.incr.aof");
    let size = std::fs::metadata(&incr).unwrap().len();
    c.cmd_str(&["SET", "not", "logged"]);
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), size);
    srv.kill9();
    let srv = TestServer::gostore_in(dir.path(), &["--appendonly", "yes"]);
    assert_same(
        &without_encodings(&dump(srv.port, 16)),
        &without_encodings(&on),
        "what was written while the AOF was on",
    );
}

#[test]
fn turning_the_aof_off_and_on_repeatedly_even_during_rewrites_keeps_a_loadable_set() {
    let dir = TempDir::new("appendonly-flip");
    let mut srv = TestServer::gostore_in(dir.path(), &["--rdb-key-save-delay", "200"]);
    fill_every_type(srv.port);
    let mut c = srv.raw_conn();
    for round in 0..6 {
        c.cmd_str(&["SET", &format!("round:{round}"), "before"]);
        if round % 2 == 0 {
            c.cmd_str(&["BGREWRITEAOF"]);
        }
        assert_eq!(c.cmd_str(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
        c.cmd_str(&["SET", &format!("round:{round}"), "while off"]);
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "appendonly", "yes"]),
            "+OK\r\n"
        );
        c.cmd_str(&["INCR", "after-on"]);
    }
    wait_for(30, "the AOF to be on again", || {
        let info = Info::fetch(srv.port);
        info.get("aof_rewrite_in_progress") == Some("0")
            && info.get("aof_rewrite_scheduled") == Some("0")
            && info.get("aof_last_bgrewrite_status") == Some("ok")
    });
    c.cmd_str(&["SET", "last", "1"]);
    let before = dump(srv.port, 16);
    srv.kill9();
    srv.restart();
    assert_same(
        &without_encodings(&dump(srv.port, 16)),
        &without_encodings(&before),
        "after turning the AOF off and on",
    );
    let (ok, out) = check_aof(&aof_dir(dir.path()).join("database.aof.manifest"));
    assert!(ok, "{out}");
}

#[test]
fn shutdown_before_the_first_base_is_written_still_keeps_the_dataset() {
    let dir = TempDir::new("appendonly-shutdown");
    let mut srv = TestServer::gostore_in(
        dir.path(),
        &["--appendonly", "no", "--rdb-key-save-delay", "100000"],
    );
    fill_every_type(srv.port);
    let mut c = srv.raw_conn();
    c.cmd_str(&["CONFIG", "SET", "appendonly", "yes"]);
    // The child sleeps 100 ms per key: it is far from done.
    c.cmd_str(&["SET", "written", "while the first rewrite runs"]);
    let before = dump(srv.port, 16);
    assert_eq!(
        info_field(srv.port, "aof_rewrite_in_progress").as_deref(),
        Some("1")
    );
    c.send(b"SHUTDOWN\r\n");
    assert!(c.is_closed());
    assert_eq!(srv.wait(), Some(0));
    let srv = TestServer::gostore_in(dir.path(), &["--appendonly", "yes"]);
    assert_same(
        &without_encodings(&dump(srv.port, 16)),
        &without_encodings(&before),
        "the dataset at shutdown",
    );
}

#[test]
fn bgrewriteaof_with_the_aof_off_writes_a_base_alone_as_redis() {
    let dir = TempDir::new("rewrite-off");
    let srv = TestServer::gostore_in(dir.path(), &["--appendonly", "no"]);
    fill_every_type(srv.port);
    let before = dump(srv.port, 16);
    let mut c = srv.raw_conn();
    assert_eq!(
        c.cmd_str(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
    wait_for_rewrites(srv.port, 1);
    assert_eq!(
        read(&aof_dir(dir.path()).join("database.aof.manifest")),
        "file database.aof.1.base.aof seq 1 type b\n"
    );
    drop(srv);
    let srv = TestServer::gostore_in(dir.path(), &[]);
    assert_same(
        &without_encodings(&dump(srv.port, 16)),
        &without_encodings(&before),
        "loaded from the base",
    );
}

/// The names of the fields of an INFO section.
fn field_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_string()))
        .collect()
}

#[test]
fn info_persistence_has_redis_7_0_s_fields_in_order() {
    let g = TestServer::gostore(&[]);
    let r = TestServer::redis(&["--appendonly", "yes"]);
    let gi = g.raw_conn().cmd_str(&["INFO", "persistence"]);
    let ri = r.raw_conn().cmd_str(&["INFO", "persistence"]);
    assert_eq!(field_names(&gi), field_names(&ri));
    for f in [
        "aof_rewrite_in_progress:0",
        "aof_rewrite_scheduled:0",
        "aof_last_rewrite_time_sec:-1",
        "aof_current_rewrite_time_sec:-1",
        "aof_last_bgrewrite_status:ok",
        "aof_rewrites:0",
        "aof_last_write_status:ok",
        "aof_pending_rewrite:0",
    ] {
        assert!(gi.contains(f) && ri.contains(f), "{f}\n{gi}\n{ri}");
    }
    let gs = g.raw_conn().cmd_str(&["INFO", "stats"]);
    assert!(gs.contains("latest_fork_usec:0\r\ntotal_forks:0\r\n"));
}

#[test]
fn rdb_key_save_delay_is_hidden_from_config_get_patterns_as_in_redis() {
    let g = TestServer::gostore(&[]);
    let r = TestServer::redis(&[]);
    for s in [&g, &r] {
        let mut c = s.raw_conn();
        assert!(!c
            .cmd_str(&["CONFIG", "GET", "*"])
            .contains("rdb-key-save-delay"));
        assert_eq!(
            c.cmd_str(&["CONFIG", "GET", "rdb-key-save-delay"]),
            "*2\r\n$18\r\nrdb-key-save-delay\r\n$1\r\n0\r\n"
        );
        let auto = c.cmd_str(&["CONFIG", "GET", "auto-aof-rewrite-*"]);
        assert!(auto.starts_with("*4\r\n"), "{auto}");
        assert!(auto.contains("$27\r\nauto-aof-rewrite-percentage\r\n$3\r\n100\r\n"));
        assert!(auto.contains("$25\r\nauto-aof-rewrite-min-size\r\n$8\r\n67108864\r\n"));
    }
}

#[test]
fn a_rewrite_under_load_loses_nothing_and_writers_progress_while_the_child_runs() {
    // The child sleeps 2 ms per key: the rewrite of the ~2,200 keys runs for
    // seconds while four clients write as fast as they can. The writers
    // must go on while the child runs (the parent waits for nothing but the
    // fork): the test waits for them to get hundreds of writes through
    // while INFO still shows the rewrite in progress. How long the fork
    // itself holds a client is a figure for `make bench`, not an assertion.
    let mut srv = TestServer::gostore(&["--rdb-key-save-delay", "2000"]);
    let mut c = srv.raw_conn();
    for i in 0..200 {
        c.cmd_str(&["HSET", &format!("h{i}"), "seed", "1"]);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (port, stop, done) = (srv.port, stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port);
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let k = format!("w{w}:{}", n % 500);
                    let r = c.try_cmd(&[b"SET", k.as_bytes(), n.to_string().as_bytes()]);
                    assert_eq!(r.as_deref(), Ok(&b"+OK\r\n"[..]), "writer {w}");
                    let h = format!("h{}", n % 200);
                    let r = c.try_cmd(&[b"HINCRBY", h.as_bytes(), b"n", b"1"]);
                    assert!(matches!(r.as_deref(), Ok([b':', ..])), "writer {w}: {r:?}");
                    n += 1;
                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                n
            })
        })
        .collect();
    // Every writer has filled its 500 keys, so the child has them all.
    wait_for(30, "the writers to fill their keys", || {
        info_field(srv.port, "db0").is_some_and(|v| v.starts_with("keys=2200,"))
    });
    assert_eq!(
        c.cmd_str(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
    let in_progress = || info_field(srv.port, "aof_rewrite_in_progress").as_deref() == Some("1");
    assert!(in_progress(), "the child runs");
    let before = done.load(std::sync::atomic::Ordering::Relaxed);
    wait_for(10, "400 more writes while the child runs", || {
        let now = done.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            now >= before + 400 || in_progress(),
            "the rewrite ended after only {} writes: the writers were held",
            now - before
        );
        now >= before + 400
    });
    wait_for_rewrites(srv.port, 1);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        let n = w.join().expect("a writer saw an error");
        assert!(n > 100, "the writer made progress");
    }
    let before = dump(srv.port, 16);
    srv.kill9();
    srv.restart();
    assert_same(
        &without_encodings(&dump(srv.port, 16)),
        &without_encodings(&before),
        "the dataset after the rewrite under load",
    );
}

#[test]
fn a_kill_9_of_the_server_also_ends_its_rewrite_child() {
    let mut srv = TestServer::gostore(&["--rdb-key-save-delay", "1000000"]);
    let mut c = srv.raw_conn();
    c.cmd_str(&["SET", "a", "1"]);
    c.cmd_str(&["SET", "b", "2"]);
    c.cmd_str(&["BGREWRITEAOF"]);
    wait_for(10, "the child", || {
        info_field(srv.port, "total_forks").as_deref() == Some("1")
    });
    let pid = srv.pid().unwrap();
    let child = *children_of(pid).first().expect("a rewrite child");
    srv.kill9();
    wait_for(10, "the orphaned child to die", || {
        !Path::new(&format!("/proc/{child}")).exists()
            || read(Path::new(&format!("/proc/{child}/stat"))).contains(") Z")
    });
    // Restarting in the same directory removes its temporary file.
    srv.restart();
    let dir = aof_dir(&srv.path);
    wait_for(10, "leftovers to be removed", || {
        !files_in(&dir).iter().any(|f| f.starts_with("temp-"))
    });
    assert_eq!(
        srv.raw_conn().cmd_str(&["MGET", "a", "b"]),
        "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
}

#[test]
fn sigterm_during_a_rewrite_stops_the_child_and_exits_zero_with_the_files_intact() {
    // 100 s per key: a server that waited for its child would not exit
    // before `sigterm`'s 30 s patience runs out.
    let mut srv = TestServer::gostore(&["--rdb-key-save-delay", "100000000"]);
    let mut c = srv.raw_conn();
    c.cmd_str(&["SET", "a", "1"]);
    c.cmd_str(&["SET", "b", "2"]);
    c.cmd_str(&["BGREWRITEAOF"]);
    wait_for(10, "the child", || {
        info_field(srv.port, "total_forks").as_deref() == Some("1")
    });
    c.cmd_str(&["SET", "c", "3"]);
    let pid = srv.pid().unwrap();
    let child = *children_of(pid).first().expect("a rewrite child");
    assert_eq!(
        srv.sigterm(),
        Some(0),
        "exits without waiting for the child"
    );
    assert!(
        !Path::new(&format!("/proc/{child}")).exists()
            || read(Path::new(&format!("/proc/{child}/stat"))).contains(") Z"),
        "the child was stopped"
    );
    let dir = aof_dir(&srv.path);
    assert!(!files_in(&dir)
        .iter()
        .any(|f| f.starts_with("temp-rewriteaof")));
    srv.restart();
    assert_eq!(
        srv.raw_conn().cmd_str(&["MGET", "a", "b", "c"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
}

/// Pids of the live children of `pid`.
fn children_of(pid: u32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            let stat = read(Path::new(&format!("/proc/{p}/stat")));
            // pid (comm) state ppid ...
            stat.rsplit_once(") ")
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|pp| pp.parse::<u32>().ok())
                == Some(pid)
        })
        .collect()
}

#[test]
fn keys_read_while_a_rewrite_child_runs_keep_their_idle_time() {
    // Touching a key during a rewrite would copy the page the child reads,
    // so, as Redis, reads do not update the LRU clock while a child runs.
    let srv = TestServer::gostore(&["--rdb-key-save-delay", "1000000"]);
    let mut c = srv.raw_conn();
    for i in 0..4 {
        c.cmd_str(&["SET", &format!("k{i}"), "v"]);
    }
    let idle = |c: &mut common::resp::RawConn| -> i64 {
        c.cmd_str(&["OBJECT", "IDLETIME", "k0"])
            .trim_start_matches(':')
            .trim()
            .parse()
            .unwrap_or(-1)
    };
    wait_for(10, "k0 to be idle for a second", || idle(&mut c) >= 1);
    assert_eq!(
        c.cmd_str(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
    wait_for(10, "the child to start", || {
        info_field(srv.port, "total_forks").as_deref() == Some("1")
    });
    assert_eq!(c.cmd_str(&["GET", "k0"]), "$1\r\nv\r\n");
    assert!(
        idle(&mut c) >= 1,
        "a read during the rewrite did not touch k0"
    );
}
