//! Disk faults the AOF must survive, produced with `GOSTORE_FAULT` (see
//! src/aof/failpoint.rs): failed fsyncs under `always` and `everysec`, and
//! a slow disk under `everysec`. Plus damaged files not covered in aof.rs.

mod common;

use common::resp::RawConn;
use common::{info_field, wait_for, Kind, TempDir, TestServer};

fn log_of(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("gostore.log")).unwrap_or_default()
}

#[test]
fn an_fsync_error_under_always_stops_the_server_before_the_write_is_acknowledged() {
    let dir = TempDir::new("fsync-always");
    let log = dir
        .path()
        .join("gostore.log")
        .to_string_lossy()
        .into_owned();
    let mut srv = TestServer::gostore_in_env(
        dir.path(),
        &["--appendfsync", "always", "--logfile", &log],
        &[("GOSTORE_FAULT", "aof-fsync:eio")],
    );
    let mut c = srv.raw_conn();
    let r = c.try_cmd(&[b"SET", b"k", b"v"]);
    assert!(
        r.is_err(),
        "no reply for a write that may not be on disk: {r:?}"
    );
    assert_eq!(srv.wait(), Some(1));
    assert!(
        log_of(dir.path()).contains(
            "Can't persist AOF for fsync error when the AOF fsync policy is 'always': Input/output error"
        ),
        "{}",
        log_of(dir.path())
    );
}

#[test]
fn a_failed_background_fsync_refuses_writes_until_an_fsync_succeeds() {
    let dir = TempDir::new("fsync-everysec");
    let srv = TestServer::gostore_in_env(
        dir.path(),
        &["--appendfsync", "everysec"],
        &[("GOSTORE_FAULT", "aof-fsync:eio1")],
    );
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["SET", "k", "v"]), "+OK\r\n");
    // The first background fsync (about a second later) fails.
    wait_for(10, "writes to be refused", || {
        c.cmd_str(&["SET", "probe", "1"])
            == "-MISCONF Errors writing to the AOF file: Input/output error\r\n"
    });
    assert_eq!(
        c.cmd_str(&["GET", "k"]),
        "$1\r\nv\r\n",
        "reads keep working"
    );
    // PING fails too, as in Redis, so a health check sees the failure.
    assert_eq!(
        c.cmd_str(&["PING"]),
        "-MISCONF Errors writing to the AOF file: Input/output error\r\n"
    );
    assert_eq!(
        info_field(srv.port, "aof_last_write_status").as_deref(),
        Some("err")
    );
    // The next one, a second later, succeeds: writes are accepted again.
    wait_for(10, "writes to be accepted again", || {
        c.cmd_str(&["SET", "probe", "2"]) == "+OK\r\n"
    });
    assert_eq!(
        info_field(srv.port, "aof_last_write_status").as_deref(),
        Some("ok")
    );
}

#[test]
fn under_everysec_a_stuck_fsync_postpones_writes_then_lets_them_through() {
    // Each fsync takes a minute. A write made while one runs waits for it
    // (Redis's rule: up to 2 s), then is written anyway and counted in
    // aof_delayed_fsync. The test waits for that count while the first
    // fsync is still running: had the writes waited for the fsync itself,
    // none would be answered within RawConn's 30 s read timeout.
    let dir = TempDir::new("fsync-slow");
    let log = dir
        .path()
        .join("gostore.log")
        .to_string_lossy()
        .into_owned();
    let srv = TestServer::gostore_in_env(
        dir.path(),
        &["--appendfsync", "everysec", "--logfile", &log],
        &[("GOSTORE_FAULT", "aof-fsync:delay60000")],
    );
    let mut c = RawConn::connect(srv.port);
    wait_for(30, "a write to go through past the running fsync", || {
        assert_eq!(c.cmd_str(&["INCR", "n"]).as_bytes()[0], b':');
        info_field(srv.port, "aof_delayed_fsync").is_some_and(|d| d != "0")
    });
    assert_eq!(
        info_field(srv.port, "aof_pending_bio_fsync").as_deref(),
        Some("1"),
        "the first fsync is still running"
    );
    let delayed: u64 = info_field(srv.port, "aof_delayed_fsync")
        .unwrap()
        .parse()
        .unwrap();
    assert!(delayed >= 1, "aof_delayed_fsync {delayed}");
    assert!(log_of(dir.path()).contains("Asynchronous AOF fsync is taking too long"));
}

#[test]
fn a_truncated_file_that_is_not_the_last_stops_start_up_even_with_aof_load_truncated() {
    let dir = TempDir::new("truncated-base");
    let a = dir.path().join("appendonlydir");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(
        a.join("database.aof.manifest"),
        "file database.aof.1.base.aof seq 1 type b\nfile database.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    let good = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
    std::fs::write(
        a.join("database.aof.1.base.aof"),
        [&good[..], b"*3\r\n$3\r\nSET\r\n$1"].concat(),
    )
    .unwrap();
    std::fs::write(a.join("database.aof.1.incr.aof"), good).unwrap();
    let (code, out) =
        TestServer::start_failing(Kind::GoStore, dir.path(), &["--aof-load-truncated", "yes"]);
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!(
            "database.aof.1.base.aof at offset {} (unexpected end of file)",
            good.len()
        )),
        "{out}"
    );
}

#[test]
fn a_truncated_tail_is_cut_off_with_a_warning_naming_the_file_and_offset() {
    let dir = TempDir::new("truncated-tail-log");
    let a = dir.path().join("appendonlydir");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(
        a.join("database.aof.manifest"),
        "file database.aof.1.base.aof seq 1 type b\nfile database.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    let good = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
    std::fs::write(a.join("database.aof.1.base.aof"), good).unwrap();
    std::fs::write(
        a.join("database.aof.1.incr.aof"),
        [&good[..], b"*2\r\n$3\r\nDEL"].concat(),
    )
    .unwrap();
    let log = dir
        .path()
        .join("gostore.log")
        .to_string_lossy()
        .into_owned();
    let srv = TestServer::gostore_in(dir.path(), &["--logfile", &log]);
    assert_eq!(srv.raw_conn().cmd_str(&["GET", "a"]), "$1\r\n1\r\n");
    let text = log_of(dir.path());
    assert!(
        text.contains(&format!(
            "short read while loading the AOF file appendonlydir/database.aof.1.incr.aof!!! Truncating the AOF at offset {}",
            good.len()
        )),
        "{text}"
    );
}

#[test]
fn config_set_appendfsync_reaches_the_aof_at_once() {
    // Under everysec a failed fsync only refuses writes a second later; once
    // CONFIG SET makes the policy `always`, the very next write is fsynced
    // on the loop, fails, and stops the server unacknowledged.
    let dir = TempDir::new("fsync-config-set");
    let log = dir
        .path()
        .join("gostore.log")
        .to_string_lossy()
        .into_owned();
    let mut srv = TestServer::gostore_in_env(
        dir.path(),
        &["--appendfsync", "everysec", "--logfile", &log],
        &[("GOSTORE_FAULT", "aof-fsync:eio")],
    );
    let mut c = srv.raw_conn();
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "appendfsync", "always"]),
        "+OK\r\n"
    );
    let r = c.try_cmd(&[b"SET", b"k", b"v"]);
    assert!(r.is_err(), "no reply for a write not on disk: {r:?}");
    assert_eq!(srv.wait(), Some(1));
    assert!(
        log_of(dir.path()).contains("when the AOF fsync policy is 'always'"),
        "{}",
        log_of(dir.path())
    );
}

#[test]
fn config_set_aof_timestamp_enabled_annotates_the_next_write() {
    let dir = TempDir::new("aof-ts-config-set");
    let srv = TestServer::gostore_in(dir.path(), &["--appendfsync", "always"]);
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "aof-timestamp-enabled", "yes"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd_str(&["SET", "b", "2"]), "+OK\r\n");
    let incr: Vec<u8> = std::fs::read_dir(dir.path().join("appendonlydir"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".incr.aof"))
        .flat_map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    let text = String::from_utf8_lossy(&incr);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} in {text:?}"))
    };
    let ts = at("#TS:");
    assert!(
        at("$1\r\na\r\n") < ts && ts < at("$1\r\nb\r\n"),
        "only the write after CONFIG SET is annotated: {text:?}"
    );
}
